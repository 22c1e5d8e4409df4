"""GET /documents and /documents/{doc}/paragraphs/{para}: the catalogue and the text itself."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Answerer
from api.errors import ApiError
from api.schemas import DocumentOut, ErrorOut, ParagraphOut, ParagraphSummaryOut, UnitOut
from index.store import LoadedIndex
from rag.citation import format_reference
from rag.units import Unit

router = APIRouter(prefix="/documents", tags=["documents"])


def _document_out(index: LoadedIndex, doc: str) -> DocumentOut:
    meta = index.documents[doc]
    return DocumentOut(
        id=doc, symbol=meta.symbol, title=meta.title, title_en=meta.title_en, language=meta.language,
        session=meta.session, agenda_items=list(meta.agenda_items), paragraphs=len(index.paragraphs.get(doc, {})),
    )


def _unit_out(unit: Unit, symbol: str | None = None) -> UnitOut:
    """The unit with its references formatted by rag.citation, so the page never formats one."""
    references = {lang: format_reference(unit, symbol, lang) for lang in ("zh", "en")}
    return UnitOut.model_validate({**unit.to_record(), "references": references})


def _check_document(index: LoadedIndex, doc: str) -> None:
    if doc not in index.documents:
        known = ", ".join(sorted(index.documents)[:10])
        raise ApiError(404, f"unknown document '{doc}' (known: {known}) / 未知文件“{doc}”")


@router.get("/{doc}/paragraphs", response_model=list[ParagraphSummaryOut], responses={404: {"model": ErrorOut}})
def list_paragraphs(doc: str, answerer: Answerer) -> list[ParagraphSummaryOut]:
    """The document's table of contents: every numbered paragraph with its heading path."""
    index = answerer.retriever.index
    _check_document(index, doc)
    return [
        ParagraphSummaryOut(
            para=number, section=list(p.section), preview=p.text[:80], sub_units=[u.sub for u in index.sub_units.get(p.id, ()) if u.sub]
        )
        for number, p in index.paragraphs[doc].items()
    ]


@router.get("", response_model=list[DocumentOut])
def list_documents(answerer: Answerer) -> list[DocumentOut]:
    index = answerer.retriever.index
    return [_document_out(index, doc) for doc in sorted(index.documents)]


@router.get("/{doc}/paragraphs/{para}", response_model=ParagraphOut, responses={404: {"model": ErrorOut}})
def get_paragraph(doc: str, para: int, answerer: Answerer) -> ParagraphOut:
    index = answerer.retriever.index
    _check_document(index, doc)
    paragraphs = index.paragraphs[doc]
    numbers = list(paragraphs)
    if para not in paragraphs:
        span = f"{numbers[0]}–{numbers[-1]}" if numbers else "none"
        raise ApiError(404, f"document '{doc}' has no paragraph {para} (paragraphs: {span}) / 文件“{doc}”没有第{para}段（段落：{span}）")
    paragraph = paragraphs[para]
    position = numbers.index(para)
    return ParagraphOut(
        document=_document_out(index, doc),
        paragraph=_unit_out(paragraph, index.documents[doc].symbol),
        sub_units=[_unit_out(u, index.documents[doc].symbol) for u in index.sub_units.get(paragraph.id, ())],
        previous=numbers[position - 1] if position > 0 else None,
        next=numbers[position + 1] if position + 1 < len(numbers) else None,
    )
