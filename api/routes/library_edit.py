"""POST /documents and DELETE /documents/{doc}: change the library; always needs the API key.

The same validation and all-or-nothing folder change as ``rag add`` / ``rag remove``; the index
is rebuilt incrementally and swapped in before the response, so the change is answerable at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from api.errors import ApiError
from api.library_edit import EditOutcome, LibraryEditor, LibraryRebuildError, UnsupportedBackendError
from api.schemas import ChangedVersionOut, ErrorOut, LanguageCode, LibraryChangeOut
from api.security import require_api_key
from rag.library_files import AddOptions, LibraryConflictError, LibraryEditError, UnknownLibraryDocumentError


class _DocumentKey(Convertor[str]):
    """A version's id or a document's key, slashes allowed (a symbol: ``A/70/1``), but never a path
    the reading routes own (``{doc}/paragraphs[/{para}]``): a DELETE there stays a 405."""

    regex = r"(?!.*/paragraphs(?:/[^/]*)?$)[^/].*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("document_key", _DocumentKey())
router = APIRouter(prefix="/documents", tags=["library"], dependencies=[Depends(require_api_key)])

__all__ = ["router"]

_ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 409, 503)}


def _editor(request: Request) -> LibraryEditor:
    return request.app.state.library_editor


def _out(outcome: EditOutcome) -> LibraryChangeOut:
    m = outcome.report.manifest
    return LibraryChangeOut(
        changed=[ChangedVersionOut(id=d.id, file=d.file, document=d.document_key, language=d.language) for d in outcome.documents],
        build=outcome.build, documents=m.documents, units=m.units, embedded=outcome.report.embedded,
        reused=outcome.report.reused, seconds=round(outcome.report.seconds, 3),
    )


def _refused(error: LibraryEditError | LibraryRebuildError) -> ApiError:
    if isinstance(error, UnknownLibraryDocumentError):
        return ApiError(404, str(error))
    if isinstance(error, LibraryConflictError | UnsupportedBackendError):
        return ApiError(409, str(error))
    if isinstance(error, LibraryRebuildError):
        return ApiError(503, str(error))
    return ApiError(400, str(error))


@router.post("", status_code=201, response_model=LibraryChangeOut, responses=_ERRORS)
async def add_document(
    request: Request,
    file: Annotated[UploadFile, File(description="the document: .txt, .pdf, .docx or .html, under its own file name")],
    symbol: Annotated[str | None, Form(max_length=100, description="UN symbol, e.g. A/68/1 (never guessed)")] = None,
    lang: Annotated[LanguageCode | None, Form(description="the file's language (default: detected)")] = None,
    title: Annotated[str | None, Form(max_length=500, description="title in the document's language")] = None,
    title_en: Annotated[str | None, Form(max_length=500, description="English title")] = None,
    session: Annotated[int | None, Form(ge=1, le=1000, description="session number")] = None,
    date: Annotated[dt.date | None, Form(description="date of issue, YYYY-MM-DD")] = None,
    body: Annotated[str | None, Form(max_length=200, description="issuing body")] = None,
    version_of: Annotated[str | None, Form(max_length=200, description="key grouping the language versions of a document without a symbol")] = None,
    doc_id: Annotated[str | None, Form(alias="id", max_length=200, description="document id (default: from the file name)")] = None,
    replace: Annotated[bool, Form(description="replace the document if the library has it (else 409)")] = False,
) -> LibraryChangeOut:
    """Add (or, with replace=true, replace) one document, rebuild the index and serve it. Needs the API key."""
    options = AddOptions(
        symbol=symbol or None, language=lang, title=title or None, title_en=title_en or None, session=session,
        date=date, body=body or None, version_of=version_of or None, doc_id=doc_id or None,
    )
    editor = _editor(request)
    try:
        outcome = await run_in_threadpool(editor.add, file.filename or "", file.file, options, replace=replace)
    except (LibraryEditError, LibraryRebuildError) as error:
        raise _refused(error) from None
    return _out(outcome)


@router.delete("/{doc:document_key}", response_model=LibraryChangeOut, responses={**_ERRORS, 404: {"model": ErrorOut}})
def remove_document(doc: str, request: Request) -> LibraryChangeOut:
    """Remove a version (by id) or every version (by key or symbol: ``DELETE /documents/A/70/1``),
    rebuild and serve. Needs the API key."""
    try:
        return _out(_editor(request).remove(doc))
    except (LibraryEditError, LibraryRebuildError) as error:
        raise _refused(error) from None
