"""The LangChain baseline, run inside bench/.venv-langchain by bench/compare.py (never imported by the product).

A standard pipeline as a user would write it: RecursiveCharacterTextSplitter with the product's
chunk size and overlap over the same paragraphs, HuggingFaceEmbeddings on the same converted
model folder (E5 prompts, normalised), FAISS.from_documents, similarity_search. Reads a task
JSON (argv[1]), prints one JSON result line (``"worker": true``: then one search pass per stdin
line "search", for bench/interleaved.py). Paragraph-level recall: chunks map back to their
paragraph; the first k distinct paragraphs count.
"""

from __future__ import annotations

import json
import statistics
import sys
import time


def _peak_rss_mb() -> int:
    """This process's own high-water mark (VmHWM; ru_maxrss would carry the parent's over exec)."""
    with open("/proc/self/status", encoding="utf-8") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        task = json.load(handle)
    started = time.perf_counter()
    import torch
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    torch.set_num_threads(task.get("threads", 2))
    embeddings = HuggingFaceEmbeddings(
        model_name=task["model"],
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "prompt": "passage: "},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": "query: "},
    )
    splitter = RecursiveCharacterTextSplitter(chunk_size=task["chunk_size"], chunk_overlap=task["chunk_overlap"])
    docs = [Document(page_content=p["text"], metadata={"para": p["para"]}) for p in task["paragraphs"]]
    chunks = splitter.split_documents(docs)
    store = FAISS.from_documents(chunks, embeddings)
    build_s = time.perf_counter() - started
    out: dict[str, object] = {"build_s": round(build_s, 2), "chunks": len(chunks), "paragraphs": len(docs)}
    questions = task.get("questions", [])
    if questions:
        for q in questions[:10]:
            store.similarity_search(q["question"], k=20)
        out.update(_recall(store, questions))
        texts = [q["question"] for q in questions]
        if task.get("worker"):  # bench/interleaved.py: one pass per command, alternating with the product's
            out["peak_rss_mb"] = _peak_rss_mb()
            print(json.dumps(out), flush=True)
            for line in sys.stdin:
                if line.strip() != "search":
                    return
                print(json.dumps({"ms": _timed_pass(store, texts)}), flush=True)
            return
        out.update(_latency([_timed_pass(store, texts) for _ in range(task.get("runs", 5))]))
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


def _timed_pass(store, texts: list[str]) -> list[float]:
    latencies = []
    for text in texts:
        t0 = time.perf_counter()
        store.similarity_search(text, k=20)
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def _recall(store, questions: list[dict]) -> dict[str, float]:
    """Paragraph recall@1/5 over the answerable questions (the first k distinct paragraphs of 20 chunks)."""
    hits1 = hits5 = 0
    for q in questions:
        if q["gold"]:
            paras = list(dict.fromkeys(d.metadata["para"] for d in store.similarity_search(q["question"], k=20)))
            hits1 += bool(paras) and paras[0] in q["gold"]
            hits5 += any(p in q["gold"] for p in paras[:5])
    answerable = sum(1 for q in questions if q["gold"])
    return {"recall_at_1": round(hits1 / answerable, 3), "recall_at_5": round(hits5 / answerable, 3)}


def _latency(runs: list[list[float]]) -> dict[str, float]:
    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    return {
        "search_p50_ms": round(statistics.median(statistics.median(r) for r in runs), 2),
        "search_p95_ms": round(statistics.median(pct(r, 0.95) for r in runs), 2),
        "search_p99_ms": round(statistics.median(pct(r, 0.99) for r in runs), 2),
    }


if __name__ == "__main__":
    main()
