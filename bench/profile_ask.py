"""Profile the warm question-answering hot path (search + compose) with pyinstrument.

Loads the configured index and model, warms up, then answers every seed question ``--rounds``
times under the profiler. Writes a text call tree and an HTML flame view to ``bench/results/``
so the hot spots behind the latency figures are on record. Usage:
``RAG_HOME=/tmp/x python bench/profile_ask.py [--rounds 3] [--tag before]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pyinstrument import Profiler

from api.app import prepare_answerer
from rag.config import PROJECT_ROOT, Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tag", default="current")
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results")
    args = parser.parse_args()
    answerer = prepare_answerer(Settings())
    questions = [json.loads(line)["question"] for line in (PROJECT_ROOT / "eval" / "seed_questions.jsonl").open(encoding="utf-8")]
    for question in questions[:20]:
        answerer.ask(question)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.rounds):
        for question in questions:
            answerer.ask(question)
    profiler.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    (args.out / f"profile_ask_{args.tag}.txt").write_text(text, encoding="utf-8")
    if args.html:  # the HTML flame view is tens of MB: written on request, never committed
        (args.out / f"profile_ask_{args.tag}.html").write_text(profiler.output_html(), encoding="utf-8")
    print(text[:6000])


if __name__ == "__main__":
    main()
