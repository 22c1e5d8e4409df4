"""schemathesis, ≥ 3,000 cases against the live service (real model, seed index), every check.

Runs tests/test_api_schemathesis.py with more examples per operation (valid and invalid data;
checks: no 5xx, status documented, body matches the declared schema, 405 with Allow, …).
Usage: PYTHONPATH=. .venv/bin/python bench/schemathesis_run.py [--examples 600]
Writes bench/results/schemathesis.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=600, help="examples per operation (600 gives > 3,000 cases)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "schemathesis.json")
    args = parser.parse_args()
    env = {**os.environ, "RAG_SCHEMATHESIS_EXAMPLES": str(args.examples), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_api_schemathesis.py", "-s", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    output = run.stdout + run.stderr
    cases = int(m.group(1)) if (m := re.search(r"schemathesis cases: (\d+)", output)) else 0
    summary = next((line for line in reversed(output.splitlines()) if " passed" in line or " failed" in line), "")
    result = {
        "benchmark": "schemathesis against the live service's OpenAPI (positive and negative data, all checks)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples_per_operation": args.examples,
        "cases": cases,
        "pytest": summary.strip("= "),
        "failed": run.returncode != 0,
        "seconds": round(seconds, 1),
    }
    print(json.dumps(result, indent=1))
    if run.returncode != 0:
        print(output[-6000:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(
        f"# schemathesis ({result['created']})\n\n{result['benchmark']}\n\n| cases | failures | seconds | pytest |\n|---|---|---|---|\n"
        f"| {cases} | {'yes' if result['failed'] else 0} | {result['seconds']} | {result['pytest']} |\n",
        encoding="utf-8",
    )
    sys.exit(run.returncode)


if __name__ == "__main__":
    main()
