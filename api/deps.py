"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rag.library import Library, library_of
from rag.qa import QuestionAnswerer


def get_answerer(request: Request) -> QuestionAnswerer:
    return request.app.state.answerer


def get_library(request: Request) -> Library:
    """The document service of the index currently served (routes never read the index directly)."""
    return library_of(get_answerer(request).retriever.index)


Answerer = Annotated[QuestionAnswerer, Depends(get_answerer)]
LibraryDep = Annotated[Library, Depends(get_library)]
