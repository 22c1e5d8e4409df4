"""The synthetic libraries of bench/scale.py: real texts and vectors, and perturbed copies of them.

Real material: every paragraph we ship (seed, XQuAD zh + en, CMRC 2018 trial: 899), cut as the
product chunks it, each of its sentences and each pair of adjacent sentences: 13,094 distinct real
texts, embedded once by the product's e5 (cached under RAG_HOME/bench-scale, never committed).
A synthetic unit copies one of them: its vector moved by Gaussian noise shaped like the real
vectors' covariance, the noise's scale calibrated per size so that the synthetic corpus's median
nearest-neighbour cosine equals the real chunks' (both distributions are printed and written);
its ~4 sentence vectors, perturbed the same way, from its own source's sentences; its terms the
source's analysed tokens (tokenised once with the product's analyser), with 10% dropped, 10%
replaced by draws from the corpus's term frequencies and, for one unit in four, a new term (a
document symbol never seen before, so the vocabulary keeps growing); its record the source text.

Also the exact (brute-force) ground truth the measurements compare against, and the product's
encoder and real questions for the queries.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "ROOT",
    "SENTENCES_PER_UNIT",
    "Real",
    "cached_vectors",
    "calibrate_noise",
    "exact_top10",
    "exact_topk",
    "load_embedder",
    "nearest_cosines",
    "perturbed",
    "quantiles",
    "question_vectors",
]

ROOT = Path(__file__).resolve().parents[1]
SENTENCES_PER_UNIT = 4
DATASETS = ("seed", "xquad-zh", "xquad-en", "cmrc")  # the real paragraphs the synthesis copies


class Real:
    """Real texts and their real e5 vectors: every paragraph we ship (seed, XQuAD zh + en, CMRC 2018
    trial), as the product chunks it, each of its sentences and each pair of adjacent sentences.

    Thousands of distinct real vectors, so that a synthetic unit has few copies of its source's
    vector. They are embedded once with the product's encoder (passage prompt) and cached under
    RAG_HOME (``bench-scale/real-<hash>.npz``), never committed. A source's sentences are kept
    (rows of :attr:`sentence_vectors`), so a synthetic unit's sentence vectors come from its own text.
    """

    def __init__(self, home: Path, embedder: object | None, datasets: tuple[str, ...] = DATASETS, max_paragraphs: int | None = None) -> None:
        from dataclasses import replace

        from rag.analysis import analyze
        from rag.chunking import ChunkingParams, chunk_units
        from rag.parser import parse_document
        from rag.sentences import split_sentences
        from rag.units import Unit, UnitKind

        units: list[Unit] = []
        for path in sorted((ROOT / "seeds").glob("*.txt")) if "seed" in datasets else []:
            units += [u for u in parse_document(path.stem, path.read_text(encoding="utf-8")).units if u.kind.retrievable and u.text.strip()]
        squad = [("xquad-zh", ROOT / "eval/data/xquad/xquad.zh.json"), ("xquad-en", ROOT / "eval/data/xquad/xquad.en.json"),
                 ("cmrc", ROOT / "eval/data/cmrc2018/cmrc2018_trial.json")]
        for name, path in [(name, path) for name, path in squad if name in datasets]:
            contexts = [p["context"] for a in json.loads(path.read_text(encoding="utf-8"))["data"] for p in a["paragraphs"]]
            units += [Unit(f"{name}-{i}", name, UnitKind.PARAGRAPH, i + 1, None, (), t, 0, len(t)) for i, t in enumerate(contexts)]
        units = units[:max_paragraphs]
        texts: list[str] = []  # every text embedded, once each
        sentence_of: dict[str, int] = {}  # sentence -> its row in texts
        sources: list[tuple[str, int, int, list[str]]] = []  # (kind, row in texts, unit, its sentences)
        for u, unit in enumerate(units):
            sentences = [unit.text[a:b] for a, b in split_sentences(unit.text)] or [unit.text]
            for chunk in chunk_units([unit], ChunkingParams()):
                sources.append(("chunk", len(texts), u, [x for x in sentences if x in chunk.text] or sentences[:1]))
                texts.append(chunk.text)
            for x in sentences:
                if x not in sentence_of:
                    sentence_of[x] = len(texts)
                    sources.append(("sentence", len(texts), u, [x]))
                    texts.append(x)
            for a, b in itertools.pairwise(sentences):
                sources.append(("pair", len(texts), u, [a, b]))
                texts.append(f"{a} {b}")
        vectors = cached_vectors(home, texts, embedder)
        self.vectors = vectors[[row for _, row, _, _ in sources]]
        self.sentence_vectors = vectors[list(sentence_of.values())]
        sentence_row = {x: i for i, x in enumerate(sentence_of)}
        # each source's sentence rows, cycled to SENTENCES_PER_UNIT slots
        self.sentence_table = np.array([[sentence_row[inside[k % len(inside)]] for k in range(SENTENCES_PER_UNIT)]
                                        for _, _, _, inside in sources], dtype=np.int64)
        self.units = [replace(units[u], id=f"s{i}", text=texts[row], spans=(), marker=None, start=0, end=len(texts[row]))
                      for i, (_, row, u, _) in enumerate(sources)]
        self.paragraph_rows = np.array([i for i, (kind, _, _, _) in enumerate(sources) if kind == "chunk"], dtype=np.int64)
        self.questions = [u.text[:60] for u in self.units]
        self.tokens = [analyze(texts[row]) for _, row, _, _ in sources]
        vocab: dict[str, int] = {}
        for tokens in self.tokens:
            for t in tokens:
                vocab.setdefault(t, len(vocab))
        self.vocab = vocab
        self.token_ids = [np.array([vocab[t] for t in tokens], dtype=np.int64) for tokens in self.tokens]
        counts = np.bincount(np.concatenate(self.token_ids), minlength=len(vocab)).astype(np.float64)
        self.term_p = counts / counts.sum()
        # noise shaped like the corpus's own spread: its covariance's square root (principal axes)
        centred = self.vectors - self.vectors.mean(axis=0)
        eigenvalues, axes = np.linalg.eigh(centred.T @ centred / len(centred))
        self.noise_basis = (np.sqrt(np.clip(eigenvalues, 0, None))[:, None] * axes.T).astype(np.float32)
        self.sources = (f"{len(self.vectors):,} distinct real vectors (chunks, sentences and adjacent-sentence pairs of {len(units):,}"
                        f" paragraphs: {', '.join(datasets)}) + {len(self.sentence_vectors):,} sentence vectors")


def cached_vectors(home: Path, texts: list[str], embedder: object | None) -> np.ndarray:
    """The e5 passage vectors of ``texts``, embedded once and kept under ``home`` (not committed)."""
    import hashlib

    key = hashlib.sha256("\n\x00".join(texts).encode("utf-8")).hexdigest()[:16]
    path = home / "bench-scale" / f"real-{key}.npy"
    if path.exists():
        return np.load(path)
    if embedder is None:
        raise SystemExit(f"{len(texts)} real texts to embed and no model: convert the model first (rag models)")
    print(f"embedding {len(texts):,} real texts once (cached in {path}) ...", flush=True)
    t0 = time.perf_counter()
    order = np.argsort([len(t) for t in texts])  # batches of similar length
    parts = [embedder.encode_passages([texts[i] for i in order[s : s + 256]], batch_size=32) for s in range(0, len(texts), 256)]  # type: ignore[attr-defined]
    vectors = np.empty((len(texts), parts[0].shape[1]), np.float32)
    vectors[order] = np.vstack(parts)
    print(f"embedded in {time.perf_counter() - t0:.0f} s", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def perturbed(real: Real, base: np.ndarray, n: int, noise: float, rng: np.random.Generator, picks: np.ndarray | None = None) -> np.ndarray:
    """``n`` rows of ``base`` (random, or ``picks``) moved by Gaussian noise with the real vectors' covariance
    times ``noise``², re-normalised; in blocks (10^6 × 384 floats is 1.5 GB)."""
    picks = rng.integers(0, len(base), n) if picks is None else picks
    out = np.empty((len(picks), base.shape[1]), np.float32)
    for start in range(0, len(picks), 100_000):
        block = picks[start : start + 100_000]
        rows = base[block] + noise * (rng.standard_normal((len(block), base.shape[1]), dtype=np.float32) @ real.noise_basis)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        out[start : start + len(rows)] = rows
    return out


def nearest_cosines(vectors: np.ndarray, sample: np.ndarray, batch: int = 65_536) -> np.ndarray:
    """Cosine of each sampled row to its nearest other row (exact, in batches of the corpus)."""
    queries = vectors[sample]
    best = np.full(len(sample), -np.inf, np.float32)
    for start in range(0, len(vectors), batch):
        s = queries @ vectors[start : start + batch].T
        own = (sample >= start) & (sample < start + s.shape[1])
        s[np.flatnonzero(own), sample[own] - start] = -np.inf
        best = np.maximum(best, s.max(axis=1))
    return best


def quantiles(values: np.ndarray) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in (10, 50, 90)}


def calibrate_noise(real: Real, n: int, rng: np.random.Generator, probes: int = 100, neighbours: int = 16) -> tuple[float, dict[str, float]]:
    """Noise whose synthetic corpus of ``n`` units has the real paragraphs' median nearest-neighbour cosine.

    The real distribution: each real chunk vector's nearest other chunk vector. The synthetic one
    at ``n`` units is estimated locally: a copy of a source against ``n / sources`` copies of each of
    the source's ``neighbours`` nearest real vectors (its nearest neighbour is among them). Bisection
    on the noise; :func:`nearest_cosines` then measures the whole synthetic corpus for the report.
    """
    chunks = real.vectors[real.paragraph_rows]
    real_nn = nearest_cosines(chunks, np.arange(len(chunks)))
    target = float(np.median(real_nn))
    copies = max(1, round(n / len(real.vectors)))
    picks = rng.choice(len(real.vectors), probes, replace=False)
    near = np.argsort(-(real.vectors[picks] @ real.vectors.T), axis=1)[:, :neighbours]

    def median_nn(noise: float) -> float:
        r = np.random.default_rng(1)
        best = []
        for p, row in zip(picks, near, strict=True):
            probe = perturbed(real, real.vectors, 1, noise, r, picks=np.array([p]))[0]
            others = perturbed(real, real.vectors, copies * neighbours, noise, r, picks=np.repeat(row, copies))
            best.append(float((others @ probe).max()))
        return float(np.median(best))

    low, high = 0.0, 3.0
    for _ in range(10):
        mid = (low + high) / 2
        low, high = (mid, high) if median_nn(mid) > target else (low, mid)
    return round((low + high) / 2, 4), quantiles(real_nn)


def exact_top10(vectors: np.ndarray, queries: np.ndarray, batch: int = 65_536, k: int = 10) -> np.ndarray:
    """Ground truth by brute force, in batches of the corpus."""
    return exact_topk(vectors, queries, k, batch)[0]


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int, batch: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Rows and scores of the exact top ``k`` (best first) of every query, by brute force in batches of the corpus."""
    best_s = np.full((len(queries), k), -np.inf, np.float32)
    best_i = np.zeros((len(queries), k), np.int64)
    for start in range(0, len(vectors), batch):
        s = queries @ vectors[start : start + batch].T
        cand_s = np.concatenate([best_s, s], axis=1)
        cand_i = np.concatenate([best_i, np.arange(start, start + s.shape[1])[None, :].repeat(len(queries), 0)], axis=1)
        top = np.argpartition(-cand_s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, top, 1), np.take_along_axis(cand_i, top, 1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, 1), np.take_along_axis(best_s, order, 1)


