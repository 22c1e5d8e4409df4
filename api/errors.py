"""Every bad request gets a 4xx with a sentence a person can read, never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import MAX_K
from index.builds import IndexUnavailableError
from rag.language import detect_language

__all__ = ["ApiError", "document_errors", "install_error_handlers", "localized"]

log = logging.getLogger("rag.api")
_SURROGATE = re.compile("[\ud800-\udfff]")
FORM_PATHS = frozenset({"/documents"})  # POST bodies that are multipart uploads, not JSON


class ApiError(Exception):
    """An error with an HTTP status and a message for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def localized(question: str | None, en: str, zh: str) -> str:
    """The message in the question's language; both languages when there is no question."""
    if not question or not question.strip():
        return f"{en} / {zh}"
    return zh if detect_language(question) == "zh" else en


def _describe(error: dict, question: str | None) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
    kind = error.get("type", "")
    field = location.split(".", 1)[0]
    if field in ("since", "until"):  # a union (date or year): one sentence, not one per branch
        return f"'{field}' must be a date YYYY-MM-DD (or a year)"
    if field == "session":
        return "'session' must be a session number of 1 or more (or a list of them)"
    if location in ("question", "q") and kind in ("string_too_short", "string_pattern_mismatch"):
        return localized(question, "The question is empty.", "问题为空。")
    if location in ("question", "q") and kind == "string_too_long" and isinstance(error.get("input"), str):
        n, most = len(error["input"]), error.get("ctx", {}).get("max_length")
        return localized(question, f"The question is too long ({n} characters; at most {most}).", f"问题过长（{n} 个字符；最多 {most} 个）。")
    if location == "k" and kind in ("greater_than_equal", "less_than_equal"):
        return localized(question, f"k must be between 1 and {MAX_K}.", f"k 必须在 1 到 {MAX_K} 之间。")
    if kind == "surrogate" or kind == "string_unicode":  # pydantic-core refuses lone surrogates itself in some paths
        return f"'{location}' contains a lone surrogate code point (U+D800..U+DFFF), which is not text"
    if kind.startswith("string_too"):
        return f"'{location}': {error.get('msg', 'wrong length')}"
    if kind == "missing":
        return f"'{location}' is required" if location else "a JSON body is required"
    if kind == "extra_forbidden":
        return f"unknown field '{location}'"
    if kind.startswith("int"):
        return f"'{location}' must be an integer"
    if kind.startswith("string"):
        return f"'{location}' must be a string"
    if kind in ("model_attributes_type", "dict_type"):
        return "the body must be a JSON object"
    return f"'{location}': {error.get('msg', 'invalid value')}" if location else error.get("msg", "invalid request")


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and request.url.path in FORM_PATHS:
        if "multipart/form-data" not in content_type.lower():
            return JSONResponse({"detail": f"send the file as multipart/form-data (field 'file'), not {content_type or 'no content type'}"}, 415)
    elif request.method == "POST":
        if "json" not in content_type.lower():
            return JSONResponse({"detail": f"send the request body as JSON (Content-Type: application/json), not {content_type or 'no content type'}"}, 415)
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "the request body is not valid JSON"}, 400)
    body = exc.body if isinstance(exc.body, dict) else {}
    question = body.get("question") if isinstance(body.get("question"), str) else request.query_params.get("q")
    if question and _SURROGATE.search(question):
        question = None  # not text: answer in both languages
    return JSONResponse({"detail": "; ".join(dict.fromkeys(_describe(e, question) for e in errors))}, 422)


async def _api_error_handler(_: Request, exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"detail": exc.message}, exc.status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every documented method at this path: Starlette's ``Allow`` names only the first route's,
    and GET /documents and POST /documents are two routes."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), request.url.path):
            methods |= {m.upper() for m in operations}
    return ", ".join(sorted(methods))


async def _http_error_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such endpoint; see /docs"
    if exc.status_code == 405:
        allowed = _allowed_methods(request) or (exc.headers or {}).get("Allow", "")
        exc.headers = {**(exc.headers or {}), "Allow": allowed}
        detail = f"method not allowed for this endpoint (allowed: {allowed}); see /docs" if allowed else "method not allowed; see /docs"
    return JSONResponse({"detail": detail}, exc.status_code, headers=exc.headers)  # keeps Allow on 405


async def _index_unavailable_handler(_: Request, exc: IndexUnavailableError) -> JSONResponse:
    log.error("the index could not be read while answering a request: %s", exc)  # the sentence names the file; the client gets no path
    return JSONResponse({"detail": "the index cannot be read right now; try again shortly or ask the operator to check the server log"}, 503)


async def _unexpected_error_handler(_: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error while answering a request", exc_info=exc)
    return JSONResponse({"detail": "internal error; the server log has the details"}, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(IndexUnavailableError, _index_unavailable_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)


_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_BODY_ERRORS = {"400": "the body cannot be read (not valid JSON or multipart), or the uploaded file was refused", "413": "the body is larger than the configured limit", "415": "the body is not JSON (multipart/form-data for an upload)"}


def document_errors(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI schema with every error response as it really is: ``{"detail": "<sentence>"}``."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = {
        "title": "ErrorOut", "type": "object", "required": ["detail"],
        "properties": {"detail": {"title": "Detail", "type": "string", "description": "what went wrong, as a sentence"}},
    }
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            codes = {"422": "a parameter or field is invalid", "429": "too many requests from this client"}
            if "requestBody" in operation:
                codes.update(_BODY_ERRORS)
            for code, description in codes.items():
                responses[code] = {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
            for code, response in responses.items():
                if code[0] in "45" and code not in codes:
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
    app.openapi_schema = schema
    return schema
