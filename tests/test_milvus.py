"""The Milvus backend against the real engine (milvus-lite 2.5.1), embedded and as a loopback server.

Equivalence with the FAISS + bm25s default: dense candidates are identical (both searches are
exact inner products over the same float32 vectors); lexical candidates differ because Milvus
analyses text with its own analysers (jieba with its default dictionary and HMM, the english
analyser's stemmer and stop words) where bm25s uses ours (symbol- and number-aware, stop words,
Snowball), so the hybrid top 10 is compared with a stated tolerance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.backends import ChunkRecord
from index.backends.local import FaissDense
from index.backends.milvus import MilvusDense, MilvusLexical, MilvusStore, connect
from index.milvus_server import LiteServer
from index.milvus_sync import collection_info, export_index
from index.store import load_index
from rag.config import Settings
from rag.retriever import RetrievalMode, Retriever

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

# Hybrid top-10 agreement with the FAISS default on the seed questions (measured: see bench/results/milvus_equivalence.md)
MIN_MEAN_TOP10_OVERLAP = 0.8
MAX_RECALL5_DROP = 0.05


@pytest.fixture(scope="module")
def seed_index(seed_index_dir: Path):
    return load_index(seed_index_dir)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteServer]:
    lite = LiteServer(tmp_path_factory.mktemp("milvus-server") / "shared.db").start()
    yield lite
    lite.stop()


@pytest.fixture(scope="module")
def embedded_store(seed_index, tmp_path_factory: pytest.TempPathFactory) -> MilvusStore:
    milvus = MilvusStore(connect(str(tmp_path_factory.mktemp("milvus-embedded") / "seed.db")), "seed_embedded")
    assert export_index(seed_index, milvus) == len(seed_index.chunks)
    return milvus


@pytest.fixture(scope="module", params=["embedded", "server"])
def store(request, seed_index) -> MilvusStore:
    if request.param == "embedded":
        return request.getfixturevalue("embedded_store")
    milvus = MilvusStore(connect(request.getfixturevalue("server").uri), "seed_server")
    assert export_index(seed_index, milvus) == len(seed_index.chunks)
    return milvus


@pytest.fixture(scope="module")
def seed_questions() -> list[dict]:
    lines = (ROOT / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [q for q in map(json.loads, lines) if q["gold"]]


@pytest.fixture(scope="module")
def question_vectors(retriever, seed_questions) -> np.ndarray:
    return retriever.encoder.encode_queries([q["question"] for q in seed_questions])


def test_export_copies_every_chunk(store: MilvusStore, seed_index) -> None:
    assert store.count() == len(seed_index.chunks)
    info = store.info()
    assert info is not None and info.model_id == seed_index.manifest.model_id and info.dimension == seed_index.vectors.shape[1]


def test_dense_candidates_identical_to_faiss(store: MilvusStore, seed_index, question_vectors: np.ndarray) -> None:
    faiss_hits = FaissDense(seed_index.dense, seed_index.chunks, seed_index.vectors, {u.id: u.doc for u in seed_index.units.values()}).search(question_vectors, 50)
    milvus_hits = MilvusDense(store).search(question_vectors, 50)
    for ours, theirs in zip(faiss_hits, milvus_hits, strict=True):
        assert np.allclose(ours.scores, theirs.scores, atol=1e-5)
        # identical up to the order of exact ties
        assert {i: round(float(s), 5) for i, s in zip(ours.ids[:40], ours.scores[:40], strict=True)} == {
            i: round(float(s), 5) for i, s in zip(theirs.ids[:40], theirs.scores[:40], strict=True)
        }


def test_hybrid_top10_close_to_faiss(embedded_store: MilvusStore, retriever, seed_questions) -> None:
    """Same engine in both modes: run once, embedded (the server mode's candidates are checked above)."""
    store = embedded_store
    milvus = Retriever(retriever.index, retriever.encoder, fusion=retriever.fusion, lexicon=retriever.lexicon,
                       dense=MilvusDense(store), lexical=MilvusLexical(store))
    faiss = Retriever(retriever.index, retriever.encoder, fusion=retriever.fusion, lexicon=retriever.lexicon)  # whatever RAG_BACKEND says
    questions = [q["question"] for q in seed_questions]
    ours, theirs = faiss.search_many(questions, 10), milvus.search_many(questions, 10)
    overlaps, hits_faiss, hits_milvus = [], 0, 0
    for question, a, b in zip(seed_questions, ours, theirs, strict=True):
        top_a, top_b = [h.unit.para for h in a.hits], [h.unit.para for h in b.hits]
        overlaps.append(len(set(top_a) & set(top_b)) / 10)
        hits_faiss += any(p in question["gold"] for p in top_a[:5])
        hits_milvus += any(p in question["gold"] for p in top_b[:5])
    assert np.mean(overlaps) >= MIN_MEAN_TOP10_OVERLAP
    assert hits_milvus / len(seed_questions) >= hits_faiss / len(seed_questions) - MAX_RECALL5_DROP
    dense_only = milvus.search_many(questions[:20], 10, mode=RetrievalMode.DENSE)
    for a, b in zip(faiss.search_many(questions[:20], 10, mode=RetrievalMode.DENSE), dense_only, strict=True):
        assert [h.unit.id for h in a.hits] == [h.unit.id for h in b.hits]


def test_filter_by_document(store: MilvusStore, seed_index, question_vectors: np.ndarray) -> None:
    doc = next(iter(seed_index.documents))
    assert all(len(c) > 0 for c in MilvusDense(store).search(question_vectors[:3], 10, docs=frozenset([doc])))
    assert all(len(c) == 0 for c in MilvusDense(store).search(question_vectors[:3], 10, docs=frozenset(["no-such-document"])))
    assert len(MilvusLexical(store).search(["名古屋议定书"], 10, docs=frozenset(["no-such-document"]))[0]) == 0


def _record(unit: str, text: str, language: str) -> ChunkRecord:
    return ChunkRecord(id=f"{unit}#0", unit=unit, doc="added-doc", body=text, language=language, session=68)


def test_add_is_searchable_at_once_and_remove_deletes(store: MilvusStore, retriever) -> None:
    text = "Zorblaxian moon treaty: the Assembly adopted the Zorblaxian treaty on lunar mining in 2031."
    vector = retriever.encoder.encode_passages([text])
    before = store.count()
    store.add([_record("added-doc/1", text, "en")], vector)
    assert store.count() == before + 1
    dense = MilvusDense(store).search(retriever.encoder.encode_queries(["Zorblaxian lunar mining treaty"]), 5)[0]
    assert dense.ids[0] == "added-doc/1#0"
    lexical = MilvusLexical(store)
    assert lexical.search(["zorblaxian treaty"], 5)[0].units[0] == "added-doc/1"
    assert lexical.coverage("zorblaxian") == 1.0
    store.remove_units(["added-doc/1"])
    assert store.count() == before
    assert "added-doc/1#0" not in MilvusDense(store).search(vector, 5)[0].ids
    assert lexical.coverage("zorblaxian") == 0.0


def test_restart_keeps_the_collection(seed_index, tmp_path: Path) -> None:
    lite = LiteServer(tmp_path / "restart.db").start()
    try:
        export_index(seed_index, MilvusStore(connect(lite.uri), "persisted"))
    finally:
        lite.stop()
    lite = LiteServer(tmp_path / "restart.db").start()
    try:
        again = MilvusStore(connect(lite.uri), "persisted")
        assert again.count() == len(seed_index.chunks)
        assert again.info() is not None and again.info().corpus_hash == seed_index.manifest.corpus_hash
    finally:
        lite.stop()


_WRITER = """
import sys, numpy as np
from index.backends import ChunkRecord
from index.backends.milvus import MilvusStore, connect
store = MilvusStore(connect(sys.argv[1]), sys.argv[2])
vector = np.zeros((1, int(sys.argv[3])), np.float32); vector[0, 0] = 1.0
store.add([ChunkRecord(id="shared/1#0", unit="shared/1", doc="shared", body="Quuxian shared record", language="en")], vector)
print("added")
"""

_READER = """
import sys
from index.backends.milvus import MilvusLexical, MilvusStore, connect
found = MilvusLexical(MilvusStore(connect(sys.argv[1]), sys.argv[2])).search(["quuxian"], 3)[0]
print(",".join(found.ids))
"""


def test_two_processes_share_one_server(server: LiteServer, seed_index) -> None:
    """A chunk written by one process is found by another's next search (Strong consistency)."""
    MilvusStore(connect(server.uri), "shared").create(collection_info(seed_index, "FLAT"), replace=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dim = str(seed_index.vectors.shape[1])
    writer = subprocess.run([sys.executable, "-c", _WRITER, server.uri, "shared", dim], env=env, capture_output=True, text=True, timeout=120)
    assert writer.returncode == 0 and "added" in writer.stdout, writer.stderr[-2000:]
    reader = subprocess.run([sys.executable, "-c", _READER, server.uri, "shared"], env=env, capture_output=True, text=True, timeout=120)
    assert reader.returncode == 0, reader.stderr[-2000:]
    assert reader.stdout.strip() == "shared/1#0"


def test_open_retriever_selects_milvus_by_configuration(settings: Settings, seed_index_dir: Path, tmp_path: Path) -> None:
    from rag.engine import open_retriever

    configured = settings.with_changes({"backend": "milvus", "milvus.uri": str(tmp_path / "cfg.db")})
    milvus = open_retriever(configured, index_dir=seed_index_dir)
    assert isinstance(milvus.dense, MilvusDense) and isinstance(milvus.lexical, MilvusLexical)
    hits = milvus.search("名古屋议定书何时生效", 5).hits
    assert hits and hits[0].unit.doc in milvus.index.documents
    refused = settings.with_changes({"backend": "milvus", "milvus.uri": str(tmp_path / "other.db"), "milvus.sync_on_open": False})
    with pytest.raises(Exception, match="rag index export --to milvus"):
        open_retriever(refused, index_dir=seed_index_dir, with_model=False)


def _rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from rag.cli import app; app()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_cli_export_and_build_with_milvus_backend(server: LiteServer, settings: Settings, seed_index_dir: Path, seed_index) -> None:
    """`rag index export --to milvus` copies the build (no model load); `rag build --backend milvus` then finds it mirrored."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_HOME": str(settings.home), "RAG_MILVUS_URI": server.uri,
           "RAG_MILVUS_COLLECTION": "cli_export", "RAG_SEEDS_DIR": str(settings.seeds_dir)}
    exported = _rag("index", "export", "--to", "milvus", "--index-dir", str(seed_index_dir), env=env)
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert f"exported {len(seed_index.chunks)} chunks" in exported.stdout
    collection = settings.with_changes({"milvus.collection": "cli_export"}).milvus_collection_for(seed_index_dir)
    assert MilvusStore(connect(server.uri), collection).count() == len(seed_index.chunks)
    rebuilt = _rag("build", "--backend", "milvus", "--index-dir", str(seed_index_dir), env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert "up to date" in rebuilt.stdout and "already mirrors this build" in rebuilt.stdout
    unreachable = _rag("index", "export", "--to", "milvus", "--index-dir", str(seed_index_dir),
                       env={**env, "RAG_MILVUS_URI": "http://127.0.0.1:9"})
    assert unreachable.returncode != 0 and "Traceback" not in unreachable.stderr
    assert "Milvus" in unreachable.stderr
