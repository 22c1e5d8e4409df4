"""60 s of load at concurrency 32 against `rag serve` on loopback: zero errors, flat memory.

Starts the real service as a child process (`rag serve`, one uvicorn worker, on a free loopback
port, over an index of the seed built into a temporary home), then 32 clients send a mix of
POST /ask, GET /search, GET /documents and GET /health for the given duration. The server's RSS is
sampled every second from /proc. Baseline, side by side: the same mix with 1 client for 10 s.
Usage: PYTHONPATH=. .venv/bin/python bench/load_run.py [--seconds 60] [--concurrency 32]
Writes bench/results/load_run.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from compare import free_port, rss_mb  # bench/ is on the path when a bench script runs

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "seed_questions.jsonl").open(encoding="utf-8")]




def _request(client: httpx.AsyncClient, rng: random.Random):
    roll, question = rng.random(), rng.choice(QUESTIONS)
    if roll < 0.3:
        return client.post("/ask", json={"question": question})
    if roll < 0.8:
        return client.get("/search", params={"q": question, "k": 5})
    return client.get("/documents" if roll < 0.9 else "/health")


async def _load(url: str, seconds: float, concurrency: int, pid: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    rss: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await _request(client, rng)
                    if response.status_code != 200:
                        errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
                except httpx.HTTPError as error:
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)

    async def sampler() -> None:
        while time.monotonic() < deadline:
            rss.append(rss_mb(pid))
            await asyncio.sleep(1)

    await asyncio.gather(sampler(), *(worker(n) for n in range(concurrency)))
    latencies.sort()
    return {
        "seconds": seconds, "concurrency": concurrency, "requests": len(latencies), "errors": errors,
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(latencies[int(0.95 * len(latencies))], 1),
        "rss_mb_first": rss[0] if rss else None, "rss_mb_last": rss[-1] if rss else None, "rss_mb_max": max(rss) if rss else None,
        "rss_mb_samples": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load_run.json")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rag-load-"))
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(home), "RAG_SEEDS_DIR": str(ROOT / "seeds"), "PYTHONPATH": str(ROOT)}
    env.pop("RAG_INDEX_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-c", "from rag.cli import app; app()", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # the first start builds the seed index
        while True:
            assert server.poll() is None, f"rag serve exited: {server.stderr.read() if server.stderr else ''}"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "rag serve did not come up"
            time.sleep(1)
        baseline = asyncio.run(_load(url, 10, 1, server.pid))
        print(f"baseline, 1 client, 10 s: {baseline['requests']} requests, errors {baseline['errors']}, p50 {baseline['p50_ms']} ms", flush=True)
        loaded = asyncio.run(_load(url, args.seconds, args.concurrency, server.pid))
    finally:
        server.terminate()
        server.wait(30)
    growth = loaded["rss_mb_last"] - loaded["rss_mb_first"]
    result = {
        "benchmark": f"mixed /ask /search /documents /health, {args.concurrency} clients, {args.seconds:.0f} s, rag serve on loopback",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "baseline_1_client": baseline,
        "load": loaded,
        "rss_growth_mb": round(growth, 1),
        "throughput_ratio_vs_1_client": round(loaded["requests_per_s"] / baseline["requests_per_s"], 2),
    }
    print(
        f"load: {loaded['requests']} requests in {args.seconds:.0f} s at concurrency {args.concurrency}, errors {loaded['errors'] or 'none'}, "
        f"p50 {loaded['p50_ms']} ms, p95 {loaded['p95_ms']} ms; RSS {loaded['rss_mb_first']} → {loaded['rss_mb_last']} MB "
        f"(max {loaded['rss_mb_max']}); throughput ×{result['throughput_ratio_vs_1_client']} vs 1 client"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    md = [
        f"# Load run ({result['created']})", "", result["benchmark"], "",
        "| run | requests | req/s | errors | p50 ms | p95 ms | RSS first → last (max) MB |", "|---|---|---|---|---|---|---|",
    ]
    for name, run in (("1 client, 10 s (baseline)", baseline), (f"{args.concurrency} clients, {args.seconds:.0f} s", loaded)):
        md.append(
            f"| {name} | {run['requests']} | {run['requests_per_s']} | {run['errors'] or 0} | {run['p50_ms']} | {run['p95_ms']} | "
            f"{run['rss_mb_first']} → {run['rss_mb_last']} ({run['rss_mb_max']}) |"
        )
    args.out.with_suffix(".md").write_text("\n".join(md) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
