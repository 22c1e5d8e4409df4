"""The lexicon's look-up tables, and their on-disk cache that opens in milliseconds.

Why its own module: building the tables (CC-CEDICT inverted, the UN glossary merged in, the
Snowball-stem fallback, the phrase-length bounds) costs ~1.5 s, and the other direction (each
Chinese headword's English glosses, for a Chinese question over English text) another 1-4 s;
even loading them back from a gzipped-JSON cache cost ~1-2 s per process (JSON decoding, then
re-deriving the stem table): every CLI question in English and the first English request after
``rag serve`` started paid it. The cache is now an SQLite file (a plain, documented data format
from the standard library, no pickle) holding every derived table, read lazily: opening it costs
a few milliseconds and each look-up one indexed query. :mod:`rag.crosslingual` only calls
:meth:`LexiconTables.entry`, :meth:`~LexiconTables.stem_entry`, :meth:`~LexiconTables.phrase_reach`
and :meth:`~LexiconTables.gloss`, whichever implementation it gets (in memory when just built or
without a cache directory, on disk else).

The cache file's name carries :data:`FORMAT_VERSION` and a hash of what it was built from
(CC-CEDICT's size and modification time, the glossary's text), so a changed input or an older
format is rebuilt, never misread; a damaged file (truncated, overwritten, not SQLite) fails
SQLite's own structure check on opening and is rebuilt too.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import Stemmer

from rag.cedict import cedict_lines, cedict_path, english_glosses, glossary_text, invert_cedict, load_glossary

__all__ = [
    "DICT_WEIGHT_UNDER_GLOSSARY",
    "FORMAT_VERSION",
    "GLOSSARY_WEIGHT",
    "LexiconTables",
    "MemoryTables",
    "SqliteTables",
    "build_tables",
    "cache_file",
    "open_tables",
]

#: Bump when the tables or their file change (e.g. :func:`rag.cedict.invert_cedict`'s output);
#: older caches are then rebuilt. 1 was the gzipped-JSON inversion alone; 2 had no reverse glosses; 3 dropped
#: every gloss with a Chinese cross-reference in parentheses (首尔 "Seoul" was not a translation of Seoul).
FORMAT_VERSION = 4

GLOSSARY_WEIGHT = 1.0  # weight of a glossary translation
DICT_WEIGHT_UNDER_GLOSSARY = 0.5  # dictionary translations of a key the glossary also has are scaled by this

Translations = Sequence[tuple[str, float]]
_STALE_PREFIXES = ("cedict-en-zh-", "lexicon-en-zh-")  # cache files of this and earlier formats
_CURRENT_PREFIX = f"lexicon-en-zh-v{FORMAT_VERSION}-"
_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE entries (key TEXT PRIMARY KEY, targets TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE stems (stem TEXT PRIMARY KEY, targets TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE reach (word TEXT PRIMARY KEY, words INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE glosses (word TEXT PRIMARY KEY, english TEXT NOT NULL) WITHOUT ROWID;
"""


class LexiconTables(Protocol):
    """What the lexicon looks up: a key's translations, a stem's, and how long a phrase can be."""

    max_key_words: int  # words in the longest key

    def entry(self, key: str) -> Translations:
        """Translations of a normalised English key, best first; empty if none."""
        ...

    def stem_entry(self, stem: str) -> Translations:
        """Translations of every single-word key with this Snowball stem, best first."""
        ...

    def phrase_reach(self, word: str) -> int:
        """Most words of a phrase key starting with ``word`` (0: no phrase starts with it)."""
        ...

    def gloss(self, word: str) -> str:
        """The English words of a simplified Chinese headword's CC-CEDICT glosses, space-separated ("" if none)."""
        ...


@dataclass
class MemoryTables:
    """The tables as dictionaries: what :func:`build_tables` returns. The reverse glosses are read from
    CC-CEDICT on the first :meth:`gloss` (~1-4 s): an English-only use never pays for them."""

    entries: dict[str, list[tuple[str, float]]]
    stems: dict[str, list[tuple[str, float]]]
    reach: dict[str, int]
    max_key_words: int
    _glosses: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def entry(self, key: str) -> Translations:
        return self.entries.get(key, ())

    def stem_entry(self, stem: str) -> Translations:
        return self.stems.get(stem, ())

    def phrase_reach(self, word: str) -> int:
        return self.reach.get(word, 0)

    def gloss(self, word: str) -> str:
        return self.glosses().get(word, "")

    def glosses(self, lines: Sequence[str] | None = None) -> dict[str, str]:
        """Every headword's glosses (see :func:`rag.cedict.english_glosses`), made once from ``lines``
        (CC-CEDICT's, read again when not given)."""
        if self._glosses is None:
            with self._lock:
                if self._glosses is None:
                    self._glosses = english_glosses(cedict_lines() if lines is None else lines)
        return self._glosses


