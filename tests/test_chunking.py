"""Chunks stay inside their unit, keep exact offsets, and carry the unit's nearest heading."""

from __future__ import annotations

from pathlib import Path

from rag.chunking import ChunkingParams, chunk_units
from rag.corpus import load_documents

ROOT = Path(__file__).resolve().parents[1]


def _seed_units() -> dict:
    documents = load_documents(ROOT / "seeds").documents
    return {u.id: u for d in documents for u in d.units}


def test_chunks_are_exact_slices_of_one_retrievable_unit() -> None:
    units = _seed_units()
    for params in (ChunkingParams(), ChunkingParams(chunk_size=120, chunk_overlap=17)):
        chunks = chunk_units(units.values(), params)
        assert len({c.id for c in chunks}) == len(chunks)
        for chunk in chunks:
            unit = units[chunk.unit_id]
            assert unit.kind.retrievable
            assert unit.text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= params.chunk_size
        covered = {c.unit_id for c in chunks}
        assert covered == {u.id for u in units.values() if u.kind.retrievable}
        assert {c.unit_id for c in chunks if c.unit_id.endswith("/85/target-11")}  # sub-units are indexed too


def test_heading_context_is_searched_but_not_part_of_the_text() -> None:
    units = _seed_units()
    with_context = {c.id: c for c in chunk_units(units.values(), ChunkingParams())}
    chunk = with_context["000_75fc5355e1129b16/50#0"]
    assert chunk.context == "E. 土地维持生命奖"
    assert chunk.passage == "E. 土地维持生命奖\n" + chunk.text and not chunk.text.startswith("E.")
    assert with_context["000_75fc5355e1129b16/62#0"].context == "首次全球土壤周"
    assert with_context["000_75fc5355e1129b16/session-1#0"].context == ""  # front matter has no heading
    plain = {c.id: c for c in chunk_units(units.values(), ChunkingParams(heading_context=False))}
    assert plain["000_75fc5355e1129b16/50#0"].passage == chunk.text
    assert plain["000_75fc5355e1129b16/50#0"].content_hash != chunk.content_hash  # a different index, re-embedded
    assert ChunkingParams().as_dict()["heading_context"] is True
