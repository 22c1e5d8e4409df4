"""What a fresh process pays for the English -> Chinese lexicon before its first English question.

One command (a minute or so; ``--baseline-root`` is another checkout, e.g. one made with
``git worktree add /tmp/lexicon-base <commit>``, to compare against)::

    PYTHONPATH=. python bench/lexicon_load.py --baseline-root /tmp/lexicon-base

Each run is a new Python process that imports ``rag.crosslingual`` from one checkout, makes a
``BilingualLexicon`` on a disk cache already written (as ``rag search`` / ``rag serve`` do under
``RAG_HOME``), looks up one word and translates one English question. Runs of the checkouts are
interleaved, ``--runs`` each; printed and written (``bench/results/lexicon_load.{json,md}``): the
medians of the lexicon's load + first look-up, of that + the first translation (which also loads
lemminflect's tables, :mod:`rag.english_forms`) inside the process, and of the whole process
(interpreter start and imports included), with the baseline / this ratios.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What did the Doha conference adopt on ratifying the amendment?"
_CHILD = """
import sys, time
from pathlib import Path
start = time.perf_counter()
from rag.crosslingual import BilingualLexicon
imported = time.perf_counter()
lexicon = BilingualLexicon(Path(sys.argv[1]))
assert lexicon.lookup("ratifying")
looked_up = time.perf_counter()
concepts = lexicon.translate(sys.argv[2])
done = time.perf_counter()
print(imported - start, looked_up - imported, done - imported, len(concepts))
"""


def _run(root: Path, cache: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, str(cache), QUESTION], cwd=root, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    imported, loaded, translated, _ = out.stdout.split()
    return {"import_s": float(imported), "load_lookup_s": float(loaded), "load_translate_s": float(translated), "process_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-root", type=Path, default=None, help="another checkout to compare with (omit: this one alone)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "lexicon_load")
    cli = parser.parse_args()
    roots = {"this": ROOT} | ({"baseline": cli.baseline_root.resolve()} if cli.baseline_root else {})
    with tempfile.TemporaryDirectory() as tmp:
        caches = {name: Path(tmp) / name for name in roots}
        for name, root in roots.items():  # write each checkout's cache first: it is the warm case that is timed
            _run(root, caches[name])
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
        for _ in range(cli.runs):
            for name, root in roots.items():
                runs[name].append(_run(root, caches[name]))
    medians = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    report: dict[str, object] = {"question": QUESTION, "runs": cli.runs, "roots": {k: str(v) for k, v in roots.items()}, "medians": medians, "all": runs}
    lines = ["| checkout | import (s) | lexicon load + first look-up (s) | ... + first translation (s) | whole process (s) |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {m['import_s']:.3f} | {m['load_lookup_s']:.3f} | {m['load_translate_s']:.3f} | {m['process_s']:.3f} |" for name, m in medians.items()]
    if "baseline" in medians:
        ratio = {k: medians["baseline"][k] / medians["this"][k] for k in medians["this"]}
        report["baseline_over_this"] = ratio
        lines.append(f"| baseline / this | {ratio['import_s']:.2f}x | {ratio['load_lookup_s']:.1f}x | {ratio['load_translate_s']:.1f}x | {ratio['process_s']:.2f}x |")
    print("\n".join(lines))
    cli.out.parent.mkdir(parents=True, exist_ok=True)
    cli.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    cli.out.with_suffix(".md").write_text(f"Medians of {cli.runs} fresh processes each, interleaved; question: {QUESTION!r}\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
