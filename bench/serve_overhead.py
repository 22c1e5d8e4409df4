"""What serving adds to an answer: the same questions in process and over HTTP, encoder replayed.

The encoder is taken out (every seed question is encoded once and its vector replayed, as in
bench/hot_path.py; ``--encoder`` keeps the real one, one thread as served), so the figures are
the query path's own and the service's own:

- ``inproc``: ``QuestionAnswerer.ask`` called directly (wall and CPU, measured as each server
  starts, so not interleaved: bench/ab_query_path.py compares the query path);
- ``http``: ``rag serve``'s app (the same ``create_app`` and uvicorn settings, the replayed
  encoder behind the service's BatchingEncoder) in a child process; POST /ask one client over a
  kept-alive connection (wall, and the server's CPU from /proc), then ``hey`` at concurrency 1
  and 8 with one question (req/s, p50/p99, server CPU per request).

One server per checkout (this one, each ``--compare DIR``: another copy of the repository, e.g.
``git archive main | tar -x -C DIR``; ``--also-h11``: this one on asyncio + h11) runs all along;
each of ``--runs`` rounds measures them in turn (order alternating), so a shared machine's load
hits all alike; medians and ratios.
Usage: ``RAG_HOME=/tmp/x PYTHONPATH=. .venv/bin/python bench/serve_overhead.py [--runs 3]
[--compare /tmp/base] [--hey-seconds 5] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from compare import cpu_s, free_port, wait_healthy  # bench/ is on the path when a bench script runs

ROOT = Path(__file__).resolve().parents[1]


def _questions(root: Path) -> list[str]:
    path = root / "eval" / "seed_questions.jsonl"
    return [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


# ---- the child: load, replay, measure in process, then serve ---------------------------------


def child(port: int, rounds: int, replay: bool = True) -> None:
    """Runs inside the checkout under test (its code on sys.path first)."""
    import uvicorn

    from api.app import create_app, prepare_answerer
    from rag.config import Settings

    settings = Settings().with_changes({"query.cache_size": 0})
    answerer = prepare_answerer(settings)
    questions = _questions(Path.cwd())
    encoder = answerer.retriever.encoder
    inner = getattr(encoder, "inner", encoder)
    vectors = {}
    for start in range(0, len(questions), 32):
        batch = questions[start : start + 32]
        vectors.update(zip(batch, inner.encode_queries(batch), strict=True))

    class Replay:
        def encode_queries(self, texts, batch_size: int = 32):
            import numpy as np

            return np.stack([vectors[t] if t in vectors else inner.encode_queries([t])[0] for t in texts])

        def __getattr__(self, name):
            return getattr(inner, name)

    if not replay:
        pass
    elif hasattr(encoder, "inner"):
        encoder.inner = Replay()
    else:
        answerer.retriever.encoder = Replay()
    for q in questions:  # warm
        answerer.ask(q)
    wall, cpu = [], []
    for _ in range(rounds):
        for q in questions:
            c0, t0 = time.process_time(), time.perf_counter()
            answerer.ask(q)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({"inproc_wall_p50_ms": statistics.median(wall), "inproc_cpu_mean_ms": statistics.fmean(cpu)}), flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the parent reads one line; uvicorn's access log must not fill the pipe
    serve_settings = settings.with_changes({"api.host": "127.0.0.1"})
    app = create_app(serve_settings, answerer=answerer, index_dir=settings.resolved_index_dir)
    uvicorn.run(app, host="127.0.0.1", port=port, **_serve_options())


def _serve_options() -> dict:
    """The checkout's own uvicorn options for rag serve; a checkout that declares none served
    with uvicorn's defaults when neither uvloop nor httptools was installed (``SERVE_OVERHEAD_H11=1``
    forces those)."""
    if os.environ.get("SERVE_OVERHEAD_H11") == "1":
        return {"log_level": "info", "server_header": False, "loop": "asyncio", "http": "h11"}
    try:
        from api.app import SERVE_OPTIONS  # type: ignore[attr-defined]
    except ImportError:
        return {"log_level": "info", "server_header": False, "loop": "asyncio", "http": "h11"}
    return dict(SERVE_OPTIONS)


# ---- the parent: start one server per checkout, then alternate between them ---------------------


def start(checkout: Path, rounds: int, h11: bool = False, encoder: bool = False) -> tuple[subprocess.Popen, str, dict]:

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(checkout), "RAG_QUERY_CACHE_SIZE": "0", "RAG_ENCODER_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "SERVE_OVERHEAD_H11": "1" if h11 else "0"}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(port), "--rounds", str(rounds), *(["--encoder"] if encoder else [])],
        cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    inproc: dict = json.loads(proc.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc, seconds=120, poll=0.2)
    return proc, base, inproc


def one_pass(proc: subprocess.Popen, base: str, questions: list[str], hey_seconds: int) -> dict:
    """One client over every question, then hey at concurrency 1 and 8 on one question."""
    import httpx

    out: dict = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        client.post("/ask", json={"question": questions[0]}).raise_for_status()
        wall = []
        c0 = cpu_s(proc.pid)
        for q in questions:
            t0 = time.perf_counter()
            client.post("/ask", json={"question": q}).raise_for_status()
            wall.append((time.perf_counter() - t0) * 1000)
        out["http_wall_p50_ms"] = statistics.median(wall)
        out["http_server_cpu_mean_ms"] = (cpu_s(proc.pid) - c0) * 1000 / len(wall)
    if shutil.which("hey") and hey_seconds > 0:
        body = json.dumps({"question": questions[0]}, ensure_ascii=False)
        for concurrency in (1, 8):
            c0 = cpu_s(proc.pid)
            done = subprocess.run(
                ["hey", "-z", f"{hey_seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json", "-d", body, "-o", "csv", base + "/ask"],
                capture_output=True, text=True, check=True,
            )
            rows = [line.split(",") for line in done.stdout.splitlines()[1:] if line]
            lat = sorted(float(r[0]) * 1000 for r in rows)
            out[f"hey_c{concurrency}"] = {
                "req_per_s": len(rows) / hey_seconds, "p50_ms": lat[len(lat) // 2], "p99_ms": lat[int(0.99 * (len(lat) - 1))],
                "server_cpu_ms": (cpu_s(proc.pid) - c0) * 1000 / max(1, len(rows)), "errors": sum(1 for r in rows if r[6] != "200"),
            }
    return out


def _flat(result: dict) -> dict[str, float]:
    flat = {}
    for key, value in result.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the seed questions per measurement")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds over the checkouts")
    parser.add_argument("--compare", type=Path, action="append", default=[], help="another checkout to run side by side")
    parser.add_argument("--hey-seconds", type=int, default=5)
    parser.add_argument("--encoder", action="store_true", help="the real encoder (one thread), not replayed vectors")
    parser.add_argument("--also-h11", action="store_true", help="also this checkout served on asyncio + h11 (uvicorn without uvloop/httptools)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.child is not None:
        sys.path.insert(0, str(Path.cwd()))
        child(args.child, args.rounds, replay=not args.encoder)
        return
    checkouts: list[Path] = [ROOT, *args.compare]
    servers = {str(c): start(c, args.rounds, encoder=args.encoder) for c in checkouts}
    if args.also_h11:
        h11 = Path(str(ROOT) + " (asyncio+h11)")
        servers[str(h11)] = start(ROOT, args.rounds, h11=True, encoder=args.encoder)
        checkouts.append(h11)
    questions = _questions(ROOT)
    runs: dict[str, list[dict[str, float]]] = {str(c): [] for c in checkouts}
    try:
        for n in range(args.runs):
            for checkout in checkouts if n % 2 == 0 else checkouts[::-1]:
                proc, base, inproc = servers[str(checkout)]
                result = _flat({**inproc, **one_pass(proc, base, questions, args.hey_seconds)})
                runs[str(checkout)].append(result)
                print(f"run {n + 1} {checkout}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items()), flush=True)
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    medians = {c: {k: round(statistics.median(r[k] for r in rs), 2) for k in rs[0]} for c, rs in runs.items()}
    print(f"\nmedians over {args.runs} runs (load {os.getloadavg()[0]:.1f})")
    keys = list(medians[str(ROOT)])
    print("| figure | " + " | ".join(Path(c).name for c in medians) + "".join(f" | {Path(c).name} / this" for c in list(medians)[1:]) + " |")
    for key in keys:
        values = [medians[c].get(key) for c in medians]
        ratio = "".join(f" | {v / values[0]:.2f}" if v and values[0] else " | " for v in values[1:])
        print(f"| {key} | " + " | ".join(str(v) for v in values) + ratio + " |")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": medians, "load": os.getloadavg()[0]}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
