"""GET /documents and /documents/{doc}/paragraphs/{para}: the catalogue and the text itself.

``doc`` is a version's id or a document's key (its symbol or ``version_of``); a paragraph is
returned in every language version the library holds, under ``versions``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LibraryDep
from api.errors import ApiError
from api.schemas import DocumentOut, ErrorOut, ParagraphOut, ParagraphSummaryOut, ParagraphVersionOut, UnitOut, VersionRefOut
from rag.catalogue import DocumentMeta
from rag.citation import format_reference
from rag.library import Library, ParagraphVersion, UnknownDocumentError, UnknownParagraphError
from rag.units import Unit

router = APIRouter(prefix="/documents", tags=["documents"])

__all__ = ["document_out", "router", "version_refs"]


def version_refs(library: Library, key: str) -> list[VersionRefOut]:
    return [
        VersionRefOut(id=v.meta.id, language=v.language, title=v.meta.title, paragraphs=v.paragraphs, units=v.units)
        for v in library.documents[key].versions
    ]


def document_out(library: Library, meta: DocumentMeta) -> DocumentOut:
    return DocumentOut(
        id=meta.id, symbol=meta.symbol, title=meta.title, title_en=meta.title_en, language=library.languages.get(meta.id),
        session=meta.session, agenda_items=list(meta.agenda_items), paragraphs=library.paragraph_count(meta.id),
        units=library.unit_count(meta.id), date=meta.date, body=meta.body,
        document=meta.document_key, versions=version_refs(library, meta.document_key),
    )


def _unit_out(unit: Unit, symbol: str | None = None) -> UnitOut:
    """The unit with its references formatted by rag.citation, so the page never formats one."""
    references = {lang: format_reference(unit, symbol, lang) for lang in ("zh", "en")}
    return UnitOut.model_validate({**unit.to_record(), "references": references})


def _version_out(library: Library, version: ParagraphVersion) -> ParagraphVersionOut:
    return ParagraphVersionOut(
        language=version.language, document=document_out(library, version.meta), paragraph=_unit_out(version.paragraph, version.meta.symbol),
        sub_units=[_unit_out(u, version.meta.symbol) for u in version.sub_units],
    )


def _not_found(error: KeyError) -> ApiError:
    if isinstance(error, UnknownDocumentError):
        known = ", ".join(error.known[:10])
        return ApiError(404, f"unknown document '{error.name}' (known: {known}) / 未知文件“{error.name}”")
    assert isinstance(error, UnknownParagraphError)
    return ApiError(
        404,
        f"document '{error.doc}' has no paragraph {error.para} (paragraphs: {error.span}) / 文件“{error.doc}”没有第{error.para}段（段落：{error.span}）",
    )


LangQuery = Annotated[str | None, Query(description="the language version to show first (zh, en); default: the one named, else Chinese")]


@router.get("/{doc}/paragraphs", response_model=list[ParagraphSummaryOut], responses={404: {"model": ErrorOut}})
def list_paragraphs(doc: str, library: LibraryDep, lang: LangQuery = None) -> list[ParagraphSummaryOut]:
    """The document's table of contents: every numbered paragraph with its heading path."""
    try:
        meta = library.version(doc, lang)
    except (UnknownDocumentError, UnknownParagraphError) as error:
        raise _not_found(error) from None
    index = library.index
    return [
        ParagraphSummaryOut(
            para=number, section=list(p.section), preview=p.text[:80], sub_units=[u.sub for u in index.sub_units.get(p.id, ()) if u.sub]
        )
        for number, p in index.paragraphs.get(meta.id, {}).items()
    ]


@router.get("", response_model=list[DocumentOut])
def list_documents(library: LibraryDep) -> list[DocumentOut]:
    """Every indexed version (one entry per language version; /library groups them by document)."""
    return [document_out(library, library.index.documents[doc]) for doc in sorted(library.index.documents)]


@router.get("/{doc}/paragraphs/{para}", response_model=ParagraphOut, responses={404: {"model": ErrorOut}})
def get_paragraph(doc: str, para: int, library: LibraryDep, lang: LangQuery = None) -> ParagraphOut:
    """A paragraph with its sub-units, and the same paragraph in every language version."""
    try:
        shown = library.paragraph(doc, para, lang)
        versions = library.paragraph_versions(doc, para)
    except (UnknownDocumentError, UnknownParagraphError) as error:
        raise _not_found(error) from None
    return ParagraphOut(
        document=document_out(library, shown.meta),
        paragraph=_unit_out(shown.paragraph, shown.meta.symbol),
        sub_units=[_unit_out(u, shown.meta.symbol) for u in shown.sub_units],
        previous=shown.previous,
        next=shown.next,
        versions=[_version_out(library, v) for v in versions],
    )
