"""Search: dense and lexical candidates, pooled per unit, fused, and grouped per paragraph.

Chunks are scored, a unit takes the best score of its chunks (max-pooling), and a paragraph
and its sub-units compete for one slot in the ranking: the hit reports whichever of them
matched best, so "Aichi target 11" comes back as para 85, target 11, and the top k stays
k different paragraphs.

Three kinds of evidence are fused (:mod:`rag.fusion`): dense similarity (the unit's best chunk
mixed with its best sentence, since a question usually targets one sentence), BM25 over the
question, and BM25 over its dictionary translation: an English question into Chinese, and a
Chinese question over an index that holds English text into the English words of its CC-CEDICT
glosses (:mod:`rag.crosslingual`).

Filters (:class:`rag.filters.SearchFilter`: document, symbol, language, session, dates, body)
become a set of allowed documents that the stores apply before ranking, not after (the local
store scores the allowed rows exactly, Milvus filters in its search), so a narrow filter still
gets its k best paragraphs.

Candidates come from a :class:`index.backends.DenseIndex` and a :class:`index.backends.LexicalIndex`
(by default the build's FAISS and bm25s arrays; Milvus by configuration), addressed by chunk id.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np

from index.backends import Candidates, DenseIndex, LexicalIndex
from index.backends.local import Bm25Lexical, FaissDense
from index.store import LoadedIndex
from index.views import UnitDocsView
from rag.analysis import analyze
from rag.answer_type import expects_number, has_number
from rag.crosslingual import BilingualLexicon, Concept, shared_lexicon
from rag.filters import SearchFilter
from rag.fusion import FusionParams, fuse_scores, lexical_weight, translation_weight
from rag.language import Language, detect_language
from rag.quantities import asked_measure, counted_renderings, states_measure
from rag.units import Unit

__all__ = ["Hit", "QueryEncoder", "RetrievalMode", "Retriever", "SearchResult"]

MIN_CANDIDATES = 200
ANSWER_TYPE_CANDIDATES = 20  # only the top of the fused ranking is re-examined for answer type
KNOWN_TERMS_CACHE = 100_000  # memoised "is this translated term in the corpus" answers per retriever
FULL_SENTENCE_PRODUCT = 0.25  # candidates' sentences above this share of all: one product with every sentence, no gather


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
    translated: float | None = None  # BM25 score of the dictionary-translated question (across languages)

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
        dense: DenseIndex | None = None,
        lexical: LexicalIndex | None = None,
    ) -> None:
        self.index = index
        unit_docs = UnitDocsView(index.store)  # ids and documents from the store's row maps; records stay on disk
        self.dense = dense or FaissDense(index.dense, index.chunks, index.vectors, unit_docs)
        self.lexical = lexical or Bm25Lexical(index.lexical, index.chunks, unit_docs)
        self.encoder = encoder
        self.fusion = fusion or FusionParams()
        self._lexicon = lexicon
        self._known_terms: dict[str, bool] = {}
        self._holds_english: bool | None = None  # does the index hold English text (decided on first need)
        # the local store takes the question's tokens, so a request analyses it once (Milvus analyses its own)
        self._analyse = self.lexical.analyse if isinstance(self.lexical, Bm25Lexical) else None

    def _known_term(self, term: str) -> bool:
        """Whether every token of a dictionary translation occurs in the corpus; memoised per
        retriever (bounded), since the same few thousand glossary terms recur across questions
        and each look-up runs the Chinese analyser."""
        if not isinstance(self.lexical, Bm25Lexical):  # a live store (Milvus) keeps its own expiring cache
            return self.lexical.coverage(term) >= 1.0
        known = self._known_terms.get(term)
        if known is None:
            known = self.lexical.coverage(term) >= 1.0
            if len(self._known_terms) >= KNOWN_TERMS_CACHE:
                self._known_terms.clear()
            self._known_terms[term] = known
        return known

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

    def _search_one(
        self, query: str, vector: np.ndarray | None, k: int, allowed: frozenset[str] | None, mode: RetrievalMode, encode_ms: float
    ) -> SearchResult:
        started = time.perf_counter()
        language = detect_language(query)
        if allowed is not None and not allowed:  # the filter matches no document
            timings = {"encode": round(encode_ms, 2), "search": round((time.perf_counter() - started) * 1000, 2)}
            return SearchResult(query, language, mode, 0.0, (), timings, vector, 0.0)
        depth = min(len(self.index.chunks), max(MIN_CANDIDATES, 20 * k))
        tokens = self._analyse(query) if self._analyse is not None and mode is not RetrievalMode.DENSE else None
        dense = self._dense_candidates(vector, depth, allowed) if vector is not None else {}
        lexical = self._lexical_candidates(query, depth, allowed, tokens) if mode is not RetrievalMode.DENSE else {}
        translated: dict[str, float] = {}
        t_weight = 0.0
        if mode is not RetrievalMode.DENSE and self.fusion.translation_alpha > 0:
            if language == "en":
                translated, share = self._translated_candidates(query, depth, allowed)
            elif language == "zh" and self._english_text():
                translated, share = self._glossed_candidates(query, depth, allowed, tokens)
            t_weight = translation_weight(share, self.fusion) if translated else 0.0
        needs_coverage = mode is RetrievalMode.HYBRID or (mode is RetrievalMode.LEXICAL and translated)
        coverage = self._coverage(query, tokens) if needs_coverage else 0.0
        weight = lexical_weight(coverage, self.fusion) if mode is RetrievalMode.HYBRID else float(mode is RetrievalMode.LEXICAL)
        if mode is RetrievalMode.LEXICAL and translated:
            t_weight = 0.5 * (1.0 - coverage)  # lexical only: share the budget
        weight = min(weight, 1.0 - t_weight)
        fused = fuse_scores(dense, lexical if weight > 0 else {}, weight, translated, t_weight)
        if mode is RetrievalMode.HYBRID and self.fusion.answer_type_bonus > 0 and expects_number(query):
            assert vector is not None
            fused = self._answer_type_boost(fused, np.asarray(vector, dtype=np.float32), query, language)
        hits = self._group(fused, dense, lexical, k, translated)
        timings = {"encode": round(encode_ms, 2), "search": round((time.perf_counter() - started) * 1000, 2)}
        return SearchResult(query, language, mode, weight, tuple(hits), timings, vector, t_weight)

    def _dense_candidates(self, vector: np.ndarray, depth: int, allowed: frozenset[str] | None) -> dict[str, float]:
        query = np.asarray(vector, dtype=np.float32)
        pooled = self._pool(self.dense.search(query[None, :], depth, docs=allowed)[0], allowed)
        weight = self.fusion.sentence_weight
        if weight > 0 and pooled:
            pooled = self._with_sentences(pooled, query, weight)
        return pooled

    def _coverage(self, query: str, tokens: list[str] | None) -> float:
        return self.lexical.coverage(query) if tokens is None else self.lexical.coverage(query, tokens=tokens)  # type: ignore[call-arg]

    def _with_sentences(self, pooled: dict[str, float], query: np.ndarray, weight: float) -> dict[str, float]:
        """Multi-granularity dense score: ``(1 - λ) · best chunk + λ · best sentence`` of each unit.

        A question usually targets one sentence; a 400-character chunk's embedding averages it
        with its neighbours. Scoring passages by their best sentence as well as by the whole is
        the passage-level evidence combination of Callan (1994, "Passage-level evidence in
        document retrieval", SIGIR), here with the index's stored sentence embeddings.
        """
        candidates = list(pooled)
        keep, starts, sizes = self.index.store.sentence_spans(candidates)  # first sentence row and count of each, from RAM
        out = dict(pooled)
        if not keep:
            return out
        with_rows = [candidates[i] for i in keep]
        # the candidates' sentence rows as one index array, then one max per unit (np.maximum.reduceat)
        offsets = np.cumsum(sizes) - sizes
        total = int(offsets[-1] + sizes[-1])
        rows = np.repeat(starts - offsets, sizes) + np.arange(total)
        vectors = self.index.sentence_vectors
        # most sentences are candidates: one product with all of them, no gather of their rows
        scores = (vectors @ query)[rows] if total > FULL_SENTENCE_PRODUCT * len(vectors) else vectors[rows] @ query
        best = np.maximum.reduceat(scores, offsets)
        for unit_id, sentence in zip(with_rows, best.tolist()):
            out[unit_id] = (1 - weight) * pooled[unit_id] + weight * sentence
        return out

    def _answer_type_boost(self, fused: dict[str, float], query: np.ndarray, question: str, language: Language) -> dict[str, float]:
        """Raise the top candidates whose best-matching sentence states a number (rag.answer_type), or,
        for a quantity question, a quantity of the asked kind (rag.quantities: "多少份" wants "137 份",
        not the "3 名获奖者" of a neighbouring paragraph)."""
        measure = asked_measure(question)
        translations = counted_renderings(measure, self.lexicon.lookup) if measure is not None and language == "en" else []
        boosted = dict(fused)
        for unit_id in heapq.nlargest(ANSWER_TYPE_CANDIDATES, fused, key=fused.__getitem__):  # = sorted(...)[:n], ties in order
            rows = self.index.sentence_rows.get(unit_id)
            if rows:
                best = rows.start + int(np.argmax(self.index.sentence_vectors[rows.start : rows.stop] @ query))
                evidence = self.index.sentences[best].text
            else:
                evidence = self.index.units[unit_id].text
            if measure is None:
                answers = has_number(evidence)
            else:  # the asked quantity may sit in another sentence of the paragraph than the closest one
                answers = states_measure(measure, evidence, question, translations) or (
                    bool(rows) and states_measure(measure, self.index.units[unit_id].text, question, translations)
                )
            if answers:
                boosted[unit_id] += self.fusion.answer_type_bonus
        return boosted

    def _lexical_candidates(self, query: str, depth: int, allowed: frozenset[str] | None, tokens: list[str] | None = None) -> dict[str, float]:
        if tokens is None:
            return self._pool(self.lexical.search([query], depth, docs=allowed)[0], allowed)
        return self._pool(self.lexical.search([query], depth, docs=allowed, tokens=[tokens])[0], allowed)  # type: ignore[call-arg]

    def _translated_candidates(self, query: str, depth: int, allowed: frozenset[str] | None) -> tuple[dict[str, float], float]:
        """BM25 over the dictionary translation of an English question, pooled per unit."""
        return self._concept_candidates(self.lexicon.translate(query, known=self._known_term), depth, allowed)

    def _glossed_candidates(
        self, query: str, depth: int, allowed: frozenset[str] | None, tokens: list[str] | None
    ) -> tuple[dict[str, float], float]:
        """BM25 over the English glosses of a Chinese question's words (CC-CEDICT read as written), pooled per
        unit: the dictionary channel the other way round, for English paragraphs. Measured on XQuAD
        (Chinese questions over the English paragraphs): hybrid R@1 0.710 -> 0.841, R@5 0.927 -> 0.971."""
        return self._concept_candidates(self.lexicon.glossed(tokens if tokens is not None else analyze(query)), depth, allowed)

    def _concept_candidates(self, concepts: list[Concept], depth: int, allowed: frozenset[str] | None) -> tuple[dict[str, float], float]:
        """Structured BM25 of dictionary concepts (either direction), pooled per unit, and the share that found the index."""
        found, share = self.lexical.translated(concepts, max_translations=self.fusion.max_translations, k=depth, docs=allowed)
        if share == 0.0:
            return {}, 0.0
        return self._pool(found, allowed), share

    def _english_text(self) -> bool:
        """Whether the index holds English text: a Chinese question then also searches it through the
        dictionary. Documents' recorded languages decide; without them, a sample of the units."""
        if self._holds_english is None:
            languages = {getattr(d, "language", None) for d in self.index.documents.values()}
            if "en" in languages or None not in languages:
                self._holds_english = "en" in languages
            else:
                sample = itertools.islice(self.index.units.values(), 2000)
                self._holds_english = any(detect_language(u.text) == "en" for u in sample)
        return self._holds_english

    def _pool(self, found: Candidates, allowed: frozenset[str] | None) -> dict[str, float]:
        """Max-pool chunk scores into unit scores (units the local build does not know are skipped)."""
        pooled: dict[str, float] = {}
        store = self.index.store  # membership and document from RAM: no record is read while ranking
        known = store.unit_rows
        for unit_id, score in zip(found.units, found.scores.tolist(), strict=True):
            if unit_id in pooled:  # candidates come best first: a unit's first chunk is its best
                if score > pooled[unit_id]:
                    pooled[unit_id] = score
                continue
            if unit_id not in known or (allowed is not None and store.doc_of(unit_id) not in allowed):
                continue
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
        parent_of = self.index.store.parent_of
        best: dict[str, tuple[float, str]] = {}
        for unit_id, score in fused.items():
            group = parent_of(unit_id) or unit_id
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

