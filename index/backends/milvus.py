"""Milvus behind the storage interface: one collection per index, dense and BM25 in one row.

Why: past what one machine holds, several service replicas must search one shared index.
Milvus stores the chunk vectors and the BM25 postings, filters on document metadata and
scales out; the product keeps its own fusion (:mod:`rag.fusion`) by asking Milvus only for
candidates (dense top-k, BM25 top-k), never for a fused ranking.

Collection (one row per chunk)::

    id        VARCHAR primary key   chunk id "<unit>#<n>"
    unit      VARCHAR               unit id, what the retriever pools on
    doc, symbol, language, date  VARCHAR; session INT64   filterable document metadata
    body      VARCHAR               the indexed passage (heading + chunk text)
    text_zh   VARCHAR, analyser {"tokenizer": "jieba"}     body of a Chinese chunk, else ""
    text_en   VARCHAR, analyser {"type": "english"}        body of an English chunk, else ""
    bm25_zh, bm25_en  SPARSE_FLOAT_VECTOR  from a BM25 Function each (k1 1.5, b 0.75, as bm25s)
    vector    FLOAT_VECTOR          the chunk's embedding (L2-normalised, metric IP)

One BM25 field per language because ``multi_analyzer_params`` needs Milvus >= 2.5.11 and
milvus-lite 2.5.1 ignores it silently. A query is searched in both fields and a chunk keeps
its (only non-zero) score. Query coverage (how many of the question's terms the corpus has,
the fusion's lexical confidence) is asked of Milvus too: each of our analyser's terms is
searched with limit 1 in one batched request per field. Those answers are cached for
``KNOWN_TERMS_TTL_S`` (the dictionary translation checks dozens of candidate terms per English
question); the cache is dropped on this process's own writes, so a term that another replica
has just added counts as unknown for at most that long -- it only weighs the lexical channels,
the candidates themselves always come from a fresh search.

Consistency: searches run at the collection's level, Strong by default, so a chunk added by
any process is found by the next search of every process sharing the server (milvus-lite
is always immediate; a cluster's default Bounded is not). Sentence vectors for answer
evidence stay in the local build (measured in bench/milvus_equivalence.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index.backends import Candidates, ChunkRecord, TranslatedConcept
from index.store import IndexMismatchError
from rag.analysis import analyze

__all__ = [
    "ANALYZERS",
    "MilvusDense",
    "MilvusLexical",
    "MilvusStore",
    "MilvusUnavailableError",
    "connect",
]

ANALYZERS = {"zh": {"tokenizer": "jieba", "filter": ["lowercase"]}, "en": {"type": "english"}}
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}
MAX_BODY = 16_384  # bytes; a 400-character chunk with its heading is < 2 KB of UTF-8
MAX_LIMIT = 16_384  # Milvus's top-k ceiling
INSERT_BATCH = 1_000
KNOWN_TERMS_TTL_S = 30.0
DENSE_INDEXES = {
    "FLAT": {},
    "IVF_FLAT": {"nlist": 1024},
    "HNSW": {"M": 32, "efConstruction": 200},
    "AUTOINDEX": {},
}
SEARCH_PARAMS = {"FLAT": {}, "IVF_FLAT": {"nprobe": 64}, "HNSW": {"ef": 256}, "AUTOINDEX": {}}


class MilvusUnavailableError(IndexMismatchError):
    """Milvus cannot be reached, or the collection is missing or built for another model.

    A mismatch, not a missing index: rebuilding the local index cannot fix it, so callers that
    rebuild on a missing index (the API's start-up) stop with this sentence instead.
    """


def connect(uri: str, token: str | None = None) -> object:
    """A ``MilvusClient``: ``uri`` is a server (``http://host:19530``) or a local ``.db`` file (milvus-lite)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as error:  # pragma: no cover - the dependency is declared
        raise MilvusUnavailableError("the Milvus backend needs pymilvus (pip install 'pymilvus>=2.5,<2.7')") from error
    try:
        return MilvusClient(uri=uri, token=token or "")
    except Exception as error:  # pymilvus raises its own exception types, and OSError for a bad path
        raise MilvusUnavailableError(f"cannot reach Milvus at {uri}: {error}") from error


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _doc_filter(docs: frozenset[str] | None) -> str:
    """The allowed documents as a Milvus boolean expression ("" = unrestricted)."""
    return "" if docs is None else f"doc in [{', '.join(_quote(d) for d in sorted(docs))}]"


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection records about the index it mirrors (in its description)."""

    model_id: str
    dimension: int
    corpus_hash: str
    index_type: str


class MilvusStore:
    """One collection: creation, writes, counts. ``MilvusDense``/``MilvusLexical`` search it."""

    def __init__(self, client: object, collection: str, *, consistency: str = "Strong", index_type: str = "FLAT") -> None:
        if index_type not in DENSE_INDEXES:
            raise ValueError(f"unknown dense index {index_type!r}; one of {', '.join(DENSE_INDEXES)}")
        self.client = client
        self.collection = collection
        self.consistency = consistency
        self.index_type = index_type
        self.generation = 0  # bumped on every write through this object (invalidates term caches)

    # -- lifecycle -----------------------------------------------------------

    def exists(self) -> bool:
        return bool(self.client.has_collection(self.collection))

    def info(self) -> CollectionInfo | None:
        """The recorded model, dimension and corpus hash; None if there is no collection."""
        if not self.exists():
            return None
        description = self.client.describe_collection(self.collection).get("description", "")
        try:
            return CollectionInfo(**json.loads(description))
        except (ValueError, TypeError):
            return None

    def create(self, info: CollectionInfo, *, replace: bool = False) -> None:
        from pymilvus import DataType, Function, FunctionType

        if self.exists():
            if not replace:
                raise MilvusUnavailableError(f"collection {self.collection!r} already exists")
            self.client.drop_collection(self.collection)
        schema = self.client.create_schema(auto_id=False, description=json.dumps(info.__dict__))
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("unit", DataType.VARCHAR, max_length=512)
        schema.add_field("doc", DataType.VARCHAR, max_length=256)
        schema.add_field("symbol", DataType.VARCHAR, max_length=256)
        schema.add_field("language", DataType.VARCHAR, max_length=8)
        schema.add_field("session", DataType.INT64)
        schema.add_field("date", DataType.VARCHAR, max_length=32)
        schema.add_field("body", DataType.VARCHAR, max_length=MAX_BODY)
        for lang, analyzer in ANALYZERS.items():
            schema.add_field(f"text_{lang}", DataType.VARCHAR, max_length=MAX_BODY, enable_analyzer=True, analyzer_params=analyzer)
            schema.add_field(f"bm25_{lang}", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name=f"bm25_{lang}_fn",
                    function_type=FunctionType.BM25,
                    input_field_names=[f"text_{lang}"],
                    output_field_names=[f"bm25_{lang}"],
                )
            )
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=info.dimension)
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type=self.index_type, metric_type="IP", params=DENSE_INDEXES[self.index_type])
        for lang in ANALYZERS:
            params.add_index(f"bm25_{lang}", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS)
        for scalar in ("doc", "unit"):
            params.add_index(scalar, index_type="INVERTED")
        self.client.create_collection(self.collection, schema=schema, index_params=params, consistency_level=self.consistency)

    def drop(self) -> None:
        if self.exists():
            self.client.drop_collection(self.collection)

    # -- writes ----------------------------------------------------------------

    def add(self, records: Sequence[ChunkRecord], vectors: np.ndarray) -> None:
        """Insert (or replace, by chunk id) chunks with their vectors."""
        if len(records) != len(vectors):
            raise ValueError(f"{len(records)} chunks but {len(vectors)} vectors")
        vectors = np.asarray(vectors, dtype=np.float32)
        self.generation += 1
        for start in range(0, len(records), INSERT_BATCH):
            rows = [
                {
                    "id": r.id, "unit": r.unit, "doc": r.doc, "symbol": r.symbol, "language": r.language,
                    "session": r.session, "date": r.date, "body": r.body,
                    "text_zh": r.body if r.language == "zh" else "",
                    "text_en": r.body if r.language != "zh" else "",
                    "vector": vector.tolist(),
                }
                for r, vector in zip(records[start : start + INSERT_BATCH], vectors[start : start + INSERT_BATCH], strict=True)
            ]
            self.client.upsert(self.collection, rows)

    def remove_units(self, unit_ids: Sequence[str]) -> int:
        if not unit_ids:
            return 0
        self.generation += 1
        expression = f"unit in [{', '.join(_quote(u) for u in unit_ids)}]"
        result = self.client.delete(self.collection, filter=expression)
        return int(result.get("delete_count", 0)) if isinstance(result, dict) else len(result)

    def remove_documents(self, docs: Sequence[str]) -> int:
        if not docs:
            return 0
        self.generation += 1
        result = self.client.delete(self.collection, filter=f"doc in [{', '.join(_quote(d) for d in docs)}]")
        return int(result.get("delete_count", 0)) if isinstance(result, dict) else len(result)

    def count(self) -> int:
        rows = self.client.query(self.collection, filter="", output_fields=["count(*)"], consistency_level=self.consistency)
        return int(rows[0]["count(*)"])

    # -- searches ------------------------------------------------------------

    def _search(self, data: list, field: str, k: int, docs: frozenset[str] | None, params: dict) -> list[list[dict]]:
        return self.client.search(
            self.collection,
            data=data,
            anns_field=field,
            limit=min(int(k), MAX_LIMIT),
            filter=_doc_filter(docs),
            output_fields=["unit"],
            search_params=params,
            consistency_level=self.consistency,
        )

    def search_dense(self, vectors: np.ndarray, k: int, docs: frozenset[str] | None) -> list[list[dict]]:
        data = [v.tolist() for v in np.atleast_2d(np.asarray(vectors, dtype=np.float32))]
        return self._search(data, "vector", k, docs, {"metric_type": "IP", "params": SEARCH_PARAMS[self.index_type]})

    def search_bm25(self, texts: Sequence[str], k: int, docs: frozenset[str] | None) -> list[dict[str, tuple[str, float]]]:
        """Per text: chunk id -> (unit, BM25 score), the best of the two language fields."""
        merged: list[dict[str, tuple[str, float]]] = [{} for _ in texts]
        if not texts:
            return merged
        for lang in ANALYZERS:
            results = self._search(list(texts), f"bm25_{lang}", k, docs, {"metric_type": "BM25"})
            for found, hits in zip(merged, results, strict=True):
                for hit in hits:
                    score = float(hit["distance"])
                    if score > found.get(hit["id"], ("", 0.0))[1]:
                        found[hit["id"]] = (hit["entity"]["unit"], score)
        return merged


def _ranked(found: dict[str, tuple[str, float]], k: int) -> Candidates:
    order = sorted(found.items(), key=lambda item: (-item[1][1], item[0]))[:k]
    return Candidates(
        tuple(i for i, _ in order), tuple(u for _, (u, _) in order), np.asarray([s for _, (_, s) in order], dtype=np.float32)
    )


class MilvusDense:
    """Dense candidates from the collection's vector field (exact with FLAT)."""

    def __init__(self, store: MilvusStore) -> None:
        self.store = store

    def count(self) -> int:
        return self.store.count()

    def search(self, vectors: np.ndarray, k: int, *, docs: frozenset[str] | None = None) -> list[Candidates]:
        results = self.store.search_dense(vectors, k, docs)
        return [
            Candidates(
                tuple(h["id"] for h in hits), tuple(h["entity"]["unit"] for h in hits),
                np.asarray([h["distance"] for h in hits], dtype=np.float32),
            )
            for hits in results
        ]


class MilvusLexical:
    """BM25 candidates from Milvus's analysers (jieba for Chinese, english for English)."""

    def __init__(self, store: MilvusStore, *, ttl_s: float = KNOWN_TERMS_TTL_S) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[bool, float]] = {}
        self._generation = store.generation

    def count(self) -> int:
        return self.store.count()

    def search(self, queries: Sequence[str], k: int, *, docs: frozenset[str] | None = None) -> list[Candidates]:
        return [_ranked(found, k) for found in self.store.search_bm25(queries, k, docs)]

    def known_terms(self, terms: Iterable[str]) -> set[str]:
        """The terms some chunk contains (one batched limit-1 search per language field, cached)."""
        now = time.monotonic()
        if self._generation != self.store.generation:
            self._known, self._generation = {}, self.store.generation
        unique = set(terms)
        missing = sorted(t for t in unique if t not in self._known or now - self._known[t][1] > self.ttl_s)
        if missing:
            for term, found in zip(missing, self.store.search_bm25(missing, 1, None), strict=True):
                self._known[term] = (bool(found), now)
        return {t for t in unique if self._known[t][0]}

    def coverage(self, query: str) -> float:
        tokens = analyze(query)
        if not tokens:
            return 0.0
        known = self.known_terms(tokens)
        return sum(1 for t in tokens if t in known) / len(tokens)

    def translated(
        self, concepts: Iterable[TranslatedConcept], *, max_translations: int, k: int, docs: frozenset[str] | None = None
    ) -> tuple[Candidates, float]:
        """``sum over concepts of max_t w_t · BM25(t, chunk)`` as rag.translated_scoring.translated_scores, on Milvus's top k per term."""
        concepts = list(concepts)
        targets = {t for c in concepts for t, _ in c.translations}
        known = self.known_terms(targets) if targets else set()
        kept_per_concept: list[list[tuple[str, float]]] = []
        for concept in concepts:
            kept = [(t, w) for t, w in concept.translations if t in known][:max_translations]
            kept_per_concept.append(kept)
        terms = sorted({t for kept in kept_per_concept for t, _ in kept})
        found = dict(zip(terms, self.store.search_bm25(terms, k, docs), strict=True)) if terms else {}
        total: dict[str, tuple[str, float]] = {}
        for kept in kept_per_concept:
            best: dict[str, tuple[str, float]] = {}
            for term, weight in kept:
                for chunk, (unit, score) in found[term].items():
                    if weight * score > best.get(chunk, ("", 0.0))[1]:
                        best[chunk] = (unit, weight * score)
            for chunk, (unit, score) in best.items():
                total[chunk] = (unit, total.get(chunk, ("", 0.0))[1] + score)
        share = sum(1 for kept in kept_per_concept if kept) / len(concepts) if concepts else 0.0
        return _ranked(total, k), share
