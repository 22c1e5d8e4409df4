"""The FastAPI application: routers, error handlers, the web page, and start-up loading.

The model and the index are loaded once, before the first request (``prepare_answerer`` in
``rag serve``, or the lifespan when the app is started another way), never per request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.routes import ask, documents, health, library, search
from index.store import IndexMismatchError, IndexUnavailableError
from rag.config import Settings
from rag.qa import QuestionAnswerer

__all__ = ["STATIC_DIR", "StartupError", "create_app", "prepare_answerer"]

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("rag.api")


class StartupError(RuntimeError):
    """The service cannot start; the message says what to do."""


def prepare_answerer(settings: Settings, *, index_dir: Path | None = None) -> QuestionAnswerer:
    """Open the index (building it from the seeds if there is none), load the model, warm the caches."""
    from rag.engine import build_from_documents, load_seed_corpus, open_retriever
    from rag.generation import make_generator

    target = index_dir or settings.resolved_index_dir
    try:
        retriever = open_retriever(settings, index_dir=target)
    except IndexMismatchError as error:
        raise StartupError(str(error)) from None
    except IndexUnavailableError:
        log.warning("no usable index in %s: building it from %s", target, settings.seeds_dir)
        corpus = load_seed_corpus(settings)
        if not corpus.documents:
            raise StartupError(
                f"no index in {target} and no readable documents in {settings.seeds_dir}: add documents, then run rag build"
            ) from None
        build_from_documents(settings, corpus, index_dir=target)
        retriever = open_retriever(settings, index_dir=target)
    # jieba's dictionary and the English→Chinese lexicon load lazily: pay for them now, not on the first request
    for warm_up in ("气候变化", "climate change"):
        retriever.search(warm_up, k=1)
    return QuestionAnswerer(retriever, settings.answer_params, make_generator(settings.generation))


def create_app(settings: Settings | None = None, *, answerer: QuestionAnswerer | None = None, index_dir: Path | None = None) -> FastAPI:
    """Build the app; pass ``answerer`` to reuse an already loaded model and index (tests, serve)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "answerer", None) is None:
            app.state.answerer = prepare_answerer(settings or Settings(), index_dir=index_dir)
        yield

    app = FastAPI(
        title="UN documents: cited answers",
        description="Ask in Chinese or English; every answer cites the paragraph it comes from.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.answerer = answerer
    install_error_handlers(app)
    for router in (ask.router, search.router, documents.router, library.router, health.router):
        app.include_router(router)
    if (STATIC_DIR / "index.html").is_file():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(STATIC_DIR / "index.html")

    return app
