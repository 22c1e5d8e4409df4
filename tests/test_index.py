"""The persistent index: FAISS against a NumPy oracle, atomic builds, manifest checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.dense import build_dense_index, dense_index_kind
from index.store import IndexMismatchError, IndexUnavailableError, load_index
from rag.build import build_index
from rag.catalogue import DocumentMeta
from rag.chunking import ChunkingParams
from rag.engine import corpus_from_beir
from rag.parser import parse_document

RNG = np.random.default_rng(7)


def _unit_vectors(n: int, dim: int) -> np.ndarray:
    vectors = RNG.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize(("n", "dim", "k"), [(5, 17, 5), (17, 5, 3), (1000, 384, 10)])
def test_flat_index_equals_numpy_brute_force(n: int, dim: int, k: int) -> None:
    vectors, queries = _unit_vectors(n, dim), _unit_vectors(13, dim)
    index = build_dense_index(vectors)
    assert dense_index_kind(index) == "flat"
    scores, rows = index.search(queries, k)
    oracle = queries @ vectors.T
    expected_rows = np.argsort(-oracle, axis=1, kind="stable")[:, :k]
    np.testing.assert_allclose(scores, np.take_along_axis(oracle, expected_rows, axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.sort(rows, axis=1), np.sort(expected_rows, axis=1))


class _FakeEmbedder:
    """Deterministic vectors from text hashes: index mechanics without the model."""

    model_id = "fake-model"
    dimension = 8

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode_passages(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(self.dimension) for t in texts]
        matrix = np.array(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _documents(texts: dict[str, str]) -> tuple[list, dict]:
    documents = [parse_document(doc, text) for doc, text in texts.items()]
    return documents, {doc: DocumentMeta(file=f"{doc}.txt", id=doc) for doc in texts}


def _build(index_dir: Path, texts: dict[str, str], embedder: _FakeEmbedder, **kwargs) -> object:
    documents, metadata = _documents(texts)
    return build_index(
        index_dir=index_dir, documents=documents, metadata=metadata, model_id=embedder.model_id,
        load_embedder=lambda: embedder, chunking=ChunkingParams(), **kwargs,
    )


DOCS = {"d1": "1. First paragraph about climate.\n\n2. Second paragraph about deserts.\n", "d2": "Notes on biodiversity.\n\nMore notes.\n"}


def test_rebuild_of_unchanged_corpus_embeds_nothing(tmp_path: Path) -> None:
    embedder = _FakeEmbedder()
    first = _build(tmp_path, DOCS, embedder)
    assert first.embedded > 0 and not first.unchanged
    embedder.encoded.clear()
    again = _build(tmp_path, DOCS, embedder)
    assert again.unchanged and embedder.encoded == []
    changed = dict(DOCS, d2="Notes on biodiversity.\n\nDifferent notes now.\n")
    third = _build(tmp_path, changed, embedder)
    assert not third.unchanged
    assert embedder.encoded and all("Different" in t or "notes now" in t for t in embedder.encoded)
    loaded = load_index(tmp_path)
    assert loaded.manifest.documents == 2 and len(loaded.chunks) == loaded.dense.ntotal


def test_manifest_mismatch_is_refused_with_rebuild_advice(tmp_path: Path) -> None:
    _build(tmp_path, DOCS, _FakeEmbedder())
    with pytest.raises(IndexMismatchError, match="rag build --index-dir"):
        load_index(tmp_path, model_id="another-model")
    with pytest.raises(IndexMismatchError, match="chunking"):
        load_index(tmp_path, chunking=ChunkingParams(chunk_size=123))
    with pytest.raises(IndexUnavailableError, match="no index found"):
        load_index(tmp_path / "nowhere")


def test_build_killed_midway_leaves_previous_index_usable(tmp_path: Path) -> None:
    _build(tmp_path, DOCS, _FakeEmbedder())
    before = load_index(tmp_path)

    class _Killed(_FakeEmbedder):
        def encode_passages(self, texts, batch_size: int = 32, show_progress: bool = False):
            raise KeyboardInterrupt  # the process is interrupted while embedding

    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path, {"d3": "1. Brand new text.\n\n2. Another new one.\n"}, _Killed())
    after = load_index(tmp_path)
    assert after.path == before.path and set(after.units) == set(before.units)
    assert not any(p.name.endswith(".partial") for p in (tmp_path / "builds").iterdir())


def test_damaged_index_is_a_clear_error(tmp_path: Path) -> None:
    _build(tmp_path, DOCS, _FakeEmbedder())
    build = load_index(tmp_path).path
    (build / "vectors.npy").unlink()
    with pytest.raises(IndexUnavailableError, match="damaged"):
        load_index(tmp_path)


def test_nothing_to_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no documents"):
        build_index(index_dir=tmp_path, documents=[], metadata={}, model_id="m", load_embedder=_FakeEmbedder, chunking=ChunkingParams())
    with pytest.raises(ValueError, match="no retrievable text"):
        _build(tmp_path, {"empty": ""}, _FakeEmbedder())


def test_beir_corpus_units_keep_their_ids(tmp_path: Path) -> None:
    corpus = corpus_from_beir([("doc-1", "Title", "Some text here."), ("doc-2", "", "Other text.")], "corpus.jsonl")
    build_index(
        index_dir=tmp_path, documents=corpus.documents, metadata=corpus.metadata, model_id="fake-model",
        load_embedder=_FakeEmbedder, chunking=ChunkingParams(),
    )
    loaded = load_index(tmp_path)
    assert set(loaded.units) == {"doc-1", "doc-2"}
    assert loaded.units["doc-1"].doc == "doc-1" and loaded.units["doc-1"].section == ("Title",)
    manifest = json.loads((loaded.path / "manifest.json").read_text())
    assert manifest["chunking"]["chunk_size"] == ChunkingParams().chunk_size
    shutil.rmtree(tmp_path / "builds")
    with pytest.raises(IndexUnavailableError):
        load_index(tmp_path)
