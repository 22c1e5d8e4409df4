"""Lexical (BM25) retrieval over Chinese, English and mixed-language text.

Why: dense multilingual embeddings are good at paraphrase and cross-lingual
matching but weak at the things UN users search for verbatim: document symbols
("A/68/150", "1/CP.18"), resolution numbers ("67/211"), years and ranges
("2011-2020"), treaty names and rare proper nouns.  A sparse BM25 index catches
those exactly, is cheap to build and store, and its per-document scores can be
fused with the dense scores (``LexicalIndex.scores``). Documents and queries go
through one analyser (:mod:`rag.analysis`).

* **Ranking** is bm25s (Lù 2024, arXiv:2407.03618) with the Lucene BM25
  variant, k1 = 1.5 and b = 0.75 -- the standard values of Robertson &
  Zaragoza (2009), "The Probabilistic Relevance Framework: BM25 and Beyond".
  The index is saved with bm25s's own plain-file format (``.npy`` arrays and
  JSON vocabulary) plus one JSON file for the analyser settings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.analysis import ANALYZER_VERSION, DEFAULT_ANALYZER, Analyzer

__all__ = ["LexicalIndex"]

_STATE_FILE = "lexical.json"
_FORMAT = "rag.lexical/1"
_HEAD_FILES = ("impact_terms.npy", "impact_heads.npy", "impact_weights.npy")  # LexicalIndex.impact_heads, large indexes

# --------------------------------------------------------------------------
# index
# --------------------------------------------------------------------------


class LexicalIndex:
    """BM25 index over a fixed list of texts; rows are positions in that list.

    Scoring is the Lucene variant of Okapi BM25 as implemented by bm25s
    (Lù 2024, "BM25S: Orders of magnitude faster lexical search via eager
    sparse scoring", arXiv:2407.03618), following Robertson & Zaragoza (2009),
    "The Probabilistic Relevance Framework: BM25 and Beyond", FnTIR 3(4):

        score(q, d) = sum_{t in q} idf(t) * tf(t,d) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
        idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

    with k1 = 1.5, b = 0.75 (bm25s defaults, inside the 1.2-2.0 / 0.75 range
    recommended by Robertson & Zaragoza).  The Lucene idf is always positive,
    so a document scores > 0 iff it shares a term with the query.  Repeated
    query terms count once per occurrence.  Scores are float32.
    """

    K1 = 1.5
    B = 0.75
    METHOD = "lucene"

    #: Dictionary terms whose token ids are remembered (:meth:`known_term_ids`); cleared when full.
    TERM_CACHE = 100_000

    def __init__(self, bm25: bm25s.BM25 | None, n_docs: int, analyzer: Analyzer | None = None):
        self._bm25 = bm25
        self._n = int(n_docs)
        self.analyzer = analyzer or DEFAULT_ANALYZER
        self._term_ids: dict[str, tuple[int, ...] | None] = {}
        self._heads: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._local = threading.local()  # per-thread scratch arrays of search_ids

    # -- construction ------------------------------------------------------

    @classmethod
    def build(cls, texts: Sequence[str], *, analyzer: Analyzer | None = None) -> LexicalIndex:
        """Analyse and index ``texts``; row ``i`` of results refers to ``texts[i]``."""
        analyzer = analyzer or DEFAULT_ANALYZER
        corpus_tokens = [analyzer(t) for t in texts]
        if not any(corpus_tokens):  # empty corpus or no usable token anywhere
            return cls(None, len(corpus_tokens), analyzer)
        bm25 = bm25s.BM25(k1=cls.K1, b=cls.B, method=cls.METHOD)
        bm25.index(corpus_tokens, show_progress=False)
        return cls(bm25, len(corpus_tokens), analyzer)

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        vocab = len(self._bm25.vocab_dict) if self._bm25 is not None else 0
        return f"LexicalIndex(n={self._n}, vocab={vocab}, analyzer={self.analyzer})"

    # -- querying ----------------------------------------------------------

    def _query_ids(self, query: str, tokens: Sequence[str] | None = None) -> list[int]:
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        return [vocab[t] for t in (self.analyzer(query) if tokens is None else tokens) if t in vocab]

    def coverage(self, query: str, *, tokens: Sequence[str] | None = None) -> float:
        """Share of the query's analysed tokens that occur in the index (0 when it has none).

        Fusion uses it as lexical confidence: an English question over a Chinese corpus shares
        only numbers and symbols with it, and its BM25 ranking deserves little weight then.
        ``tokens``: the query already analysed with :attr:`analyzer` (a request analyses its
        question once and hands the tokens to every step).
        """
        if tokens is None:
            tokens = self.analyzer(query)
        if not tokens or self._bm25 is None:
            return 0.0
        vocab = self._bm25.vocab_dict
        return sum(1 for t in tokens if t in vocab) / len(tokens)

    def known_term_ids(self, term: str) -> tuple[int, ...] | None:
        """Token ids of a dictionary term when every one of its tokens is in the index, else None.

        Memoised on this index (bounded by :attr:`TERM_CACHE`): the same few thousand dictionary
        and glossary translations recur across questions, and analysing each runs jieba.
        """
        ids = self._term_ids.get(term, False)
        if ids is False:
            tokens = self.analyzer(term)
            vocab = self._bm25.vocab_dict if self._bm25 is not None else {}
            ids = tuple(vocab[t] for t in tokens) if tokens and all(t in vocab for t in tokens) else None
            if len(self._term_ids) >= self.TERM_CACHE:
                self._term_ids.clear()
            self._term_ids[term] = ids
        return ids  # type: ignore[return-value]

    def scores_of_ids(self, ids: Sequence[int]) -> np.ndarray:
        """BM25 score of every document for already looked-up token ids (float32)."""
        if not ids or self._bm25 is None:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(list(ids)), dtype=np.float32)

    def scores(self, query: str, *, tokens: Sequence[str] | None = None, exhaustive: bool = False) -> np.ndarray:
        """BM25 score of every document for ``query`` (float32, length ``len(self)``), common
        terms left out as in :meth:`search` unless ``exhaustive``."""
        ids = self._query_ids(query, tokens)
        return self.scores_of_ids(ids if exhaustive else self.pruned_ids(ids))

    def search(
        self, query: str, k: int, *, tokens: Sequence[str] | None = None, exhaustive: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` rows for ``query``, best first (ties: lower row first).

        Returns ``(rows, scores)``: int64 row indices into the indexed texts and
        their float32 scores.  At most ``min(k, len(self))`` rows, and only rows
        with a positive score; a query with no known term gives two empty arrays.
        From :attr:`PRUNE_MIN_DOCS` rows on, the query's common terms are left out
        (:meth:`pruned_ids`); ``exhaustive`` keeps them (to measure against).
        """
        k = min(int(k), self._n)
        if not exhaustive and self._n >= self.PRUNE_MIN_DOCS and self._bm25 is not None:
            return self.search_ids(self.pruned_ids(self._query_ids(query, tokens)), k)
        s = self.scores(query, tokens=tokens, exhaustive=exhaustive)
        cand = np.flatnonzero(s > 0)
        if k <= 0 or cand.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if cand.size > k:
            # keep everything at least as good as the k-th score, then sort exactly
            kth = np.partition(s[cand], cand.size - k)[cand.size - k]
            cand = cand[s[cand] >= kth]
        order = np.lexsort((cand, -s[cand]))[:k]
        rows = cand[order].astype(np.int64)
        return rows, s[rows]

    #: Postings of a term that can make a row a candidate (:meth:`search_ids`): its rows of highest impact.
    HEAD = 4096
    #: Whether a long list is read in full to add its weight to every candidate (exact candidate
    #: scores), or only through its head (the rows where it weighs most; a candidate outside the
    #: head misses at most the floor, a low-idf term's weight). bench/scale.py at 10^6, against
    #: the score array of every row (3.7 ms p50): in full 2.8 ms, recall@200 0.9999; heads only
    #: 2.1 ms, recall@200 0.885. In full.
    SCORE_LONG_LISTS = True

    def impact_heads(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Terms found in more than :attr:`HEAD` rows (sorted); for each, the :attr:`HEAD` rows where it
        weighs most (in row order, int32), its weights there (float32) and the lowest of them (its floor).

        Written with the index (:meth:`save`) from :attr:`PRUNE_MIN_DOCS` rows on; computed here
        on first use otherwise (an older build): one ``argpartition`` per long posting list.
        """
        if self._heads is None:
            data, indices, indptr = (self._bm25.scores[key] for key in ("data", "indices", "indptr"))  # type: ignore[union-attr]
            indptr = np.asarray(indptr, dtype=np.int64)
            terms = np.flatnonzero(np.diff(indptr) > self.HEAD)
            heads = np.empty((len(terms), self.HEAD), dtype=np.int32)
            weights = np.empty((len(terms), self.HEAD), dtype=np.float32)
            for i, t in enumerate(terms.tolist()):
                start, end = int(indptr[t]), int(indptr[t + 1])
                top = np.sort(np.argpartition(-np.asarray(data[start:end]), self.HEAD - 1)[: self.HEAD])
                heads[i], weights[i] = np.asarray(indices[start:end])[top], np.asarray(data[start:end])[top]
            self._heads = (terms, heads, weights, weights.min(axis=1) if len(terms) else np.empty(0, np.float32))
        return self._heads

    def search_ids(self, ids: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` rows for already looked-up token ids, scoring only candidate rows (large indexes).

        A dense array of N scores costs O(N) per query whatever the query, 4 MB and a top-k over
        10^6 rows at 10^6 (bench/scale.py). Here the candidates are the rows of the query's short
        posting lists and of the *impact heads* of its long ones (:meth:`impact_heads`: the
        :attr:`HEAD` rows where a long list's term weighs most; Anh & Moffat 2006, "Pruned query
        evaluation using pre-computed impacts", SIGIR). A candidate's score sums its short lists'
        weights and, for each long list, its weight in that list's head: work is O(short postings
        + heads), never O(N) (the accumulator and row marks are per-thread arrays kept between
        queries and cleared at the candidates). Approximate where a long list is truncated: a
        candidate outside a long list's head misses that term's weight there (at most its floor,
        a low-idf term's), and a row outside the candidates scores at most the sum of the floors
        (:meth:`safe_bound`). With :attr:`SCORE_LONG_LISTS` the long lists are read in full for
        the candidates, whose scores are then exact, and the top ``k`` is provably exact when its
        last score beats that bound. bench/scale.py measures recall@200 against :meth:`scores`.
        When no list is longer than :attr:`HEAD` there is nothing approximate: terms are summed in
        query order as bm25s's
        ``np.add.at`` does, so scores and ties equal :meth:`scores`' to the bit.
        """
        empty = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if not ids or k <= 0 or self._bm25 is None:
            return empty
        indptr = np.asarray(self._bm25.scores["indptr"])  # a plain view of the memmap (see _accumulate)
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in ids]
        acc, mark = self._scratch()  # zero / False between queries
        try:
            return self._accumulate(ids, spans, k, acc, mark)
        except BaseException:
            self._local.scratch = None  # possibly left dirty: a fresh pair next time
            raise

    def _accumulate(
        self, ids: Sequence[int], spans: list[tuple[int, int]], k: int, acc: np.ndarray, mark: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        # plain ndarray views: slicing the np.memmap subclass costs microseconds per call (__array_finalize__)
        data, indices = (np.asarray(self._bm25.scores[key]) for key in ("data", "indices"))  # type: ignore[union-attr]
        parts, long_spans = [], []
        for t, (start, end) in zip(ids, spans, strict=True):
            if end - start <= self.HEAD:
                rows = np.asarray(indices[start:end])
                acc[rows] += data[start:end]  # query order: the float32 sums of bm25s's np.add.at
                parts.append(rows)
            else:
                terms, heads, weights, _ = self.impact_heads()
                at = int(np.searchsorted(terms, t))
                rows = np.asarray(heads[at])
                if self.SCORE_LONG_LISTS:
                    long_spans.append((start, end))
                else:
                    acc[rows] += weights[at]  # only the head's weights (a candidate outside it misses ≤ the floor)
                parts.append(rows)
        cand_parts = []
        for rows in parts:  # the union, in one pass: a row counts where it is first marked
            mark[rows] = True
        for rows in parts:
            first = mark[rows]
            mark[rows] = False
            cand_parts.append(rows[first])
        cand = np.concatenate(cand_parts)
        if long_spans:  # the long lists add their weights to the candidates only
            mark[cand] = True
            for start, end in long_spans:
                rows = np.asarray(indices[start:end])
                hit = np.flatnonzero(mark[rows])
                acc[rows[hit]] += np.asarray(data[start:end])[hit]
            mark[cand] = False
        scores = acc[cand]
        acc[cand] = 0.0
        keep = np.flatnonzero(scores > 0)
        if keep.size > k:
            kth = np.partition(scores[keep], keep.size - k)[keep.size - k]
            keep = keep[scores[keep] >= kth]
        order = np.lexsort((cand[keep], -scores[keep]))[:k]
        return cand[keep][order].astype(np.int64), scores[keep][order]

    def _scratch(self) -> tuple[np.ndarray, np.ndarray]:
        """This thread's score accumulator and row marks (N float32 + N bools, allocated once per thread)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = (np.zeros(self._n, dtype=np.float32), np.zeros(self._n, dtype=bool))
        return scratch

    def safe_bound(self, ids: Sequence[int]) -> float:
        """Highest score a row outside :meth:`search_ids`'s candidates can have for ``ids`` (0: none can)."""
        if self._bm25 is None:
            return 0.0
        indptr = self._bm25.scores["indptr"]
        long_terms = [t for t in ids if int(indptr[t + 1]) - int(indptr[t]) > self.HEAD]
        if not long_terms:
            return 0.0
        terms, _, _, floors = self.impact_heads()
        return float(floors[np.searchsorted(terms, long_terms)].sum())

    #: Rows from which :meth:`search` leaves out common query terms (the seed and evaluation sets stay below).
    PRUNE_MIN_DOCS = 50_000
    #: A term in more than this share of the rows is common: its idf is low (ln(1 + 4) = 1.6 at
    #: 20 %, against ~13 for a rare term at 10^6 rows) and its posting list is the longest.
    #: bench/scale.py at 10^5 (hybrid recall@10 against exhaustive): none left out 0.9725,
    #: above 20 % 0.971, above 10 % 0.966, above 5 % 0.916.
    COMMON_SHARE = 0.2

    def pruned_ids(self, ids: Sequence[int]) -> list[int]:
        """``ids`` without the common terms, on indexes of :attr:`PRUNE_MIN_DOCS` rows or more.

        bm25s scores a query by summing its terms' posting lists, so its cost is the total
        length of those lists; at 10^6 rows the few terms found in more than a fifth of the
        rows are much of it (bench/scale.py). Leaving them out is static query pruning (the
        low-idf end of the query, as in Tonellotto, Macdonald & Ounis 2018, "Efficient query
        processing for scalable web search", FnTIR 12(4)); when every term is common the
        rarest one is kept. What it costs in recall is measured by bench/scale.py against the
        exhaustive search.
        """
        if self._n < self.PRUNE_MIN_DOCS or len(ids) < 2 or self._bm25 is None:
            return list(ids)
        indptr = np.asarray(self._bm25.scores["indptr"])
        terms = np.asarray(ids, dtype=np.int64)
        df = np.asarray(indptr[terms + 1], dtype=np.int64) - np.asarray(indptr[terms], dtype=np.int64)
        kept = [t for t, d in zip(ids, df.tolist(), strict=True) if d <= self.COMMON_SHARE * self._n]
        return kept or [ids[int(np.argmin(df))]]

    # -- persistence -------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(directory, show_progress=False)
            if self._n >= self.PRUNE_MIN_DOCS:
                for name, array in zip(_HEAD_FILES, self.impact_heads()[:3], strict=True):
                    np.save(directory / name, array)
        state = {
            "format": _FORMAT,
            "n_docs": self._n,
            "has_bm25": self._bm25 is not None,
            "analyzer": self.analyzer.config(),
            "bm25": {"k1": self.K1, "b": self.B, "method": self.METHOD, "bm25s": bm25s.__version__},
        }
        (directory / _STATE_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by :meth:`save`."""
        directory = Path(directory)
        state = json.loads((directory / _STATE_FILE).read_text(encoding="utf-8"))
        if state.get("format") != _FORMAT:
            raise ValueError(f"{directory}: not a lexical index ({state.get('format')!r})")
        cfg = dict(state["analyzer"])
        version = cfg.pop("version")
        if version != ANALYZER_VERSION:
            raise ValueError(
                f"{directory}: built with analyser version {version}, this code has "
                f"{ANALYZER_VERSION}; rebuild the index"
            )
        analyzer = Analyzer(**cfg)
        bm25 = None
        if state["has_bm25"]:
            bm25 = bm25s.BM25.load(directory, mmap=True)  # postings paged in by the terms queried (bench/scale.py)
            if bm25.scores["num_docs"] != state["n_docs"]:
                raise ValueError(f"{directory}: bm25s files do not match {_STATE_FILE}")
        index = cls(bm25, state["n_docs"], analyzer)
        if bm25 is not None and all((directory / name).exists() for name in _HEAD_FILES):
            terms, heads, weights = (np.load(directory / name, mmap_mode="r") for name in _HEAD_FILES)
            if heads.ndim == 2 and heads.shape == weights.shape and len(heads) == len(terms):
                index.HEAD = int(heads.shape[1])  # the width it was saved with
                floors = weights.min(axis=1) if len(terms) else np.empty(0, np.float32)
                index._heads = (np.asarray(terms), heads, weights, np.asarray(floors))
        return index
