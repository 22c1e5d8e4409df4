"""Lexical (BM25) retrieval over Chinese, English and mixed-language text.

Why: dense multilingual embeddings are good at paraphrase and cross-lingual
matching but weak at the things UN users search for verbatim: document symbols
("A/68/150", "1/CP.18"), resolution numbers ("67/211"), years and ranges
("2011-2020"), treaty names and rare proper nouns.  A sparse BM25 index catches
those exactly, is cheap to build and store, and its per-document scores can be
fused with the dense scores (``LexicalIndex.scores``).

Design choices
--------------
* **One analyser for documents and queries** (:func:`analyze`).  Text is NFKC
  normalised first, so full-width digits, letters and punctuation
  ("１２", "％", "（", "，") become their ASCII forms, and no-break/thin spaces
  become plain spaces.
* **Thousands separators are folded** before tokenisation: a run of digit
  groups separated by a single space or comma ("1 000", "4 300", "100 000",
  "1,000,000") becomes one number ("1000", "4300", "100000", "1000000").  The
  Chinese numeral unit that may follow ("1 000亿") is *not* multiplied out: it
  becomes its own token ("1000", "亿"), split off the front of the Chinese
  run, so "1 000亿美元" -> ["1000", "亿", "美元"].
* **Script split.**  The text is cut into runs of Han characters and runs of
  everything else.  Han runs are segmented with a dedicated, lazily created
  ``jieba.Tokenizer`` (no use of jieba's global tokenizer; only the "jieba"
  logger is quieted) in precise mode (``cut``).  ``cut_for_search`` (words plus
  their in-dictionary 2/3-character sub-words, "多哈修正案" -> 多哈, 修正,
  修正案) was measured and did not pay: on XQuAD-zh (240 contexts, 1190
  questions) R@1/R@5 were 0.924/0.987 with ``cut`` and 0.922/0.989 with
  ``cut_for_search`` (22 questions won, 24 lost at rank 1), for 20% more
  postings; it stays available as ``Analyzer(zh_mode="search")``.  Jieba's HMM
  new-word discovery is off: it can segment the same unknown string
  differently in a query and in a document, and it gave no gain (0.922).
  A short list of Chinese function and question words (的, 了, 什么, 多少,
  ...) is dropped (no measurable effect with ``cut``; smaller postings).
* **Non-Han runs** are split into tokens of letters/digits that may be joined
  by "/", ".", "-" or a parenthesised suffix, with an optional trailing "%".
  A token that contains a digit is a *symbol* and is kept whole (lower-cased):
  "A/68/150" -> "a/68/150", "1/CP.18" -> "1/cp.18", "2011-2020", "8(j)",
  "17%", "2020".  Slash symbols also emit their suffix starting at the first
  numeric component, so "A/RES/67/211" also yields "67/211" and matches a
  text that only cites "67/211"; hyphenated symbols also emit their
  alphabetic parts of three letters or more ("COVID-19" -> "covid-19",
  "covid").  Tokens without digits are split into plain
  words, lower-cased, filtered against an English stop-word list (the Lucene
  list shipped with bm25s plus question words, which moved XQuAD en->en R@1
  from 0.929 to 0.936) and single letters (list
  markers such as "(a)"), and stemmed with the Snowball English stemmer
  (PyStemmer), so "adopted" and "adoption" both become "adopt".
* **Ranking** is bm25s (Lù 2024, arXiv:2407.03618) with the Lucene BM25
  variant, k1 = 1.5 and b = 0.75 -- the standard values of Robertson &
  Zaragoza (2009), "The Probabilistic Relevance Framework: BM25 and Beyond".
  The index is saved with bm25s's own plain-file format (``.npy`` arrays and
  JSON vocabulary) plus one JSON file for the analyser settings.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

__all__ = ["ANALYZER_VERSION", "Analyzer", "LexicalIndex", "TermSets", "analyze"]

#: Bump when the analyser's output changes for the same settings; saved
#: indexes built with another version are refused on load.
ANALYZER_VERSION = 1

_STATE_FILE = "lexical.json"
_FORMAT = "rag.lexical/1"

# Han ideographs (CJK unified + extensions A-F, compatibility) and 〇.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN_RE = re.compile(f"([{_HAN}]+)")

# Digit groups joined by one space or comma: "1 000", "100 000", "1,000,000".
_THOUSANDS_RE = re.compile(r"(?<![\d.,/\-])(\d{1,3})(?:([ ,])\d{3})(?:\2\d{3})*(?![\d])")
# A Chinese numeral unit directly after a number: split it off the Han run.
_UNIT_RE = re.compile("^([万亿千百])")
_ENDS_DIGIT_RE = re.compile(r"\d\s*$")

_WORD = r"[^\W_]+"
_TOKEN_RE = re.compile(rf"{_WORD}(?:[/.\-]{_WORD}|\({_WORD}\))*%?")
_WORD_RE = re.compile(_WORD)
_DIGIT_RE = re.compile(r"\d")

_EN_STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(
    "what which who whom whose when where why how does did do".split()
)
_ZH_STOPWORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 等 对 为 也 并 其 这 那 之 于 以 由 被 把 将 就 都 而 且
    从 向 着 个 所 该 有 吗 呢 吧 啊 呀 么 什么 多少 哪 哪个 哪些 哪里 哪儿 谁 如何
    怎么 怎样 为什么 何时 几 是否
    """.split()
)


# --------------------------------------------------------------------------
# jieba / stemmer singletons
# --------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_tokenizer = None  # type: ignore[var-annotated]
_stemmers = threading.local()  # PyStemmer objects are not thread-safe


