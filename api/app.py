"""The FastAPI application: routers, error handlers, the web page, and start-up loading.

The model and the index are loaded once, before the first request (``prepare_answerer`` in
``rag serve``, or the lifespan when the app is started another way), never per request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from api.batching import BatchingEncoder
from api.errors import document_errors, install_error_handlers
from api.library_edit import LibraryEditor
from api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from api.reload import Reloader
from api.routes import admin, ask, documents, health, library, library_edit, search
from api.schemas import ErrorOut
from api.security import RateLimitMiddleware, is_loopback, require_api_key
from index.store import IndexBuildError, IndexMissingError, IndexUnavailableError
from rag.config import Settings
from rag.qa import QuestionAnswerer

__all__ = ["SERVE_OPTIONS", "STATIC_DIR", "StartupError", "create_app", "prepare_answerer"]

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("rag.api")

# uvicorn's options for rag serve: uvloop and httptools (C) instead of asyncio's loop and h11
# (pure Python), which cost a good part of a millisecond of CPU per request (bench/results/serve_profile.md)
SERVE_OPTIONS: dict[str, object] = {"log_level": "info", "server_header": False, "loop": "uvloop", "http": "httptools"}


class StartupError(RuntimeError):
    """The service cannot start; the message says what to do."""


def prepare_answerer(settings: Settings, *, index_dir: Path | None = None) -> QuestionAnswerer:
    """Open the index (building it from the seeds if there is none), load the model, warm the caches."""
    from rag.engine import build_from_documents, load_seed_corpus, open_retriever, settle_heap
    from rag.generation import make_generator

    target = index_dir or settings.resolved_index_dir
    try:
        retriever = open_retriever(settings, index_dir=target)
    except IndexMissingError:
        # nothing to lose: build the first index from the seeds. A damaged index is never rebuilt over.
        log.warning("no index in %s: building it from %s", target, settings.seeds_dir)
        corpus = load_seed_corpus(settings)
        if not corpus.documents:
            raise StartupError(
                f"no index in {target} and no readable documents in {settings.seeds_dir}: add documents, then run rag build"
            ) from None
        try:
            build_from_documents(settings, corpus, index_dir=target)
            retriever = open_retriever(settings, index_dir=target)
        except (IndexBuildError, IndexUnavailableError) as error:
            raise StartupError(str(error)) from None
    except IndexUnavailableError as error:
        refusal = " The service does not start on a damaged index and does not rebuild over it." if "damaged" in str(error) else ""
        raise StartupError(f"{error}.{refusal}") from None
    # jieba's dictionaries (segmenting and part-of-speech), the English→Chinese lexicon and the verifier load
    # lazily: pay for them now, not on the first request (no generator here: warming up calls no endpoint)
    warming = QuestionAnswerer(retriever, settings.answer_params)
    for warm_up in ("气候变化公约有多少个缔约方？", "How many parties does the climate change convention have?"):
        warming.ask(warm_up, k=1)
    settle_heap()  # what the warm-up loaded (jieba's dictionaries, the lexicon) is frozen with the index
    if settings.api.batch_queries and retriever.encoder is not None:
        retriever.encoder = BatchingEncoder(retriever.encoder)  # reloads keep it: they reuse the encoder
    return QuestionAnswerer(retriever, settings.answer_params, make_generator(settings.generator_config))


def create_app(settings: Settings | None = None, *, answerer: QuestionAnswerer | None = None, index_dir: Path | None = None) -> FastAPI:
    """Build the app; pass ``answerer`` to reuse an already loaded model and index (tests, serve).

    ``settings.api.host`` decides the exposure: off loopback every data endpoint needs the API key and
    the rate limit applies. ``/admin`` and the library changes (POST/DELETE /documents) always need the key.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "answerer", None) is None:
            app.state.answerer = prepare_answerer(settings, index_dir=index_dir)
        yield

    public = not is_loopback(settings.api.host)
    app = _App(
        title="UN documents: cited answers",
        description="Ask in Chinese or English; every answer cites the paragraph it comes from.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.max_body_bytes = settings.api.max_body_bytes
    app.state.answerer = answerer
    app.state.settings = settings
    app.state.reloader = Reloader(app.state, chunking=settings.chunking, check_every_s=settings.api.reload_check_s)
    app.state.library_editor = LibraryEditor(app.state, settings)
    install_error_handlers(app)
    guarded = [Depends(require_api_key)] if public else []
    for router in (ask.router, search.router, documents.router, library.router):
        app.include_router(router, dependencies=guarded, responses={401: {"model": ErrorOut}} if public else None)
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(library_edit.router)  # always behind the key, like /admin
    _install_docs(app)
    if (STATIC_DIR / "index.html").is_file():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(STATIC_DIR / "index.html")

    app.openapi = lambda: document_errors(app)  # type: ignore[method-assign]
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    if public or settings.api.rate_limit_on_loopback:
        app.add_middleware(RateLimitMiddleware, limit=settings.api.rate_limit)
    return app


class _App(FastAPI):
    """FastAPI whose outermost layers are the security headers and the body limit, so that even
    a 413 sent before routing and a 500 from Starlette's last-resort handler carry the headers."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(BodyLimitMiddleware(super().build_middleware_stack(), max_bytes=self.state.max_body_bytes))


def _install_docs(app: FastAPI) -> None:
    """Swagger UI from the swagger-ui-bundle package, so /docs works offline."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} - API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js", swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
