"""Performance benchmark: the product against a standard LangChain pipeline, side by side.

Same model folder (the converted e5-small), same paragraphs, same questions, same chunk size and
overlap; each side runs in its own process (its own peak memory), the baseline in its own
virtual environment ``bench/.venv-langchain`` that this script creates (langchain-community,
langchain-huggingface, faiss-cpu; torch and sentence-transformers are reused from the product's
environment through a .pth file, so both sides run the same versions). Measured:

- seed: build time and peak memory, search latency p50/p95/p99 in process (medians over
  ``--runs`` runs after warm-up; the product's query-vector cache off), /ask latency, recall@1/5;
- XQuAD zh (240 paragraphs): build throughput and peak memory, both sides;
- a library of ``--library`` synthetic documents (XQuAD zh/en and CMRC paragraphs, rotated
  sentences for the repeats): the product's build throughput and peak memory;
- HTTP (``--http``): ``rag serve`` on loopback (query cache off, ``--serve-threads`` encoder
  threads, concurrent questions batched), POST /ask p50/p95/p99 one client, and ``hey`` at
  concurrency 1/8/32 (``--hey-seconds`` each; 60 gives the issue's three 60 s runs), with the
  server's memory after each run and its CPU time per request (a figure that stays meaningful
  on a shared machine).

The encoder backend and threads are the configured ones (``RAG_ENCODER_BACKEND``,
``RAG_ENCODER_THREADS``), for the in-process side too. Writes bench/results/compare.json and
compare.md. Usage:
``RAG_HOME=/tmp/x RAG_ENCODER_BACKEND=onnx-int8 .venv/bin/python bench/compare.py [--runs 5] [--library 1200] [--http] [--hey-seconds 60]``;
``--seed-only`` skips the XQuAD and library builds (latency, recall and HTTP only);
``--smoke`` runs tiny sizes without the baseline (what CI runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BASELINE_VENV = BENCH / ".venv-langchain"
BASELINE_PACKAGES = ["langchain-community>=0.3,<1", "langchain-huggingface>=0.1,<2", "faiss-cpu>=1.8,<2"]


def ensure_baseline_venv() -> Path:
    """Create the baseline's environment once; the product's site-packages are visible behind it."""
    python = BASELINE_VENV / "bin" / "python"
    stamp = BASELINE_VENV / ".installed"
    if stamp.exists():
        return python
    if not (BASELINE_VENV / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BASELINE_VENV)], check=True)
    import site

    site_dir = next(Path(p) for p in site.getsitepackages() if p.endswith("site-packages"))
    target = next((BASELINE_VENV / "lib").glob("python3*/site-packages"))
    (target / "_product_venv.pth").write_text(str(site_dir) + "\n", encoding="utf-8")
    subprocess.run([str(BASELINE_VENV / "bin" / "pip"), "install", "-q", *BASELINE_PACKAGES], check=True)
    stamp.touch()
    return python


def run_side(python: str | Path, script: str, task: dict, env: dict[str, str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(task, handle, ensure_ascii=False)
    try:
        done = subprocess.run(
            [str(python), str(BENCH / script), handle.name], capture_output=True, text=True, env=env, cwd=ROOT, check=False
        )
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed_material(settings) -> tuple[list[dict], list[dict]]:
    from rag.engine import load_seed_corpus

    corpus = load_seed_corpus(settings)
    paragraphs = [
        {"para": u.para, "text": u.text} for d in corpus.documents for u in d.units if u.parent is None and u.para is not None
    ]
    questions = [
        {"question": q["question"], "gold": q["gold"]}
        for q in map(json.loads, (ROOT / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    return paragraphs, questions


def squad_paragraphs(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [p["context"] for article in data for p in article["paragraphs"]]


def write_corpus(texts: list[str], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"_id": f"d{i:06d}", "title": "", "text": text}, ensure_ascii=False) + "\n")
    return path


def library_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` paragraphs from XQuAD zh/en and CMRC; past the real ones, sentence-rotated copies."""
    pool = squad_paragraphs(ROOT / "eval/data/xquad/xquad.zh.json") + squad_paragraphs(ROOT / "eval/data/xquad/xquad.en.json")
    pool += squad_paragraphs(ROOT / "eval/data/cmrc2018/cmrc2018_trial.json")
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        text = pool[i % len(pool)]
        if i >= len(pool):
            parts = [s for s in re.split(r"(?<=[。！？.!?])\s*", text) if s]
            shift = 1 + rng.randrange(max(1, len(parts)))
            text = "".join(parts[shift % len(parts) :] + parts[: shift % len(parts)]) if len(parts) > 1 else text[::-1]
        texts.append(text)
    return texts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, server: subprocess.Popen | None = None, seconds: float = 300, poll: float = 0.5) -> None:
    """Return once ``base``/health answers 200; raise if ``server`` exits first or time runs out."""
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    raise RuntimeError(f"{base}/health did not answer within {seconds:.0f} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_pass(client, texts: list[str]) -> list[float]:
    """Milliseconds of each POST /ask, one question at a time (``client``: an httpx.Client on the service)."""
    latencies = []
    for text in texts:
        t0 = time.perf_counter()
        client.post("/ask", json={"question": text}).raise_for_status()
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def http_bench(env: dict[str, str], index_dir: Path, questions: list[dict], runs: int, hey_seconds: int, threads: int) -> dict:
    import httpx

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from rag.cli import app; app()", "serve", "--port", str(port), "--index-dir", str(index_dir)],
        env={**env, "RAG_QUERY_CACHE_SIZE": "0", "RAG_ENCODER_THREADS": str(threads)}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    out: dict[str, object] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server)
        with httpx.Client(base_url=base, timeout=60) as client:
            for q in questions[:10]:
                client.post("/ask", json={"question": q["question"]}).raise_for_status()
            all_runs = [sorted(http_pass(client, [q["question"] for q in questions])) for _ in range(runs)]
        out["ask_http_p50_ms"] = round(statistics.median(statistics.median(r) for r in all_runs), 2)
        out["ask_http_p95_ms"] = round(statistics.median(r[int(0.95 * len(r))] for r in all_runs), 2)
        out["ask_http_p99_ms"] = round(statistics.median(r[min(len(r) - 1, int(0.99 * len(r)))] for r in all_runs), 2)
        out["rss_mb_after_single_client"] = rss_mb(server.pid)
        hey = shutil.which("hey")
        if hey:
            body = json.dumps({"question": questions[0]["question"]}, ensure_ascii=False)
            load = []
            for concurrency in (1, 8, 32):
                cpu_before = cpu_s(server.pid)
                done = subprocess.run(
                    [hey, "-z", f"{hey_seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json", "-d", body,
                     "-o", "csv", base + "/ask"], capture_output=True, text=True, check=False,
                )
                rows = [line.split(",") for line in done.stdout.splitlines()[1:] if line]
                cpu_used = cpu_s(server.pid) - cpu_before
                latencies = sorted(float(r[0]) * 1000 for r in rows)
                ok = sum(1 for r in rows if r[6] == "200") if rows and len(rows[0]) > 6 else len(rows)

                def pct(q: float, lat: list[float] = latencies) -> float | None:
                    return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

                load.append({
                    "concurrency": concurrency, "requests": len(rows), "ok": ok,
                    "req_per_s": round(len(rows) / hey_seconds, 1),
                    "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
                    "server_cpu_ms_per_request": round(cpu_used * 1000 / len(rows), 2) if rows else None,
                    "server_rss_mb": rss_mb(server.pid),
                    "load_average": round(os.getloadavg()[0], 2),
                })
                print(f"  hey c={concurrency}: {load[-1]}", flush=True)
            out["load"] = load
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--library", type=int, default=1200)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--hey-seconds", type=int, default=20)
    parser.add_argument("--serve-threads", type=int, default=1,
                        help="encoder threads of the served process (1: concurrent requests share the cores instead of spinning threads)")
    parser.add_argument("--seed-only", action="store_true", help="seed latency, recall and HTTP only: no XQuAD or library build")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no baseline, no HTTP (CI)")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()

    from rag.config import Settings
    from rag.engine import choose_model, load_embedder_for

    settings = Settings()
    started = time.perf_counter()
    load_embedder_for(choose_model(settings), settings)  # conversion and ONNX export, once, outside the timings
    first_use_s = round(time.perf_counter() - started, 1)
    model_folder = choose_model(settings).location
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    paragraphs, questions = seed_material(settings)
    if args.smoke:
        questions = questions[:12]
    work = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    result: dict[str, object] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        "encoder_backend": settings.encoder.backend, "encoder_threads": settings.encoder.threads,
        "serve_encoder_threads": args.serve_threads, "model_ready_s": first_use_s, "runs": args.runs,
        "build_encoder_mode": settings.build.encoder_mode, "build_token_budget": settings.build.token_budget,
        "pool_sentence_vectors": settings.build.pool_sentence_vectors,
    }
    encoder = {"backend": settings.encoder.backend, "threads": settings.encoder.threads}
    chunking = {"chunk_size": settings.chunk.size, "chunk_overlap": settings.chunk.overlap, "threads": settings.encoder.threads}
    try:
        print("seed: ours", flush=True)
        ours = run_side(sys.executable, "ours_side.py", {"index_dir": str(work / "seed"), "questions": questions, "runs": args.runs, **encoder}, env)
        result["seed_ours"] = ours
        print(f"  {ours}", flush=True)
        if not args.smoke:
            python = ensure_baseline_venv()
            print("seed: langchain", flush=True)
            base = run_side(python, "langchain_side.py", {"model": model_folder, "paragraphs": paragraphs, "questions": questions,
                                                          "runs": args.runs, **chunking}, env)
            result["seed_langchain"] = base
            print(f"  {base}", flush=True)
            result["seed_ratios"] = {
                "search_p50_baseline_over_ours": ratio(base["search_p50_ms"], ours["search_p50_ms"]),
                "search_p95_baseline_over_ours": ratio(base["search_p95_ms"], ours["search_p95_ms"]),
                "ask_p50_baseline_search_over_ours_ask": ratio(base["search_p50_ms"], ours["ask_p50_ms"]),
                "recall_at_1_ours_minus_baseline": round(ours["recall_at_1"] - base["recall_at_1"], 3),
                "recall_at_5_ours_minus_baseline": round(ours["recall_at_5"] - base["recall_at_5"], 3),
            }
        if not args.smoke and not args.seed_only:
            xquad = squad_paragraphs(ROOT / "eval/data/xquad/xquad.zh.json")
            corpus = write_corpus(xquad, work / "xquad_zh.jsonl")
            print("xquad zh build: ours / langchain", flush=True)
            ours_x = run_side(sys.executable, "ours_side.py", {"index_dir": str(work / "xq"), "corpus": str(corpus), **encoder}, env)
            base_x = run_side(python, "langchain_side.py", {"model": model_folder, "paragraphs": [{"para": i, "text": t} for i, t in enumerate(xquad)], **chunking}, env)
            for side in (ours_x, base_x):
                side["paragraphs_per_s"] = round(len(xquad) / side["build_s"], 1)
            result["xquad_zh_build"] = {"paragraphs": len(xquad), "ours": ours_x, "langchain": base_x,
                                        "rate_ours_over_baseline": ratio(ours_x["paragraphs_per_s"], base_x["paragraphs_per_s"])}
            print(f"  {result['xquad_zh_build']}", flush=True)
        if not args.seed_only:
            n_library = 40 if args.smoke else args.library
            corpus = write_corpus(library_texts(n_library), work / "library.jsonl")
            print(f"library of {n_library} documents: ours", flush=True)
            lib = run_side(sys.executable, "ours_side.py", {"index_dir": str(work / "lib"), "corpus": str(corpus), **encoder}, env)
            lib["paragraphs_per_s"] = round(n_library / lib["build_s"], 1)
            result["library_build"] = {"documents": n_library, **lib}
            print(f"  {result['library_build']}", flush=True)
        if args.http and not args.smoke:
            print("HTTP", flush=True)
            result["http"] = http_bench(env, work / "seed", questions, args.runs, args.hey_seconds, args.serve_threads)
            if "seed_langchain" in result:
                result["seed_ratios"]["ask_http_p50_baseline_search_over_ours"] = ratio(
                    result["seed_langchain"]["search_p50_ms"], result["http"]["ask_http_p50_ms"]
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = "compare_smoke" if args.smoke else "compare"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(render(result), encoding="utf-8")
    print(render(result))


def render(r: dict) -> str:
    lines = [f"# Performance: the product against LangChain (FAISS + HuggingFaceEmbeddings), {r['created']}", "",
             f"Machine: {r['machine']}. Encoder: {r['encoder_backend']}, {r.get('encoder_threads')} threads in process, "
             f"{r.get('serve_encoder_threads')} served. Medians of {r['runs']} runs after warm-up.", ""]
    ours, base = r.get("seed_ours"), r.get("seed_langchain")
    if ours:
        lines += ["## Seed (in process, one client)", "", "| | ours | LangChain | baseline/ours |", "|---|---|---|---|"]
        for key in ("search_p50_ms", "search_p95_ms", "search_p99_ms", "build_s", "peak_rss_mb"):
            b = base.get(key) if base else None
            lines.append(f"| {key} | {ours.get(key)} | {b} | {ratio(b, ours.get(key)) if b else ''} |")
        b50 = base.get("search_p50_ms") if base else None
        lines.append(f"| ask_p50_ms / p95 / p99 | {ours['ask_p50_ms']} / {ours['ask_p95_ms']} / {ours['ask_p99_ms']} | — "
                     f"| {ratio(b50, ours['ask_p50_ms']) if b50 else ''} (baseline search p50 / our ask p50) |")
        for key in ("recall_at_1", "recall_at_5"):
            lines.append(f"| {key} | {ours[key]} | {base.get(key) if base else ''} | |")
        lines.append("")
    if "xquad_zh_build" in r:
        x = r["xquad_zh_build"]
        lines += [f"## Build, XQuAD zh ({x['paragraphs']} paragraphs, model load included)", "",
                  f"Build encoder: OpenVINO {r.get('build_encoder_mode', 'static')} ({r.get('build_token_budget', '—')}-token batches), "
                  f"sentence vectors {'pooled from chunks' if r.get('pool_sentence_vectors') else 'embedded on their own'}.", "",
                  "| | seconds | paragraphs/s | peak RSS MB |", "|---|---|---|---|",
                  f"| ours | {x['ours']['build_s']} | {x['ours']['paragraphs_per_s']} | {x['ours']['peak_rss_mb']} |",
                  f"| LangChain | {x['langchain']['build_s']} | {x['langchain']['paragraphs_per_s']} | {x['langchain']['peak_rss_mb']} |",
                  f"| ours/baseline rate | {x['rate_ours_over_baseline']} | | |", ""]
    if "library_build" in r:
        lib = r["library_build"]
        lines += [f"## Library build, {lib['documents']} documents (ours): {lib['build_s']} s, {lib['paragraphs_per_s']} paragraphs/s, "
                  f"{lib['chunks']} chunks, peak RSS {lib['peak_rss_mb']} MB", ""]
    if "http" in r:
        h = r["http"]
        lines += ["## HTTP, `rag serve` on loopback (query cache off)", "",
                  f"POST /ask one client: p50 {h['ask_http_p50_ms']} ms, p95 {h['ask_http_p95_ms']} ms, p99 {h['ask_http_p99_ms']} ms"
                  + (f" (baseline search p50 / this: {r['seed_ratios']['ask_http_p50_baseline_search_over_ours']})."
                     if "ask_http_p50_baseline_search_over_ours" in r.get("seed_ratios", {}) else "."), ""]
        if "load" in h:
            lines += ["| concurrency | req/s | p50 ms | p95 ms | p99 ms | ok / requests | server CPU ms/request | server RSS MB | load avg |",
                      "|---|---|---|---|---|---|---|---|---|"]
            lines += [f"| {x['concurrency']} | {x['req_per_s']} | {x['p50_ms']} | {x.get('p95_ms')} | {x['p99_ms']} | {x['ok']} / {x['requests']} "
                      f"| {x.get('server_cpu_ms_per_request')} | {x['server_rss_mb']} | {x.get('load_average')} |" for x in h["load"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
