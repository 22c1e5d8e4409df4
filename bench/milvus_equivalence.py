"""The FAISS + bm25s default and the Milvus backend side by side: recall and search latency.

For the seed set and XQuAD en->zh: Recall@1/5/10 of the hybrid and dense configurations for
both backends (Milvus: milvus-lite 2.5.1, embedded, FLAT index, Strong consistency), the mean
top-10 overlap between them, and per-query search time (query encoding excluded, the same
cached vectors for both) as medians over ``--runs`` runs on the seed set (one run on XQuAD's 1,190
questions, whose median per query is already stable). Also the sentence-evidence choice:
the local sentence vectors against fetching them from a Milvus collection for the dense
candidates of each question.

Usage: RAG_HOME=... .venv/bin/python bench/milvus_equivalence.py [--runs 3] [--cache-dir DIR]
Writes bench/results/milvus_equivalence.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

from index.backends.milvus import MilvusDense, MilvusLexical, MilvusStore, connect
from index.milvus_sync import export_index
from index.store import load_index
from rag.config import PROJECT_ROOT, Settings
from rag.engine import choose_model, load_embedder_for, make_lexicon
from rag.evaluation.metrics import ranked_run, retrieval_metrics
from rag.evaluation.runner import _CachedEncoder, resolve_sets
from rag.retriever import RetrievalMode, Retriever

SETS = ("seed", "xquad-en-zh")
MODES = (RetrievalMode.HYBRID, RetrievalMode.DENSE)


def _sentence_fetch_ms(store_uri: str, index, retriever: Retriever, vectors: np.ndarray) -> tuple[float, float]:
    """Median ms per question to get the sentence vectors of its dense candidates: local arrays vs a Milvus query."""
    from pymilvus import DataType

    client = connect(store_uri)
    name = "sentences_probe"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("unit", DataType.VARCHAR, max_length=512)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=index.sentence_vectors.shape[1])
    params = client.prepare_index_params()
    params.add_index("vector", index_type="FLAT", metric_type="IP")
    params.add_index("unit", index_type="INVERTED")
    client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
    rows = [{"id": s.id, "unit": s.unit_id, "vector": v.tolist()} for s, v in zip(index.sentences, index.sentence_vectors, strict=True)]
    for start in range(0, len(rows), 1000):
        client.insert(name, rows[start : start + 1000])
    local, remote = [], []
    for vector in vectors:
        units = list(dict.fromkeys(retriever.dense.search(vector[None, :], 200)[0].units))
        started = time.perf_counter()
        for unit in units:
            r = index.sentence_rows.get(unit)
            if r:
                _ = index.sentence_vectors[r.start : r.stop] @ vector
        local.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        quoted = ", ".join(json.dumps(u, ensure_ascii=False) for u in units)
        found = client.query(name, filter=f"unit in [{quoted}]", output_fields=["unit", "vector"])
        for row in found:
            _ = np.asarray(row["vector"], dtype=np.float32) @ vector
        remote.append((time.perf_counter() - started) * 1000)
    client.drop_collection(name)
    return statistics.median(local), statistics.median(remote)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the evaluation indexes are built (default: <home>/bench-milvus)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "milvus_equivalence.json")
    args = parser.parse_args()

    settings = Settings()
    cache = args.cache_dir or settings.home / "bench-milvus"
    choice = choose_model(settings)
    encoder = _CachedEncoder(load_embedder_for(choice, settings))
    lexicon = make_lexicon(settings)
    milvus_dir = Path(tempfile.mkdtemp(prefix="milvus-bench-"))
    uri = str(milvus_dir / "bench.db")
    report: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}",
        "versions": {p: version(p) for p in ("milvus-lite", "pymilvus", "faiss-cpu", "bm25s")},
        "milvus": "milvus-lite embedded, FLAT (exact) inner product, BM25 k1 1.5 b 0.75, jieba + english analysers, Strong",
        "runs": args.runs,
        "sets": {},
    }
    for eval_set in resolve_sets(settings, SETS):
        index_dir = cache / eval_set.index_name
        eval_set.build(index_dir)
        index = load_index(index_dir, model_id=choice.id, chunking=settings.chunking)
        store = MilvusStore(connect(uri), f"bench_{eval_set.index_name.replace('-', '_')}")
        started = time.perf_counter()
        export_index(index, store)
        export_s = time.perf_counter() - started
        backends = {
            "faiss": Retriever(index, encoder, fusion=settings.fusion_params, lexicon=lexicon),
            "milvus": Retriever(index, encoder, fusion=settings.fusion_params, lexicon=lexicon, dense=MilvusDense(store), lexical=MilvusLexical(store)),
        }
        dataset = eval_set.dataset
        texts = [q.text for q in dataset.queries]
        vectors = encoder.encode_queries(texts)
        figures: dict[str, object] = {"queries": len(texts), "chunks": len(index.chunks), "export_s": round(export_s, 2)}
        tops: dict[tuple[str, str], list[list[str]]] = {}
        for mode in MODES:
            for name, retriever in backends.items():
                latencies = []
                for _ in range(args.runs if eval_set.name == "seed" else 1):
                    searches = retriever.search_many(texts, 10, mode=mode)
                    latencies.append(statistics.median(s.timings_ms["search"] for s in searches))
                rankings = {q.id: [h.group_id for h in s.hits] for q, s in zip(dataset.queries, searches, strict=True)}
                tops[(mode.value, name)] = list(rankings.values())
                metrics = retrieval_metrics(dataset.qrels, ranked_run(rankings))
                figures[f"{mode.value}/{name}"] = {
                    "recall@1": round(metrics["recall@1"], 3),
                    "recall@5": round(metrics["recall@5"], 3),
                    "recall@10": round(metrics["recall@10"], 3),
                    "search_ms_p50": round(statistics.median(latencies), 2),
                    "search_ms_p50_per_run": [round(x, 2) for x in latencies],
                }
                print(eval_set.name, mode.value, name, figures[f"{mode.value}/{name}"], flush=True)
            a, b = tops[(mode.value, "faiss")], tops[(mode.value, "milvus")]
            figures[f"{mode.value}/top10_overlap"] = round(float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)])), 3)
            figures[f"{mode.value}/identical_top10"] = round(float(np.mean([x == y for x, y in zip(a, b, strict=True)])), 3)
        if eval_set.name == "seed":
            local_ms, milvus_ms = _sentence_fetch_ms(uri, index, backends["faiss"], vectors[:40])
            figures["sentence_vectors_ms"] = {"local_arrays": round(local_ms, 3), "milvus_query": round(milvus_ms, 2)}
        report["sets"][eval_set.name] = figures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(_markdown(report), encoding="utf-8")
    print(_markdown(report))


def _markdown(report: dict) -> str:
    lines = [
        "# FAISS + bm25s vs Milvus (milvus-lite 2.5.1)", "",
        f"{report['date']}; {report['machine']}; {report['versions']}; {report['milvus']}; search time = median per query, "
        f"median of {report['runs']} runs on the seed set and 1 on XQuAD, query encoding excluded.", "",
        "| set | config | backend | R@1 | R@5 | R@10 | search p50 ms | top-10 overlap | identical top 10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in report["sets"].items():
        for mode in MODES:
            for backend in ("faiss", "milvus"):
                f = figures[f"{mode.value}/{backend}"]
                overlap = figures[f"{mode.value}/top10_overlap"] if backend == "milvus" else ""
                same = figures[f"{mode.value}/identical_top10"] if backend == "milvus" else ""
                lines.append(f"| {name} | {mode.value} | {backend} | {f['recall@1']} | {f['recall@5']} | {f['recall@10']} | {f['search_ms_p50']} | {overlap} | {same} |")
    seed = report["sets"].get("seed", {})
    if "sentence_vectors_ms" in seed:
        s = seed["sentence_vectors_ms"]
        lines += ["", f"Sentence vectors of a question's dense candidates (seed, median of 40 questions): local arrays "
                  f"{s['local_arrays']} ms, a Milvus `unit in [...]` query {s['milvus_query']} ms."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
