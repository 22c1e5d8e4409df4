"""Changing the library folder: add, replace and remove documents, catalogue kept in step.

The folder (the configured documents folder, ``RAG_SEEDS_DIR``) and its ``catalogue.json``
are the library's source of truth; the index is rebuilt from them (unchanged text is never
re-embedded). Every change is all-or-nothing: files are copied under temporary names and
renamed into place, the catalogue is replaced atomically, and on any failure the folder is
put back as it was. Replacing a document is never silent: it needs ``replace=True``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from rag.catalogue import Catalogue, CatalogueError, DocumentMeta, derive_doc_id, load_catalogue, save_catalogue
from rag.ingest import DOCUMENT_SUFFIXES, IngestError, read_document
from rag.language import detect_language

__all__ = [
    "AddOptions", "LibraryConflictError", "LibraryEditError", "UnknownLibraryDocumentError",
    "add_documents", "catalogue_entries", "remove_documents",
]


class LibraryEditError(ValueError):
    """The change was refused (and nothing was changed); the message says why and what to do."""


class LibraryConflictError(LibraryEditError):
    """The document is already in the library and replacing it was not asked for."""


class UnknownLibraryDocumentError(LibraryEditError):
    """Nothing in the library goes by the name given."""


@dataclass(frozen=True)
class AddOptions:
    """Catalogue fields given on the command line; applied to every file added together."""

    symbol: str | None = None
    language: str | None = None
    title: str | None = None
    title_en: str | None = None
    session: int | None = None
    date: dt.date | None = None
    body: str | None = None
    agenda_items: tuple[str, ...] = ()
    version_of: str | None = None
    doc_id: str | None = None  # only with a single file
    notes: str | None = None


def catalogue_entries(directory: Path) -> list[DocumentMeta]:
    """Every document of the folder: catalogued entries, plus files without one (derived id, no symbol)."""
    catalogue = load_catalogue(directory)
    entries = list(catalogue.documents)
    named = {d.file for d in entries}
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES):
        if path.name not in named:
            entries.append(DocumentMeta(file=path.name, id=derive_doc_id(path), catalogued=False))
    return entries


def _check_file(path: Path) -> str | None:
    """The file's language when it can be told from its text; raises LibraryEditError when unusable.

    The file is read with the same readers the build uses (:mod:`rag.ingest`), so an encrypted
    or image-only PDF, a corrupt DOCX or a binary file is refused before it enters the library.
    """
    if not path.is_file():
        raise LibraryEditError(f"{path}: no such file")
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        raise LibraryEditError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; supported: {', '.join(DOCUMENT_SUFFIXES)}")
    try:
        extracted = read_document(path)
    except (IngestError, OSError) as error:
        raise LibraryEditError(str(error)) from None
    text = " ".join(block.text for block in extracted.body) if extracted.body else extracted.source
    if not text.strip():
        raise LibraryEditError(f"{path}: the file has no text")
    return detect_language(text)


def _meta_for(path: Path, options: AddOptions, detected: str | None, single: bool) -> DocumentMeta:
    if options.doc_id and not single:
        raise LibraryEditError("--id names one document; give one file with it")
    try:
        return DocumentMeta(
            file=path.name,
            id=options.doc_id or derive_doc_id(path),
            symbol=options.symbol,
            title=options.title,
            title_en=options.title_en,
            language=options.language or detected,
            session=options.session,
            agenda_items=options.agenda_items,
            notes=options.notes,
            date=options.date.isoformat() if options.date else None,
            body=options.body,
            version_of=options.version_of,
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise LibraryEditError(f"{path}: {problems}") from None


def _conflicts(new: DocumentMeta, existing: list[DocumentMeta]) -> list[DocumentMeta]:
    """Entries ``new`` would replace: same id, same file name, or the same document in the same language."""
    return [
        old
        for old in existing
        if old.id == new.id
        or old.file == new.file
        or (new.language is not None and old.language == new.language and old.document_key == new.document_key)
    ]


def add_documents(directory: Path, files: list[Path], options: AddOptions, *, replace: bool = False) -> list[DocumentMeta]:
    """Copy ``files`` into the library folder and catalogue them; returns the new entries.

    Raises:
        LibraryEditError: a file is unusable, or a document would be replaced without ``replace``.
    """
    if not files:
        raise LibraryEditError("no files given")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        existing = catalogue_entries(directory)
    except CatalogueError as error:
        raise LibraryEditError(str(error)) from None
    metas = [_meta_for(path, options, _check_file(path), len(files) == 1) for path in files]
    for i, meta in enumerate(metas):
        clash = _conflicts(meta, metas[:i])
        if clash:
            raise LibraryEditError(f"{files[i]} and {clash[0].file} would both be document {meta.id!r} / {meta.document_key} [{meta.language}]")
    replaced: dict[str, DocumentMeta] = {}
    for path, meta in zip(files, metas, strict=True):
        for old in _conflicts(meta, existing):
            if path.resolve() == (directory / old.file).resolve():
                raise LibraryEditError(f"{path} is already in the library as {old.id!r}")
            replaced[old.id] = old
    if replaced and not replace:
        names = ", ".join(f"{o.id!r} ({o.file}, {o.document_key} [{o.language or '?'}])" for o in replaced.values())
        raise LibraryConflictError(f"the library already has {names}; to replace it, ask for it (rag add --replace, or replace=true over the API)")
    catalogue = Catalogue(documents=tuple(d for d in existing if d.catalogued and d.id not in replaced))
    for meta in metas:
        catalogue = catalogue.with_document(meta)
    _apply(directory, copies={m.file: p for p, m in zip(files, metas, strict=True)}, removals=[o.file for o in replaced.values()], catalogue=catalogue)
    return metas


def remove_documents(directory: Path, name: str) -> list[DocumentMeta]:
    """Remove a version (by id) or every version of a document (by symbol / key); returns what was removed.

    Raises:
        LibraryEditError: nothing by that name.
    """
    try:
        existing = catalogue_entries(directory)
    except CatalogueError as error:
        raise LibraryEditError(str(error)) from None
    gone = [d for d in existing if d.id == name] or [d for d in existing if d.document_key == name or d.symbol == name]
    if not gone:
        known = ", ".join(sorted(d.id for d in existing)[:10]) or "none"
        raise UnknownLibraryDocumentError(f"no document {name!r} in the library (known: {known})")
    ids = {d.id for d in gone}
    catalogue = Catalogue(documents=tuple(d for d in existing if d.catalogued and d.id not in ids))
    _apply(directory, copies={}, removals=[d.file for d in gone], catalogue=catalogue)
    return gone


def _apply(directory: Path, *, copies: dict[str, Path], removals: list[str], catalogue: Catalogue) -> None:
    """Copy, remove and re-catalogue as one change: on any error the folder is restored."""
    tag = uuid.uuid4().hex[:8]
    staged: dict[str, Path] = {}
    backups: dict[str, Path] = {}
    placed: list[str] = []
    try:
        for name, source in copies.items():
            staged[name] = directory / f".{name}.{tag}.adding"
            shutil.copyfile(source, staged[name])
        for name in {*removals, *copies}:
            if (directory / name).exists():
                backups[name] = directory / f".{name}.{tag}.old"
                os.replace(directory / name, backups[name])
        for name, tmp in staged.items():
            os.replace(tmp, directory / name)
            placed.append(name)
        save_catalogue(directory, catalogue)
    except BaseException as error:
        for name in placed:
            (directory / name).unlink(missing_ok=True)
        for name, backup in backups.items():
            os.replace(backup, directory / name)
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise LibraryEditError(f"could not change {directory}: {error}; nothing was changed") from None
        raise
    for backup in backups.values():
        backup.unlink(missing_ok=True)
