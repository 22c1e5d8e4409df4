"""The product against the LangChain baseline with their passes interleaved, so drift biases the ratio less.

Why: on this shared 2-core VM the same query encoder pass takes 5 ms in one minute and 16 ms a
few minutes later (bench/results/encoder_drift.md). bench/compare.py runs each side for several
minutes in turn, so a ratio there can be the machine's mood. Here both sides (and ``rag serve``)
are built once and kept warm; then every round runs one pass of the seed's questions on each, one
after the other (the order rotates from round to round): our in-process search, LangChain's
``similarity_search``, our in-process ask, and POST /ask over HTTP (one client, query cache off).
Each round gives a p50 per pass and the baseline/ours ratios of that round; the figures are
medians over rounds, with the range of the per-round ratios (drift inside a round remains).

Same model folder, paragraphs, questions and chunking as bench/compare.py (whose side scripts run
here in their worker mode). Usage::

    RAG_HOME=/tmp/x .venv/bin/python bench/interleaved.py [--rounds 9]

Writes bench/results/interleaved.json and .md (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

from compare import ensure_baseline_venv, free_port, http_pass, seed_material, wait_healthy  # noqa: E402

BUILD_TIMEOUT_S = 1800  # a side's build, model load included
PASS_TIMEOUT_S = 600  # one pass over the questions


class Worker:
    """A side script in worker mode: built and warm, one pass per command. Its stderr goes to a file beside
    its task, whose tail is in the error when it dies."""

    def __init__(self, python: str | Path, script: str, task: dict, env: dict[str, str], task_file: Path) -> None:
        task_file.write_text(json.dumps({**task, "worker": True}, ensure_ascii=False), encoding="utf-8")
        self.log = task_file.with_suffix(".stderr")
        with self.log.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [str(python), str(BENCH / script), str(task_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, text=True, env=env, cwd=ROOT,
            )
        self._lines: queue.Queue[str] = queue.Queue()  # a reader thread, so that a hung worker times out
        threading.Thread(target=self._read, daemon=True).start()
        self.info = self._line(timeout=BUILD_TIMEOUT_S)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the worker exited

    def _line(self, timeout: float = PASS_TIMEOUT_S) -> dict:
        """The worker's next result line (anything else a library prints to stdout is skipped)."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise RuntimeError(f"a bench worker sent nothing for {timeout:.0f} s") from None
            if not line:
                tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"a bench worker exited (code {self.process.wait()}):\n{tail}")
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    continue

    def run(self, command: str) -> list[float]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()["ms"]

    def close(self) -> None:
        """End the worker: its stdin closed, then killed if it has not exited within a minute."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    import httpx

    from rag.config import Settings
    from rag.engine import choose_model, load_embedder_for

    settings = Settings()
    load_embedder_for(choose_model(settings), settings)  # conversion and exports, once, outside the timings
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false", "RAG_QUERY_CACHE_SIZE": "0"}
    paragraphs, questions = seed_material(settings)
    texts = [q["question"] for q in questions]
    answerable = sum(1 for q in questions if q["gold"])
    encoder = {"backend": settings.encoder.backend, "threads": settings.encoder.threads}
    chunking = {"chunk_size": settings.chunk.size, "chunk_overlap": settings.chunk.overlap, "threads": settings.encoder.threads}
    order = ["ours_search", "langchain_search", "ours_ask", "http_ask"]
    rounds: list[dict[str, float]] = []
    with ExitStack() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="rag-interleaved-"))
        cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        ours = Worker(sys.executable, "ours_side.py", {"index_dir": str(work / "seed"), "questions": questions, **encoder}, env, work / "ours.json")
        cleanup.callback(ours.close)
        base = Worker(ensure_baseline_venv(), "langchain_side.py", {"model": str(choose_model(settings).location), "paragraphs": paragraphs,
                                                                    "questions": questions, **chunking}, env, work / "base.json")
        cleanup.callback(base.close)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from rag.cli import app; app()", "serve", "--port", str(port), "--index-dir", str(work / "seed")],
            env={**env, "RAG_ENCODER_THREADS": "1"}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        cleanup.callback(_stop, server)
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, server)
        client = cleanup.enter_context(httpx.Client(base_url=base_url, timeout=60))
        http_pass(client, texts[:20])  # warm-up
        run = {"ours_search": lambda: ours.run("search"), "langchain_search": lambda: base.run("search"),
               "ours_ask": lambda: ours.run("ask"), "http_ask": lambda: http_pass(client, texts)}
        for number in range(args.rounds):
            turn = order[number % len(order):] + order[: number % len(order)]  # each pass goes first in turn
            p50 = {name: round(statistics.median(run[name]()), 2) for name in turn}
            p50["load"] = round(os.getloadavg()[0], 2)
            rounds.append(p50)
            print(f"round {number + 1} ({' > '.join(turn)}): {p50}", flush=True)
    result = summarise(rounds, ours.info, base.info, len(texts), answerable)
    result.update(created=datetime.now(UTC).isoformat(timespec="seconds"), encoder_backend=settings.encoder.backend,
                  machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                  command="bench/interleaved.py " + " ".join(sys.argv[1:]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "interleaved.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / "interleaved.md").write_text(render(result), encoding="utf-8")
    print(render(result))


def summarise(rounds: list[dict[str, float]], ours: dict, base: dict, questions: int, answerable: int) -> dict:
    """Medians over rounds of each pass's p50, and of each round's baseline/ours ratios (with their range)."""
    median = {name: round(statistics.median(r[name] for r in rounds), 2) for name in ("ours_search", "langchain_search", "ours_ask", "http_ask")}
    per_round = {f"langchain_search_over_{name}": [r["langchain_search"] / r[name] for r in rounds] for name in ("ours_search", "ours_ask", "http_ask")}
    return {"questions": questions, "answerable": answerable, "rounds": rounds, "median_p50_ms": median,
            "median_ratio": {k: round(statistics.median(v), 2) for k, v in per_round.items()},
            "ratio_range": {k: [round(min(v), 2), round(max(v), 2)] for k, v in per_round.items()},
            "recall": {"ours": [ours["recall_at_1"], ours["recall_at_5"]], "langchain": [base["recall_at_1"], base["recall_at_5"]]}}


def render(r: dict) -> str:
    m, q, span = r["median_p50_ms"], r["median_ratio"], r["ratio_range"]
    lines = [
        f"# The product against LangChain, passes interleaved, {r['created']}",
        "",
        f"Machine: {r['machine']}. Encoder: {r['encoder_backend']}; query cache off; {r['questions']} seed questions per pass;",
        f"{len(r['rounds'])} rounds, each one pass per column in turn, the first pass rotating. Figures: medians over rounds of each",
        "pass's p50, and of each round's own baseline/ours ratio, with its range over rounds (drift inside a round remains).",
        "",
        "| | p50 ms (median of rounds) | LangChain search p50 / this: median of per-round ratios (range) |",
        "|---|---|---|",
        f"| LangChain `similarity_search`, in process | {m['langchain_search']} | 1 |",
        *[f"| {label} | {m[name]} | {'**' if name == 'ours_search' else ''}{q['langchain_search_over_' + name]}"
          f"{'**' if name == 'ours_search' else ''} ({span['langchain_search_over_' + name][0]}–{span['langchain_search_over_' + name][1]}) |"
          for label, name in (("ours, search in process", "ours_search"), ("ours, ask in process (search + cited answer)", "ours_ask"),
                              ("ours, POST /ask over HTTP, one client", "http_ask"))],
        "",
        f"Recall@1 / @5 ({r['answerable']} answerable): ours {r['recall']['ours'][0]} / {r['recall']['ours'][1]}, "
        f"LangChain {r['recall']['langchain'][0]} / {r['recall']['langchain'][1]}.",
        "",
        "| round | ours search | LangChain search | ours ask | HTTP ask | load |",
        "|---|---|---|---|---|---|",
        *[f"| {i} | {x['ours_search']} | {x['langchain_search']} | {x['ours_ask']} | {x['http_ask']} | {x['load']} |"
          for i, x in enumerate(r["rounds"], start=1)],
        "",
        f"Command: `{r['command']}`",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
