"""JSON bodies made where the answer is made, not by FastAPI afterwards."""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel

__all__ = ["json_response"]


def json_response(model: BaseModel) -> Response:
    """``model`` as the JSON body FastAPI would send for it (pydantic's serializer; our models have
    no aliases), made in the calling thread. A ``def`` route that returns a model instead has
    FastAPI validate it again in a second thread-pool round trip before serialising it."""
    return Response(model.__pydantic_serializer__.to_json(model), media_type="application/json")
