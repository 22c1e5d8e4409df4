"""The catalogue: what we know about each document, from ``catalogue.json`` and its own header.

A UN document's symbol (A/68/…) is often not printed in the extracted text, and guessing it
from footnotes is how wrong citations happen (the seed's footnote "A/68/150" is the agenda,
not the document). So the symbol comes from ``catalogue.json`` beside the documents, or from the
document's own header where it is printed there (``rag.ingest.header``); the catalogue wins.

A library holds several language versions of one document: files that share a symbol (or,
without one, a ``version_of`` key) are versions of one document, and their units align by
paragraph number (:mod:`rag.library`). The catalogue is rewritten atomically (a temporary
file, then ``os.replace``) so a crash never leaves it half-written.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "CATALOGUE_FILE",
    "Catalogue",
    "CatalogueError",
    "DocumentMeta",
    "derive_doc_id",
    "load_catalogue",
    "save_catalogue",
]

CATALOGUE_FILE = "catalogue.json"


class CatalogueError(ValueError):
    """The catalogue file exists but cannot be used."""


class DocumentMeta(BaseModel):
    """Metadata of one document; ``symbol`` is None when unknown and is then never cited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    symbol: str | None = None
    title: str | None = None
    title_en: str | None = None
    language: str | None = None
    session: int | None = None
    agenda_items: tuple[str, ...] = ()
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")  # date of issue, ISO 8601
    body: str | None = None  # issuing body: "General Assembly", "Security Council", …
    notes: str | None = None
    catalogued: bool = True
    version_of: str | None = None  # key shared by the language versions of a document without a symbol
    from_header: tuple[str, ...] = ()  # fields read from the document's printed header, not the catalogue

    @property
    def document_key(self) -> str:
        """The document this file is a version of: ``version_of``, else the symbol, else its own id."""
        return self.version_of or self.symbol or self.id

    def with_header(self, fields: dict[str, object]) -> DocumentMeta:
        """Fill the fields the catalogue leaves empty with those the document prints; the catalogue wins."""
        update = {k: v for k, v in fields.items() if v not in (None, ()) and getattr(self, k) in (None, ())}
        if not update:
            return self
        return self.model_copy(update={**update, "from_header": tuple(sorted({*self.from_header, *update}))})


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    documents: tuple[DocumentMeta, ...] = ()

    def for_file(self, name: str) -> DocumentMeta | None:
        return next((d for d in self.documents if d.file == name), None)

    def for_id(self, doc: str) -> DocumentMeta | None:
        return next((d for d in self.documents if d.id == doc), None)

    def with_document(self, meta: DocumentMeta) -> Catalogue:
        """The catalogue with ``meta`` added, replacing any entry with its id or file."""
        kept = tuple(d for d in self.documents if d.id != meta.id and d.file != meta.file)
        return Catalogue(documents=(*kept, meta))

    def without(self, doc: str) -> Catalogue:
        return Catalogue(documents=tuple(d for d in self.documents if d.id != doc))


def derive_doc_id(path: Path) -> str:
    """A document id from a file name: its stem, with anything outside [A-Za-z0-9_.-] replaced."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", path.stem).strip("_") or "document"


def load_catalogue(directory: Path) -> Catalogue:
    """Read ``catalogue.json`` from a documents folder; an absent file is an empty catalogue."""
    path = directory / CATALOGUE_FILE
    if not path.exists():
        return Catalogue()
    try:
        catalogue = Catalogue.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CatalogueError(f"{path}: not valid UTF-8 JSON: {error}") from error
    except ValidationError as error:
        raise CatalogueError(f"{path}: {error}") from error
    ids = [d.id for d in catalogue.documents]
    if len(ids) != len(set(ids)):
        raise CatalogueError(f"{path}: duplicate document ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return catalogue


def save_catalogue(directory: Path, catalogue: Catalogue) -> Path:
    """Write ``catalogue.json`` atomically: readers see the old file or the new one, never half of one."""
    path = directory / CATALOGUE_FILE
    tmp = directory / f".{CATALOGUE_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    # a null symbol is written out: "not printed, unknown" is information, not an omission
    records = [
        {"file": d.file, "id": d.id, "symbol": d.symbol, **d.model_dump(mode="json", exclude_defaults=True, exclude={"file", "id", "symbol", "catalogued", "from_header"})}
        for d in catalogue.documents
    ]
    try:
        with tmp.open("w", encoding="utf-8") as out:
            out.write(json.dumps({"documents": records}, ensure_ascii=False, indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
