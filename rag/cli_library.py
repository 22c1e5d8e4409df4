"""``rag add``, ``rag remove``, ``rag list``: the library folder and its catalogue, then an incremental build.

Kept apart from :mod:`rag.cli` so each file stays one concern; :func:`register` adds the
commands to the main ``rag`` application.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli_common import IndexDirOption
from rag.cli_common import fail as _fail
from rag.config import Settings
from rag.language import OFFICIAL_LANGUAGES

__all__ = ["register"]

LibraryOption = Annotated[
    Path | None, typer.Option("--library", "--seeds", help="the library folder (default: RAG_SEEDS_DIR or ./seeds)")
]
NoBuildOption = Annotated[bool, typer.Option("--no-build", help="change the folder and catalogue only; run rag build later")]


def _rebuild(settings: Settings, library: Path, index_dir: Path | None) -> None:
    """Rebuild the index from the library folder: only new or changed text is embedded."""
    import time

    from rich.console import Console

    from rag.engine import build_from_documents, load_seed_corpus

    started = time.perf_counter()
    console = Console(stderr=True)
    with console.status(f"reading the documents in {library}…"):
        corpus = load_seed_corpus(settings, library)
    for message in corpus.errors:
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    if not corpus.documents:
        raise _fail(f"no readable documents left in {library}; the index was not changed")
    target = index_dir or settings.resolved_index_dir
    try:
        report = build_from_documents(settings, corpus, index_dir=target, show_progress=True)
    except (OSError, ValueError) as error:
        raise _fail(f"the library was changed but the index was not rebuilt: {error}; run rag build") from None
    m = report.manifest
    state = "up to date" if report.unchanged else f"embedded {report.embedded} new texts, reused {report.reused}"
    typer.echo(f"index {target}: {m.documents} documents, {m.units} units; {state}; {time.perf_counter() - started:.1f} s")


def add(
    files: Annotated[list[Path], typer.Argument(help="document files (.txt; the versions of one document may be given together)")],
    symbol: Annotated[str | None, typer.Option("--symbol", help="UN symbol, e.g. A/68/1 (never guessed)")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="language of the file(s): zh, en (default: detected)")] = None,
    title: Annotated[str | None, typer.Option("--title", help="title in the document's language")] = None,
    title_en: Annotated[str | None, typer.Option("--title-en", help="English title")] = None,
    session: Annotated[int | None, typer.Option("--session", min=1, help="session number")] = None,
    date: Annotated[str | None, typer.Option("--date", help="date of issue, YYYY-MM-DD")] = None,
    body: Annotated[str | None, typer.Option("--body", help="issuing body, e.g. General Assembly")] = None,
    agenda: Annotated[list[str] | None, typer.Option("--agenda", help="agenda item, e.g. 19(d); repeatable")] = None,
    version_of: Annotated[str | None, typer.Option("--version-of", help="key that groups language versions of a document without a symbol")] = None,
    doc_id: Annotated[str | None, typer.Option("--id", help="document id (default: from the file name)")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="replace a document already in the library")] = False,
    library: LibraryOption = None,
    index_dir: IndexDirOption = None,
    no_build: NoBuildOption = False,
) -> None:
    """Add documents to the library (copied into its folder) and update the index."""
    from rag.library_files import AddOptions, LibraryEditError, add_documents

    settings = Settings()
    folder = library or settings.seeds_dir
    try:
        issued = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise _fail(f"--date must be YYYY-MM-DD, not {date!r}") from None
    if lang is not None and lang not in OFFICIAL_LANGUAGES:
        raise _fail(f"--lang must be a language code such as zh or en, not {lang!r}")
    options = AddOptions(
        symbol=symbol, language=lang, title=title, title_en=title_en, session=session, date=issued, body=body,
        agenda_items=tuple(agenda or ()), version_of=version_of, doc_id=doc_id,
    )
    try:
        added = add_documents(folder, files, options, replace=replace)
    except LibraryEditError as error:
        raise _fail(str(error)) from None
    for meta in added:
        typer.echo(f"added {meta.id} ({meta.file}; {meta.document_key} [{meta.language or '?'}])")
    if not no_build:
        _rebuild(settings, folder, index_dir)


def remove(
    doc: Annotated[str, typer.Argument(help="a version's id, or a symbol / key to remove every version")],
    library: LibraryOption = None,
    index_dir: IndexDirOption = None,
    no_build: NoBuildOption = False,
) -> None:
    """Remove a document (its file and catalogue entry) from the library and update the index."""
    from rag.library_files import LibraryEditError, remove_documents

    settings = Settings()
    folder = library or settings.seeds_dir
    try:
        gone = remove_documents(folder, doc)
    except LibraryEditError as error:
        raise _fail(str(error)) from None
    for meta in gone:
        typer.echo(f"removed {meta.id} ({meta.file})")
    if not no_build:
        _rebuild(settings, folder, index_dir)


def list_documents(
    library: LibraryOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per document version")] = False,
) -> None:
    """List the library: id, symbol, language, title, session, date and citable units of each document."""
    from rag.corpus import load_documents

    settings = Settings()
    folder = library or settings.seeds_dir
    try:
        corpus = load_documents(folder)
    except (FileNotFoundError, ValueError) as error:
        raise _fail(str(error)) from None
    for message in corpus.errors:
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    rows = []
    for document in sorted(corpus.documents, key=lambda d: (corpus.metadata[d.doc].document_key, d.doc)):
        meta = corpus.metadata[document.doc]
        units = sum(1 for u in document.units if u.kind.retrievable)
        rows.append((meta, units, len(document.paragraphs)))
    if as_json:
        for meta, units, paragraphs in rows:
            record = {**meta.model_dump(mode="json"), "document": meta.document_key, "units": units, "paragraphs": paragraphs}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    documents = len({meta.document_key for meta, _, _ in rows})
    table = Table("id", "symbol", "language", "title", "session", "date", "units", title=f"{documents} documents ({len(rows)} versions) in {folder}")
    for meta, units, _ in rows:
        table.add_row(
            meta.id, meta.symbol or "—", meta.language or "?", (meta.title or meta.title_en or "")[:40],
            str(meta.session or ""), meta.date or "", str(units),
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("remove")(remove)
    app.command("list")(list_documents)
