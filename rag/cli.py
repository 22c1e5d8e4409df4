"""The ``rag`` command line: thin commands over the library; heavy imports happen inside them."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rag.cli_common import IndexDirOption
from rag.cli_common import fail as _fail
from rag.cli_index import BackendChoice, export_to_milvus, index_app
from rag.config import Settings, settings_problem

if TYPE_CHECKING:
    from rag.filters import SearchFilter

app = typer.Typer(help="Question answering with paragraph citations over UN documents.", no_args_is_help=True)
app.add_typer(index_app, name="index")


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


@app.callback()
def main() -> None:
    """Question answering with paragraph citations over UN documents."""
    problem = settings_problem()  # every command reads the settings: one clear line, not a traceback
    if problem:
        raise _fail(problem)


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


DocFilter = Annotated[list[str] | None, typer.Option("--doc", help="only this document: a version's id, or a symbol for all its versions; repeatable")]
SymbolFilter = Annotated[list[str] | None, typer.Option("--symbol", help="only documents with this UN symbol; repeatable")]
LangFilter = Annotated[list[str] | None, typer.Option("--lang", help="only this language version (zh, en); repeatable")]
SessionFilter = Annotated[list[int] | None, typer.Option("--session", help="only this session; repeatable")]
SinceFilter = Annotated[str | None, typer.Option("--since", help="only documents dated on or after YYYY-MM-DD (or a year)")]
UntilFilter = Annotated[str | None, typer.Option("--until", help="only documents dated on or before YYYY-MM-DD (or a year)")]
BodyFilter = Annotated[list[str] | None, typer.Option("--body", help="only documents of this issuing body; repeatable")]


def _filter(
    doc: list[str] | None, symbol: list[str] | None, lang: list[str] | None, session: list[int] | None,
    since: str | None, until: str | None, body: list[str] | None,
) -> SearchFilter:
    from rag.filters import FilterError, SearchFilter

    try:
        return SearchFilter.of(doc=doc, symbol=symbol, language=lang, session=session, since=since, until=until, body=body)
    except FilterError as error:
        raise _fail(str(error)) from None


@app.command()
def build(
    seeds: SeedsOption = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="a BEIR corpus.jsonl instead of a documents folder")] = None,
    index_dir: IndexDirOption = None,
    force: Annotated[bool, typer.Option("--force", help="rebuild even if the index is up to date")] = False,
    backend: Annotated[
        BackendChoice | None, typer.Option("--backend", help="also mirror the build into Milvus (default: RAG_BACKEND)")
    ] = None,
) -> None:
    """Build the search index from a documents folder or a BEIR corpus file."""
    import time

    from index.store import IndexBuildError
    from rag.engine import build_from_corpus_file, build_from_documents, load_seed_corpus
    from rag.evaluation.datasets import DatasetError

    if seeds is not None and corpus is not None:
        raise _fail("give either --seeds or --corpus, not both")
    settings = Settings()
    target = index_dir or settings.resolved_index_dir
    started = time.perf_counter()
    try:
        if corpus is not None:
            report = build_from_corpus_file(settings, corpus, index_dir=target, show_progress=True, force=force)
        else:
            documents = load_seed_corpus(settings, seeds)
            for message in documents.warnings:
                typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)
            for message in documents.errors:
                typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
            if not documents.documents:
                raise _fail(f"no readable documents in {seeds or settings.seeds_dir}")
            report = build_from_documents(settings, documents, index_dir=target, show_progress=True, force=force)
    except (FileNotFoundError, DatasetError, ValueError, IndexBuildError) as error:
        raise _fail(str(error)) from None
    m = report.manifest
    state = "up to date, nothing rebuilt" if report.unchanged else f"embedded {report.embedded}, reused {report.reused}"
    typer.echo(
        f"index {report.path}: {m.documents} documents, {m.units} units, {m.chunks} chunks "
        f"({m.dense_index}, {m.model_id}, dim {m.dimension}); {state}; {time.perf_counter() - started:.1f} s"
    )
    if (backend or settings.backend) == BackendChoice.milvus:
        export_to_milvus(settings, target, only_if_changed=True)


class ModeChoice(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


@app.command()
def search(
    question: Annotated[str | None, typer.Argument(help="the question (omit with --batch)")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="number of hits")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    batch: Annotated[Path | None, typer.Option("--batch", help="JSONL file of {id, question} lines")] = None,
    doc: DocFilter = None,
    symbol: SymbolFilter = None,
    lang: LangFilter = None,
    session: SessionFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    body: BodyFilter = None,
    mode: Annotated[ModeChoice, typer.Option("--mode", help="hybrid, dense or lexical")] = ModeChoice.hybrid,
    index_dir: IndexDirOption = None,
) -> None:
    """Rank the paragraphs (and sub-units) that best match a question."""
    from index.store import IndexUnavailableError
    from rag.engine import open_retriever
    from rag.retriever import RetrievalMode

    if (question is None) == (batch is None):
        raise _fail("give a question or --batch FILE, not both and not neither")
    if question is not None and not question.strip():
        raise _fail("the question is empty")
    questions = _read_batch(batch) if batch is not None else [("q", question or "")]
    where = _filter(doc, symbol, lang, session, since, until, body)
    settings = Settings()
    try:
        retriever = open_retriever(settings, index_dir=index_dir, with_model=mode is not ModeChoice.lexical)
        results = retriever.search_many([q for _, q in questions], k, mode=RetrievalMode(mode.value), where=where)
    except IndexUnavailableError as error:
        raise _fail(str(error)) from None
    except KeyError as error:
        raise _fail(f"unknown document {error.args[0]!r}") from None
    if as_json or batch is not None:
        for (qid, _), result in zip(questions, results, strict=True):
            record = {"id": qid, "hits": [h.to_record() for h in result.hits]}
            if batch is None:
                record = {"question": result.query, "language": result.language, **record}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    result = results[0]
    for hit in result.hits:
        where = f"para {hit.unit.para}" if hit.unit.para is not None else hit.unit.label or hit.unit.id
        if hit.unit.sub:
            where += f" ({hit.unit.sub})"
        typer.echo(f"{hit.rank:>3}. {hit.score:.3f}  {hit.unit.doc}  {where}: {hit.unit.text[:70].replace(chr(10), ' ')}")


def _read_batch(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise _fail(f"{path}: no such file")
    questions: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            qid, text = str(record["id"]), record["question"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise _fail(f"{path}:{number}: expected a JSON object with 'id' and 'question'") from None
        if not isinstance(text, str) or not text.strip():
            raise _fail(f"{path}:{number}: empty question")
        if qid in seen:
            raise _fail(f"{path}:{number}: duplicate id {qid!r} (first on line {seen[qid]})")
        seen[qid] = number
        questions.append((qid, text))
    if not questions:
        raise _fail(f"{path}: no questions")
    return questions


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port")] = 8000,
    index_dir: IndexDirOption = None,
) -> None:
    """Serve the HTTP API and the web page (builds the index from the seeds if there is none)."""
    import logging

    import uvicorn

    from api.app import SERVE_OPTIONS, StartupError, create_app, prepare_answerer
    from api.security import is_loopback

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings().with_changes({"api.host": host})
    if not is_loopback(host) and not settings.api.key:
        raise _fail(
            f"refusing to serve on {host} without authentication: set RAG_API_KEY to a secret "
            "(clients send it as 'Authorization: Bearer <key>' or 'X-API-Key'), or serve on 127.0.0.1"
        )
    try:
        answerer = prepare_answerer(settings, index_dir=index_dir)
    except StartupError as error:
        raise _fail(str(error)) from None
    typer.echo(f"serving on http://{host}:{port}/ (API docs at /docs)")
    app_ = create_app(settings, answerer=answerer, index_dir=index_dir or settings.resolved_index_dir)
    uvicorn.run(app_, host=host, port=port, **SERVE_OPTIONS)  # type: ignore[arg-type]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question, in Chinese or English")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="hits to consider")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    doc: DocFilter = None,
    symbol: SymbolFilter = None,
    lang: LangFilter = None,
    session: SessionFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    body: BodyFilter = None,
    index_dir: IndexDirOption = None,
) -> None:
    """Answer a question with citations and the quoted paragraph text."""
    from rich.console import Console
    from rich.text import Text

    from index.store import IndexUnavailableError
    from rag.engine import open_retriever
    from rag.generation import make_generator
    from rag.qa import QuestionAnswerer

    if not question.strip():
        raise _fail("the question is empty")
    where = _filter(doc, symbol, lang, session, since, until, body)
    settings = Settings()
    try:
        answerer = QuestionAnswerer(open_retriever(settings, index_dir=index_dir), settings.answer_params, make_generator(settings.generator_config))
        result = answerer.ask(question, k=k, where=where)
    except IndexUnavailableError as error:
        raise _fail(str(error)) from None
    except KeyError as error:
        raise _fail(f"unknown document {error.args[0]!r}") from None
    answer = result.answer
    if as_json:
        record = {
            "answer": answer.answer,
            "segments": [s.to_record() for s in answer.segments],
            "kind": answer.kind.value,
            "language": answer.language,
            "refused": answer.refused,
            "confidence": answer.confidence,
            "citations": [c.to_record() for c in answer.citations],
            "see_also": [c.to_record() for c in answer.see_also],
            "notes": list(answer.notes),
            "timings_ms": result.timings_ms,
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    console = Console(highlight=False)
    console.print(Text(answer.answer, style="bold yellow" if answer.refused else "bold"))
    shown = answer.citations or answer.see_also
    if answer.see_also:
        console.print(Text("\nClosest paragraphs:" if answer.language == "en" else "\n最接近的段落：", style="dim"))
    for citation in shown:
        console.print(Text(f"\n[{citation.reference}] " + " › ".join(citation.section), style="cyan"))
        text = Text(citation.text)
        for start, end in citation.spans:
            text.stylize("bold green", start, end)
        console.print(text)
        for version in citation.versions:
            if version.id != citation.id:
                console.print(Text(f"[{version.language}] {version.reference}", style="dim cyan"))
                text = Text(version.text)
                for start, end in version.spans:
                    text.stylize("green", start, end)
                console.print(text)


from rag.cli_eval import register as _register_eval  # noqa: E402 - eval and the library commands live in their own modules
from rag.cli_library import register as _register_library  # noqa: E402

_register_eval(app)
_register_library(app)

if __name__ == "__main__":
    app()
