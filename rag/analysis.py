"""Analysis: the index terms of Chinese, English and mixed-language text, for BM25 (:mod:`rag.lexical`).

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
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

__all__ = ["ANALYZER_VERSION", "DEFAULT_ANALYZER", "Analyzer", "TermSets", "analyze"]

#: Bump when the analyser's output changes for the same settings; saved
#: indexes built with another version are refused on load.
ANALYZER_VERSION = 1


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


DEFAULT_ANALYZER = Analyzer()


def analyze(text: str) -> list[str]:
    """Index terms of ``text`` (Chinese, English or mixed) with the default :class:`Analyzer`.

    >>> analyze("根据第 67/211 号决议 the Conference adopted decision 1/CP.18")
    ['根据', '第', '67/211', '号', '决议', 'confer', 'adopt', 'decis', '1/cp.18']
    """
    return DEFAULT_ANALYZER(text)


class TermSets:
    """The analysed terms of texts that recur across requests (evidence paragraphs and sentences),
    as sets, remembered in a bounded LRU on this object (thread-safe).

    Answer verification asks whether a question's words occur in its evidence; the same few
    hundred paragraphs come back as evidence again and again, and analysing one runs jieba
    over it (about 1 ms). Questions are not meant to go through it.
    """

    def __init__(self, analyzer: Analyzer | None = None, size: int = 4096) -> None:
        analyzer = analyzer or DEFAULT_ANALYZER
        self._terms = functools.lru_cache(maxsize=size)(lambda text: frozenset(analyzer(text)))

    def __call__(self, text: str) -> frozenset[str]:
        return self._terms(text)
