"""The document store on disk (index.docstore): a built index answers with units read from
``store.sqlite``, the process does not hold every unit's record, and a damaged store file is
one sentence naming it."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from index.builds import IndexUnavailableError
from index.docstore import MAX_CONNECTIONS, STORE_FILE, DocumentStore
from index.store import load_index
from rag.parser import parse_document
from rag.retriever import RetrievalMode, Retriever
from rag.units import Unit, UnitKind
from tests.test_index import _build, _FakeEmbedder

PARAGRAPHS = 300
TEXT = "\n\n".join(
    f"{i}. Paragraph {i} on topic{i} and the common subject of the report."
    + (f"\n(a) First item of topic{i};\n(b) Second item of topic{i}." if i % 10 == 0 else "")
    for i in range(1, PARAGRAPHS + 1)
) + "\n"


class _QueryEncoder(_FakeEmbedder):
    def encode_queries(self, texts, batch_size: int = 32) -> np.ndarray:
        return self.encode_passages(texts)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("docstore") / "index"
    _build(target, {"big": TEXT, "other": "1. Another document about forests.\n"}, _FakeEmbedder())
    return target


def _live_units() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Unit)  # no isinstance: it reads lazy modules' __class__


def test_records_live_on_disk_and_hits_are_fetched_from_it(index_dir: Path) -> None:
    before = _live_units()
    index = load_index(index_dir)
    assert (index.path / STORE_FILE).is_file() and not list(index.path.glob("*.jsonl"))
    assert len(index.units) > PARAGRAPHS and _live_units() - before < 10  # nothing decoded by loading
    retriever = Retriever(index, _QueryEncoder())
    result = retriever.search("topic137", k=5, mode=RetrievalMode.LEXICAL)
    assert result.hits[0].unit.para == 137 and result.hits[0].unit.doc == "big"
    hybrid = retriever.search("topic40 item", k=5)
    assert 40 in {h.unit.para for h in hybrid.hits}
    # only the hits (and their paragraphs) were decoded, not the ~330 units of the index
    assert _live_units() - before < 40
    assert index.store.unit.cache_info().currsize < 40  # type: ignore[attr-defined]
    # what was fetched is what was parsed
    parsed = {u.id: u for u in parse_document("big", TEXT).units}
    assert result.hits[0].unit == parsed[result.hits[0].unit.id]


def test_lookups_by_number_sub_units_and_sentences(index_dir: Path) -> None:
    index = load_index(index_dir)
    parsed = parse_document("big", TEXT)
    numbered = index.paragraphs["big"]
    assert list(numbered) == list(range(1, PARAGRAPHS + 1)) and numbered[26] == parsed.paragraph(26)
    assert index.paragraphs.get("missing", {}) == {}
    p30, p31 = numbered[30].id, numbered[31].id
    assert [u.sub for u in index.sub_units[p30]] == ["a", "b"] and index.sub_units.get(p31, ()) == ()
    sentences = index.unit_sentences(p30)
    assert sentences and all(s.unit_id == p30 and v.shape == (8,) for s, v in sentences)
    assert index.units[p30].text[sentences[0][0].start : sentences[0][0].end] == sentences[0][0].text
    assert index.chunks[0].unit_id in index.units and len(list(index.chunks)) == len(index.chunks) == index.manifest.chunks
    assert index.store.counts("kind")[UnitKind.SUB.value] == 2 * (PARAGRAPHS // 10)
    assert sum(1 for _ in index.units.values()) == index.manifest.units  # streamed in build order


def test_other_threads_read_through_their_own_connection(index_dir: Path) -> None:
    index = load_index(index_dir)
    found: list[Unit | None] = []
    ids = [index.paragraphs["big"][n].id for n in range(1, 9)]
    index.store.unit.cache_clear()  # type: ignore[attr-defined]
    threads = [threading.Thread(target=lambda i=i: found.append(index.store.unit(i))) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(u.para for u in found if u is not None) == list(range(1, 9))


def _threads(count: int, work) -> list[object]:
    """Run ``work(i)`` on ``count`` new threads at once; what each returned (or raised)."""
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # the test reports what each thread got
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_pruned_build_is_still_served_by_threads_that_never_queried(index_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    index = load_index(copy)
    ids = [index.paragraphs["big"][n].id for n in range(1, 9)]
    shutil.rmtree(index.path)  # pruning removed the served build; the server reloads only on a later request
    index.store.unit.cache_clear()  # type: ignore[attr-defined]
    found = _threads(8, lambda i: (index.store.unit(ids[i]), index.store.spans("sentences", i, i + 1), index.paragraphs[["big", "other"][i % 2]]))
    assert not [r for r in found if isinstance(r, Exception)], found
    assert [u.para for u, _, _ in found] == list(range(1, 9))  # type: ignore[misc]
    assert all(len(spans) == 1 and paragraphs for _, spans, paragraphs in found)  # type: ignore[misc]


def _open_descriptors(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # a descriptor closed meanwhile
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(str(path.resolve()))
    return count


def _chunk_id(store: DocumentStore, row: int) -> str:
    return store.spans("chunks", row, row + 1)[0].id


def test_more_readers_than_the_pool_holds_wait_for_a_connection(index_dir: Path) -> None:
    path = load_index(index_dir).path / STORE_FILE
    before = _open_descriptors(path)
    store = DocumentStore(path)
    try:
        rows = list(range(24))
        assert _threads(24, partial(_chunk_id, store)) == [store.chunk_ids[i] for i in rows]
        assert 1 <= _open_descriptors(path) - before <= MAX_CONNECTIONS
    finally:
        store.close()


def test_dropping_the_store_closes_its_file_without_the_cycle_collector(index_dir: Path) -> None:
    path = load_index(index_dir).path / STORE_FILE
    gc.collect()
    before = _open_descriptors(path)
    gc.disable()
    try:
        store = DocumentStore(path)
        assert store.unit(store.unit_ids[0]) is not None and store.first_unit("big", para=3) is not None
        assert _threads(4, partial(_chunk_id, store)) == store.chunk_ids[:4]  # four connections open
        assert _open_descriptors(path) > before
        del store
        assert _open_descriptors(path) == before
    finally:
        gc.enable()
    closed = DocumentStore(path)
    closed.close()
    assert _open_descriptors(path) == before
    closed.unit.cache_clear()  # type: ignore[attr-defined]
    with pytest.raises(IndexUnavailableError, match="was closed"):
        closed.unit(closed.unit_ids[0])


def test_a_failed_load_closes_the_store_it_opened(index_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    build = load_index(copy).path
    gc.collect()
    (build / "vectors.npy").write_bytes(b"not numpy")
    gc.disable()
    try:
        with pytest.raises(IndexUnavailableError, match="vectors.npy") as caught:
            load_index(copy)
        assert caught.value.__traceback__ is not None  # its frames still hold the store: closed, not merely unreferenced
        assert _open_descriptors(build / STORE_FILE) == 0
    finally:
        gc.enable()


def test_a_rebuild_reads_only_the_hashes_of_the_live_build(index_dir: Path) -> None:
    from index.store import stored_vectors

    index = load_index(index_dir)
    chunks = {c.content_hash: row for row, c in enumerate(index.chunks)}
    gc.disable()
    try:
        reuse = stored_vectors(index_dir, index.manifest.model_id)
        assert _open_descriptors(index.path / STORE_FILE) == 1  # the loaded index's own connection; the reader closed its one
    finally:
        gc.enable()
    assert set(reuse) == set(chunks) | {s.content_hash for s in index.sentences}
    assert all(np.array_equal(reuse[h], index.vectors[row]) for h, row in chunks.items())
    assert stored_vectors(index_dir, "another/model") == {}


def test_sentences_of_a_unit_must_be_contiguous(index_dir: Path, tmp_path: Path) -> None:
    from index.docstore import write_store

    index = load_index(index_dir)
    units = list(index.units.values())
    sentences = list(index.sentences)
    first = sentences[0].unit_id
    later = next(i for i, s in enumerate(sentences) if s.unit_id != first)
    scattered = [*sentences[: later + 1], sentences[0], *sentences[later + 1 :]]  # unit 1, unit 2, unit 1 again
    with pytest.raises(ValueError, match=f"sentences of unit '{first}' are not contiguous"):
        write_store(tmp_path / "scattered.sqlite", units, list(index.chunks), scattered)
    write_store(tmp_path / "grouped.sqlite", units, list(index.chunks), sentences)
    assert DocumentStore(tmp_path / "grouped.sqlite").sentence_rows(first) == index.sentence_rows[first]


def test_an_unreadable_index_while_answering_is_a_503_sentence() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise IndexUnavailableError("the index is damaged: /secret/store.sqlite cannot be read; rebuild it")

    response = TestClient(app).get("/boom")
    detail = response.json()["detail"]
    assert response.status_code == 503 and "/secret" not in detail and "\n" not in detail and detail.count(";") <= 1


@pytest.mark.parametrize("damage", ["overwrite pages", "garbage header", "truncate"])
def test_damaged_store_is_one_sentence_naming_it(index_dir: Path, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    path = load_index(copy).path / STORE_FILE
    data = bytearray(path.read_bytes())
    if damage == "overwrite pages":
        data[len(data) // 3 : len(data) // 3 + 8192] = b"\xff" * 8192
    elif damage == "garbage header":
        data[:100] = b"x" * 100
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))
    with pytest.raises(IndexUnavailableError) as caught:
        load_index(copy)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "damaged" in message and "rag build --index-dir" in message, message
