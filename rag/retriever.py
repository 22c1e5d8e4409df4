"""Search: dense and lexical candidates, pooled per unit, fused, and grouped per paragraph.

Chunks are scored, a unit takes the best score of its chunks (max-pooling), and a paragraph
and its sub-units compete for one slot in the ranking: the hit reports whichever of them
matched best, so "Aichi target 11" comes back as para 85, target 11, and the top k stays
k different paragraphs.

Three kinds of evidence are fused (:mod:`rag.fusion`): dense similarity (the unit's best chunk
mixed with its best sentence, since a question usually targets one sentence), BM25 over the
question, and -- for an English question -- BM25 over its dictionary translation into Chinese
(:mod:`rag.crosslingual`).

Filters (:class:`rag.filters.SearchFilter`: document, symbol, language, session, dates, body)
restrict the candidates before ranking, not after: the allowed documents' chunk rows are
scored exactly, so a narrow filter still gets its k best paragraphs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np

from index.store import LoadedIndex
from rag.answer_type import expects_number, has_number
from rag.crosslingual import BilingualLexicon, shared_lexicon, translated_scores
from rag.filters import SearchFilter
from rag.fusion import FusionParams, fuse_scores, lexical_weight, translation_weight
from rag.language import Language, detect_language
from rag.units import Unit

__all__ = ["Hit", "QueryEncoder", "RetrievalMode", "Retriever", "SearchResult"]

MIN_CANDIDATES = 200
_ROW_CACHE = 32  # allowed-row arrays kept per retriever (one per distinct filter)
ANSWER_TYPE_CANDIDATES = 20  # only the top of the fused ranking is re-examined for answer type


class RetrievalMode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


class QueryEncoder(Protocol):
    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked unit; ``paragraph`` is the enclosing paragraph of a sub-unit (else None)."""

    unit: Unit
    paragraph: Unit | None
    rank: int
    score: float
    dense: float | None  # (1 - λ) · best chunk cosine + λ · best sentence cosine; None if not a dense candidate
    lexical: float | None  # BM25 score of the best chunk, None if no shared term
    translated: float | None = None  # BM25 score of the translated question (English over Chinese)

    @property
    def group_id(self) -> str:
        return self.unit.parent or self.unit.id

    def to_record(self) -> dict[str, object]:
        return {
            "id": self.unit.id,
            "doc": self.unit.doc,
            "para": self.unit.para,
            "sub": self.unit.sub,
            "score": round(self.score, 6),
            "dense": None if self.dense is None else round(self.dense, 6),
            "lexical": None if self.lexical is None else round(self.lexical, 6),
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    language: Language
    mode: RetrievalMode
    lexical_weight: float
    hits: tuple[Hit, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    query_vector: np.ndarray | None = None  # reused by the answer composer to score sentences
    translation_weight: float = 0.0  # weight of the translated-question channel (0: not used)


class Retriever:
    """Runs queries against a loaded index; the query encoder is needed for dense and hybrid.

    ``lexicon`` translates English questions for the lexical channel (:mod:`rag.crosslingual`);
    by default a process-wide lexicon built in memory on the first English question. Pass one
    with a cache directory to skip the ~1.5 s build, or set ``fusion.translation_alpha = 0`` to
    turn translation off.
    """

    def __init__(
        self,
        index: LoadedIndex,
        encoder: QueryEncoder | None,
        *,
        fusion: FusionParams | None = None,
        lexicon: BilingualLexicon | None = None,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.fusion = fusion or FusionParams()
        self._lexicon = lexicon
        self._chunk_docs: np.ndarray | None = None  # document code of each chunk row
        self._doc_codes: dict[str, int] = {}
        self._rows: dict[frozenset[str], np.ndarray] = {}

    @property
    def lexicon(self) -> BilingualLexicon:
        if self._lexicon is None:
            self._lexicon = shared_lexicon()
        return self._lexicon

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        doc: str | None = None,
        mode: RetrievalMode = RetrievalMode.HYBRID,
        where: SearchFilter | None = None,
    ) -> SearchResult:
        return self.search_many([query], k, doc=doc, mode=mode, where=where)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        doc: str | None = None,
        mode: RetrievalMode = RetrievalMode.HYBRID,
        where: SearchFilter | None = None,
    ) -> list[SearchResult]:
        """Search several queries, encoding them in one batch (evaluation, batch CLI).

        Raises:
            KeyError: ``doc``, or a document named by ``where``, is not in the index.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        allowed = self.allowed_documents(doc, where)
        started = time.perf_counter()
        vectors = None
        if mode is not RetrievalMode.LEXICAL:
            if self.encoder is None:
                raise ValueError(f"{mode.value} search needs the embedding model")
            vectors = self.encoder.encode_queries(list(queries))
        encode_ms = (time.perf_counter() - started) * 1000 / max(len(queries), 1)
        return [self._search_one(q, None if vectors is None else vectors[i], k, allowed, mode, encode_ms) for i, q in enumerate(queries)]

    def allowed_documents(self, doc: str | None, where: SearchFilter | None) -> frozenset[str] | None:
        """The document ids a search may return; None when unrestricted."""
        documents = self.index.documents
        if doc is not None and doc not in documents:
            raise KeyError(doc)
        allowed = None if doc is None else frozenset([doc])
        if where is not None and not where.empty:
            unknown = where.unknown_docs(documents)
            if unknown:
                raise KeyError(unknown[0])
            passing = where.allowed(documents)
            allowed = passing if allowed is None else allowed & passing
        return allowed

    def _allowed_rows(self, allowed: frozenset[str]) -> np.ndarray:
        """Chunk rows of the allowed documents (cached per filter)."""
        rows = self._rows.get(allowed)
        if rows is None:
            if self._chunk_docs is None:
                self._doc_codes = {doc: code for code, doc in enumerate(self.index.documents)}
                units = self.index.units
                self._chunk_docs = np.fromiter(
                    (self._doc_codes.get(units[c.unit_id].doc, -1) for c in self.index.chunks), dtype=np.int32, count=len(self.index.chunks)
                )
            codes = np.fromiter((self._doc_codes[d] for d in allowed if d in self._doc_codes), dtype=np.int32)
            rows = np.flatnonzero(np.isin(self._chunk_docs, codes))
            if len(self._rows) >= _ROW_CACHE:
                self._rows.pop(next(iter(self._rows)))
            self._rows[allowed] = rows
        return rows

    def _search_one(
        self, query: str, vector: np.ndarray | None, k: int, allowed: frozenset[str] | None, mode: RetrievalMode, encode_ms: float
    ) -> SearchResult:
        started = time.perf_counter()
        rows = None if allowed is None else self._allowed_rows(allowed)
        language = detect_language(query)
        if rows is not None and rows.size == 0:  # the filter matches no document
            timings = {"encode": round(encode_ms, 2), "search": round((time.perf_counter() - started) * 1000, 2)}
            return SearchResult(query, language, mode, 0.0, (), timings, vector, 0.0)
        depth = min(len(self.index.chunks), max(MIN_CANDIDATES, 20 * k))
        dense = self._dense_candidates(vector, depth, rows) if vector is not None else {}
        lexical = self._lexical_candidates(query, depth, rows) if mode is not RetrievalMode.DENSE else {}
        translated: dict[str, float] = {}
        t_weight = 0.0
        if mode is not RetrievalMode.DENSE and language == "en" and self.fusion.translation_alpha > 0:
            translated, share = self._translated_candidates(query, depth, rows)
            t_weight = translation_weight(share, self.fusion) if translated else 0.0
        if mode is RetrievalMode.HYBRID:
            weight = lexical_weight(self.index.lexical.coverage(query), self.fusion)
        else:
            weight = 1.0 if mode is RetrievalMode.LEXICAL else 0.0
        if mode is RetrievalMode.LEXICAL and translated:
            t_weight = 0.5 * (1.0 - self.index.lexical.coverage(query))  # lexical only: share the budget
        weight = min(weight, 1.0 - t_weight)
        fused = fuse_scores(dense, lexical if weight > 0 else {}, weight, translated, t_weight)
        if mode is RetrievalMode.HYBRID and self.fusion.answer_type_bonus > 0 and expects_number(query):
            assert vector is not None
            fused = self._answer_type_boost(fused, np.asarray(vector, dtype=np.float32))
        hits = self._group(fused, dense, lexical, k, translated)
        timings = {"encode": round(encode_ms, 2), "search": round((time.perf_counter() - started) * 1000, 2)}
        return SearchResult(query, language, mode, weight, tuple(hits), timings, vector, t_weight)

    def _dense_candidates(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> dict[str, float]:
        query = np.asarray(vector, dtype=np.float32)
        if allowed is None:
            scores, rows = self.index.dense.search(query[None, :], depth)
            pooled = self._pool(rows[0], scores[0])
        else:  # exact scores over the allowed rows only
            row_scores = self.index.vectors[allowed] @ query
            top = _top(row_scores, depth)
            pooled = self._pool(allowed[top], row_scores[top])
        weight = self.fusion.sentence_weight
        if weight > 0 and pooled:
            pooled = self._with_sentences(pooled, query, weight)
        return pooled

    def _with_sentences(self, pooled: dict[str, float], query: np.ndarray, weight: float) -> dict[str, float]:
        """Multi-granularity dense score: ``(1 - λ) · best chunk + λ · best sentence`` of each unit.

        A question usually targets one sentence; a 400-character chunk's embedding averages it
        with its neighbours. Scoring passages by their best sentence as well as by the whole is
        the passage-level evidence combination of Callan (1994, "Passage-level evidence in
        document retrieval", SIGIR), here with the index's stored sentence embeddings.
        """
        rows_of = self.index.sentence_rows
        vectors = self.index.sentence_vectors
        out: dict[str, float] = {}
        for unit_id, score in pooled.items():
            rows = rows_of.get(unit_id)
            if rows is None or len(rows) == 0:
                out[unit_id] = score
                continue
            best = float(np.max(vectors[rows.start : rows.stop] @ query))
            out[unit_id] = (1 - weight) * score + weight * best
        return out

    def _answer_type_boost(self, fused: dict[str, float], query: np.ndarray) -> dict[str, float]:
        """Raise the top candidates whose best-matching sentence states a number (rag.answer_type)."""
        boosted = dict(fused)
        for unit_id in sorted(fused, key=lambda u: -fused[u])[:ANSWER_TYPE_CANDIDATES]:
            rows = self.index.sentence_rows.get(unit_id)
            if rows:
                best = rows.start + int(np.argmax(self.index.sentence_vectors[rows.start : rows.stop] @ query))
                evidence = self.index.sentences[best].text
            else:
                evidence = self.index.units[unit_id].text
            if has_number(evidence):
                boosted[unit_id] += self.fusion.answer_type_bonus
        return boosted

    def _lexical_candidates(self, query: str, depth: int, allowed: np.ndarray | None) -> dict[str, float]:
        if allowed is None:
            rows, scores = self.index.lexical.search(query, depth)
            return self._pool(rows, scores)
        row_scores = self.index.lexical.scores(query)[allowed]
        top = _top(row_scores, depth)
        top = top[row_scores[top] > 0]
        return self._pool(allowed[top], row_scores[top])

    def _translated_candidates(self, query: str, depth: int, allowed: np.ndarray | None) -> tuple[dict[str, float], float]:
        """BM25 over the dictionary translation of an English question, pooled per unit."""
        lexical = self.index.lexical
        concepts = self.lexicon.translate(query, known=lambda term: lexical.coverage(term) >= 1.0)
        scores, share = translated_scores(lexical, concepts, max_translations=self.fusion.max_translations)
        if scores is None:
            return {}, 0.0
        if allowed is not None:
            kept = np.zeros_like(scores)
            kept[allowed] = scores[allowed]
            scores = kept
        rows = np.flatnonzero(scores > 0)
        if rows.size > depth:
            rows = rows[np.argsort(-scores[rows], kind="stable")[:depth]]
        return self._pool(rows, scores[rows]), share

    def _pool(self, rows: np.ndarray, scores: np.ndarray) -> dict[str, float]:
        """Max-pool chunk scores into unit scores."""
        pooled: dict[str, float] = {}
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            if row < 0:
                continue
            unit_id = self.index.chunks[row].unit_id
            if score > pooled.get(unit_id, -np.inf):
                pooled[unit_id] = score
        return pooled

    def _group(
        self,
        fused: dict[str, float],
        dense: dict[str, float],
        lexical: dict[str, float],
        k: int,
        translated: dict[str, float] | None = None,
    ) -> list[Hit]:
        """One slot per paragraph: the best of the paragraph and its sub-units takes it."""
        units = self.index.units
        best: dict[str, tuple[float, str]] = {}
        for unit_id, score in fused.items():
            group = units[unit_id].parent or unit_id
            if group not in best or score > best[group][0]:
                best[group] = (score, unit_id)
        ranked = sorted(best.values(), key=lambda item: (-item[0], item[1]))[:k]
        return [
            Hit(
                unit=units[unit_id],
                paragraph=units.get(units[unit_id].parent) if units[unit_id].parent else None,
                rank=rank,
                score=score,
                dense=dense.get(unit_id),
                lexical=lexical.get(unit_id),
                translated=None if translated is None else translated.get(unit_id),
            )
            for rank, (score, unit_id) in enumerate(ranked, start=1)
        ]


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Positions of the ``depth`` highest scores, best first (ties: lower position first)."""
    if scores.size > depth:
        part = np.argpartition(-scores, depth - 1)[:depth]
        return part[np.lexsort((part, -scores[part]))]
    return np.lexsort((np.arange(scores.size), -scores))
