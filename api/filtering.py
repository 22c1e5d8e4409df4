"""Request fields → the retriever's filter, and the errors both /search and /ask give for it."""

from __future__ import annotations

from api.errors import ApiError, localized
from api.schemas import FilterFields
from rag.filters import FilterError, SearchFilter

__all__ = ["make_filter", "unknown_document"]


def make_filter(fields: FilterFields, question: str | None) -> SearchFilter:
    """The retriever's filter from request fields; a bad value is a 422 with a sentence."""
    try:
        return SearchFilter.of(
            doc=fields.doc, symbol=fields.symbol, language=fields.lang, session=fields.session,
            since=fields.since, until=fields.until, body=fields.body,
            allow_empty_range=True,  # every schema-valid request is answered: an empty date range matches no document
        )
    except FilterError as error:
        raise ApiError(422, localized(question, f"Bad filter: {error}.", f"筛选条件有误：{error}。")) from None


def unknown_document(question: str | None, name: object) -> ApiError:
    return ApiError(404, localized(question, f"Unknown document '{name}'.", f"未知文件“{name}”。"))
