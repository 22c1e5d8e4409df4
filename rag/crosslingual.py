"""English questions over Chinese text: the English -> Chinese lexicon that translates them.

Why
---
multilingual-e5 matches an English question to a Chinese paragraph by meaning, but it is
blurry: on XQuAD (English questions, Chinese contexts) dense retrieval puts the right context
first for only ~71% of questions, against ~91% for Chinese questions over the same contexts.
BM25 is what sharpens a same-language question (hybrid 0.95 R@1), and it is useless across
languages because an English question and a Chinese paragraph share no tokens. Translating the
question's content words into Chinese with a bilingual dictionary gives BM25 something to
match again -- the classic dictionary-based cross-language IR set-up (Hull & Grefenstette
1996, "Querying across languages: a dictionary-based approach to multilingual information
retrieval", SIGIR; Ballesteros & Croft 1997, "Phrasal translation and query expansion
techniques for cross-language information retrieval", SIGIR).

What this module does
---------------------
* **Lexicon.** CC-CEDICT (CC BY-SA 4.0, MDBG), a Chinese -> English dictionary, turned around
  into English keys that point to weighted simplified Chinese headwords (:mod:`rag.cedict`);
  the tables (with the glossary merged in and the stem fallback) are built once and cached in an
  SQLite file in a directory the caller gives, which a new process opens in milliseconds
  (:mod:`rag.lexicon_tables`).
* **UN glossary.** ``rag/data/un_glossary.tsv`` holds standard UN/environment terms in the
  official Chinese wording ("Conference of the Parties" -> 缔约方大会). A glossary term
  outranks the dictionary: its translations get full weight and the dictionary's translations
  of the same key are scaled down. It covers UN-system entities with their acronyms (CC-CEDICT
  has none: "IAEA", "UNDP", "SDGs"), convention bodies and mechanisms, and the words of UN
  procedure and resolutions whose CC-CEDICT glosses miss the UN sense ("take the floor" 发言,
  "outcome" 成果, "workshop" 讲习班); where UN Chinese texts use two renderings of one name,
  both are listed.
* **Query side.** :meth:`BilingualLexicon.translate` matches the question's words greedily,
  longest phrase first (Ballesteros & Croft 1997: translating phrases as units is the
  largest single gain of dictionary CLIR), trying the surface form, light de-inflection
  (plural, -ed, -ing) and finally the Snowball stem. Numbers and symbols ("2012", "A/68/150")
  are kept as they are: they match the Chinese text verbatim. Forms the dictionary lacks are
  tried through :mod:`rag.english_forms`: irregular pasts ("took the floor" -> "take the floor"),
  British spellings ("characterise"), and ordinals ("19th", "twelfth"), which also translate as
  第十九届 / 第十二次; a bare number also as a session number ("COP 16": 第十六届, lower weight).

The question's concepts are scored against the lexical index by :mod:`rag.translated_scoring`,
and the retriever fuses that score as a third channel (see :mod:`rag.fusion`).

Measurements (XQuAD, 240 Chinese contexts, 1190 English questions; hybrid with sentence
evidence, R@1/R@5): with translation 0.855/0.972, without 0.801/0.955. Ablations of the lexicon,
R@1 of the hybrid without sentence evidence (0.810-0.813 with everything on; the scoring's own
ablations are in :mod:`rag.translated_scoring`): no stem fallback 0.810;
uniform translation weights 0.812-0.817 (no clear difference: kept the sense-count weight as the principled one);
without the UN glossary 0.813 (XQuAD is Wikipedia: the glossary is for UN text; on the seed
document it moved R@1 by +1 question and R@5 by -1 of 88, i.e. neutral there too).
Extending the glossary (227 -> 533 entries) and the word forms of :mod:`rag.english_forms`
(2026-12-01, shipped model and fusion): seed English questions R@1 0.800 -> 0.880, R@5 0.933 ->
1.000; held-out XQuAD en->zh R@1 0.861 -> 0.862, R@5 0.972 unchanged (no Wikipedia regression).
Dropped: pseudo-relevance feedback (the top 1-3 dense-ranked contexts' highest tf-idf Chinese
terms fed back into BM25, RM3-style, Abdul-Jaleel et al. 2004) -- R@1 0.849 -> 0.818..0.849,
never better.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import Stemmer

from rag.cedict import HAN_RE, STOP_WORDS, norm_words
from rag.english_forms import ordinal_translations, ordinal_value, session_translations, spelling_variants
from rag.lexicon_tables import LexiconTables, open_tables

__all__ = [
    "BilingualLexicon",
    "Concept",
    "shared_lexicon",
]

LOOKUP_CACHE = 50_000  # English words and phrases whose translations a lexicon remembers (a fixed dictionary: pure look-ups)

_QUERY_TOKEN_RE = re.compile(r"[^\W_]+(?:[/.\-'][^\W_]+|\([^\W_]+\))*%?")
_DIGIT_RE = re.compile(r"\d")


def _deinflect(word: str) -> list[str]:
    """Candidate base forms of an English word, most likely first (no stemmer: 'organization'
    must not become 'organ')."""
    out: list[str] = []
    if word.endswith("'s"):
        word = word[:-2]
        out.append(word)
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            out.append(stem)
            out.append(stem + "e")
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])
            if suffix == "ed" and stem.endswith("i"):
                out.append(stem[:-1] + "y")
    return out


@dataclass(frozen=True, slots=True)
class Concept:
    """One English word or phrase of the question and its Chinese translations (best first)."""

    source: str
    translations: tuple[tuple[str, float], ...]  # (Chinese, weight in (0, 1]); empty: untranslated
    verbatim: bool = False  # a number or symbol, matched as it is


class BilingualLexicon:
    """English -> Chinese lookup over CC-CEDICT plus the UN glossary; loaded lazily, thread-safe.

    ``cache_dir``: where the lexicon's tables are cached (``None``: rebuilt in memory on first
    use, ~1.5 s; the cache opens in milliseconds, see :mod:`rag.lexicon_tables`).
    ``glossary_path``: override of the shipped glossary (tests).
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        glossary_path: Path | None = None,
        use_stems: bool = True,
        max_phrase: int = 6,
    ) -> None:
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.glossary_path = glossary_path
        self.use_stems = use_stems
        self.max_phrase = max_phrase
        self._lock = threading.Lock()
        self._tables: LexiconTables | None = None
        self._lookups: dict[str, tuple[tuple[str, float], ...]] = {}  # phrase -> translations, bounded by LOOKUP_CACHE
        self._reaches: dict[str, int] = {}  # first word -> longest key it starts (its variants' too), bounded likewise
        self._stemmer = threading.local()
        self._glosses: dict[str, tuple[str, ...]] = {}  # Chinese word -> its gloss words, bounded by LOOKUP_CACHE

    # -- loading -------------------------------------------------------------

    def _ensure(self) -> LexiconTables:
        if self._tables is None:
            with self._lock:
                if self._tables is None:
                    self._tables = open_tables(self.cache_dir, self.glossary_path, stems=self.use_stems)
        return self._tables

    def glossed(self, words: Iterable[str], max_glosses: int = 8) -> list[Concept]:
        """A Chinese question's words (as analysed) as concepts whose "translations" are the English
        words of their CC-CEDICT glosses: the other direction, for a Chinese question over English
        text. Single characters and words without a gloss are left out. The glosses are a table of the
        lexicon's cache (without a cache directory, read from CC-CEDICT on first use: 1-4 s)."""
        concepts = []
        for word in dict.fromkeys(words):
            english = self._gloss_words(word) if len(word) > 1 and HAN_RE.search(word) else ()
            if english:
                weight = 1.0 / len(english) ** 0.5  # a word glossed by many senses translates each of them poorly
                concepts.append(Concept(word, tuple((e, weight) for e in english[:max_glosses])))
        return concepts

    def _gloss_words(self, word: str) -> tuple[str, ...]:
        known = self._glosses.get(word)
        if known is None:
            known = tuple(self._ensure().gloss(word).split())
            if len(self._glosses) >= LOOKUP_CACHE:
                self._glosses.clear()
            self._glosses[word] = known
        return known

    def _stem(self, word: str) -> str:
        st = getattr(self._stemmer, "s", None)
        if st is None:
            st = self._stemmer.s = Stemmer.Stemmer("english")
        return st.stemWord(word)

    # -- lookup --------------------------------------------------------------

    def lookup(self, phrase: str) -> list[tuple[str, float]]:
        """Translations of an English word or phrase, best first: those of the exact key merged
        with those of the de-inflected last word ("adopted": "adopted" and "adopt"); for a
        single word with neither, those of its Snowball stem. ``[]`` if none."""
        known = self._lookups.get(phrase)
        if known is not None:
            return list(known)
        found = self._lookup(phrase)
        if len(self._lookups) >= LOOKUP_CACHE:
            self._lookups.clear()
        self._lookups[phrase] = tuple(found)
        return found

    def _lookup(self, phrase: str, *, vary: bool = True) -> list[tuple[str, float]]:
        tables = self._ensure()
        words = norm_words(phrase)
        if not words:
            return []
        found: dict[str, float] = dict(tables.entry(" ".join(words)))
        head = " ".join(words[:-1])
        for base in _deinflect(words[-1]):
            for target, weight in tables.entry(f"{head} {base}" if head else base):
                found[target] = max(found.get(target, 0.0), weight)
        if not found and vary:  # "took the floor" -> "take the floor", "characterise" -> "characterize"
            # in a phrase every word may vary ("took" is a key of its own, "took the floor" is not);
            # one step only: a variant's own variant may lead back to the word
            if len(words) == 1:
                for variant in spelling_variants(words[0]):
                    if variant_found := self._lookup(variant, vary=False):
                        return variant_found
            else:
                varied = [next(iter(spelling_variants(w)), w) for w in words]
                if varied != words:
                    return self._lookup(" ".join(varied), vary=False)
        if not found and len(words) == 1 and self.use_stems:
            found = dict(tables.stem_entry(self._stem(words[0])))
        return sorted(found.items(), key=lambda item: (-item[1], len(item[0]), item[0]))

    def _phrase_reach(self, tables: LexiconTables, first: str) -> int:
        """Words of the longest dictionary key that starts with ``first`` or one of its variants;
        remembered per word (a fixed dictionary), since every word of every question asks it."""
        reach = self._reaches.get(first)
        if reach is None:
            reach = max(tables.phrase_reach(w) for w in (first, *spelling_variants(first)))
            if len(self._reaches) >= LOOKUP_CACHE:
                self._reaches.clear()
            self._reaches[first] = reach
        return reach

    def translate(self, query: str, known: Callable[[str], bool] | None = None) -> list[Concept]:
        """The question's concepts: greedy longest-phrase matches, single words, numbers/symbols.

        ``known`` (e.g. "all its tokens are in the index") filters translations; a phrase is
        only taken as a unit when one of its translations is known, else its words are
        translated one by one. Stop words are dropped unless inside a matched phrase
        ("Conference of the Parties"). Words with Han characters are left to the ordinary
        lexical channel.
        """
        tables = self._ensure()
        text = unicodedata.normalize("NFKC", query).replace("\u2019", "'")
        tokens = [m.group(0) for m in _QUERY_TOKEN_RE.finditer(text) if not HAN_RE.search(m.group(0))]
        concepts: list[Concept] = []
        i = 0
        longest = min(self.max_phrase, tables.max_key_words)
        # a phrase can only match a key that starts with its first word and is no shorter: skip the
        # look-ups that cannot (the result is the same; most positions start no phrase at all)
        key_words = [norm_words(t) for t in tokens]
        while i < len(tokens):
            token = tokens[i]
            if _DIGIT_RE.search(token):
                concepts.append(Concept(token, _number_translations(token, known), verbatim=True))
                i += 1
                continue
            matched = False
            first = key_words[i][0] if key_words[i] else None
            reach = 0 if first is None else self._phrase_reach(tables, first)
            for n in range(min(longest, len(tokens) - i), 1, -1):
                if first is not None:
                    count = sum(len(w) for w in key_words[i : i + n])
                    if count >= 2 and count > reach:
                        continue
                words = [w.lower() for w in tokens[i : i + n]]
                if any(_DIGIT_RE.search(w) for w in words) or words[0] in STOP_WORDS or words[-1] in STOP_WORDS:
                    continue
                translations = [t for t in self.lookup(" ".join(words)) if known is None or known(t[0])]
                if translations:
                    concepts.append(Concept(" ".join(tokens[i : i + n]), tuple(translations)))
                    i += n
                    matched = True
                    break
            if matched:
                continue
            word = token.lower()
            if word not in STOP_WORDS and len(word) > 1:
                ordinal = ordinal_value(word)
                found = [*ordinal_translations(ordinal)] if ordinal is not None else []
                found += [t for t in self.lookup(word) if all(t[0] != f for f, _ in found)]
                translations = [t for t in found if known is None or known(t[0])]
                concepts.append(Concept(token, tuple(translations)))
            i += 1
        return concepts


def _number_translations(token: str, known: Callable[[str], bool] | None) -> tuple[tuple[str, float], ...]:
    """A number or symbol as it is; an ordinal ("19th") also as 第十九届/第十九次, and a bare number
    that may name a session ("COP 16") also as 第十六届, at a lower weight."""
    own = ((token.lower(), 1.0),)
    ordinal = ordinal_value(token)
    if ordinal is not None:
        extra = ordinal_translations(ordinal)
    elif token.isdigit() and not token.startswith("0"):
        extra = session_translations(int(token))
    else:
        return own
    return own + tuple(t for t in extra if known is None or known(t[0]))


_shared: BilingualLexicon | None = None
_shared_lock = threading.Lock()


def shared_lexicon() -> BilingualLexicon:
    """One process-wide lexicon without a disk cache (built in memory on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BilingualLexicon(None)
        return _shared
