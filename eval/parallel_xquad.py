"""Measure language versions on XQuAD as a parallel library (issue 10).

Builds a library of the 48 XQuAD articles, each one document with a Chinese and an English
version, asks every English question over the Chinese versions only (filter lang=zh), and
counts, among questions whose gold Chinese paragraph is retrieved first, those whose answer
quotes the English version of that same paragraph (same key) beside the Chinese one.

Usage: PYTHONPATH=. .venv/bin/python eval/parallel_xquad.py [--articles N] [--out eval/results/parallel_xquad]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rag.config import Settings
from rag.engine import build_from_documents, load_seed_corpus, open_retriever
from rag.evaluation.parallel import measure_aligned_quotes, write_parallel_library
from rag.evaluation.runner import DEFAULT_XQUAD_DIR
from rag.qa import QuestionAnswerer

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=None, help="only the first N articles (default: all 48)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "parallel_xquad")
    parser.add_argument("--home", type=Path, default=None, help="RAG home for the model and index (default: a temporary folder)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (1 is fastest on a shared, busy machine)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    home = args.home or Path(tempfile.mkdtemp(prefix="parallel-xquad-"))
    library = home / "library"
    questions = write_parallel_library(DEFAULT_XQUAD_DIR, library, range(args.articles) if args.articles else None)
    settings = Settings(_env_file=None, home=home, seeds_dir=library, index_dir=home / "index")
    started = time.perf_counter()
    report = build_from_documents(settings, load_seed_corpus(settings), index_dir=settings.resolved_index_dir, show_progress=True)
    build_s = time.perf_counter() - started
    answerer = QuestionAnswerer(open_retriever(settings), settings.answer_params)
    figures = measure_aligned_quotes(answerer, questions)
    figures.update(
        command="PYTHONPATH=. .venv/bin/python eval/parallel_xquad.py" + (f" --articles {args.articles}" if args.articles else "") + (f" --threads {args.threads}" if args.threads else ""),
        documents=report.manifest.documents, units=report.manifest.units, build_seconds=round(build_s, 1), model=report.manifest.model_id,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = [
        "# XQuAD as a parallel library: English questions over the Chinese versions",
        "",
        f"`{figures['command']}` — {figures['documents']} document versions ({figures['documents'] // 2} documents × zh, en), {figures['units']} units, model {figures['model']}.",
        "",
        "| questions | Chinese paragraph retrieved first | of those: English version of the same paragraph quoted, same key |",
        "|---|---|---|",
        f"| {figures['questions']} | {figures['chinese_first']} ({figures['chinese_first_share']:.1%}) | {figures['aligned_quoted']} ({figures['aligned_quoted_share']:.1%}) |",
        "",
        f"Aligned English version attached to the citation: {figures['aligned_version']} ({figures['aligned_version_share']:.1%}); "
        f"answer text quoting it: {figures['quoted_in_english']}. Build {figures['build_seconds']} s, questions {figures['seconds']} s.",
    ]
    (args.out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
