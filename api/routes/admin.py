"""POST /admin/reload: serve the index's live build now (after ``rag build`` or ``rag index rollback``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.errors import ApiError
from api.schemas import ErrorOut, ReloadOut
from api.security import require_api_key
from index.store import IndexUnavailableError

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_api_key)])


@router.post("/reload", response_model=ReloadOut, responses={401: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def reload(request: Request) -> ReloadOut:
    """Swap in the live build; requests in flight finish on the old one. Needs the API key."""
    try:
        outcome = request.app.state.reloader.reload()
    except IndexUnavailableError as error:
        raise ApiError(409, f"the new build cannot be served, still serving the previous one: {error}") from None
    return ReloadOut(changed=outcome.changed, build=outcome.build, previous=outcome.previous)
