"""Which documents a search may draw from: one filter object, applied to candidates.

The filter speaks in catalogue terms (document, symbol, language, session, date range,
issuing body), never in index rows, so any dense backend can apply it: the FAISS path masks
candidate rows by document, and a Milvus backend can pass :meth:`SearchFilter.to_milvus_expr`
as the ``expr`` of its search over scalar fields of the same names.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rag.catalogue import DocumentMeta
from rag.language import OFFICIAL_LANGUAGES

__all__ = ["FilterError", "SearchFilter"]


class FilterError(ValueError):
    """A filter value that cannot be used (e.g. ``since`` after ``until``); the message says why."""


def _strings(values: Iterable[str] | str | None) -> frozenset[str]:
    if values is None:
        return frozenset()
    if isinstance(values, str):
        values = [values]
    return frozenset(v.strip() for v in values if v and v.strip())


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """All given conditions must hold; within one field any listed value matches.

    ``docs`` matches a version's own id or the document it is a version of (its symbol or
    ``version_of`` key), so ``--doc A/68/1`` searches every language version. A document
    without a date is excluded as soon as ``since`` or ``until`` is given.
    """

    docs: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    sessions: frozenset[int] = frozenset()
    since: dt.date | None = None
    until: dt.date | None = None
    bodies: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        doc: Iterable[str] | str | None = None,
        symbol: Iterable[str] | str | None = None,
        language: Iterable[str] | str | None = None,
        session: Iterable[int] | int | None = None,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        body: Iterable[str] | str | None = None,
        allow_empty_range: bool = False,
    ) -> SearchFilter:
        """Build from loose values (single or repeated, dates as ISO strings), checking them.

        Raises:
            FilterError: a date is not YYYY-MM-DD, a language is not zh/en, or since > until.
        """
        sessions = frozenset([session] if isinstance(session, int) else (session or ()))
        languages = frozenset(v.lower() for v in _strings(language))
        unknown = sorted(languages - set(OFFICIAL_LANGUAGES))
        if unknown:
            raise FilterError(f"unknown language {unknown[0]!r}; use a two-letter code such as zh or en")
        if any(s < 1 for s in sessions):
            raise FilterError("a session is a positive number, e.g. 68")
        start, end = _date(since, "since"), _date(until, "until")
        if start and end and start > end and not allow_empty_range:
            raise FilterError(f"since ({start}) is after until ({end})")
        return cls(_strings(doc), _strings(symbol), languages, sessions, start, end, _strings(body))

    @property
    def empty(self) -> bool:
        return not (self.docs or self.symbols or self.languages or self.sessions or self.since or self.until or self.bodies)

    def matches(self, meta: DocumentMeta) -> bool:
        if self.docs and meta.id not in self.docs and meta.document_key not in self.docs:
            return False
        if self.symbols and (meta.symbol is None or meta.symbol.casefold() not in {s.casefold() for s in self.symbols}):
            return False
        if self.languages and (meta.language or "") not in self.languages:
            return False
        if self.sessions and meta.session not in self.sessions:
            return False
        if (self.since or self.until) and meta.date is None:
            return False
        issued = str(meta.date)  # ISO 8601 (YYYY-MM-DD) orders as text
        if self.since and issued < self.since.isoformat():
            return False
        if self.until and issued > self.until.isoformat():
            return False
        return not (self.bodies and (meta.body or "").casefold() not in {b.casefold() for b in self.bodies})

    def allowed(self, documents: Mapping[str, DocumentMeta]) -> frozenset[str]:
        """Ids of the documents that pass."""
        return frozenset(doc for doc, meta in documents.items() if self.matches(meta))

    def unknown_docs(self, documents: Mapping[str, DocumentMeta]) -> list[str]:
        """Names in ``docs`` that are neither a document id nor a document key of the library."""
        known = set(documents) | {m.document_key for m in documents.values()}
        return sorted(self.docs - known)

    def to_milvus_expr(self) -> str:
        """The same filter as a Milvus boolean expression over scalar fields
        ``doc``, ``document``, ``symbol``, ``language``, ``session``, ``date`` (int YYYYMMDD), ``body``.

        Symbols and bodies compare exactly here (Milvus has no case folding); store them normalised.
        """
        parts: list[str] = []

        def one_of(field: str, values: Iterable[object]) -> str:
            return f"{field} in {json.dumps(sorted(values), ensure_ascii=False)}"

        if self.docs:
            parts.append(f"({one_of('doc', self.docs)} or {one_of('document', self.docs)})")
        for field, values in (("symbol", self.symbols), ("language", self.languages), ("session", self.sessions), ("body", self.bodies)):
            if values:
                parts.append(one_of(field, values))
        if self.since:
            parts.append(f"date >= {self.since:%Y%m%d}")
        if self.until:
            parts.append(f"date <= {self.until:%Y%m%d}")
        return " and ".join(parts)

    def describe(self) -> dict[str, object]:
        """The filter as JSON-ready data (echoed by the API)."""
        record: dict[str, object] = {}
        for name in ("docs", "symbols", "languages", "bodies"):
            if getattr(self, name):
                record[name] = sorted(getattr(self, name))
        if self.sessions:
            record["sessions"] = sorted(self.sessions)
        if self.since:
            record["since"] = self.since.isoformat()
        if self.until:
            record["until"] = self.until.isoformat()
        return record


def _date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 4 and text.isdigit():  # a year alone: its first (since) or last (until) day
            return dt.date(int(text), 1, 1) if name == "since" else dt.date(int(text), 12, 31)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{name} must be a date YYYY-MM-DD (or a year), not {value!r}") from None
