"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rag.library import Library, library_of
from rag.qa import QuestionAnswerer

__all__ = ["Answerer", "LibraryDep", "current_answerer", "get_answerer", "get_library"]


def current_answerer(request: Request) -> QuestionAnswerer:
    """The answerer of this request: taken once, so a reload mid-request never mixes two builds."""
    reloader = getattr(request.app.state, "reloader", None)
    if reloader is not None:
        reloader.check_soon()
    return request.app.state.answerer


async def get_answerer(request: Request) -> QuestionAnswerer:
    """:func:`current_answerer` on the event loop: a plain ``def`` dependency costs a thread-pool
    round trip per request, and this one blocks on nothing (at most one read of the small
    ``CURRENT`` file every ``api.reload_check_s``)."""
    return current_answerer(request)


def get_library(request: Request) -> Library:
    """The document service of the index currently served (routes never read the index directly).
    A thread-pool dependency: the first call on a new index builds the library."""
    return library_of(current_answerer(request).retriever.index)


Answerer = Annotated[QuestionAnswerer, Depends(get_answerer)]
LibraryDep = Annotated[Library, Depends(get_library)]
