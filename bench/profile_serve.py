"""Profile the running service: `rag serve` on loopback under `hey`, sampled by py-spy.

Starts the real service (one uvicorn worker, query cache off, ``--threads`` encoder threads,
the configured index under ``RAG_HOME``), warms it up, then for each concurrency runs ``hey``
POST /ask with one seed question for ``--seconds`` while ``py-spy record`` samples the server
(idle threads left out). Writes one flame graph per concurrency
(``bench/results/flame_serve_c<N>[-tag].svg``) and prints the server's CPU time per request
(user + system from /proc, the figure a shared machine distorts least) with hey's req/s and p50.
Usage: ``RAG_HOME=/tmp/x PYTHONPATH=. .venv/bin/python bench/profile_serve.py [--seconds 20] [--concurrency 1 8] [--tag after] [--replay]``
(``--replay``: the encoder taken out, as in bench/serve_overhead.py, to see the service's own cost)
(``--no-profile``: the same load without py-spy, for CPU/request figures free of the sampler).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from compare import cpu_s, free_port, rss_mb, wait_healthy  # bench/ is on the path when a bench script runs

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "seed_questions.jsonl").open(encoding="utf-8")]


def start_server(threads: int, replay: bool = False) -> tuple[subprocess.Popen, str]:
    """`rag serve` on a free loopback port (``replay``: bench/serve_overhead.py's server, the same
    app with the questions' vectors replayed); returns once /health answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_QUERY_CACHE_SIZE": "0", "RAG_ENCODER_THREADS": str(threads)}
    command = [str(ROOT / "bench" / "serve_overhead.py"), "--child", str(port), "--rounds", "1"] if replay else [
        "-c", "from rag.cli import app; app()", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, *command],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, server)
    with httpx.Client(base_url=base, timeout=60) as client:
        for q in QUESTIONS[:20]:
            client.post("/ask", json={"question": q}).raise_for_status()
    return server, base


def hey_run(base: str, concurrency: int, seconds: int, pid: int, question: str) -> dict:
    """``hey`` POST /ask for ``seconds``; req/s, p50/p99 and the server's CPU ms per request."""
    body = json.dumps({"question": question}, ensure_ascii=False)
    before = cpu_s(pid)
    done = subprocess.run(
        ["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json", "-d", body, "-o", "csv", base + "/ask"],
        capture_output=True, text=True, check=True,
    )
    used = cpu_s(pid) - before
    rows = [line.split(",") for line in done.stdout.splitlines()[1:] if line]
    latencies = sorted(float(r[0]) * 1000 for r in rows)
    ok = sum(1 for r in rows if r[6] == "200")
    return {
        "concurrency": concurrency, "requests": len(rows), "ok": ok, "req_per_s": round(len(rows) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 2), "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
        "server_cpu_ms_per_request": round(used * 1000 / max(1, len(rows)), 2), "rss_mb": rss_mb(pid),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=1, help="encoder threads of the served process")
    parser.add_argument("--tag", default="")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--replay", action="store_true", help="the questions' vectors replayed: the service without the encoder")
    parser.add_argument("--raw", action="store_true", help="collapsed stacks (.txt) instead of an SVG, for bench/flame_summary.py")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if not shutil.which("hey"):
        sys.exit("hey is not installed (Debian: apt-get install hey)")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    server, base = start_server(args.threads, args.replay)
    try:
        for concurrency in args.concurrency:
            spy = None
            if not args.no_profile:
                svg = args.out / f"flame_serve_c{concurrency}{'-' + args.tag if args.tag else ''}.{'txt' if args.raw else 'svg'}"
                spy = subprocess.Popen(
                    [py_spy, "record", "--pid", str(server.pid), "--rate", str(args.rate), "--duration", str(args.seconds),
                     "--format", "raw" if args.raw else "flamegraph", "--output", str(svg), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
                time.sleep(0.5)
            figures = hey_run(base, concurrency, args.seconds, server.pid, QUESTIONS[0])
            if spy is not None:
                spy.wait(timeout=60)
            print(json.dumps(figures), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
