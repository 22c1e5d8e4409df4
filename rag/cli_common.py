"""What every ``rag`` command module shares: the one-line failure and the index directory option.

Kept apart so :mod:`rag.cli`, :mod:`rag.cli_index`, :mod:`rag.cli_eval` and :mod:`rag.cli_library`
fail the same way (a red ``error:`` line and exit status 2, never a traceback) without importing
each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["IndexDirOption", "fail"]

IndexDirOption = Annotated[Path | None, typer.Option("--index-dir", help="index directory (default: RAG_INDEX_DIR or ~/.cache/un-rag/index)")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as one error line; the caller raises the returned exit."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)
