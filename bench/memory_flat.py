"""Is the service's memory flat under sustained load? Three back-to-back `hey` runs on POST /ask.

Issue 12 asks for "memory flat across three 60 s runs" at concurrency 8. This starts `rag serve`
on a free loopback port over the configured index (query cache off, so every request encodes),
runs Debian's `hey` three times for ``--seconds`` each at ``--concurrency``, cycling the seed
questions across runs, and samples the server's RSS from /proc after each run.
Usage: RAG_HOME=/tmp/x .venv/bin/python bench/memory_flat.py [--seconds 60] [--concurrency 8]
(build the index first: ``rag build``). Writes bench/results/memory_flat.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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




def _hey(url: str, question: str, seconds: int, concurrency: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as body:
        json.dump({"question": question}, body, ensure_ascii=False)
    try:
        out = subprocess.run(
            ["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json", "-D", body.name, url],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(body.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = float(re.search(r"50% in ([\d.]+) secs", out).group(1)) * 1000
    p99 = float(re.search(r"99% in ([\d.]+) secs", out).group(1)) * 1000
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    return {"req_per_s": round(rate, 1), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "status_codes": codes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "memory_flat.json")
    args = parser.parse_args()
    if shutil.which("hey") is None:
        sys.exit("error: hey is not installed (bash scripts/apt-install.sh hey)")
    port = free_port()
    env = {**os.environ, "RAG_QUERY_CACHE_SIZE": "0"}
    rag = Path(sys.executable).with_name("rag")
    server = subprocess.Popen([str(rag), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/ask"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            sys.exit("error: rag serve did not answer /health within 120 s")
        for question in QUESTIONS[:20]:  # warm-up: dictionaries, jieba, the first passes
            httpx.post(url, json={"question": question}, timeout=30)
        rows = [{"run": 0, "rss_mb": rss_mb(server.pid)}]
        for run in range(1, args.runs + 1):
            figures = _hey(url, QUESTIONS[run * 7 % len(QUESTIONS)], args.seconds, args.concurrency)
            rows.append({"run": run, **figures, "rss_mb": rss_mb(server.pid)})
            print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = os.getloadavg()
    result = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"bench/memory_flat.py --seconds {args.seconds} --concurrency {args.concurrency} --runs {args.runs}",
        "encoder_backend": os.environ.get("RAG_ENCODER_BACKEND", "default"),
        "load_average_at_end": [round(x, 2) for x in load],
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [
        f"# Server memory across {args.runs} runs of POST /ask, concurrency {args.concurrency}, {args.seconds} s each",
        "",
        f"`{result['command']}` ({result['created']}, encoder {result['encoder_backend']}, query cache off; "
        f"load average at the end {load[0]:.2f}). RSS of the `rag serve` process after warm-up (run 0) and after each run.",
        "",
        "| run | req/s | p50 ms | p99 ms | status codes | server RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['run']} | {row.get('req_per_s', '—')} | {row.get('p50_ms', '—')} | {row.get('p99_ms', '—')} | "
                     f"{row.get('status_codes', '—')} | {row['rss_mb']} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
