"""Request and response schemas of the HTTP API (separate request and response models)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

MAX_QUESTION_CHARS = 2000
MAX_K = 50


MAX_DOC_ID_CHARS = 200
NOT_BLANK = r"[^\s\x1c-\x1f]"  # at least one character that str.strip() keeps, in JSON Schema's regex dialect too
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: str) -> str:
    """JSON can spell a lone surrogate (\\ud800), which is no character; refuse it instead of failing later."""
    if _SURROGATE.search(value):
        raise PydanticCustomError("surrogate", "contains a lone surrogate code point (U+D800..U+DFFF), which is not text")
    return value


Text = Annotated[str, AfterValidator(_no_surrogates)]


def _json_integer(value: object) -> object:
    """A JSON Schema integer: 3 and 3.0, not true or "3" (which pydantic's lax mode would take)."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


JsonInteger = Annotated[int, BeforeValidator(_json_integer)]
LanguageCode = Literal["zh", "en", "fr", "es", "ru", "ar"]  # rag.language.OFFICIAL_LANGUAGES, spelled out for the schema
Session = Annotated[int, Field(ge=1), BeforeValidator(_json_integer)]  # "minimum" in the schema: a valid session is a real one
Year = Annotated[str, Field(pattern=r"^[1-9][0-9]{3}$")]


def _date_text(value: object) -> object:
    """A date as JSON spells it, "2013-09-30": not a number (pydantic's lax mode reads 0 or "0" as 1970-01-01)."""
    if not isinstance(value, str | dt.date) or (isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        raise PydanticCustomError("date_type", "Input should be a date YYYY-MM-DD")
    return value


Day = Annotated[dt.date, BeforeValidator(_date_text)] | Year  # a date or a year: what rag.filters reads, and nothing else


class FilterFields(BaseModel):
    """Which documents to search; every given condition must hold (see rag.filters)."""

    model_config = ConfigDict(extra="forbid")

    doc: Text | list[Text] | None = Field(default=None, description="document id(s), or a document's symbol / key (all its versions)")
    symbol: Text | list[Text] | None = Field(default=None, description="UN symbol(s), e.g. A/68/1")
    lang: LanguageCode | list[LanguageCode] | None = Field(default=None, description="language version(s) to search: zh, en")
    session: Session | list[Session] | None = Field(default=None, description="session number(s), e.g. 68")
    since: Day | None = Field(default=None, description="documents dated on or after YYYY-MM-DD (or a year)")
    until: Day | None = Field(default=None, description="documents dated on or before YYYY-MM-DD (or a year)")
    body: Text | list[Text] | None = Field(default=None, description="issuing body, e.g. General Assembly")


class AskRequest(FilterFields):
    question: Text = Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK, description="the question, in Chinese or English")
    k: JsonInteger = Field(default=5, ge=1, le=MAX_K, description=f"number of hits to consider, 1..{MAX_K}")


class CitationVersionOut(BaseModel):
    id: str
    doc: str
    symbol: str | None
    para: int | None
    sub: str | None
    section: list[str]
    text: str
    spans: list[tuple[int, int]] = Field(description="character offsets of the quoted evidence within text")
    reference: str = Field(description='formatted reference, e.g. "第26段" or "para. 85, target 11"')
    language: str = Field(description="language of text; it may differ from the question's (never translated)")
    kind: str = Field(default="paragraph", description="paragraph, sub, front or footnote")
    page: int | None = Field(default=None, description="the page the unit starts on, where the source document has pages")


class CitationOut(CitationVersionOut):
    versions: list[CitationVersionOut] = Field(
        default_factory=list,
        description="the same unit (same document, paragraph and sub-unit) in every language version the library holds, this one included",
    )


class SegmentOut(BaseModel):
    text: str
    citation: int | None = Field(description="index into citations of the unit this text quotes; null for connecting text")


class AskResponse(BaseModel):
    answer: str = Field(description="the flat answer: the segments with their bracketed references")
    segments: list[SegmentOut] = Field(description="the answer in order, each piece with its citation")
    kind: Literal["answer", "lookup", "refusal", "no_such_unit", "ambiguous"] = Field(
        description="lookup: the question named a paragraph; no_such_unit: it named one the document lacks (not a refusal)"
    )
    language: Literal["zh", "en"]
    refused: bool
    confidence: float | None = Field(
        default=None,
        description="the verifier's probability that the evidence answers (each question-evidence language pairing has its "
        "own model and threshold, so compare it within a pairing)",
    )
    cross_lingual: bool = Field(description="the quoted evidence is in another language than the question, untranslated")
    citations: list[CitationOut]
    see_also: list[CitationOut]
    notes: list[str]
    timings_ms: dict[str, float]


class HitOut(BaseModel):
    rank: int
    id: str
    doc: str
    para: int | None
    sub: str | None
    section: list[str]
    text: str
    score: float
    dense: float | None
    lexical: float | None
    symbol: str | None = None
    language: str | None = Field(default=None, description="language of the document version the hit is in")


class SearchResponse(BaseModel):
    query: str
    language: Literal["zh", "en"]
    mode: str
    hits: list[HitOut]
    timings_ms: dict[str, float]
    filters: dict[str, object] = Field(default_factory=dict, description="the filters applied (empty: the whole library)")


class VersionRefOut(BaseModel):
    id: str
    language: str | None
    title: str | None
    paragraphs: int
    units: int


class DocumentOut(BaseModel):
    """One language version of a document, with the document it belongs to and its sibling versions."""

    id: str
    symbol: str | None
    title: str | None
    title_en: str | None
    language: str | None
    session: int | None
    agenda_items: list[str]
    paragraphs: int
    units: int = Field(description="citable units: paragraphs, sub-units, front matter, footnotes")
    date: str | None = None
    body: str | None = None
    document: str = Field(description="the document this is a version of: its symbol, else its version_of key, else its id")
    versions: list[VersionRefOut] = Field(description="every language version of the document, this one included")


class LibraryDocumentOut(BaseModel):
    """A document of the library with all its language versions."""

    document: str
    symbol: str | None
    title: str | None
    title_en: str | None
    date: str | None
    session: int | None
    agenda_items: list[str]
    body: str | None
    languages: list[str]
    versions: list[VersionRefOut]


class UnitOut(BaseModel):
    id: str
    doc: str
    kind: str
    para: int | None
    sub: str | None
    label: str | None
    section: list[str]
    text: str
    start: int
    end: int
    references: dict[str, str] = Field(
        default_factory=dict, description='the unit\'s formatted reference per page language: {"zh": "第3(a)段", "en": "para. 3 (a)"}'
    )


class ParagraphVersionOut(BaseModel):
    language: str | None
    document: DocumentOut
    paragraph: UnitOut
    sub_units: list[UnitOut]


class ParagraphOut(BaseModel):
    document: DocumentOut
    paragraph: UnitOut
    sub_units: list[UnitOut]
    previous: int | None
    next: int | None
    versions: list[ParagraphVersionOut] = Field(
        default_factory=list, description="this paragraph in every language version of the document (Chinese first), this one included"
    )


class ParagraphSummaryOut(BaseModel):
    para: int
    section: list[str]
    preview: str = Field(description="the paragraph's first characters")
    sub_units: list[str] = Field(description='labels of its sub-units, e.g. "a", "target 11"')


class HealthOut(BaseModel):
    status: Literal["ok"]
    index_loaded: bool
    model: str
    units: dict[str, int]
    manifest: dict[str, object]
    stale: bool = Field(default=False, description="a newer build is live on disk; it is served after the next reload")


class ErrorOut(BaseModel):
    detail: str


class ReloadOut(BaseModel):
    changed: bool = Field(description="a new build is now served")
    build: str = Field(description="id of the build now served")
    previous: str = Field(description="id of the build served before")


class ChangedVersionOut(BaseModel):
    id: str = Field(description="the version's document id")
    file: str = Field(description="its file in the library folder")
    document: str = Field(description="the document it is a version of (symbol or key)")
    language: str | None = None


class LibraryChangeOut(BaseModel):
    """What an add, replace or remove changed, and the build now served (already reloaded)."""

    changed: list[ChangedVersionOut] = Field(description="versions added (POST) or removed (DELETE)")
    build: str = Field(description="id of the build now served")
    documents: int = Field(description="document versions in the index now")
    units: int = Field(description="units in the index now")
    embedded: int = Field(description="texts embedded by this rebuild (unchanged text is reused, never re-embedded)")
    reused: int = Field(description="texts whose vectors came from the previous build")
    seconds: float = Field(description="time the rebuild took")
