"""Every bad request gets a 4xx with a sentence a person can read, never a stack trace."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.language import detect_language


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


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
    kind = error.get("type", "")
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
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type.lower():
            return JSONResponse({"detail": f"send the request body as JSON (Content-Type: application/json), not {content_type or 'no content type'}"}, 415)
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "the request body is not valid JSON"}, 400)
    return JSONResponse({"detail": "; ".join(_describe(e) for e in errors)}, 422)


async def _api_error_handler(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, exc.status)


async def _http_error_handler(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such endpoint; see /docs"
    if exc.status_code == 405:
        detail = "method not allowed for this endpoint; see /docs"
    return JSONResponse({"detail": detail}, exc.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
