"""Readers on awkward input: encodings, paged text with running lines, bad files, header fields, numbering."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path

import pytest
from seed_documents import write_seed_docx

from rag.corpus import load_documents
from rag.ingest import IngestError, read_document, read_header
from rag.ingest.numbering import chinese_number, format_counter, parse_chinese_number
from rag.ingest.word import _WordNumbering
from rag.parser import parse_document
from rag.units import SourceSpan, UnitKind

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_75fc5355e1129b16.txt"
ENGLISH = Path(__file__).parent / "fixtures" / "english_un.txt"


def _parse(path: Path):
    extracted = read_document(path)
    return extracted, parse_document("d", extracted.source, path=str(path), encoding=extracted.encoding, blocks=extracted.blocks)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "gb18030", "utf-8-sig"])
def test_seed_in_every_accepted_encoding_gives_90_paragraphs(codec: str, tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    path = tmp_path / "seed.txt"
    path.write_bytes(text.encode(codec))
    extracted, doc = _parse(path)
    assert extracted.source == text and len(doc.paragraphs) == 90
    if codec in ("utf-16-le", "utf-16-be"):  # no BOM: Chinese UTF-16 has too few NULs to be sure, so say so
        assert extracted.encoding == codec and "no byte-order mark" in extracted.warnings[0]
    else:
        assert extracted.warnings == ()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_english_utf16_without_bom_is_recognised_by_its_nul_interleaving(codec: str, tmp_path: Path) -> None:
    text = ENGLISH.read_text(encoding="utf-8")
    path = tmp_path / "en.txt"
    path.write_bytes(text.encode(codec))
    extracted, doc = _parse(path)
    assert extracted.encoding == codec and extracted.warnings == ()  # certain: NULs at one byte parity only
    assert "\x00" not in extracted.source and [p.para for p in doc.paragraphs] == [1, 2, 3, 4, 5, 6]


def test_paged_text_drops_running_lines_and_joins_paragraphs_across_pages(tmp_path: Path) -> None:
    """pdftotext-style text: form feeds between pages, header and footer lines on each page."""
    seed = SEED.read_text(encoding="utf-8")
    cut = seed.index("以期提高各自的志向水平") + 4  # inside paragraph 27, mid-sentence
    footer, header = "\n\n7\n13-41234 (C)\n请回收\n", "\fA/68/999\n\n"
    paged = "A/68/999\n" + seed[:cut] + footer + header + seed[cut:]
    (tmp_path / "paged.txt").write_text(paged, encoding="utf-8")
    extracted, doc = _parse(tmp_path / "paged.txt")
    assert extracted.header_lines == ("A/68/999", "A/68/999")
    assert len(doc.paragraphs) == 90 and doc.warnings == ()
    assert "以期提高各自的志向水平。" in doc.paragraph(27).text
    assert not any(re.search(r"13-41234|请回收|A/68/999", u.text) for u in doc.units if u.kind is not UnitKind.FOOTNOTE)
    assert doc.paragraph(27).page == 1 and doc.paragraph(28).page == 2
    reasons = sorted(d.reason for d in doc.debris if d.reason.startswith("running"))
    assert reasons == sorted(["running header: document symbol"] * 2 + ["running header/footer: page number",
                              "running footer: job number", "running footer: recycling line"])


def _image_only_pdf() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure = plt.figure(figsize=(2, 2))
    figure.figimage(np.random.default_rng(0).random((50, 50)))
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    plt.close(figure)
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pypdf import PdfReader, PdfWriter

    figure = plt.figure(figsize=(3, 2))
    figure.text(0.1, 0.5, "1. A paragraph of a confidential document.")
    plain = io.BytesIO()
    figure.savefig(plain, format="pdf")
    plt.close(figure)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(plain.getvalue())))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_bad_files_are_named_with_a_reason_and_never_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    write_seed_docx(tmp_path / "good-word.docx")
    (tmp_path / "encrypted.pdf").write_bytes(_encrypted_pdf())
    (tmp_path / "scanned.pdf").write_bytes(_image_only_pdf())
    (tmp_path / "corrupt.docx").write_bytes((tmp_path / "good-word.docx").read_bytes()[:3000])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.md", "not a word document")
    (tmp_path / "zip.docx").write_bytes(archive.getvalue())
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "garbage.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    (tmp_path / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0")  # old Word: not a supported suffix, not listed
    corpus = load_documents(tmp_path)
    assert sorted(d.doc for d in corpus.documents) == ["good", "good-word"]
    assert all(len(d.paragraphs) == 90 for d in corpus.documents)
    errors = {Path(e.split(":")[0]).name: e for e in corpus.errors}
    assert sorted(errors) == ["binary.txt", "corrupt.docx", "encrypted.pdf", "garbage.pdf", "scanned.pdf", "zip.docx"]
    assert "encrypted (password-protected)" in errors["encrypted.pdf"]
    assert "no text layer" in errors["scanned.pdf"] and "OCR" in errors["scanned.pdf"]
    assert "not a readable Word (.docx) document (the ZIP package is damaged or truncated)" in errors["corrupt.docx"]
    assert "without word/document.xml" in errors["zip.docx"]
    assert "not text" in errors["binary.txt"]
    assert "not a readable PDF" in errors["garbage.pdf"]
    assert all("\n" not in e and "Traceback" not in e for e in corpus.errors)  # one clear line each


def test_misnamed_files_are_read_by_their_content(tmp_path: Path) -> None:
    write_seed_docx(tmp_path / "seed.docx")
    (tmp_path / "seed.txt").write_bytes((tmp_path / "seed.docx").read_bytes())
    extracted = read_document(tmp_path / "seed.txt")
    assert extracted.format == "docx" and "named .txt but the content is DOCX" in extracted.warnings[-1]
    (tmp_path / "x.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(IngestError, match=r"x\.doc: old binary Word"):
        read_document(tmp_path / "x.doc")


def test_header_fields_are_read_only_where_printed() -> None:
    seed_front = ["第六十八届会议", "临时议程* 项目 19(d)、(e)和(f)", "秘书长的说明", "* A/68/150。"]
    fields = read_header(seed_front)
    assert fields.symbol is None  # the footnote names the agenda, not this document
    assert (fields.session, fields.agenda_items, fields.date, fields.body) == (68, ("19(d)", "19(e)", "19(f)"), None, None)
    english = ["United Nations", "A/68/150", "General Assembly", "Distr.: General", "26 July 2013", "Original: English",
               "Sixty-eighth session", "Item 19 of the provisional agenda*"]
    fields = read_header(english)
    assert (fields.symbol, fields.session, fields.agenda_items, fields.date, fields.body) == (
        "A/68/150", 68, ("19",), "2013-07-26", "General Assembly")
    assert read_header(["Items 19 (d), (e) and (f) of the provisional agenda"]).agenda_items == ("19(d)", "19(e)", "19(f)")
    assert read_header(["1. The General Assembly, in resolution 67/210, invited the secretariat."]).body is None
    assert read_header(["第一百零五届会议"], ["E/CN.6/2013/1"]).symbol == "E/CN.6/2013/1"


def test_the_catalogue_wins_over_the_header(tmp_path: Path) -> None:
    corpus = load_documents(ROOT / "seeds")
    meta = corpus.metadata["000_75fc5355e1129b16"]
    assert meta.symbol is None and meta.session == 68 and meta.from_header == ()  # all given by catalogue.json


def test_chinese_and_letter_counters() -> None:
    assert [chinese_number(n) for n in (1, 10, 11, 20, 68, 105, 110)] == ["一", "十", "十一", "二十", "六十八", "一百零五", "一百一十"]
    assert all(parse_chinese_number(chinese_number(n)) == n for n in range(1, 2000))
    assert [format_counter(n, f) for n, f in [(3, "lowerLetter"), (27, "lowerLetter"), (14, "upperRoman"), (4, "i")]] == [
        "c", "aa", "XIV", "iv"]
    assert format_counter(1, "bullet") is None


def test_word_numbering_levels_restart_and_start_override() -> None:
    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    root = etree.fromstring(f"""<w:numbering xmlns:w="{w}">
      <w:abstractNum w:abstractNumId="1">
        <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
        <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%2)"/></w:lvl>
        <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2.%3"/><w:isLgl/></w:lvl>
      </w:abstractNum>
      <w:abstractNum w:abstractNumId="2">
        <w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl>
      </w:abstractNum>
      <w:num w:numId="5"><w:abstractNumId w:val="1"/></w:num>
      <w:num w:numId="6"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="1000"/></w:lvlOverride></w:num>
      <w:num w:numId="7"><w:abstractNumId w:val="2"/></w:num>
    </w:numbering>""".encode())
    numbering = _WordNumbering(root)
    labels = [numbering.label(n, lvl) for n, lvl in [("5", 0), ("5", 1), ("5", 1), ("5", 2), ("5", 0), ("5", 1), ("6", 0), ("6", 0), ("7", 0), ("9", 0)]]
    assert labels == ["1. ", "(a) ", "(b) ", "1.2.1 ", "2. ", "(a) ", "1000. ", "1001. ", None, None]


@pytest.mark.parametrize("path", [SEED, ENGLISH], ids=["seed", "english"])
def test_text_reader_blocks_give_exactly_the_units_of_the_whole_text(path: Path) -> None:
    extracted = read_document(path)
    assert extracted.format == "text" and all(b.running is None and b.page is None for b in extracted.blocks)
    via_blocks = parse_document("d", extracted.source, blocks=extracted.blocks)
    whole = parse_document("d", extracted.source)
    assert via_blocks.units == whole.units and via_blocks.debris == whole.debris


def test_unit_page_survives_the_index_record(tmp_path: Path) -> None:
    from index.docstore import DocumentStore, write_store

    doc = parse_document("d", "1. First paragraph.\n\n2. Second paragraph.\n")
    unit = doc.paragraphs[0]
    paged = dataclasses.replace(unit, page=7, marker=(0, 2), spans=(SourceSpan(0, 3, 9), SourceSpan(6, 40, 52)))
    assert paged != unit
    write_store(tmp_path / "store.sqlite", [paged, doc.paragraphs[1]], [], [])
    store = DocumentStore(tmp_path / "store.sqlite")
    assert store.unit(paged.id) == paged and store.unit(doc.paragraphs[1].id) == doc.paragraphs[1]
    assert store.unit(paged.id).page == 7 and unit.to_record()["page"] is None
    store.close()
    from rag.citation import make_citation

    cited = make_citation(paged, None, "en")  # citations carry the page to the API and the page
    assert cited.page == 7 and cited.to_record()["page"] == 7 and make_citation(unit, None, "en").page is None


def test_html_keeps_text_around_nested_blocks_and_numbers_lists(tmp_path: Path) -> None:
    page = """<!doctype html><html><head><title>t</title><style>p{}</style></head><body>
    <nav>Home | Documents</nav><header>A/68/999</header>
    <div>Sixty-eighth session<p>Item 19 of the provisional agenda</p>Note by the Secretary-General</div>
    <h2>I. Report</h2>
    <ol start="25"><li>The Conference met<br>in Doha. <!-- a comment --> It adopted:
      <ol type="a"><li>a decision;</li><li value="3">another decision.</li></ol></li>
      <li>Next paragraph.<script>alert(1)</script></li></ol>
    <footer><p>13-41234 (C)</p></footer></body></html>"""
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    extracted, doc = _parse(tmp_path / "page.html")
    body = [b.text for b in extracted.body]
    assert body == ["Sixty-eighth session", "Item 19 of the provisional agenda", "Note by the Secretary-General", "I. Report",
                    "25. The Conference met\nin Doha. It adopted:", "(a) a decision;", "(c) another decision.", "26. Next paragraph."]
    assert [b.running for b in extracted.blocks if b.running] == ["running nav", "running header", "running footer"]
    assert extracted.header_lines == ("A/68/999",)
    assert [p.para for p in doc.paragraphs] == [25, 26] and [s.sub for s in doc.sub_units(doc.paragraph(25))] == ["a", "c"]
    (tmp_path / "fake.html").write_text("just words, no markup", encoding="utf-8")
    with pytest.raises(IngestError, match=r"fake\.html: not an HTML document"):
        read_document(tmp_path / "fake.html")


def test_word_numbering_from_a_paragraph_style(tmp_path: Path) -> None:
    """Numbering set on a style (Word's "List Number"), inherited by a style based on it."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    derived = document.styles.add_style("UN Para", WD_STYLE_TYPE.PARAGRAPH)
    derived.base_style = document.styles["List Number"]
    document.add_paragraph("Sixty-eighth session")
    for text in ("The first paragraph.", "The second paragraph.", "The third paragraph."):
        document.add_paragraph(text, style="UN Para")
    document.save(tmp_path / "styled.docx")
    extracted, doc = _parse(tmp_path / "styled.docx")
    assert [b.text for b in extracted.body][1:] == ["1. The first paragraph.", "2. The second paragraph.", "3. The third paragraph."]
    assert [p.para for p in doc.paragraphs] == [1, 2, 3]


def test_an_english_first_page_gives_the_catalogue_fields_it_prints(tmp_path: Path) -> None:
    """A pdftotext-style first page: symbol at the top edge, body, distribution date, session, agenda item."""
    english = ENGLISH.read_text(encoding="utf-8")
    first_page = ("A/68/260\n\nUnited Nations\n\nGeneral Assembly\n\nDistr.: General\n26 July 2013\n\nOriginal: English\n\n")
    (tmp_path / "a68-260.txt").write_text(first_page + english, encoding="utf-8")
    corpus = load_documents(tmp_path)
    meta = corpus.metadata["a68-260"]
    assert (meta.symbol, meta.body, meta.date, meta.session, meta.agenda_items) == (
        "A/68/260", "General Assembly", "2013-07-26", 68, ("19(c)",))
    assert meta.symbol != "A/68/150"  # the footnote "* A/68/150." names the agenda
    doc = corpus.documents[0]
    assert [p.para for p in doc.paragraphs] == [1, 2, 3, 4, 5, 6]
    assert [d.reason for d in doc.debris] == ["running header: document symbol", "hyphen at a line break"]


def test_word_hard_page_breaks_give_pages(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("1. The first paragraph.")
    document.add_page_break()
    document.add_paragraph("2. The second paragraph.")
    document.add_paragraph("3. The third paragraph.", style="Normal").paragraph_format.page_break_before = True
    document.save(tmp_path / "paged.docx")
    _, doc = _parse(tmp_path / "paged.docx")
    assert [(p.para, p.page) for p in doc.paragraphs] == [(1, 1), (2, 2), (3, 3)]


def test_word_tables_and_content_controls_are_read_in_order(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_paragraph("1. Before the table.")
    document.add_table(rows=1, cols=2).rows[0].cells[0].text = "2. In a table cell."
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document.element.body.insert(len(document.element.body) - 1, parse_xml(
        f'<w:sdt xmlns:w="{w}"><w:sdtContent><w:p><w:r><w:t>3. Inside a content control.</w:t></w:r></w:p></w:sdtContent></w:sdt>'))
    document.save(tmp_path / "mixed.docx")
    extracted, doc = _parse(tmp_path / "mixed.docx")
    assert [b.text for b in extracted.body] == ["1. Before the table.", "2. In a table cell.", "3. Inside a content control."]
    assert [p.para for p in doc.paragraphs] == [1, 2, 3]
