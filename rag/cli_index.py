"""``rag index export`` and ``rag index rollback``: operations on a built index.

Kept apart from :mod:`rag.cli` so each file stays one concern; ``rag build --backend milvus``
uses :func:`export_to_milvus` from here.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rag.cli_common import IndexDirOption
from rag.cli_common import fail as _fail
from rag.config import Settings

__all__ = ["BackendChoice", "export_to_milvus", "index_app"]


class BackendChoice(StrEnum):
    """Where candidates come from: the local build, or Milvus mirroring it."""

    faiss = "faiss"
    milvus = "milvus"


index_app = typer.Typer(help="Operations on a built index: export it to Milvus, roll back to the previous build.", no_args_is_help=True)


@index_app.command("export")
def index_export(
    to: Annotated[BackendChoice, typer.Option("--to", help="target store (milvus: RAG_MILVUS_URI, RAG_MILVUS_COLLECTION)")],
    index_dir: IndexDirOption = None,
) -> None:
    """Copy a built index into another store, vectors included (nothing is re-embedded)."""
    if to != BackendChoice.milvus:
        raise _fail("the local FAISS index is the build itself; export --to milvus copies it")
    settings = Settings()
    export_to_milvus(settings, index_dir or settings.resolved_index_dir, only_if_changed=False)


def export_to_milvus(settings: Settings, index_dir: Path, *, only_if_changed: bool) -> None:
    """Copy the build in ``index_dir`` into the configured Milvus collection (``rag build --backend milvus``
    only when the collection does not mirror it yet)."""
    import time

    from index.milvus_sync import ensure_exported, export_index
    from index.store import IndexUnavailableError, load_index
    from rag.engine import open_milvus_store

    started = time.perf_counter()
    try:
        index = load_index(index_dir)
        store = open_milvus_store(settings, index_dir)
        if only_if_changed and not ensure_exported(index, store):
            typer.echo(f"Milvus collection {store.collection!r} already mirrors this build")
            return
        if not only_if_changed:
            export_index(index, store)
    except IndexUnavailableError as error:
        raise _fail(str(error)) from None
    typer.echo(
        f"exported {len(index.chunks)} chunks to Milvus collection {store.collection!r} at {settings.resolved_milvus_uri} "
        f"({store.index_type}, consistency {store.consistency}); {time.perf_counter() - started:.1f} s"
    )


@index_app.command("rollback")
def index_rollback(index_dir: IndexDirOption = None) -> None:
    """Make the previous build live again (the current one becomes the previous: run twice to undo)."""
    from index.store import IndexBuildError, IndexUnavailableError, rollback

    target = index_dir or Settings().resolved_index_dir
    try:
        left, now = rollback(target)
    except (IndexUnavailableError, IndexBuildError) as error:
        raise _fail(str(error)) from None
    typer.echo(f"index {target}: build {now} is live again (was {left}); a running service picks it up on POST /admin/reload")
