"""The seed as real Word, PDF (LibreOffice) and HTML files gives the text seed's structure exactly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from seed_documents import JOB_NUMBER, TEST_SYMBOL, seed_parsed, write_seed_docx, write_seed_html, write_seed_pdf, write_un_docx

from rag.corpus import load_documents
from rag.ingest import Extracted, read_document
from rag.parser import parse_document
from rag.textio import read_document_text
from rag.units import ParsedDocument, UnitKind

SEED_TEXT = Path(__file__).resolve().parents[1] / "seeds" / "000_75fc5355e1129b16.txt"
ENGLISH = Path(__file__).parent / "fixtures" / "english_un.txt"


def _ns(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _parse(extracted: Extracted) -> ParsedDocument:
    return parse_document("seed", extracted.source, path=extracted.path, encoding=extracted.encoding, blocks=extracted.blocks)


def assert_same_as_text_seed(doc: ParsedDocument, seed: ParsedDocument | None = None) -> None:
    """Same paragraphs (text up to whitespace), sub-units, section paths, front matter and footnote."""
    seed = seed or seed_parsed()
    assert doc.warnings == ()
    assert [p.para for p in doc.paragraphs] == [p.para for p in seed.paragraphs]
    for got, want in zip(doc.paragraphs, seed.paragraphs, strict=True):
        assert _ns(got.text) == _ns(want.text), got.para
        assert [_ns(s) for s in got.section] == [_ns(s) for s in want.section], got.para
        assert [(s.sub, _ns(s.text)) for s in doc.sub_units(got)] == [(s.sub, _ns(s.text)) for s in seed.sub_units(want)], got.para
    for kind in (UnitKind.FRONT, UnitKind.FOOTNOTE, UnitKind.HEADING):
        assert [(u.label, _ns(u.text)) for u in doc.units if u.kind is kind] == [
            (u.label, _ns(u.text)) for u in seed.units if u.kind is kind
        ], kind
    assert [u.id.split("/", 1)[1] for u in doc.units] == [u.id.split("/", 1)[1] for u in seed.units]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seed-files")
    write_seed_docx(folder / "seed.docx")
    write_seed_html(folder / "seed.html")
    return folder


@pytest.fixture(scope="module")
def pdf(files: Path) -> Path:
    return write_seed_pdf(files / "seed.docx", files)


def test_docx_numbering_is_words_own_and_round_trips(files: Path) -> None:
    import docx

    numbered = [p for p in docx.Document(str(files / "seed.docx")).paragraphs if p._p.pPr is not None and p._p.pPr.numPr is not None]
    assert sum(p._p.pPr.numPr.numId.val == 90 and p._p.pPr.numPr.ilvl.val == 0 for p in numbered) == 90
    assert not any(re.match(r"\d+\.|\([a-z]\)|[一二三]\.", p.text) for p in numbered)  # the numbers live in numbering.xml only
    extracted = read_document(files / "seed.docx")
    assert extracted.format == "docx" and extracted.header_lines == (TEST_SYMBOL,)
    assert JOB_NUMBER not in extracted.source and "请回收" not in extracted.source
    doc = _parse(extracted)
    assert_same_as_text_seed(doc)
    assert doc.paragraph(26).section[0].startswith("一. ") and doc.paragraph(87).section[1].startswith("E. ")


def test_html_round_trips(files: Path) -> None:
    extracted = read_document(files / "seed.html")
    doc = _parse(extracted)
    assert_same_as_text_seed(doc)
    assert {d.reason for d in doc.debris} == {"running header", "running footer"}
    assert extracted.header_lines == (TEST_SYMBOL,)


# Tests marked slow need LibreOffice, which `make test` installs (scripts/install-test-packages.sh) and
# `make test-fast` does not; each lays a document out (2-5 s).
@pytest.mark.slow
def test_pdf_from_libreoffice_round_trips_across_page_breaks(pdf: Path) -> None:
    extracted = read_document(pdf)
    assert extracted.format == "pdf" and extracted.header_lines == (TEST_SYMBOL,)
    doc = _parse(extracted)
    assert_same_as_text_seed(doc)
    pages = max(b.page for b in extracted.blocks)
    assert pages >= 10
    reasons = [d.reason for d in doc.debris]
    for reason in ("document symbol", "page number", "job number", "recycling line"):
        assert sum(reason in r for r in reasons) == pages, reason  # every page's header and footer dropped
    assert not any(TEST_SYMBOL in u.text or JOB_NUMBER in u.text or "请回收" in u.text for u in doc.units)
    # Paragraphs cut by a page break are joined: their text comes from body blocks on two pages.
    body = extracted.body
    crossing = [p for p in doc.paragraphs
                if len({b.page for b in body if b.offset < p.end and b.offset + len(b.text) > p.start}) > 1]
    assert len(crossing) >= 5
    assert all(p.page is not None for p in doc.units)
    assert [p.page for p in doc.paragraphs] == sorted(p.page for p in doc.paragraphs)
    assert doc.paragraph(1).page == 1 and doc.paragraph(90).page in (pages - 1, pages)  # the page it starts on
    for unit in doc.units:  # spans still map unit text back to the extracted source exactly
        for span in unit.spans:
            assert unit.text[span.text_start : span.text_start + span.end - span.start] == extracted.source[span.start : span.end]


@pytest.mark.slow
def test_pdf_without_paragraph_spacing_still_splits_paragraphs(tmp_path: Path) -> None:
    """No space between paragraphs: a short last line or a new paragraph number after a full stop separates them."""
    pdf = write_seed_pdf(write_un_docx(seed_parsed(), tmp_path / "tight.docx", space_after=0), tmp_path)
    doc = _parse(read_document(pdf))
    assert_same_as_text_seed(doc)


@pytest.mark.slow
def test_english_document_as_word_and_pdf(tmp_path: Path) -> None:
    """Latin text: lines rejoined with spaces, roman chapters and lettered sections from Word numbering."""
    source, _ = read_document_text(ENGLISH)
    english = parse_document("seed", source)
    docx_path = write_un_docx(english, tmp_path / "en.docx", recycle="Please recycle")
    for path in (docx_path, write_seed_pdf(docx_path, tmp_path)):
        extracted = read_document(path)
        doc = _parse(extracted)
        assert_same_as_text_seed(doc, english)
        assert [" ".join(p.text.split()) for p in doc.paragraphs] == [" ".join(p.text.split()) for p in english.paragraphs]
        assert doc.paragraph(2).section[0].startswith("I. Report of the Executive Secretary")
        assert not any("Please recycle" in u.text or TEST_SYMBOL in u.text for u in doc.units)


@pytest.mark.slow
def test_a_library_of_the_four_formats_reads_the_printed_symbol_only(files: Path, pdf: Path, tmp_path: Path) -> None:
    for name in ("seed.docx", "seed.html"):
        shutil.copy(files / name, tmp_path / f"{name.replace('.', '-')}.{name.split('.')[1]}")  # ids come from file stems
    shutil.copy(pdf, tmp_path / "seed-pdf.pdf")
    shutil.copy(SEED_TEXT, tmp_path / "seed-txt.txt")
    corpus = load_documents(tmp_path)
    assert corpus.errors == ()
    by_file = {m.file: m for m in corpus.metadata.values()}
    for name in ("seed-docx.docx", "seed-pdf.pdf", "seed-html.html"):
        meta = by_file[name]
        assert meta.symbol == TEST_SYMBOL and "symbol" in meta.from_header, name
        assert meta.session == 68 and meta.agenda_items == ("19(d)", "19(e)", "19(f)"), name
    text = by_file["seed-txt.txt"]
    assert text.symbol is None  # the footnote "* A/68/150。" is the agenda, never this document's symbol
    assert text.session == 68 and set(text.from_header) == {"agenda_items", "session"}
    assert all(len(d.paragraphs) == 90 for d in corpus.documents)
    pdf_doc = next(d for d in corpus.documents if d.path.endswith(".pdf"))
    assert pdf_doc.paragraph(60).to_record()["page"] == pdf_doc.paragraph(60).page > 1


def test_word_first_page_header_gives_symbol_body_and_date(tmp_path: Path) -> None:
    first_page = ["联合国", TEST_SYMBOL, "大会", "Distr.: General", "2013年7月26日", "Chinese", "Original: English"]
    write_un_docx(seed_parsed(), tmp_path / "a68.docx", first_page=first_page)
    corpus = load_documents(tmp_path)
    meta = corpus.metadata["a68"]
    assert (meta.symbol, meta.body, meta.date, meta.session) == (TEST_SYMBOL, "General Assembly", "2013-07-26", 68)
    assert set(meta.from_header) == {"symbol", "body", "date", "session", "agenda_items"}
    assert_same_as_text_seed(corpus.documents[0])  # header lines never enter the body
