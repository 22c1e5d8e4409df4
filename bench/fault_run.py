"""Every fault of issue 11, tried on the real command line with the real model and the seed.

Builds an index of the seed with `rag build`, then for each fault copies it, breaks it, and runs
the real commands (`rag search`, `rag serve`, `rag build`), recording the exit code, the first
line of the error, whether any file of the index changed, and whether the index still answers.
A full disk is a real tmpfs (needs root). Usage: PYTHONPATH=. .venv/bin/python bench/fault_run.py
Writes bench/results/faults.json and faults.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    "manifest.json", "documents.json", "store.sqlite",
    "vectors.npy", "sentence_vectors.npy", "sentence_scales.npy", "dense.faiss", "lexical/lexical.json",
]


def rag(*args: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from rag.cli import app; app()", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.rglob("*")) if p.is_file()}


def live_build(index: Path) -> Path:
    return index / "builds" / (index / "CURRENT").read_text().strip()


def first_error(run: subprocess.CompletedProcess[str]) -> str:
    """The command's own error line (not library warnings or progress bars)."""
    lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith(("error:", "Traceback", "Aborted"))]
    return (ours or [""])[0][:240]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rag-faults-"))
    env = {**os.environ, "RAG_HOME": str(work / "home"), "RAG_SEEDS_DIR": str(ROOT / "seeds"), "PYTHONPATH": str(ROOT)}
    for name in ("RAG_INDEX_DIR", "RAG_API_KEY"):
        env.pop(name, None)
    good = work / "good"
    built = rag("build", "--index-dir", str(good), env=env)
    assert built.returncode == 0, built.stderr
    rows: list[dict[str, object]] = []

    def record(fault: str, command: str, run: subprocess.CompletedProcess[str], lost: bool, answers_after: bool | None) -> None:
        rows.append({
            "fault": fault, "command": command, "exit": run.returncode, "message": first_error(run),
            "traceback": "Traceback" in run.stderr, "data_lost": lost, "still_answers": answers_after,
        })
        print(f"{fault:38} {command:28} exit {run.returncode}  lost={lost}  {first_error(run)[:110]}", flush=True)

    for name in FILES:
        for damage in ("empty", "truncated", "missing"):
            index = work / "case"
            shutil.rmtree(index, ignore_errors=True)
            shutil.copytree(good, index)
            path = live_build(index) / name
            if damage == "empty":
                path.write_bytes(b"")
            elif damage == "truncated":
                path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])
            else:
                path.unlink()
            before = snapshot(index)
            search = rag("search", "绿色气候基金", "--mode", "lexical", "--index-dir", str(index), env=env)
            record(f"{damage} {name}", "rag search", search, snapshot(index) != before, None)
            serve = rag("serve", "--port", str(free_port()), "--index-dir", str(index), env=env, timeout=120)
            record(f"{damage} {name}", "rag serve", serve, snapshot(index) != before, None)

    # --index-dir is a file
    afile = work / "notes.txt"
    afile.write_text("keep me")
    for command in (("search", "x", "--mode", "lexical"), ("build",), ("serve",)):
        run = rag(*command, "--index-dir", str(afile), env=env, timeout=120)
        record("--index-dir is a file", f"rag {command[0]}", run, afile.read_text() != "keep me", None)

    # kill -9 during a forced rebuild, at several moments
    for delay in (2.0, 5.0, 10.0):
        index = work / "case"
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(good, index)
        process = subprocess.Popen(
            [sys.executable, "-c", "from rag.cli import app; app()", "build", "--force", "--index-dir", str(index)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        search = rag("search", "绿色气候基金", "--mode", "lexical", "--index-dir", str(index), env=env)
        record(f"kill -9 rag build after {delay:.0f} s", "rag search after", search, search.returncode != 0, search.returncode == 0)
        rebuilt = rag("build", "--index-dir", str(index), env=env)
        leftovers = [p.name for p in (index / "builds").iterdir() if p.name.endswith(".partial")]
        record(f"kill -9 rag build after {delay:.0f} s", "rag build again", rebuilt, bool(leftovers), rebuilt.returncode == 0)

    # full disk: a tmpfs just big enough for the live build
    size_kb = sum(p.stat().st_size for p in good.rglob("*") if p.is_file()) // 1024
    disk = work / "disk"
    disk.mkdir()
    if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb + 512}k", "tmpfs", str(disk)]).returncode == 0:
        try:
            shutil.copytree(good, disk / "index")
            before = snapshot(disk / "index")
            run = rag("build", "--force", "--index-dir", str(disk / "index"), env=env)
            search = rag("search", "绿色气候基金", "--mode", "lexical", "--index-dir", str(disk / "index"), env=env)
            record("full disk (tmpfs) during rag build --force", "rag build --force", run, snapshot(disk / "index") != before, search.returncode == 0)
        finally:
            subprocess.run(["umount", str(disk)], check=False)

    # BEIR ids with #, (, /, $
    corpus = work / "corpus.jsonl"
    ids = ["Super_Bowl_50#0", "Sky_(United_Kingdom)", "a/b", "x$0"]
    corpus.write_text("".join(json.dumps({"_id": i, "title": "", "text": f"climate finance text {n}"}) + "\n" for n, i in enumerate(ids)))
    run = rag("build", "--corpus", str(corpus), "--index-dir", str(work / "beir"), env=env)
    search = rag("search", "climate", "--mode", "lexical", "--json", "--index-dir", str(work / "beir"), env=env)
    record("BEIR ids with # ( / $", "rag build --corpus + search", run, False, search.returncode == 0 and all(i in search.stdout for i in ids))
    forced = rag("build", "--corpus", str(corpus), "--force", "--index-dir", str(work / "beir"), env=env)
    record("--force with --corpus", "rag build --corpus --force", forced, False, "up to date" not in forced.stdout)

    # exposure
    open_bind = rag("serve", "--host", "0.0.0.0", "--index-dir", str(good), env=env, timeout=60)
    record("serve on 0.0.0.0 without RAG_API_KEY", "rag serve --host 0.0.0.0", open_bind, False, None)

    result = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "faults": rows}
    out = ROOT / "bench" / "results" / "faults.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md = ["| fault | command | exit | traceback | index changed | still answers | message |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        message = str(r["message"]).replace(str(work), "<tmp>").replace("|", "\\|")
        answers = "" if r["still_answers"] is None else ("yes" if r["still_answers"] else "no")
        md.append(f"| {r['fault']} | `{r['command']}` | {r['exit']} | {'yes' if r['traceback'] else 'no'} | {'yes' if r['data_lost'] else 'no'} | {answers} | {message} |")
    out.with_suffix(".md").write_text(f"# Faults tried ({result['created']})\n\n" + "\n".join(md) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