def _jieba():
    """The module's own jieba tokenizer, created and loaded once."""
    global _jieba_tokenizer
    tok = _jieba_tokenizer
    if tok is None:
        with _jieba_lock:
            tok = _jieba_tokenizer
            if tok is None:
                import jieba

                # jieba sets its own logger to DEBUG with a stderr handler at
                # import; quiet that one logger only.
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _jieba_tokenizer = tok
    return tok


def _stemmer() -> Stemmer.Stemmer:
    st = getattr(_stemmers, "stemmer", None)
    if st is None:
        st = _stemmers.stemmer = Stemmer.Stemmer("english")
    return st


# --------------------------------------------------------------------------
# analyser
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Analyzer:
    """Text -> index terms.  ``Analyzer()`` is the default used by :func:`analyze`.

    Attributes:
        zh_mode: ``"search"`` (jieba ``cut_for_search``: words plus their
            dictionary 2/3-character sub-words) or ``"cut"`` (words only).
            Measured on XQuAD-zh (240 contexts, 1190 questions), R@1/R@5:
            cut 0.924/0.987, search 0.922/0.989 (HMM off, stop words on).
        hmm: use jieba's HMM for out-of-vocabulary words (off: unstable
            between query and document contexts; with it R@1 0.922).
        zh_stopwords: drop Chinese function and question words.
    """

    zh_mode: str = "cut"
    hmm: bool = False
    zh_stopwords: bool = True

    def __post_init__(self) -> None:
        if self.zh_mode not in ("search", "cut"):
            raise ValueError(f"zh_mode must be 'search' or 'cut', not {self.zh_mode!r}")

    def __call__(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text)
        text = text.replace("\u2019", "'")
        text = _THOUSANDS_RE.sub(lambda m: re.sub(r"[ ,]", "", m.group(0)), text)
        out: list[str] = []
        prev_digit = False
        for i, run in enumerate(_RUN_RE.split(text)):
            if not run:
                continue
            if i % 2:  # Han run
                if prev_digit and (m := _UNIT_RE.match(run)):
                    out.append(m.group(1))
                    run = run[1:]
                if run:
                    self._han(run, out)
            else:
                self._other(run, out)
                prev_digit = _ENDS_DIGIT_RE.search(run) is not None
                continue
            prev_digit = False
        return out

    def _han(self, run: str, out: list[str]) -> None:
        tok = _jieba()
        words = (
            tok.cut_for_search(run, HMM=self.hmm)
            if self.zh_mode == "search"
            else tok.cut(run, HMM=self.hmm)
        )
        stop = _ZH_STOPWORDS if self.zh_stopwords else ()
        for w in words:
            w = w.strip()
            if w and w not in stop and any(c.isalnum() for c in w):
                out.append(w)

    @staticmethod
    def _other(run: str, out: list[str]) -> None:
        stem = _stemmer().stemWord
        for m in _TOKEN_RE.finditer(run):
            tok = m.group(0)
            if _DIGIT_RE.search(tok):
                tok = tok.lower()
                out.append(tok)
                if "/" in tok:
                    parts = tok.split("/")
                    for j in range(1, len(parts) - 1):
                        if parts[j][:1].isdigit():
                            out.append("/".join(parts[j:]))
                            break
                if "-" in tok:  # "COVID-19" also matches "COVID"
                    for w in _WORD_RE.findall(tok):
                        if len(w) > 2 and w.isalpha() and w not in _EN_STOPWORDS:
                            out.append(stem(w))
                continue
            for w in _WORD_RE.findall(tok):
                w = w.lower()
                if len(w) > 1 and w not in _EN_STOPWORDS:
                    out.append(stem(w))

    def config(self) -> dict:
        return {"version": ANALYZER_VERSION, **asdict(self)}


_DEFAULT_ANALYZER = Analyzer()


def analyze(text: str) -> list[str]:
    """Index terms of ``text`` (Chinese, English or mixed) with the default :class:`Analyzer`.

    >>> analyze("根据第 67/211 号决议 the Conference adopted decision 1/CP.18")
    ['根据', '第', '67/211', '号', '决议', 'confer', 'adopt', 'decis', '1/cp.18']
    """
    return _DEFAULT_ANALYZER(text)


class TermSets:
    """The analysed terms of texts that recur across requests (evidence paragraphs and sentences),
    as sets, remembered in a bounded LRU on this object (thread-safe).

    Answer verification asks whether a question's words occur in its evidence; the same few
    hundred paragraphs come back as evidence again and again, and analysing one runs jieba
    over it (about 1 ms). Questions are not meant to go through it.
    """

    def __init__(self, analyzer: Analyzer | None = None, size: int = 4096) -> None:
        analyzer = analyzer or _DEFAULT_ANALYZER
        self._terms = functools.lru_cache(maxsize=size)(lambda text: frozenset(analyzer(text)))

    def __call__(self, text: str) -> frozenset[str]:
        return self._terms(text)


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
        self.analyzer = analyzer or _DEFAULT_ANALYZER
        self._term_ids: dict[str, tuple[int, ...] | None] = {}

    # -- construction ------------------------------------------------------

    @classmethod
    def build(cls, texts: Sequence[str], *, analyzer: Analyzer | None = None) -> LexicalIndex:
        """Analyse and index ``texts``; row ``i`` of results refers to ``texts[i]``."""
        analyzer = analyzer or _DEFAULT_ANALYZER
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
        indptr = self._bm25.scores["indptr"]
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
        return cls(bm25, state["n_docs"], analyzer)
