"""The document service: what routes and commands ask about documents, away from the index.

A *document* of the library is what a delegate means by one: "A/68/1", in as many language
versions as were added. Each version is indexed on its own (its own id, units and vectors);
versions are grouped by :attr:`DocumentMeta.document_key` (symbol, else ``version_of``, else
the id) and their units align by key = (document, paragraph, sub-unit), since the official
language versions of a UN document carry identical paragraph numbers.

The service is built from a loaded index once (:func:`library_of`) and is immutable, so a
reload swaps it together with the index it describes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from index.store import LoadedIndex
from rag.catalogue import DocumentMeta
from rag.language import OFFICIAL_LANGUAGES, detect_language
from rag.units import Unit, UnitKind

__all__ = [
    "LANGUAGE_ORDER",
    "Library",
    "LibraryDocument",
    "ParagraphVersion",
    "UnknownDocumentError",
    "UnknownParagraphError",
    "alignment_key",
    "library_of",
]

LANGUAGE_ORDER = OFFICIAL_LANGUAGES


class UnknownDocumentError(KeyError):
    """No document or version by that name; ``known`` lists some that exist."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return f"unknown document {self.name!r} (known: {', '.join(self.known[:10]) or 'none'})"


class UnknownParagraphError(KeyError):
    def __init__(self, doc: str, para: int, numbers: list[int]) -> None:
        super().__init__(para)
        self.doc, self.para = doc, para
        self.span = f"{numbers[0]}–{numbers[-1]}" if numbers else "none"

    def __str__(self) -> str:
        return f"document {self.doc!r} has no paragraph {self.para} (paragraphs: {self.span})"


def _language_rank(language: str | None) -> int:
    return LANGUAGE_ORDER.index(language) if language in LANGUAGE_ORDER else len(LANGUAGE_ORDER)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One language version: its catalogue entry and what was indexed of it."""

    meta: DocumentMeta
    language: str | None
    paragraphs: int
    units: int


@dataclass(frozen=True, slots=True)
class LibraryDocument:
    """A document with all its language versions (Chinese first, then English, …)."""

    key: str
    versions: tuple[VersionInfo, ...]

    @property
    def primary(self) -> DocumentMeta:
        return self.versions[0].meta

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(v.language for v in self.versions if v.language)

    def version(self, language: str | None) -> VersionInfo | None:
        return next((v for v in self.versions if v.language == language), None)


@dataclass(frozen=True, slots=True)
class ParagraphVersion:
    """A paragraph in one language version, with its sub-units and neighbours' numbers."""

    meta: DocumentMeta
    language: str | None
    paragraph: Unit
    sub_units: tuple[Unit, ...]
    previous: int | None
    next: int | None


def alignment_key(unit: Unit, meta: DocumentMeta) -> tuple[str, ...] | None:
    """(document, paragraph, sub-unit): equal in every language version of one document.

    Units without a paragraph number (front matter, footnotes) align by their label.
    """
    if unit.para is not None:
        return (meta.document_key, str(unit.para), unit.sub or "")
    if unit.label is not None and unit.kind is not UnitKind.HEADING:
        return (meta.document_key, unit.label)
    return None


