"""The LangChain baseline, run inside bench/.venv-langchain by bench/compare.py (never imported by the product).

A standard pipeline as a user would write it: RecursiveCharacterTextSplitter with the product's
chunk size and overlap over the same paragraphs, HuggingFaceEmbeddings on the same converted
model folder (E5 prompts, normalised), FAISS.from_documents, similarity_search. Reads a task
JSON (argv[1]), prints one JSON result line. Paragraph-level recall: chunks map back to their
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
        runs, hits1, hits5 = [], 0, 0
        for run in range(task.get("runs", 5)):
            latencies = []
            for q in questions:
                t0 = time.perf_counter()
                found = store.similarity_search(q["question"], k=20)
                latencies.append((time.perf_counter() - t0) * 1000)
                if run == 0 and q["gold"]:
                    paras = list(dict.fromkeys(d.metadata["para"] for d in found))
                    hits1 += paras[:1] and paras[0] in q["gold"]
                    hits5 += any(p in q["gold"] for p in paras[:5])
            runs.append(latencies)
        answerable = sum(1 for q in questions if q["gold"])
        out.update(_latency(runs))
        out["recall_at_1"] = round(hits1 / answerable, 3)
        out["recall_at_5"] = round(hits5 / answerable, 3)
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


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
