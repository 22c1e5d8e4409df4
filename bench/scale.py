"""The index at scale: synthetic libraries of 10^5 and 10^6 paragraphs, every structure counted.

One command (sizes are flags; 10^6 takes several minutes)::

    PYTHONPATH=. python bench/scale.py --sizes 100000 1000000

Synthesis (bench/scale_synthesis.py, described there): each synthetic unit copies one real text we
ship (a chunk, a sentence or a pair of sentences) with its e5 vectors moved by Gaussian noise,
calibrated per size to the real chunks' nearest-neighbour cosine, and its analysed terms perturbed.
For each size, with the structures and settings the product picks at that size:

* dense (index.dense.build_dense: flat up to 20,000 vectors, IVF-SQ8 above, HNSW-SQ8 from
  index.dense.HNSW_MIN, search parameter tuned at build): build seconds on all cores, bytes per
  unit (resident), search p50/p95 one query at a time on one thread, recall@10 against exact
  search (brute force, NumPy) for perturbed passages and real questions;
* lexical (bm25s through rag.lexical, loaded memory-mapped as the product does): build seconds,
  resident and on-disk bytes per unit, search p50/p95 of the product's candidate search, against
  the score array of every row over the same terms (interleaved), its recall@200 against it, and
  the variant that reads long posting lists in full;
* sentence vectors (int8 + scales, memory-mapped; index.sentence_vectors): on-disk and resident
  bytes per unit, best-sentence scoring of 50 candidate units p50;
* document store (index.docstore: units, chunk and sentence spans in SQLite, as the product writes
  and opens it): write seconds, resident bytes per unit (the row maps it keeps in RAM, measured
  with tracemalloc while opening), on-disk bytes per unit, fetch of 10 units p50;
* hybrid search, the product's path without the encoder: dense and lexical candidates (200 each,
  rag.retriever's depth), best sentence of the dense candidates, fusion (rag.fusion) and the 10
  hits' records fetched from the store; p50/p95 one query at a time on one thread, and recall@10
  against the same fusion over exact dense and exhaustive BM25 candidates. Queries: real
  questions (seed, XQuAD, CMRC) encoded by the product's e5.

The lexical and hybrid measurements are in bench/scale_search.py, the synthesis in bench/scale_synthesis.py.

Memory per unit, all included = dense + lexical + sentence vectors + document store, resident;
the store's records on disk are reported apart. Writes bench/results/scale.json and scale.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
from scale_search import hybrid_figures, lexical_figures, pct, timed
from scale_synthesis import (  # bench/ is on the path when a bench script runs
    DATASETS,
    ROOT,
    SENTENCES_PER_UNIT,
    Real,
    calibrate_noise,
    exact_top10,
    load_embedder,
    nearest_cosines,
    perturbed,
    quantiles,
    question_vectors,
)

from index.dense import DEFAULT_EXACT_MAX, HNSW_MIN, RECALL_TARGET, build_dense, dense_index_kind

PARTS = ("dense", "sentences", "lexical", "store", "hybrid")
CANDIDATES = 50  # units whose best sentence the retriever scores per question


def _recall_and_latency(index: faiss.Index, queries: np.ndarray, exact: np.ndarray, passes: int = 3) -> tuple[float, list[float]]:
    """Recall@10, and each query's median latency over ``passes`` passes (a shared machine's hiccups fall out)."""
    for q in queries[:20]:
        index.search(q[None, :], 10)
    times: list[list[float]] = [[] for _ in queries]
    found = []
    for p in range(passes):
        for i, q in enumerate(queries):
            t0 = time.perf_counter()
            _, rows = index.search(q[None, :], 10)
            times[i].append((time.perf_counter() - t0) * 1000)
            if p == 0:
                found.append(rows[0])
    latencies = [statistics.median(t) for t in times]
    return statistics.mean(len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True)), latencies


def dense_figures(real: Real, n: int, args: argparse.Namespace, rng: np.random.Generator, state: dict) -> dict:
    noise = state["noise"]
    vectors = perturbed(real, real.vectors, n, noise, rng, picks=state["sources"])
    queries = perturbed(real, real.vectors, args.queries, noise, rng)
    synthetic_nn = quantiles(nearest_cosines(vectors, rng.choice(n, 300, replace=False)))
    print(n, f"nearest-neighbour cosine, real chunks {state['real_nn']} / synthetic {synthetic_nn} (noise {noise})", flush=True)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t0 = time.perf_counter()
    index, params = build_dense(vectors, exact_max=args.exact_max, hnsw_min=args.hnsw_min, recall_target=args.recall_target)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = exact_top10(vectors, queries)
    exact_s = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    recall, latencies = _recall_and_latency(index, queries, exact)
    real_q = {}
    if real.questions_vectors is not None:
        q_recall, q_latencies = _recall_and_latency(index, real.questions_vectors, exact_top10(vectors, real.questions_vectors))
        real_q = {"questions_recall_at_10": round(q_recall, 4), "questions_search_p50_ms": pct(q_latencies, 0.5)}
    size = int(faiss.serialize_index(index).size)
    if isinstance(index, faiss.IndexIVF):
        real_q["cell_imbalance"] = round(float(index.invlists.imbalance_factor()), 2)  # 1.0 = equal cells
    state["vectors"], state["dense"] = vectors, index  # for the hybrid part
    gc.collect()
    return {"synthetic_nn_cosine": synthetic_nn, "real_nn_cosine": state["real_nn"], "noise": noise,
            "kind": dense_index_kind(index), "params": params, "build_s": round(build_s, 1), "exact_truth_s": round(exact_s, 1),
            "resident_bytes_per_unit": round(size / n), "disk_bytes_per_unit": round(size / n) + 4 * real.vectors.shape[1],
            "search_p50_ms": pct(latencies, 0.5), "search_p95_ms": pct(latencies, 0.95), "recall_at_10": round(recall, 4), **real_q}


def sentence_figures(real: Real, n: int, args: argparse.Namespace, work: Path, rng: np.random.Generator, state: dict) -> dict:
    from index.sentence_vectors import SCALES_FILE, VECTORS_FILE, SentenceVectors, quantise

    total, dim = n * SENTENCES_PER_UNIT, real.sentence_vectors.shape[1]
    codes = np.lib.format.open_memmap(work / VECTORS_FILE, mode="w+", dtype=np.int8, shape=(total, dim))
    scales = np.empty(total, np.float32)
    t0 = time.perf_counter()
    picks = real.sentence_table[state["sources"]].ravel()  # each unit's sentences come from its own source text
    for start in range(0, total, 200_000):
        part = perturbed(real, real.sentence_vectors, 0, state["noise"], rng, picks=picks[start : start + 200_000])
        codes[start : start + len(part)], scales[start : start + len(part)] = quantise(part)
    codes.flush()
    del codes
    np.save(work / SCALES_FILE, scales)
    write_s = time.perf_counter() - t0
    tracemalloc.start()
    stored = SentenceVectors(np.load(work / VECTORS_FILE, mmap_mode="r"), np.load(work / SCALES_FILE))
    resident = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    query = perturbed(real, real.vectors, 1, state["noise"], rng)[0]

    def best_sentences() -> None:  # what rag.retriever does for the candidates of one question
        units = rng.integers(0, n, CANDIDATES)
        rows = (units[:, None] * SENTENCES_PER_UNIT + np.arange(SENTENCES_PER_UNIT)).ravel()
        np.maximum.reduceat(stored[rows] @ query, np.arange(0, len(rows), SENTENCES_PER_UNIT))

    latencies = timed(best_sentences, 200)
    state["sentences"] = stored
    disk = (work / VECTORS_FILE).stat().st_size + (work / SCALES_FILE).stat().st_size
    return {"sentences_per_unit": SENTENCES_PER_UNIT, "write_s": round(write_s, 1), "resident_bytes_per_unit": round(resident / n),
            "disk_bytes_per_unit": round(disk / n), "best_sentence_p50_ms": pct(latencies, 0.5), "best_sentence_p95_ms": pct(latencies, 0.95)}


def store_figures(real: Real, n: int, work: Path, rng: np.random.Generator, state: dict) -> dict:
    """The document store as the product writes and opens it, for ``n`` units copied from real ones."""
    from dataclasses import replace

    from index.docstore import DocumentStore, write_store
    from rag.chunking import Chunk

    sources = state["sources"]

    def units():  # one document per 100 units, numbered paragraphs
        for j, source in enumerate(sources.tolist()):
            yield replace(real.units[source], id=f"u{j}", doc=f"d{j // 100}", para=j % 100 + 1, sub=None, parent=None)

    def chunks():
        for j, source in enumerate(sources.tolist()):
            text = real.units[source].text
            yield Chunk(f"u{j}#0", f"u{j}", text, 0, len(text), real.units[source].section[-1] if real.units[source].section else "")

    def sentences():
        for j, source in enumerate(sources.tolist()):
            text, step = real.units[source].text, max(1, len(real.units[source].text) // SENTENCES_PER_UNIT)
            for k in range(SENTENCES_PER_UNIT):
                yield Chunk(f"u{j}${k}", f"u{j}", text[k * step : (k + 1) * step], k * step, (k + 1) * step)

    path = work / "store.sqlite"
    t0 = time.perf_counter()
    write_store(path, units(), chunks(), sentences())
    write_s = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    store = DocumentStore(path)
    open_s = time.perf_counter() - t0
    resident = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    ids = [f"u{j}" for j in rng.integers(0, n, 2000)]

    def fetch_ten(at: list[int] = [0]) -> None:  # noqa: B006 - a counter across calls
        store.unit.cache_clear()
        for uid in ids[at[0] % 200 * 10 : at[0] % 200 * 10 + 10]:
            store.unit(uid)
        at[0] += 1

    latencies = timed(fetch_ten, 200)
    state["store"] = store
    return {"write_s": round(write_s, 1), "open_s": round(open_s, 1), "resident_bytes_per_unit": round(resident / n),
            "disk_bytes_per_unit": round(path.stat().st_size / n), "fetch_10_p50_ms": pct(latencies, 0.5), "fetch_10_p95_ms": pct(latencies, 0.95)}


def measure(part: str, real: Real, n: int, args: argparse.Namespace, work: Path, rng: np.random.Generator, state: dict) -> dict:
    if part == "dense":
        return dense_figures(real, n, args, rng, state)
    if part == "sentences":
        return sentence_figures(real, n, args, work, rng, state)
    if part == "lexical":
        return lexical_figures(real, n, work, rng, state)
    if part == "store":
        return store_figures(real, n, work, rng, state)
    missing = [p for p in ("dense", "lexical", "store") if p not in state]
    if missing:
        raise SystemExit(f"the hybrid part needs the parts {', '.join(missing)} in the same run")
    return hybrid_figures(real, n, args, rng, state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--questions", type=int, default=300, help="real questions encoded as extra dense queries (0: none)")
    parser.add_argument("--noise", type=float, default=None,
                        help="noise, in units of the real vectors' spread (default: calibrated per size to the real nearest-neighbour cosine)")
    parser.add_argument("--exact-max", type=int, default=DEFAULT_EXACT_MAX, help="largest exact (flat) index; the product's by default")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS), help="real paragraphs to copy")
    parser.add_argument("--max-paragraphs", type=int, default=None, help="only the first N of them (a quick smoke)")
    parser.add_argument("--recall-target", type=float, default=RECALL_TARGET, help="recall@10 of the build's tuning queries (the product's by default)")
    parser.add_argument("--hnsw-min", type=int, default=HNSW_MIN, help="HNSW-SQ8 from this many vectors on (the product's: never)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="measure only these structures (prints, writes nothing)")
    parser.add_argument("--note", default="", help="a line about the machine's load, written into scale.md")
    parser.add_argument("--common-shares", type=float, nargs="*", default=[1.0, 0.1, 0.05],
                        help="hybrid recall and p50 also with these shares of rows above which a query term is left out (1.0: none)")
    args = parser.parse_args()
    from rag.config import Settings

    embedder = load_embedder()
    real = Real(Settings().home, embedder, tuple(args.datasets), args.max_paragraphs)
    asked = question_vectors(args.questions, embedder) if args.questions else None
    del embedder
    real.question_texts, real.questions_vectors = asked if asked is not None else (None, None)
    print(f"real data: {real.sources}", flush=True)
    rows = []
    for n in args.sizes:
        rng = np.random.default_rng(n)
        work = Path(tempfile.mkdtemp(prefix=f"scale-{n}-"))
        load = os.getloadavg()[0]
        state: dict = {"sources": rng.integers(0, len(real.units), n)}  # the real source each synthetic unit copies
        t0 = time.perf_counter()
        noise, state["real_nn"] = calibrate_noise(real, n, rng)
        state["noise"] = args.noise if args.noise is not None else noise
        print(n, f"noise {state['noise']} (calibrated {noise} in {time.perf_counter() - t0:.0f} s)", flush=True)
        try:
            row = {"units": n, "load_at_start": round(load, 1), "copies_per_source": round(n / len(real.vectors), 1)}
            for part in [p for p in PARTS if p in args.parts]:
                row[part] = measure(part, real, n, args, work, rng, state)
                print(n, part, row[part], flush=True)
        finally:
            state.clear()
            gc.collect()
            shutil.rmtree(work, ignore_errors=True)
        if len(args.parts) < len(PARTS):
            print(json.dumps(row), flush=True)  # a partial run writes no result files
            continue
        resident = ("dense", "lexical", "sentences", "store")
        row["resident_bytes_per_unit"] = sum(row[p]["resident_bytes_per_unit"] for p in resident)  # all included
        row["disk_bytes_per_unit"] = sum(row[p]["disk_bytes_per_unit"] for p in resident)
        rows.append(row)
        write(args, real, rows)


def write(args: argparse.Namespace, real: Real, rows: list[dict]) -> None:
    result = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "note": args.note, "real_data": real.sources, "noise": args.noise, "queries": args.queries, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = ["# The index at scale (synthetic: perturbed copies of real e5 vectors, real analysed text and real unit records)", "",
             f"{result['machine']}; {real.sources}; {args.queries} queries one at a time on one thread; recall@10 against exact search."
             + (f" {args.note}" if args.note else ""), "",
             "| units | dense index | build s: dense / lexical / store | hybrid search p50 / p95 ms | hybrid recall@10 vs exact |"
             " dense p50 ms, recall@10 (passages / questions) | lexical p50 / p95 ms | fetch 10 units p50 ms |"
             " bytes/unit in RAM: dense + lexical + sentences + store = **all** | bytes/unit on disk (store) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d, lx, s, st, h = r["dense"], r["lexical"], r["sentences"], r["store"], r["hybrid"]
        params = ", ".join(f"{k} {v}" for k, v in d["params"].items() if k != "recall_at_10")
        lines.append(
            f"| {r['units']:,} | {d['kind']} ({params}) | {d['build_s']} / {lx['build_s']} / {st['write_s']} | {h['search_p50_ms']} / {h['search_p95_ms']} |"
            f" {h['recall_at_10']} | {d['search_p50_ms']}, {d['recall_at_10']} / {d.get('questions_recall_at_10', '–')} |"
            f" {lx['search_p50_ms']} / {lx['search_p95_ms']} (score array {lx.get('score_array_p50_ms', '–')} / {lx.get('score_array_p95_ms', '–')};"
            f" recall@200 {lx.get('recall_at_200_vs_score_array', '–')}; long lists read in full {lx.get('long_lists_p50_ms', '–')} /"
            f" {lx.get('long_lists_p95_ms', '–')}, recall@200 {lx.get('long_lists_recall_at_200', '–')}, provably exact {lx.get('provably_exact_share', '–')}) | {st['fetch_10_p50_ms']} |"
            f" {d['resident_bytes_per_unit']} + {lx['resident_bytes_per_unit']} + {s['resident_bytes_per_unit']} + {st['resident_bytes_per_unit']}"
            f" = **{r['resident_bytes_per_unit']}** | {r['disk_bytes_per_unit']} ({st['disk_bytes_per_unit']}) |")
    lines.append("")
    lines.append("Synthesis: each unit copies one real source (its vector, its sentences' vectors, its analysed text and record),"
                 " moved by Gaussian noise shaped like the real vectors' covariance, its scale calibrated so that the synthetic"
                 " corpus's nearest-neighbour cosine matches the real chunks' (median). Nearest-neighbour cosine p10 / p50 / p90:")
    for r in rows:
        d = r["dense"]
        real_nn, syn = d["real_nn_cosine"], d["synthetic_nn_cosine"]
        lines.append(f"- {r['units']:,} units ({r['copies_per_source']} copies per source, noise {d['noise']}): real chunks"
                     f" {real_nn['p10']} / {real_nn['p50']} / {real_nn['p90']}; synthetic {syn['p10']} / {syn['p50']} / {syn['p90']}")
    for r in rows:
        shares = r["hybrid"].get("by_common_share", {})
        if shares:
            lines.append("")
            lines.append(f"{r['units']:,} units, hybrid with query terms found in more than a share of the rows left out"
                         f" (the product leaves out above {r['hybrid']['common_share']}; 1.0 = none left out): "
                         + "; ".join(f"{k}: p50 {v['search_p50_ms']} ms, recall@10 {v['recall_at_10']}" for k, v in shares.items()))
    (args.out / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