def load_embedder() -> object | None:
    """The product's query/passage encoder, or None without a converted model."""
    from rag.config import Settings
    from rag.engine import choose_model, load_embedder_for

    try:
        settings = Settings()
        return load_embedder_for(choose_model(settings), settings)
    except Exception as error:  # no converted model here: perturbed passages only
        print(f"no model ({type(error).__name__}: {error})", flush=True)
        return None


def question_vectors(count: int, embedder: object | None) -> tuple[list[str], np.ndarray] | None:
    """Real questions (seed, XQuAD zh/en and CMRC) and their vectors through the product's encoder, or None without a model."""
    texts = [json.loads(line)["question"] for line in (ROOT / "eval" / "seed_questions.jsonl").open(encoding="utf-8")]
    for path in ("xquad/xquad.zh.json", "xquad/xquad.en.json", "cmrc2018/cmrc2018_trial.json"):
        data = json.loads((ROOT / "eval" / "data" / path).read_text(encoding="utf-8"))["data"]
        texts += [qa["question"] for article in data for p in article["paragraphs"] for qa in p["qas"]]
    picks = np.random.default_rng(0).choice(len(texts), min(count, len(texts)), replace=False)
    if embedder is None:
        return None
    chosen = [texts[i] for i in picks]
    return chosen, np.ascontiguousarray(embedder.encode_queries(chosen), dtype=np.float32)  # type: ignore[attr-defined]
