"""The parser on the real seed document, an English UN-style fixture and awkward inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.corpus import load_documents
from rag.parser import parse_document
from rag.textio import DocumentDecodeError, read_document_text
from rag.units import Layout, ParsedDocument, UnitKind

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_75fc5355e1129b16.txt"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def seed() -> ParsedDocument:
    source, encoding = read_document_text(SEED)
    return parse_document("seed", source, path=str(SEED), encoding=encoding)


def _nospace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_seed_has_exactly_90_numbered_paragraphs_in_order(seed: ParsedDocument) -> None:
    assert seed.layout is Layout.UN
    assert [p.para for p in seed.paragraphs] == list(range(1, 91))
    assert all(p.text.strip() for p in seed.paragraphs)
    assert seed.warnings == ()


def test_no_paragraph_holds_another_paragraphs_or_a_headings_text(seed: ParsedDocument) -> None:
    headings = [u.text for u in seed.units if u.kind is UnitKind.HEADING]
    for paragraph in seed.paragraphs:
        assert not re.search(r"(^|\n)\d{1,2}\.\s", paragraph.text), paragraph.id
        lines = paragraph.text.split("\n")
        for heading in headings:  # a heading's words may recur in a sentence, never as a line of its own
            assert heading not in lines and not paragraph.text.endswith(heading), (paragraph.id, heading)
    assert "首次全球土壤周" in headings
    assert "在落实《战略计划》和爱知生物多样性目标方面所面临的挑战" in headings


def test_page_breaks_are_joined(seed: ParsedDocument) -> None:
    p26 = _nospace(seed.paragraph(26).text)
    assert "2013年1月1日开始" in p26 and "2020年12月31日结束" in p26
    for number, joined in [(36, "第一次审查和评估"), (46, "地方社区采用"), (51, "参加的机构间"), (56, "可持续土地利用"),
                           (61, "必须在自上而下"), (66, "生物多样性和荒漠化"), (81, "及时生效，以便")]:
        assert joined in _nospace(seed.paragraph(number).text), number
    p85 = seed.paragraph(85).text
    assert "可持续利用生物多样性" in p85 and "利用生生物" not in p85
    assert [d.reason for d in seed.debris] == ["character '生' repeated across a page join"]


def test_sub_units(seed: ParsedDocument) -> None:
    p85 = seed.paragraph(85)
    targets = seed.sub_units(p85)
    assert [t.sub for t in targets] == [f"target {n}" for n in range(1, 21)]
    assert targets[10].id == "seed/85/target-11" and "17%陆地" in targets[10].text
    assert targets[-1].text.endswith("包括调集国内资源的目标。")
    assert "在落实《战略计划》" not in targets[-1].text
    assert [s.sub for s in seed.sub_units(seed.paragraph(3))] == list("abcde")
    assert [s.sub for s in seed.sub_units(seed.paragraph(2))] == list("abcdefg")
    inline = seed.sub_units(seed.paragraph(43))
    assert [s.sub for s in inline] == list("abcd")
    assert inline[3].text == "采取应急和救济措施以加强国家抗旱政策目标。"
    assert all(s.parent == s.doc + "/" + str(s.para) for s in seed.units if s.kind is UnitKind.SUB)


def test_section_paths(seed: ParsedDocument) -> None:
    def path(number: int) -> tuple[str, ...]:
        return seed.paragraph(number).section

    assert path(26)[0].startswith("一.") and path(26)[1].startswith("D.") and len(path(26)) == 2
    assert [s.split(".")[0] for s in path(55)] == ["二", "G", "1"]
    assert path(55)[2].startswith("1. 可持续发展目标开放工作组")
    assert [s.split(".")[0] for s in path(81)] == ["三", "C", "1"] and path(81)[2] == "1. 名古屋议定书"
    assert path(62)[-1] == "首次全球土壤周"
    assert path(86)[-1] == "在落实《战略计划》和爱知生物多样性目标方面所面临的挑战"
    assert path(87)[1].startswith("E.") and len(path(87)) == 2  # unnumbered heading ends with its section


def test_front_matter_and_footnote_are_unnumbered_units(seed: ParsedDocument) -> None:
    front = [u for u in seed.units if u.kind is UnitKind.FRONT]
    assert [u.label for u in front][:2] == ["session-1", "agenda-1"]
    assert any(u.label == "transmittal-1" and u.text.startswith("秘书长谨向大会转递") for u in front)
    footnotes = [u for u in seed.units if u.kind is UnitKind.FOOTNOTE]
    assert len(footnotes) == 1 and "A/68/150" in footnotes[0].text and footnotes[0].para is None


def test_every_source_character_is_accounted_for(seed: ParsedDocument) -> None:
    source = seed.source
    owner = [""] * len(source)
    for unit in seed.units:
        if unit.kind is UnitKind.SUB:
            continue  # sub-units lie inside their paragraph
        ranges = [(s.start, s.end) for s in unit.spans] + ([unit.marker] if unit.marker else [])
        for start, end in ranges:
            for i in range(start, end):
                assert owner[i] == "", f"offset {i} in both {owner[i]} and {unit.id}"
                owner[i] = unit.id
    for debris in seed.debris:
        for i in range(debris.start, debris.end):
            assert owner[i] == ""
            owner[i] = "debris"
    missing = [i for i, ch in enumerate(source) if not owner[i] and not ch.isspace()]
    assert missing == []


def test_unit_text_maps_back_to_source_exactly(seed: ParsedDocument) -> None:
    for unit in seed.units:
        for span in unit.spans:
            assert unit.text[span.text_start : span.text_start + span.end - span.start] == seed.source[span.start : span.end]
        assert seed.source[unit.start : unit.end].strip()
    p3a = next(u for u in seed.units if u.id == "seed/3/a")
    assert seed.source[p3a.marker[0] : p3a.marker[1]].strip() == "(a)"


def test_english_un_document() -> None:
    source, _ = read_document_text(FIXTURES / "english_un.txt")
    doc = parse_document("en-fixture", source)
    assert doc.layout is Layout.UN
    assert [p.para for p in doc.paragraphs] == [1, 2, 3, 4, 5, 6]
    p2 = doc.paragraph(2)
    assert [s.sub for s in doc.sub_units(p2)] == ["a", "b", "c"]
    assert p2.section == (
        "I. Report of the Executive Secretary of the Convention on Biological Diversity",
        "A. Outcomes of the eleventh meeting of the Conference of the Parties",
    )
    p3 = doc.paragraph(3).text
    assert "with the aim of strengthening institutional capacity" in p3
    assert "an environmental replenishment" in p3
    assert doc.paragraph(4).section[-1] == "1. Nagoya Protocol"
    assert [s.sub for s in doc.sub_units(doc.paragraph(5))] == ["target 1", "target 11"]
    assert doc.paragraph(6).section[-1] == "Challenges in implementing the Strategic Plan"
    footnotes = [u for u in doc.units if u.kind is UnitKind.FOOTNOTE]
    assert footnotes and footnotes[0].text == "* A/68/150."
    assert {u.label for u in doc.units if u.kind is UnitKind.FRONT} >= {"session-1", "agenda-1", "transmittal-1"}


def test_plain_text_falls_back_to_numbered_blocks() -> None:
    source = "Meeting notes\n\nWe discussed the budget.\n\nNext meeting on Tuesday.\n"
    doc = parse_document("notes", source)
    assert doc.layout is Layout.PLAIN
    assert [(p.para, p.text) for p in doc.paragraphs] == [
        (1, "Meeting notes"), (2, "We discussed the budget."), (3, "Next meeting on Tuesday.")
    ]
    assert "no UN paragraph numbering" in doc.warnings[0]


def test_empty_file() -> None:
    source, _ = read_document_text(FIXTURES / "empty.txt")
    doc = parse_document("empty", source, path="empty.txt")
    assert doc.units == () and "empty" in doc.warnings[0]


def test_duplicate_and_out_of_order_numbers_warn_and_keep_everything() -> None:
    source = "1. First paragraph text.\n\n2. Second paragraph text.\n\n2. Second again, a duplicate.\n\n5. Skipped ahead to five.\n"
    doc = parse_document("dup", source)
    assert [p.para for p in doc.paragraphs] == [1, 2, 2, 5]
    assert len({p.id for p in doc.paragraphs}) == 4
    assert any("duplicate" in w for w in doc.warnings) and any("out-of-order" in w for w in doc.warnings)
    assert doc.paragraphs[2].text == "Second again, a duplicate."


def test_gb18030_is_detected_and_bad_bytes_name_the_file(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    (tmp_path / "gb.txt").write_bytes(text.encode("gb18030"))
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa\x00\x81 not text \xff\xff")
    (tmp_path / "plain.txt").write_text("Just one line of notes.\n", encoding="utf-8")
    source, encoding = read_document_text(tmp_path / "gb.txt")
    assert encoding == "gb18030" and source == text
    with pytest.raises(DocumentDecodeError, match="bad.txt"):
        read_document_text(tmp_path / "bad.txt")
    corpus = load_documents(tmp_path)
    assert [d.doc for d in corpus.documents] == ["gb", "plain"]
    assert len(corpus.documents[0].paragraphs) == 90
    assert len(corpus.errors) == 1 and "bad.txt" in corpus.errors[0]
    assert any("no entry in the catalogue" in w for w in corpus.warnings)


def test_seed_folder_uses_the_catalogue() -> None:
    corpus = load_documents(ROOT / "seeds")
    assert corpus.errors == ()
    meta = corpus.metadata["000_75fc5355e1129b16"]
    assert meta.symbol is None and meta.session == 68 and meta.language == "zh"
    assert all((meta.symbol or "") != "A/68/150" for meta in corpus.metadata.values())


def test_paragraph_numbers_of_any_size() -> None:
    """10,000 numbered paragraphs give 10,000 units (the number pattern once stopped at 999)."""
    source = "\n\n".join(f"{n}. Paragraph number {n} of a very long report." for n in range(1, 10_001)) + "\n"
    doc = parse_document("long", source)
    assert doc.layout is Layout.UN and doc.warnings == ()
    assert [p.para for p in doc.paragraphs] == list(range(1, 10_001))
    assert doc.paragraph(10_000).text == "Paragraph number 10000 of a very long report."
    assert max(len(p.text) for p in doc.paragraphs) < 60


def test_a_year_opening_a_line_is_not_a_paragraph_number() -> None:
    source = "1. The Conference met in Doha.\n\n2. It adopted decisions on the work programme to\n\n2013. continue the review.\n\n3. Next.\n"
    doc = parse_document("years", source)
    assert [p.para for p in doc.paragraphs] == [1, 2, 3] and doc.warnings == ()
    assert doc.paragraph(2).text.endswith("to 2013. continue the review.")
