"""Sentence vectors pooled from their chunk's encoder pass (``pool_sentences``), and the
dynamic-streams build encoder: the right spans, fallbacks, determinism, closeness to the real thing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.store import load_index
from rag.build import corpus_hash
from rag.chunking import ChunkingParams
from tests.test_index import _build, _documents, _FakeEmbedder

# headings (the chunk's context: its passage starts with it), a paragraph longer than one chunk
# (overlapping chunks: a sentence in two of them), a sentence repeated in another document
LONG = " ".join(f"Sentence number {n} talks about desertification and land degradation." for n in range(12))
DOCS = {
    "a": f"A. Climate\n\n1. The Conference met in Doha. It decided many things.\n\n2. {LONG}\n",
    "b": "B. Oceans\n\n1. Oceans are warming. It decided many things.\n",
}


class _FakeSpanEmbedder(_FakeEmbedder):
    """A span's vector is the fake vector of the span's own text: a build that pools the right
    characters stores exactly the vector a separate pass would have given the sentence."""

    pools_spans = True

    def __init__(self, unfound: str = "") -> None:
        super().__init__()
        self.spans: list[str] = []
        self.unfound = unfound  # spans with this text report "no tokens" (past the truncation)

    def encode_passages_with_spans(self, texts, spans, show_progress: bool = False):
        vectors = self.encode_passages(texts)
        pieces = [text[a:b] for text, text_spans in zip(texts, spans, strict=True) for a, b in text_spans]
        self.spans.extend(pieces)
        found = np.array([bool(p) and p != self.unfound for p in pieces], bool)
        pooled = _FakeEmbedder().encode_passages(pieces) if pieces else np.zeros((0, self.dimension), np.float32)
        return vectors, pooled, found


def _sentence_rows(index) -> dict[str, np.ndarray]:
    return {s.id: index.sentence_vectors[[row]][0] for row, s in enumerate(index.sentences)}


def test_pooled_sentences_take_their_own_characters_from_the_chunk_pass(tmp_path: Path) -> None:
    plain, pooled = _FakeEmbedder(), _FakeSpanEmbedder()
    _build(tmp_path / "plain", DOCS, plain)
    report = _build(tmp_path / "pooled", DOCS, pooled, pool_sentences=True)
    index, reference = load_index(tmp_path / "pooled"), load_index(tmp_path / "plain")
    # one pass over the chunks: no sentence inside a chunk is embedded on its own
    assert set(pooled.encoded) == {c.passage for c in index.chunks}
    assert len(pooled.spans) == len(set(pooled.spans)) > 10  # each distinct sentence pooled once
    assert set(pooled.spans) == {s.passage for s in index.sentences} - {c.passage for c in index.chunks}
    assert report.embedded == len({s.content_hash for s in (*index.chunks, *index.sentences)})
    # the span arithmetic (heading context, overlapping chunks) picked each sentence's own text
    want = _sentence_rows(reference)
    for sentence_id, vector in _sentence_rows(index).items():
        assert float(vector @ want[sentence_id]) > 0.99, sentence_id  # int8-stored
    np.testing.assert_array_equal(index.vectors, reference.vectors)


def test_a_span_without_tokens_is_embedded_on_its_own(tmp_path: Path) -> None:
    embedder = _FakeSpanEmbedder(unfound="It decided many things.")
    _build(tmp_path, DOCS, embedder, pool_sentences=True)
    assert "It decided many things." in embedder.encoded  # the fallback pass
    index = load_index(tmp_path)
    oracle = _FakeEmbedder().encode_passages(["It decided many things."])[0]
    rows = [row for row, s in enumerate(index.sentences) if s.passage == "It decided many things."]
    assert len(rows) == 2 and all(float(index.sentence_vectors[[r]][0] @ oracle) > 0.99 for r in rows)


def test_an_encoder_without_token_states_embeds_every_sentence(tmp_path: Path) -> None:
    embedder = _FakeEmbedder()  # no pools_spans: the torch backend
    _build(tmp_path, DOCS, embedder, pool_sentences=True)
    index = load_index(tmp_path)
    assert set(embedder.encoded) == {s.passage for s in (*index.chunks, *index.sentences)}


def test_pooling_is_part_of_the_corpus_hash_and_builds_are_deterministic(tmp_path: Path) -> None:
    documents, metadata = _documents(DOCS)
    params = ChunkingParams()
    assert corpus_hash(documents, metadata, params) != corpus_hash(documents, metadata, params, pooled_sentences=True)
    first = _build(tmp_path / "one", DOCS, _FakeSpanEmbedder(), pool_sentences=True)
    again = _build(tmp_path / "one", DOCS, _FakeSpanEmbedder(), pool_sentences=True)
    assert again.unchanged
    switched = _build(tmp_path / "one", DOCS, _FakeSpanEmbedder())  # pooling off: a new build
    assert not switched.unchanged and first.manifest.corpus_hash != switched.manifest.corpus_hash
    _build(tmp_path / "two", DOCS, _FakeSpanEmbedder(), pool_sentences=True)
    a, b = load_index(tmp_path / "one"), load_index(tmp_path / "two")
    assert [s.id for s in a.sentences] == [s.id for s in b.sentences]


SENTENCES = [
    "缔约方会议决定，《京都议定书》第二承诺期自2013年1月1日开始，至2020年12月31日结束。",
    "会议还通过了关于损失和损害的决定。",
    "The Conference decided that the second commitment period would begin on 1 January 2013.",
    "It also adopted a decision on loss and damage.",
]


@pytest.fixture(scope="module")
def float_embedder(settings):
    from rag.embedding import load_embedder

    return load_embedder(None, settings.model_cache_dir, backend="onnx", threads=2)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_a_pooled_sentence_is_close_to_the_sentence_embedded_alone(settings, float_embedder, backend):
    if backend == "openvino":
        pytest.importorskip("openvino")
    from rag.embedding import load_embedder

    embedder = float_embedder if backend == "onnx" else load_embedder(None, settings.model_cache_dir, backend="openvino", throughput=True)
    passages = [SENTENCES[0] + SENTENCES[1], SENTENCES[2] + " " + SENTENCES[3]]
    spans = [[(0, len(SENTENCES[0])), (len(SENTENCES[0]), len(passages[0]))],
             [(0, len(SENTENCES[2])), (len(SENTENCES[2]) + 1, len(passages[1])), (0, len(passages[1]))]]
    vectors, pooled, found = embedder.encode_passages_with_spans(passages, spans)
    assert found.all() and pooled.shape == (5, embedder.dimension)
    assert (vectors * float_embedder.encode_passages(passages)).sum(axis=1).min() > 0.9999  # the chunks' own vectors unchanged
    alone = float_embedder.encode_passages(SENTENCES)
    cosines = (pooled[[0, 1, 2, 3]] * alone).sum(axis=1)
    assert cosines.min() > 0.85, cosines  # in context, not alone: close, not equal (XQuAD zh: mean 0.94)
    # a span over the whole passage is its mean without <s>, </s> and the prompt: nearly the passage's vector
    assert float(pooled[4] @ vectors[1]) > 0.97
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, rtol=1e-5)
    # a span past the truncation has no tokens: reported, not a zero vector passed off as one
    long = " ".join(str(n) for n in range(1000))
    _, _, found = embedder.encode_passages_with_spans([long], [[(0, 3), (len(long) - 3, len(long))]])
    assert found.tolist() == [True, False]


@pytest.mark.slow
def test_the_dynamic_streams_build_encoder_is_deterministic_within_its_token_budget(settings, float_embedder):
    pytest.importorskip("openvino")
    from rag.embedding import load_embedder

    builder = load_embedder(None, settings.model_cache_dir, backend="openvino", threads=2, throughput=True,
                            static_shapes=False, build_streams=2, token_budget=512)
    encoder = builder._onnx
    assert encoder.streams == 2 and encoder.token_budget == 512
    texts = [*SENTENCES, "。".join(SENTENCES) * 6] * 4
    batches = list(encoder._batches(["passage: " + t for t in texts], 32))
    assert all(ids.size <= 512 or len(rows) == 1 for rows, ids, _ in batches)  # the memory bound
    first, again = builder.encode_passages(texts), builder.encode_passages(texts)
    np.testing.assert_array_equal(first, again)  # two streams, rows always land in their places
    assert (first * float_embedder.encode_passages(texts)).sum(axis=1).min() >= 0.9999
    assert encoder.compiled_shapes == [None]  # the dynamic model, compiled once


@pytest.mark.slow
def test_a_default_build_loads_the_dynamic_streams_encoder_and_static_stays_selectable(settings):
    pytest.importorskip("openvino")
    from rag.engine import choose_model, load_build_embedder

    encoder = load_build_embedder(choose_model(settings), settings)._onnx
    assert (encoder.streams, encoder.static_shapes, encoder.token_budget) == (settings.encoder.threads, False, settings.build.token_budget)
    static = load_build_embedder(choose_model(settings), settings.with_changes({"build.encoder_mode": "static"}))._onnx
    assert (static.streams, static.static_shapes) == (1, True)
