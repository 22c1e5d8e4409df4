"""Smoke run of the build benchmark at a tiny size: it builds for real and writes sane figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_build_bench_smoke(settings, tmp_path):
    env = {"PYTHONPATH": str(ROOT), "RAG_HOME": str(settings.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    done = subprocess.run(
        [sys.executable, "bench/build_time.py", "--smoke", "--paragraphs", "6", "--ours", "openvino", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "build_time_smoke.json").read_text())
    row = result["sides"]["ours[openvino]"]
    assert result["paragraphs"] == 6 and row["paragraphs_per_s"] > 0 and 100 < row["peak_rss_mb"] < 4000
    assert 0 < result["median_unchanged_rebuild_s"] < row["median_build_s"]  # nothing re-embedded, the model never loaded
    assert "| ours[openvino] |" in (tmp_path / "build_time_smoke.md").read_text()
