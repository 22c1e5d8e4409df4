"""Smoke run of the scale benchmark at a tiny size: the script runs and writes sane figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_scale_bench_smoke(seed_index_dir, settings, tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--sizes", "1500", "--queries", "30", "--index-dir", str(seed_index_dir), "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "RAG_HOME": str(settings.home), "PATH": "/usr/bin:/bin"},
        timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads((tmp_path / "scale.json").read_text())["rows"]
    assert {r["kind"] for r in rows} == {"flat", "hnsw-sq8"}
    flat = next(r for r in rows if r["kind"] == "flat")
    assert flat["recall_at_10"] == 1.0 and flat["bytes_per_unit"] >= 384 * 4
    assert all(0.5 <= r["recall_at_10"] <= 1.0 and r["search_p50_ms"] > 0 for r in rows)
    assert "| 1,500 |" in (tmp_path / "scale.md").read_text()
