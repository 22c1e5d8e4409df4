"""Build the seed document as real Word, PDF and HTML files, for the reader tests.

The DOCX is written with python-docx the way UN documents are: paragraph numbers and "(a)"
sub-items are Word list numbering (numbering.xml), chapters "一." and sections "A." too, a header
with the symbol line, footers with a page-number field, a job number and "请回收". The PDF is
that DOCX laid out by LibreOffice (headless), so paragraphs cross real page breaks.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from rag.parser import parse_document
from rag.textio import read_document_text
from rag.units import ParsedDocument, UnitKind

__all__ = ["TEST_SYMBOL", "seed_parsed", "write_seed_docx", "write_seed_html", "write_seed_pdf", "write_un_docx"]

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_75fc5355e1129b16.txt"
TEST_SYMBOL = "A/68/999"  # printed in the generated header only; the text seed prints no symbol
JOB_NUMBER = "13-41234 (C)"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CHAPTER = re.compile(r"^([一二三四五六七八九十]+|[IVX]+)\.\s*(.*)$", re.S)
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
_SECTION = re.compile(r"^([A-Z])\.\s*(.*)$", re.S)
_SUB = re.compile(r"^\(([a-z]+)\)\s*(.*)$", re.S)

_NUMBERING = f"""
<w:abstractNum xmlns:w="{_W}" w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/><w:suff w:val="space"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%2)"/><w:suff w:val="space"/></w:lvl>
</w:abstractNum>
<w:abstractNum xmlns:w="{_W}" w:abstractNumId="92">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/><w:suff w:val="space"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%2."/><w:suff w:val="space"/></w:lvl>
</w:abstractNum>
<w:abstractNum xmlns:w="{_W}" w:abstractNumId="91">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1."/><w:suff w:val="space"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%2."/><w:suff w:val="space"/></w:lvl>
</w:abstractNum>
"""
_NUMS = f"""
<w:num xmlns:w="{_W}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>
<w:num xmlns:w="{_W}" w:numId="91"><w:abstractNumId w:val="91"/></w:num>
<w:num xmlns:w="{_W}" w:numId="92"><w:abstractNumId w:val="92"/></w:num>
"""


def seed_parsed() -> ParsedDocument:
    source, encoding = read_document_text(SEED)
    return parse_document("seed", source, path=str(SEED), encoding=encoding)


def _items(seed: ParsedDocument) -> list[tuple[str, tuple[str, int] | None]]:
    """The seed as Word paragraphs: (text without its automatic label, (numId, level) or None)."""
    items: list[tuple[str, tuple[str, int] | None]] = []
    chapters = sections = 0
    for unit in seed.units:
        if unit.kind is UnitKind.SUB:
            continue
        if unit.kind is UnitKind.HEADING:
            chapter, section = _CHAPTER.match(unit.text), _SECTION.match(unit.text)
            if chapter and chapter.group(1) in ("一二三四五六七八九十"[chapters], _ROMAN[chapters]):
                chapters, sections = chapters + 1, 0
                list_id = "91" if chapter.group(1) == "一二三四五六七八九十"[chapters - 1] else "92"
                items.append((chapter.group(2), (list_id, 0)))
            elif section and section.group(1) == chr(ord("A") + sections) and chapters:
                sections += 1
                items.append((section.group(2), (list_id, 1)))
            else:
                items.append((unit.text, None))
        elif unit.kind is UnitKind.PARAGRAPH:
            lines = unit.text.split("\n")
            items.append((lines[0], ("90", 0)))
            letter = 0
            for line in lines[1:]:
                sub = _SUB.match(line)
                if sub and sub.group(1) == chr(ord("a") + letter):
                    letter += 1
                    items.append((sub.group(2), ("90", 1)))
                else:
                    items.append((line, None))
        else:
            items.append((unit.text, None))
    return items


def _page_field(paragraph) -> None:
    from docx.oxml import parse_xml

    paragraph._p.append(parse_xml(f'<w:fldSimple xmlns:w="{_W}" w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))


def write_seed_docx(path: Path) -> Path:
    """The seed as a .docx with Word numbering, a symbol header and UN footers."""
    return write_un_docx(seed_parsed(), path)


def write_un_docx(
    parsed: ParsedDocument, path: Path, *, space_after: float = 8, recycle: str = "请回收", first_page: list[str] | None = None,
    symbol: str = TEST_SYMBOL,
) -> Path:
    """A parsed UN document as a .docx: Word numbering, a symbol header and UN footers.

    ``first_page``: lines of a different first-page header (UN first pages print the body, the
    distribution and the date there).
    """
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = docx.Document()
    numbering = document.part.numbering_part.element
    for xml in re.findall(r"<w:abstractNum .*?</w:abstractNum>", _NUMBERING, re.S):
        numbering.insert(0, parse_xml(xml))
    for xml in re.findall(r"<w:num .*?</w:num>", _NUMS, re.S):
        numbering.append(parse_xml(xml))
    normal = document.styles["Normal"]
    normal.font.size = Pt(11)
    normal.font.name = "Noto Serif CJK SC"
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Noto Serif CJK SC")
    normal.paragraph_format.space_after = Pt(space_after)
    normal.paragraph_format.line_spacing = 1.0
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.left_margin = section.right_margin = Cm(2.5)
    section.header.paragraphs[0].text = symbol
    section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if first_page:
        section.different_first_page_header_footer = True
        section.first_page_header.paragraphs[0].text = first_page[0]
        for line in first_page[1:]:
            section.first_page_header.add_paragraph(line)
    footer = section.footer
    _page_field(footer.paragraphs[0])
    footer.add_paragraph(JOB_NUMBER)
    footer.add_paragraph(recycle)
    for text, num in _items(parsed):
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if num is not None:
            p_pr = paragraph._p.get_or_add_pPr()
            p_pr.insert(0, parse_xml(f'<w:numPr xmlns:w="{_W}"><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>'))
    document.save(path)
    return path


def write_seed_pdf(docx_path: Path, out_dir: Path) -> Path:
    """Lay the DOCX out with LibreOffice (headless) into a PDF; returns its path."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise FileNotFoundError("LibreOffice (soffice) is not installed: run scripts/install-test-packages.sh")
    profile = out_dir / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(out_dir), str(docx_path)],
        check=True, capture_output=True, timeout=300,
    )
    return out_dir / (docx_path.stem + ".pdf")


