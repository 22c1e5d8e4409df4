"""GET /health: is the index loaded, with which model, and what is in it (no file paths)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import Answerer, LibraryDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(answerer: Answerer, library: LibraryDep, request: Request) -> HealthOut:
    index = answerer.retriever.index
    return HealthOut(
        status="ok",
        index_loaded=True,
        model=index.manifest.model_id,
        units={"total": len(index.units), "chunks": len(index.chunks), **library.kind_counts},  # counted once per build
        manifest=index.manifest.model_dump(),
        stale=request.app.state.reloader.is_stale(),
    )