class Library:
    """Read-only view of the indexed documents, grouped into language versions."""

    def __init__(self, index: LoadedIndex) -> None:
        self.index = index
        self.languages: dict[str, str | None] = {doc: self._language(doc, meta) for doc, meta in index.documents.items()}
        units_per_doc = index.store.counts("doc", retrievable=True)  # counted on disk: no unit is read into RAM
        paragraphs_per_doc = index.store.paragraph_counts()
        # units per kind, counted once: a build never changes, and /health (open, unlimited) reads this
        self.kind_counts: dict[str, int] = dict(sorted(index.store.counts("kind").items()))
        groups: dict[str, list[VersionInfo]] = {}
        for doc, meta in index.documents.items():
            info = VersionInfo(meta, self.languages[doc], paragraphs_per_doc.get(doc, 0), units_per_doc.get(doc, 0))
            groups.setdefault(meta.document_key, []).append(info)
        self.documents: dict[str, LibraryDocument] = {
            key: LibraryDocument(key, tuple(sorted(versions, key=lambda v: (_language_rank(v.language), v.meta.id))))
            for key, versions in sorted(groups.items())
        }

    def _language(self, doc: str, meta: DocumentMeta) -> str | None:
        if meta.language:
            return meta.language
        paragraphs = self.index.paragraphs.get(doc, {})
        sample = " ".join(u.text for u in list(paragraphs.values())[:3])
        return detect_language(sample) if sample.strip() else None

    # -- documents ---------------------------------------------------------

    def document(self, name: str) -> LibraryDocument:
        """A document by its key (symbol, ``version_of``) or by the id of any of its versions."""
        if name in self.documents:
            return self.documents[name]
        meta = self.index.documents.get(name)
        if meta is None:
            raise UnknownDocumentError(name, sorted(self.documents))
        return self.documents[meta.document_key]

    def version(self, name: str, language: str | None = None) -> DocumentMeta:
        """The version ``name`` (an id), or the ``language`` version (else the first) of document ``name``."""
        if language is None and name in self.index.documents:
            return self.index.documents[name]
        document = self.document(name)
        if language is None:
            return document.primary
        found = document.version(language)
        if found is None:
            raise UnknownDocumentError(f"{name} [{language}]", [v.meta.id for v in document.versions])
        return found.meta

    def unit_count(self, doc: str) -> int:
        return next((v.units for v in self.document(doc).versions if v.meta.id == doc), 0)

    def paragraph_count(self, doc: str) -> int:
        """Numbered paragraphs of one version, counted when the library was built (not read again)."""
        return next((v.paragraphs for v in self.document(doc).versions if v.meta.id == doc), 0)

    # -- paragraphs and alignment ------------------------------------------

    def paragraph(self, doc: str, para: int, language: str | None = None) -> ParagraphVersion:
        """Paragraph ``para`` of a version (by id, or the ``language`` version of a document)."""
        meta = self.version(doc, language)
        paragraphs = self.index.paragraphs.get(meta.id, {})
        if para not in paragraphs:
            raise UnknownParagraphError(doc, para, list(paragraphs))
        numbers = list(paragraphs)
        position = numbers.index(para)
        unit = paragraphs[para]
        return ParagraphVersion(
            meta,
            self.languages.get(meta.id),
            unit,
            self.index.sub_units.get(unit.id, ()),
            numbers[position - 1] if position > 0 else None,
            numbers[position + 1] if position + 1 < len(numbers) else None,
        )

    def paragraph_versions(self, doc: str, para: int) -> list[ParagraphVersion]:
        """Paragraph ``para`` in every language version that has it (Chinese first)."""
        document = self.document(doc)
        found = []
        for version in document.versions:
            if para in self.index.paragraphs.get(version.meta.id, {}):
                found.append(self.paragraph(version.meta.id, para))
        if not found:
            numbers = sorted({n for v in document.versions for n in self.index.paragraphs.get(v.meta.id, {})})
            raise UnknownParagraphError(doc, para, numbers)
        return found

    def aligned(self, unit: Unit) -> dict[str, Unit]:
        """The unit under the same key in every language version, its own included (language → unit)."""
        meta = self.index.documents.get(unit.doc)
        key = alignment_key(unit, meta) if meta is not None else None
        if key is None:
            language = self.languages.get(unit.doc)
            return {language: unit} if language else {}
        found: dict[str, Unit] = {}
        for version in self.documents[key[0]].versions if key[0] in self.documents else ():
            language = self.languages.get(version.meta.id)
            if language is None or language in found:
                continue
            # the first unit of that version under the same key (read from the store, not held in RAM)
            other = (self.index.store.first_unit(version.meta.id, para=int(key[1]), sub=key[2] or None) if len(key) == 3
                     else self.index.store.first_unit(version.meta.id, label=key[1]))
            if other is not None:
                found[language] = other
        return dict(sorted(found.items(), key=lambda item: _language_rank(item[0])))

    def symbol(self, doc: str) -> str | None:
        meta = self.index.documents.get(doc)
        return meta.symbol if meta else None

    def meta(self) -> Mapping[str, DocumentMeta]:
        return self.index.documents


_lock = threading.Lock()
_ATTRIBUTE = "_library_service"


def library_of(index: LoadedIndex) -> Library:
    """The library of ``index``, built once per loaded index and kept on it, so it lives and dies
    with that index (a reload gets a fresh one; the old one is freed with the old index)."""
    library = getattr(index, _ATTRIBUTE, None)
    if library is None:
        with _lock:
            library = getattr(index, _ATTRIBUTE, None)
            if library is None:
                library = Library(index)
                object.__setattr__(index, _ATTRIBUTE, library)  # a frozen dataclass: a cache, not state
    return library
