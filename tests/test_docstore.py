"""The document store on disk (index.docstore): a built index answers with units read from
``store.sqlite``, the process does not hold every unit's record, and a damaged store file is
one sentence naming it."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import numpy as np
import pytest

from index.builds import IndexUnavailableError
from index.docstore import STORE_FILE
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
    return sum(1 for o in gc.get_objects() if isinstance(o, Unit))


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
    assert index.store.unit.cache_info().currsize < 40
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
    index.store.unit.cache_clear()
    threads = [threading.Thread(target=lambda i=i: found.append(index.store.unit(i))) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(u.para for u in found if u is not None) == list(range(1, 9))


@pytest.mark.parametrize("damage", ["overwrite pages", "garbage header", "truncate"])
def test_damaged_store_is_one_sentence_naming_it(index_dir: Path, tmp_path: Path, damage: str) -> None:
    import shutil

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
