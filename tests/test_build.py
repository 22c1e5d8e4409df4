"""The build pipeline (rag/build.py): each distinct text is embedded once, vectors land in their rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.store import load_index
from tests.test_index import _build, _FakeEmbedder

# a one-sentence paragraph (its chunk is also its sentence) that recurs in another document
SHARED = "The Conference decided to extend the Kyoto Protocol."
DOCS = {
    "a": f"1. {SHARED}\n\n2. Deserts are spreading. Forests are shrinking.\n",
    "b": f"1. {SHARED}\n\n2. Oceans are warming. Deserts are spreading.\n",
}


def test_each_distinct_text_is_embedded_once(tmp_path: Path) -> None:
    embedder = _FakeEmbedder()
    report = _build(tmp_path, DOCS, embedder)
    assert len(embedder.encoded) == len(set(embedder.encoded)) == report.embedded
    index = load_index(tmp_path)
    spans = [*index.chunks, *index.sentences]
    assert report.embedded == len({s.content_hash for s in spans}) < len(spans)
    # every row holds the vector of its own text, whichever duplicate was embedded (sentence
    # vectors are stored int8-quantised: equal to a cosine, not to float error)
    oracle = dict(zip(embedder.encoded, _FakeEmbedder().encode_passages(embedder.encoded), strict=True))
    for chunk, vector in zip(index.chunks, index.vectors, strict=True):
        np.testing.assert_allclose(vector, oracle[chunk.passage], atol=1e-6)
    for row, sentence in enumerate(index.sentences):
        assert float(index.sentence_vectors[[row]][0] @ oracle[sentence.passage]) > 0.99  # 8-dim fake vectors, int8 codes


def test_a_rebuild_embeds_only_new_text(tmp_path: Path) -> None:
    first = _FakeEmbedder()
    _build(tmp_path, DOCS, first)
    embedder = _FakeEmbedder()
    report = _build(tmp_path, {**DOCS, "c": "1. Glaciers are melting.\n"}, embedder)
    assert embedder.encoded and not set(embedder.encoded) & set(first.encoded)
    assert all("Glaciers" in t or t == "1." for t in embedder.encoded) and report.embedded == len(embedder.encoded)
    index = load_index(tmp_path)
    assert report.reused == sum(1 for s in (*index.chunks, *index.sentences) if s.passage in set(first.encoded))
