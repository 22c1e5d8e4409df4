"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rag.qa import QuestionAnswerer


def get_answerer(request: Request) -> QuestionAnswerer:
    """The answerer of this request: taken once, so a reload mid-request never mixes two builds."""
    reloader = getattr(request.app.state, "reloader", None)
    if reloader is not None:
        reloader.check_soon()
    return request.app.state.answerer


Answerer = Annotated[QuestionAnswerer, Depends(get_answerer)]
