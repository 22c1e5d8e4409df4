"""GET /library: the documents of the library, each with its language versions and counts."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LibraryDep
from api.routes.documents import version_refs
from api.schemas import LibraryDocumentOut

router = APIRouter(tags=["library"])

__all__ = ["router"]


@router.get("/library", response_model=list[LibraryDocumentOut])
def library_documents(library: LibraryDep) -> list[LibraryDocumentOut]:
    """One entry per document (all language versions together), in key order."""
    out = []
    for key, document in library.documents.items():
        metas = [v.meta for v in document.versions]

        def first(name: str, metas: list = metas) -> object:
            return next((getattr(m, name) for m in metas if getattr(m, name)), None)

        english = next((v.meta.title for v in document.versions if v.language == "en" and v.meta.title), None)
        date = first("date")
        out.append(
            LibraryDocumentOut(
                document=key, symbol=first("symbol"), title=first("title"), title_en=first("title_en") or english,
                date=date, session=first("session"), agenda_items=list(first("agenda_items") or ()),
                body=first("body"), languages=list(document.languages), versions=version_refs(library, key),
            )
        )
    return out
