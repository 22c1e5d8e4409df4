"""POST /ask latency, warm, one client, against a live uvicorn server on loopback.

Runs the seed questions several times and reports p50/p90 per run and the median p50 across
runs (these machines are noisy). Baseline, measured in the same runs: GET /search (retrieval
alone, k=5), so the ratio shows what composing the answer adds. Usage: .venv/bin/python bench/ask_latency.py [--runs 5]
Writes bench/results/ask_latency.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

from api.app import create_app, prepare_answerer
from rag.config import PROJECT_ROOT, Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "ask_latency.json")
    args = parser.parse_args()

    settings = Settings()
    answerer = prepare_answerer(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, answerer=answerer), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    questions = [json.loads(line)["question"] for line in (PROJECT_ROOT / "eval" / "seed_questions.jsonl").open(encoding="utf-8")]
    runs = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for question in questions[:10]:  # warm-up
            client.post("/ask", json={"question": question}).raise_for_status()
        for _ in range(args.runs):
            latencies, baseline = [], []
            for question in questions:
                started = time.perf_counter()
                client.get("/search", params={"q": question, "k": 5}).raise_for_status()
                baseline.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client.post("/ask", json={"question": question}).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            runs.append({
                "p50_ms": round(statistics.median(latencies), 1),
                "p90_ms": round(latencies[int(0.9 * len(latencies))], 1),
                "search_p50_ms": round(statistics.median(baseline), 1),
            })
            print(
                f"run {len(runs)}: {len(latencies)} requests, /ask p50 {runs[-1]['p50_ms']} ms, p90 {runs[-1]['p90_ms']} ms; "
                f"baseline /search p50 {runs[-1]['search_p50_ms']} ms",
                flush=True,
            )
    server.should_exit = True
    thread.join(timeout=10)
    result = {
        "benchmark": "POST /ask, warm, one client, seed questions",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "requests_per_run": len(questions),
        "runs": runs,
        "median_p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 1),
        "median_p90_ms": round(statistics.median(r["p90_ms"] for r in runs), 1),
        "median_search_p50_ms": round(statistics.median(r["search_p50_ms"] for r in runs), 1),
        "goal_p50_ms": 50,
    }
    result["ask_over_search"] = round(result["median_p50_ms"] / result["median_search_p50_ms"], 2)
    print(
        f"median /ask p50 {result['median_p50_ms']} ms (goal ≤ 50), p90 {result['median_p90_ms']} ms; "
        f"baseline /search p50 {result['median_search_p50_ms']} ms; ratio {result['ask_over_search']}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
