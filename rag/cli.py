"""The ``rag`` command line: thin commands over the library; heavy imports happen inside them."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rag.config import Settings

app = typer.Typer(help="Question answering with paragraph citations over UN documents.", no_args_is_help=True)


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


@app.callback()
def main() -> None:
    """Question answering with paragraph citations over UN documents."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


SeedsOption = Annotated[Path | None, typer.Option("--seeds", help="documents folder (default: RAG_SEEDS_DIR or ./seeds)")]


@app.command()
def paragraphs(
    doc: Annotated[str | None, typer.Option("--doc", help="only this document id")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="jsonl (one unit per line) or table")] = OutputFormat.jsonl,
    seeds: SeedsOption = None,
) -> None:
    """List every unit of the documents: paragraphs, sub-units, headings, front matter, footnotes."""
    from rag.corpus import load_documents

    settings = Settings()
    try:
        corpus = load_documents(seeds or settings.seeds_dir)
    except (FileNotFoundError, ValueError) as error:
        raise _fail(str(error)) from None
    for message in (*corpus.warnings, *corpus.errors):
        typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)
    documents = [d for d in corpus.documents if doc is None or d.doc == doc]
    if doc is not None and not documents:
        known = ", ".join(d.doc for d in corpus.documents) or "none"
        raise _fail(f"unknown document {doc!r}; known: {known}")
    if output is OutputFormat.jsonl:
        for document in documents:
            for unit in document.units:
                sys.stdout.write(json.dumps(unit.to_record(), ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "para", "sub", "section", "text", show_lines=False)
    for document in documents:
        for unit in document.units:
            section = " › ".join(s[:12] for s in unit.section)
            table.add_row(unit.id, str(unit.para or ""), unit.sub or "", section, unit.text[:60].replace("\n", " "))
    Console().print(table)
