"""The query path without the encoder: its cost per question, and a snapshot of its results.

Every question is encoded once with the real model, then replayed through search and ask with
its vector handed back by a replay encoder, so the timings are the pipeline's own (lexical,
translation, sentence evidence, fusion, grouping, answer composition) and the results are
deterministic. ``--save FILE`` writes every ranking (unit ids and scores, k=10) and every answer
(text, citations, refusal, confidence); ``--check FILE`` compares against such a file, so a
speed-up can be shown to change nothing. Sets: the seed questions (and the look-ups), and a
sample of XQuAD zh->zh, en->zh, en->en (indexes of ``rag eval``, under ``$RAG_HOME/eval-indexes``,
built there if missing).

Usage: ``RAG_HOME=/tmp/x PYTHONPATH=. python bench/hot_path.py [--xquad 300] [--runs 3]
[--save before.json | --check before.json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


class ReplayEncoder:
    """Hands back vectors computed once by the real encoder (computes a missing one)."""

    def __init__(self, encoder: object) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}

    def prime(self, texts: Sequence[str]) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        for start in range(0, len(missing), 32):
            batch = missing[start : start + 32]
            self.vectors.update(zip(batch, self.encoder.encode_queries(batch), strict=True))  # type: ignore[attr-defined]

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.prime(list(texts))
        return np.stack([self.vectors[t] for t in texts])


def _sets(settings, limit: int) -> list[tuple[str, Path, list[str], bool]]:
    """(name, index dir, questions, answers?) per set."""
    from rag.evaluation.runner import LOOKUP_QUESTIONS, SEED_QUESTIONS, resolve_sets

    seed = [json.loads(x)["question"] for x in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    seed += [json.loads(x)["question"] for x in LOOKUP_QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    out = [("seed", settings.resolved_index_dir, seed, True)]
    if limit > 0:
        cache = settings.home / "eval-indexes"
        for eval_set in resolve_sets(settings, ["xquad-zh", "xquad-en-zh", "xquad-en"]):
            target = cache / eval_set.index_name
            if not (target / "CURRENT").exists():
                print(f"building {target}", file=sys.stderr, flush=True)
                eval_set.build(target)
            queries = eval_set.dataset.queries
            step = max(1, len(queries) // limit)
            out.append((eval_set.name, target, [q.text for q in queries[::step][:limit]], eval_set.name == "xquad-en-zh"))
    return out


SCORE_TOLERANCE = 5e-6  # float32 products summed in another order differ in the last bits


def _same(then: dict | None, now: dict) -> bool:
    """Same ranking (ids in order), scores equal within SCORE_TOLERANCE, same answer."""
    if then is None or [h[0] for h in then["hits"]] != [h[0] for h in now["hits"]]:
        return False
    if any(abs(a[1] - b[1]) > SCORE_TOLERANCE for a, b in zip(then["hits"], now["hits"], strict=True)):
        return False
    a, b = then.get("answer"), now.get("answer")
    if a is None or b is None:
        return a == b
    return {**a, "evidence": 0} == {**b, "evidence": 0} and abs(a["evidence"] - b["evidence"]) <= SCORE_TOLERANCE


def _answer_record(result) -> dict:
    a = result.answer
    return {
        "text": a.answer, "refused": a.refused, "kind": str(a.kind), "evidence": round(a.evidence_score, 6), "notes": list(a.notes),
        "citations": [c.id for c in a.citations], "see_also": [c.id for c in a.see_also],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--xquad", type=int, default=300, help="questions per XQuAD set (0: seed only)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--check", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from index.store import load_index
    from rag.config import Settings
    from rag.engine import choose_model, limit_native_threads, load_embedder_for, make_lexicon
    from rag.qa import QuestionAnswerer
    from rag.retriever import Retriever

    settings = Settings().with_changes({"query.cache_size": 0})
    choice = choose_model(settings)
    limit_native_threads(settings.query.native_threads)  # as open_retriever does
    replay = ReplayEncoder(load_embedder_for(choice, settings))
    lexicon = make_lexicon(settings)
    snapshot: dict[str, dict] = {}
    report: dict[str, dict] = {}
    for name, index_dir, questions, answers in _sets(settings, args.xquad):
        replay.prime(questions)
        retriever = Retriever(load_index(index_dir, model_id=choice.id, chunking=settings.chunking), replay,
                              fusion=settings.fusion_params, lexicon=lexicon)
        answerer = QuestionAnswerer(retriever, settings.answer_params)
        for q in questions[:10]:  # warm: jieba, lexicon, caches
            retriever.search(q, k=10)
            answerer.ask(q)
        search_runs, ask_runs, search_cpu, ask_cpu = [], [], [], []
        for run in range(args.runs):
            s_lat, a_lat, s_cpu, a_cpu = [], [], [], []
            for q in questions:
                t0, c0 = time.perf_counter(), time.process_time()
                result = retriever.search(q, k=10)
                s_lat.append((time.perf_counter() - t0) * 1000)
                s_cpu.append((time.process_time() - c0) * 1000)
                if run == 0:
                    snapshot.setdefault(name, {})[q] = {"hits": [[h.unit.id, round(h.score, 6)] for h in result.hits]}
                if answers:
                    t0, c0 = time.perf_counter(), time.process_time()
                    asked = answerer.ask(q)
                    a_lat.append((time.perf_counter() - t0) * 1000)
                    a_cpu.append((time.process_time() - c0) * 1000)
                    if run == 0:
                        snapshot[name][q]["answer"] = _answer_record(asked)
            search_runs.append(s_lat)
            search_cpu.append(s_cpu)
            if a_lat:
                ask_runs.append(a_lat)
                ask_cpu.append(a_cpu)
        report[name] = {
            "questions": len(questions),
            "search_p50_ms": round(statistics.median(statistics.median(r) for r in search_runs), 3),
            "search_mean_ms": round(statistics.median(statistics.fmean(r) for r in search_runs), 3),
            # CPU time of the process (its BLAS threads included): what a shared, loaded machine distorts least
            "search_cpu_p50_ms": round(statistics.median(statistics.median(r) for r in search_cpu), 3),
            "search_cpu_mean_ms": round(statistics.median(statistics.fmean(r) for r in search_cpu), 3),
        }
        if ask_runs:
            report[name]["ask_p50_ms"] = round(statistics.median(statistics.median(r) for r in ask_runs), 3)
            report[name]["ask_mean_ms"] = round(statistics.median(statistics.fmean(r) for r in ask_runs), 3)
            report[name]["ask_cpu_p50_ms"] = round(statistics.median(statistics.median(r) for r in ask_cpu), 3)
            report[name]["ask_cpu_mean_ms"] = round(statistics.median(statistics.fmean(r) for r in ask_cpu), 3)
        print(name, report[name], flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.save:
        args.save.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
    if args.check:
        before = json.loads(args.check.read_text(encoding="utf-8"))
        differ = 0
        for name, per_question in snapshot.items():
            for q, now in per_question.items():
                then = before.get(name, {}).get(q)
                if not _same(then, now):
                    differ += 1
                    if differ <= 10:
                        print(f"DIFFERS [{name}] {q}\n  before {then}\n  now    {now}")
        total = sum(len(v) for v in snapshot.values())
        print(f"{total - differ}/{total} identical (same units in the same order, same answers; scores within {SCORE_TOLERANCE})")
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
