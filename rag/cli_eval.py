"""``rag eval``: retrieval and answer figures on labelled datasets.

Kept apart from :mod:`rag.cli` so each file stays one concern; :func:`register` adds the
command to the main ``rag`` application.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli_common import fail as _fail
from rag.config import Settings

__all__ = ["evaluate", "register"]


def evaluate(
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", "-d", help="seed, xquad-zh, xquad-en-zh, xquad-en, xquad-zh-en, or a path (.jsonl questions, SQuAD .json, BEIR folder); repeatable"),
    ] = None,
    config: Annotated[str, typer.Option("--config", help="comma-separated: hybrid,dense,lexical")] = "hybrid,dense,lexical",
    out: Annotated[Path | None, typer.Option("--out", help="write results.json, report.md, TREC runs and plots here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print all figures as one JSON object")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="only the first N questions of each set")] = None,
    xquad_dir: Annotated[Path | None, typer.Option("--xquad-dir", help="folder with xquad.zh.json / xquad.en.json")] = None,
    doc: Annotated[str | None, typer.Option("--doc", help="document id the .jsonl questions are about")] = None,
) -> None:
    """Score retrieval (and answers, where questions can be unanswerable or carry gold answer strings) on labelled datasets."""
    import shlex

    from rag.evaluation.datasets import DatasetError
    from rag.evaluation.report import markdown_tables, results_json, write_results
    from rag.evaluation.runner import DEFAULT_XQUAD_DIR, resolve_sets, run_evaluation
    from rag.retriever import RetrievalMode

    settings = Settings()
    try:
        modes = [RetrievalMode(name.strip()) for name in config.split(",") if name.strip()]
    except ValueError:
        raise _fail(f"unknown configuration in {config!r}; use hybrid, dense, lexical") from None
    if not modes:
        raise _fail("no configuration given")
    try:
        sets = resolve_sets(settings, dataset or ["seed"], xquad_dir=xquad_dir or DEFAULT_XQUAD_DIR, doc=doc)
        results = run_evaluation(settings, sets, modes, cache_dir=settings.home / "eval-indexes", limit=limit, show_progress=not as_json)
    except DatasetError as error:
        raise _fail(str(error)) from None
    from rag.engine import choose_model, encoder_numerics

    command = "rag eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    choice = choose_model(settings)
    model, encoder = choice.id, encoder_numerics(settings, choice)
    data = (
        write_results(results, out, command=command, model=model, encoder=encoder)
        if out else results_json(results, command=command, model=model, encoder=encoder)
    )
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    else:
        typer.echo(markdown_tables(results))
        if out:
            typer.echo(f"\nwritten to {out}/ (report.md, results.json, runs/, recall_at_k.png)")


def register(app: typer.Typer) -> None:
    """Add ``rag eval`` to ``app``."""
    app.command("eval")(evaluate)
