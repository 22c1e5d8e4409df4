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
        [sys.executable, "bench/scale.py", "--sizes", "1500", "4000", "--exact-max", "2000", "--queries", "30", "--questions", "20",
         "--index-dir", str(seed_index_dir), "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "RAG_HOME": str(settings.home), "PATH": "/usr/bin:/bin"},
        timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    flat, ivf = (r["dense"] for r in json.loads((tmp_path / "scale.json").read_text())["rows"])
    assert flat["kind"] == "flat" and flat["recall_at_10"] == 1.0 and flat["resident_bytes_per_unit"] >= 384 * 4
    assert ivf["kind"] == "ivf-sq8" and ivf["params"]["nlist"] == 100 and 400 <= ivf["resident_bytes_per_unit"] < 600
    assert ivf["recall_at_10"] >= 0.9 and ivf["search_p50_ms"] > 0
    text = (tmp_path / "scale.md").read_text()
    assert "| 1,500 | flat" in text and "| 4,000 | ivf-sq8" in text
