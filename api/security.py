"""Who may call the API: the API key check and the per-client rate limit.

Off loopback every data endpoint needs the key (``Authorization: Bearer <key>`` or ``X-API-Key``);
the admin endpoints need it always. The limiter comes from the maintained ``limits`` package.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError

__all__ = ["RateLimitMiddleware", "is_loopback", "require_api_key"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

_bearer = HTTPBearer(auto_error=False, description="the API key (RAG_API_KEY) as a bearer token")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key (RAG_API_KEY)")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost': only this machine can connect."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from elsewhere


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> None:
    """401 unless the request carries the configured key (compared in constant time).
    ``async``: it blocks on nothing, and a ``def`` dependency costs a thread-pool round trip per request."""
    expected: str | None = request.app.state.settings.api.key
    if not expected:
        raise ApiError(401, "this endpoint needs an API key, and none is configured on the server (set RAG_API_KEY)")
    given = bearer.credentials if bearer is not None else header
    if not given or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")


class RateLimitMiddleware:
    """429 with ``Retry-After`` once a client (by address) exceeds the limit, e.g. ``120/minute``."""

    def __init__(self, app: ASGIApp, *, limit: str, exempt: tuple[str, ...] = ("/health",)) -> None:
        self.app = app
        self.item = parse(limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.limiter.hit(self.item, client):
            await self.app(scope, receive, send)
            return
        retry = max(1, int(self.limiter.get_window_stats(self.item, client).reset_time - _now()))
        body = json.dumps({"detail": f"too many requests: at most {self.item} per client; retry in {retry} s"}).encode()
        await send({
            "type": "http.response.start", "status": 429,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"retry-after", str(retry).encode())],
        })
        await send({"type": "http.response.body", "body": body})


def _now() -> float:
    import time

    return time.time()