@dataclass
class SqliteTables:
    """The tables read from the cache file, one indexed query per look-up (thread-safe)."""

    connection: sqlite3.Connection
    max_key_words: int
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _one(self, sql: str, key: str) -> object:
        with self._lock:
            row = self.connection.execute(sql, (key,)).fetchone()
        return None if row is None else row[0]

    def _translations(self, sql: str, key: str) -> Translations:
        found = self._one(sql, key)
        return [] if found is None else [(t, w) for t, w in json.loads(str(found))]

    def entry(self, key: str) -> Translations:
        return self._translations("SELECT targets FROM entries WHERE key = ?", key)

    def stem_entry(self, stem: str) -> Translations:
        return self._translations("SELECT targets FROM stems WHERE stem = ?", stem)

    def phrase_reach(self, word: str) -> int:
        found = self._one("SELECT words FROM reach WHERE word = ?", word)
        return 0 if found is None else int(str(found))

    def gloss(self, word: str) -> str:
        found = self._one("SELECT english FROM glosses WHERE word = ?", word)
        return "" if found is None else str(found)


def build_tables(cedict_lines: Sequence[str], glossary: dict[str, list[str]], stem: Callable[[str], str] | None) -> MemoryTables:
    """CC-CEDICT inverted, the glossary merged over it, and the derived tables.

    A glossary term outranks the dictionary: its translations get full weight and the
    dictionary's translations of the same key are scaled down. ``stem``: the stemmer of the
    single-word fallback (``None``: no stem table).
    """
    merged = invert_cedict(cedict_lines)
    for key, targets in glossary.items():
        ours = [(t, GLOSSARY_WEIGHT) for t in targets]
        rest = [(t, w * DICT_WEIGHT_UNDER_GLOSSARY) for t, w in merged.get(key, []) if t not in targets]
        merged[key] = ours + rest
    stems: dict[str, dict[str, float]] = {}
    if stem is not None:
        for key, targets in merged.items():
            if " " in key:
                continue
            slot = stems.setdefault(stem(key), {})
            for t, w in targets:
                slot[t] = max(slot.get(t, 0.0), w)
    reach: dict[str, int] = {}  # first word of a phrase key -> most words of such a key
    for key in merged:
        words = key.split()
        if len(words) > 1 and len(words) > reach.get(words[0], 0):
            reach[words[0]] = len(words)
    return MemoryTables(
        entries=merged,
        stems={k: sorted(v.items(), key=lambda i: (-i[1], i[0])) for k, v in stems.items()},
        reach=reach,
        max_key_words=max(len(k.split()) for k in merged),
    )


def cache_file(cache_dir: Path, glossary: str) -> Path:
    """Where the tables built from the shipped CC-CEDICT and this glossary text are cached."""
    source = cedict_path().stat()
    stamp = f"{FORMAT_VERSION}\0{source.st_size}\0{source.st_mtime_ns}\0{glossary}"
    return Path(cache_dir) / f"{_CURRENT_PREFIX}{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.sqlite"


def open_tables(cache_dir: Path | None, glossary_path: Path | None = None, *, stems: bool = True) -> LexiconTables:
    """The lexicon's tables: from the cache under ``cache_dir`` if it is sound, else built (and
    cached when ``cache_dir`` is given; a cache that cannot be written is skipped: the tables
    built in memory serve this process)."""
    text = glossary_text(glossary_path)
    stemmer = Stemmer.Stemmer("english").stemWord
    if cache_dir is None:
        return build_tables(cedict_lines(), load_glossary(text=text), stemmer if stems else None)
    path = cache_file(Path(cache_dir), text)
    cached = _open(path)
    if cached is not None:
        return cached
    # the cache holds the stem table either way: a lexicon without stems just never asks for it
    lines = cedict_lines()  # read once for both directions
    tables = build_tables(lines, load_glossary(text=text), stemmer)
    tables.glosses(lines)
    _write(path, tables)
    return tables


def _open(path: Path) -> SqliteTables | None:
    """The cache at ``path`` if it exists and passes SQLite's structure check, else ``None``."""
    if not path.is_file():
        return None
    connection = None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        meta: dict[str, str] = {}
        if connection.execute("PRAGMA quick_check").fetchone() == ("ok",):
            meta = dict(connection.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("format") == str(FORMAT_VERSION) and meta.get("complete") == "1":
            return SqliteTables(connection, int(meta["max_key_words"]))
    except (sqlite3.Error, ValueError, KeyError):
        pass
    if connection is not None:
        connection.close()
    return None


def _write(path: Path, tables: MemoryTables) -> None:
    """Write the cache atomically (a temporary file renamed over it) and drop caches of older
    formats (not those of this format built from another glossary: a test's lexicon may share the directory)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        connection = sqlite3.connect(tmp)
        try:
            connection.executescript(_SCHEMA)
            connection.executemany("INSERT INTO entries VALUES (?, ?)", ((k, dump(v)) for k, v in tables.entries.items()))
            connection.executemany("INSERT INTO stems VALUES (?, ?)", ((k, dump(v)) for k, v in tables.stems.items()))
            connection.executemany("INSERT INTO reach VALUES (?, ?)", tables.reach.items())
            connection.executemany("INSERT INTO glosses VALUES (?, ?)", tables.glosses().items())
            meta = {"format": str(FORMAT_VERSION), "max_key_words": str(tables.max_key_words), "complete": "1"}
            connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            connection.commit()
        finally:
            connection.close()
        tmp.replace(path)
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)
        return
    for old in path.parent.iterdir():
        if old.name.startswith(_STALE_PREFIXES) and not old.name.startswith(_CURRENT_PREFIX) and not old.name.endswith(".tmp"):
            old.unlink(missing_ok=True)
