"""Build throughput of a mixed library of ≥ 200 documents: units/s, peak memory, unchanged rebuild.

The library: every XQuAD article as a Chinese and an English version (.txt, catalogued as
language versions), CMRC 2018 trial articles (.txt), and the seed as .txt, .docx (python-docx,
Word numbering), .html and, when LibreOffice is installed, .pdf. Each build runs in a child
process doing what ``rag build`` does (read the folder, build incrementally), so its peak RSS
is the child's own (``wait4``). Measured: one cold build (nothing to reuse; the model is
converted beforehand, not on the clock), then medians of several unchanged rebuilds and of
several one-document additions. The machine's load average is recorded: figures from a shared,
loaded machine are slower than on an idle one.

Usage: python bench/library_build.py [--cmrc 120] [--runs 3]; writes bench/results/library_build.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

XQUAD = Path(os.environ.get("RAG_XQUAD_DIR", ROOT / "eval" / "data" / "xquad"))
CMRC = Path(os.environ.get("RAG_CMRC_DIR", ROOT / "eval" / "data" / "cmrc2018")) / "cmrc2018_trial.json"


def write_library(folder: Path, cmrc_articles: int, with_pdf: bool) -> dict[str, int]:
    """The mixed library in ``folder``; returns the number of files per format."""
    from rag.evaluation.parallel import write_parallel_library
    from tests.seed_documents import SEED, write_seed_docx, write_seed_html, write_seed_pdf

    write_parallel_library(XQUAD, folder)  # writes catalogue.json for the XQuAD versions
    articles = json.loads(CMRC.read_text(encoding="utf-8"))["data"][:cmrc_articles]
    for article in articles:
        text = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
        (folder / f"cmrc-{article['id']}.txt").write_text(f"{article['title']}\n\n{text}\n", encoding="utf-8")
    shutil.copyfile(SEED, folder / "seed.txt")
    write_seed_docx(folder / "seed-docx.docx")
    write_seed_html(folder / "seed-html.html")
    if with_pdf:
        with tempfile.TemporaryDirectory() as tmp:
            pdf = write_seed_pdf(write_seed_docx(Path(tmp) / "seed-pdf.docx"), Path(tmp))
            shutil.copyfile(pdf, folder / "seed-pdf.pdf")
    counts: dict[str, int] = {}
    for path in folder.iterdir():
        if path.suffix in (".txt", ".docx", ".html", ".pdf"):
            counts[path.suffix] = counts.get(path.suffix, 0) + 1
    return counts


def child(home: Path, library: Path, index_dir: Path, warm_only: bool) -> None:
    """What ``rag build`` does, timed inside; prints one JSON line."""
    from rag.config import Settings
    from rag.engine import build_from_documents, choose_model, load_embedder_for, load_seed_corpus

    settings = Settings(_env_file=None, home=home, seeds_dir=library, index_dir=index_dir)
    if warm_only:  # convert the bundled model once, off the clock
        load_embedder_for(choose_model(settings), settings)
        return
    started = time.perf_counter()
    corpus = load_seed_corpus(settings, library)
    read_s = time.perf_counter() - started
    report = build_from_documents(settings, corpus, index_dir=index_dir)
    m = report.manifest
    print(json.dumps({
        "documents": m.documents, "units": m.units, "chunks": m.chunks, "unreadable": len(corpus.errors),
        "embedded": report.embedded, "reused": report.reused, "unchanged": report.unchanged,
        "read_s": round(read_s, 2), "build_s": round(report.seconds, 2),
    }))


def run_child(home: Path, library: Path, index_dir: Path, *, warm_only: bool = False) -> dict:
    """One child build: its own report, wall time and peak RSS (MiB, from ``wait4``: the child's alone)."""
    command = [sys.executable, __file__, "--child", str(home), str(library), str(index_dir)] + (["--warm-only"] if warm_only else [])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"child build failed ({process.returncode}):\n{err.read().decode(errors='replace')[-3000:]}")
        result = {} if warm_only else json.loads(out.read().decode().strip().splitlines()[-1])
    result["wall_s"] = round(wall, 2)
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    return result


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cmrc", type=int, default=120, help="CMRC trial articles to include")
    parser.add_argument("--runs", type=int, default=3, help="unchanged rebuilds and one-document additions to take the median of")
    parser.add_argument("--no-pdf", action="store_true", help="skip the LibreOffice PDF of the seed")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "library_build")
    args = parser.parse_args()
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="library-bench-") as tmp:
        root = Path(tmp)
        library, index_dir, home = root / "library", root / "index", root / "home"
        started = time.perf_counter()
        formats = write_library(library, args.cmrc, with_pdf=not args.no_pdf and shutil.which("soffice") is not None)
        print(f"library: {sum(formats.values())} files {formats} in {time.perf_counter() - started:.1f} s", flush=True)
        run_child(home, library, index_dir, warm_only=True)
        cold = run_child(home, library, index_dir)
        print(f"cold build: {cold}", flush=True)
        loads.append(load_average())
        unchanged = [run_child(home, library, index_dir) for _ in range(args.runs)]
        print(f"unchanged rebuilds: {[r['wall_s'] for r in unchanged]} s", flush=True)
        added = []
        for run in range(args.runs):
            (library / f"added-{run}.txt").write_text(
                f"1. Paragraph {run} of a document added to a library of {cold['documents']} documents.\n\n"
                f"2. Its second paragraph, number {run}, which only this run embeds.\n", encoding="utf-8")
            added.append(run_child(home, library, index_dir))
            (library / f"added-{run}.txt").unlink()
            run_child(home, library, index_dir)  # back to the library as it was, off the clock
        print(f"one-document additions: {[r['wall_s'] for r in added]} s", flush=True)
        loads.append(load_average())
    result = {
        "benchmark": "mixed library build (child process per build, wall clock incl. start-up and reading)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_1_5_15": loads,
                    "note": "shared machine, loaded by other jobs during the run: absolute times are pessimistic"},
        "files": formats,
        "documents": cold["documents"], "units": cold["units"], "chunks": cold["chunks"], "unreadable": cold["unreadable"],
        "cold": cold,
        "cold_units_per_s": round(cold["units"] / cold["wall_s"], 1),
        "cold_units_per_s_build_only": round(cold["units"] / cold["build_s"], 1),
        "unchanged_rebuild_s": [r["wall_s"] for r in unchanged],
        "median_unchanged_rebuild_s": statistics.median(r["wall_s"] for r in unchanged),
        "median_unchanged_rebuild_inner_s": statistics.median(r["read_s"] + r["build_s"] for r in unchanged),
        "unchanged_peak_rss_mib": max(r["peak_rss_mib"] for r in unchanged),
        "add_one_document_s": [r["wall_s"] for r in added],
        "median_add_one_document_s": statistics.median(r["wall_s"] for r in added),
        "add_embedded": [r["embedded"] for r in added],
        "add_peak_rss_mib": max(r["peak_rss_mib"] for r in added),
    }
    result["unchanged_over_cold"] = round(result["median_unchanged_rebuild_s"] / cold["wall_s"], 3)
    result["add_over_cold"] = round(result["median_add_one_document_s"] / cold["wall_s"], 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


def markdown(r: dict) -> str:
    c = r["cold"]
    return "\n".join([
        "# Mixed library build",
        "",
        f"{r['documents']} documents ({', '.join(f'{n} {k}' for k, n in sorted(r['files'].items()))} files; "
        f"{r['unreadable']} unreadable), {r['units']} units, {r['chunks']} chunks. Each build is a child process doing what "
        "`rag build` does; wall clock includes Python start-up and reading every file.",
        "",
        "| run | wall s | units/s | peak RSS MiB | embedded | ratio to cold |",
        "|---|---:|---:|---:|---:|---:|",
        f"| cold build (1 run) | {c['wall_s']} | {r['cold_units_per_s']} | {c['peak_rss_mib']} | {c['embedded']} | 1 |",
        f"| unchanged rebuild (median of {len(r['unchanged_rebuild_s'])}) | {r['median_unchanged_rebuild_s']} | — | "
        f"{r['unchanged_peak_rss_mib']} | 0 | {r['unchanged_over_cold']} |",
        f"| add one document (median of {len(r['add_one_document_s'])}) | {r['median_add_one_document_s']} | — | "
        f"{r['add_peak_rss_mib']} | {statistics.median(r['add_embedded'])} | {r['add_over_cold']} |",
        "",
        f"Cold build: reading {c['read_s']} s, building {c['build_s']} s ({r['cold_units_per_s_build_only']} units/s in the build itself). "
        f"Unchanged rebuild inside the child: {r['median_unchanged_rebuild_inner_s']} s (reading and hashing; the model is never loaded).",
        "",
        f"Machine: {r['machine']['cpus']} CPUs, load average (1/5/15 min) before / after the cold build / at the end: "
        f"{' ; '.join('/'.join(str(x) for x in load) for load in r['machine']['load_average_1_5_15'])}. "
        f"{r['machine']['note']}.",
        f"Created {r['created']} by `python bench/library_build.py`.",
        "",
    ])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), warm_only="--warm-only" in sys.argv)
    else:
        main()