def write_seed_html(path: Path) -> Path:
    """The seed as an HTML page: headings, <p> paragraphs, and <ol type="a"> sub-items."""
    parts = ['<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>联合国各项环境公约的执行情况</title></head><body>',
             f"<header><p>{TEST_SYMBOL}</p></header><main>"]
    open_list = False
    for unit in seed_parsed().units:
        if unit.kind is UnitKind.SUB:
            continue
        if open_list:
            parts.append("</ol>")
            open_list = False
        if unit.kind is UnitKind.HEADING:
            parts.append(f"<h2>{html.escape(unit.text)}</h2>")
        elif unit.kind is UnitKind.PARAGRAPH:
            lines = unit.text.split("\n")
            parts.append(f"<p>{unit.para}. {html.escape(lines[0])}</p>")
            for line in lines[1:]:
                sub = _SUB.match(line)
                if sub and not open_list and sub.group(1) == "a":
                    parts.append('<ol type="a">')
                    open_list = True
                if sub and open_list:
                    parts.append(f"<li>{html.escape(sub.group(2))}</li>")
                else:
                    if open_list:
                        parts.append("</ol>")
                        open_list = False
                    parts.append(f"<p>{html.escape(line)}</p>")
        else:
            parts.append(f"<p>{html.escape(unit.text)}</p>")
    if open_list:
        parts.append("</ol>")
    parts.append(f"</main><footer><p>{JOB_NUMBER}</p><p>请回收</p></footer></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
