"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rag.qa import QuestionAnswerer


def get_answerer(request: Request) -> QuestionAnswerer:
    return request.app.state.answerer


Answerer = Annotated[QuestionAnswerer, Depends(get_answerer)]
