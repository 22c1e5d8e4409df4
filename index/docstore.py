"""The document store of a build: units, chunk and sentence spans in one SQLite file, fetched by id.

Why: held as Python objects, a unit with its chunk and sentence spans costs ~2.8 KB of RAM, so a
million paragraphs would not fit the ≤ 1 KB/unit budget (issue 12) even though the indexes do.
Here the records stay on disk (``store.sqlite``, written with the rest of a build and never
changed) and a query fetches only the few units it returns (a bounded LRU keeps the recent
ones). What stays in RAM is what ranking touches for every candidate, as compact row maps: the
unit ids (one string each, shared by the chunk → unit list), unit id → row, and per unit its
document, parent and sentence rows as small integer arrays; chunk ids (one string each).

Read-only connections (``mode=ro&immutable=1``: a build never changes) in a small pool, the first
opened on load, so a pruned build folder is still served until the reload. A file
that cannot be read is :class:`~index.builds.IndexUnavailableError` with one sentence naming it.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import weakref
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from index.builds import IndexUnavailableError, first_line
from rag.chunking import Chunk
from rag.units import SourceSpan, Unit, UnitKind

__all__ = ["BATCH", "STORE_FILE", "DocumentStore", "read_hashes", "write_store"]

STORE_FILE = "store.sqlite"
_UNIT_CACHE = 8192  # units kept decoded (a query returns ~10; look-ups revisit the same paragraphs)
BATCH = 50_000  # rows read per query when a whole table is streamed
_CACHED_SPANS = 64  # a unit's sentences are cached; long runs of rows (iteration) are not
MAX_CONNECTIONS = 8  # pooled read connections per store; more concurrent readers wait for one

_SCHEMA = """
CREATE TABLE units(row INTEGER PRIMARY KEY, id TEXT NOT NULL, doc TEXT NOT NULL, kind TEXT NOT NULL,
    para INTEGER, sub TEXT, label TEXT, parent TEXT, text TEXT NOT NULL, rest TEXT NOT NULL,
    sentence_start INTEGER NOT NULL, sentence_count INTEGER NOT NULL);
CREATE TABLE chunks(row INTEGER PRIMARY KEY, id TEXT NOT NULL, unit TEXT NOT NULL, start INTEGER NOT NULL,
    end INTEGER NOT NULL, hash TEXT NOT NULL, context TEXT NOT NULL);
CREATE TABLE sentences(row INTEGER PRIMARY KEY, id TEXT NOT NULL, unit TEXT NOT NULL, start INTEGER NOT NULL,
    end INTEGER NOT NULL, hash TEXT NOT NULL, context TEXT NOT NULL);
"""
_INDEXES = """
CREATE UNIQUE INDEX units_id ON units(id);
CREATE INDEX units_doc_para ON units(doc, para);
CREATE INDEX units_parent ON units(parent);
"""
_UNIT_COLUMNS = "id, doc, kind, para, sub, label, parent, text, rest"
_SPAN_SELECT = "SELECT s.id, s.unit, substr(u.text, s.start + 1, s.end - s.start), s.start, s.end, s.context FROM {table} s JOIN units u ON u.id = s.unit"


def _unit_rest(unit: Unit) -> str:
    return json.dumps([unit.section, unit.start, unit.end, [[s.text_start, s.start, s.end] for s in unit.spans], unit.marker, unit.page],
                      ensure_ascii=False)


def _unit(row: tuple) -> Unit:
    uid, doc, kind, para, sub, label, parent, text, rest = row
    section, start, end, spans, marker, page = json.loads(rest)
    return Unit(id=uid, doc=doc, kind=UnitKind(kind), para=para, sub=sub, section=tuple(section), text=text, start=start, end=end,
                spans=tuple(SourceSpan(*s) for s in spans), marker=tuple(marker) if marker else None, parent=parent, label=label, page=page)


def write_store(path: Path, units: Iterable[Unit], chunks: Iterable[Chunk], sentences: Iterable[Chunk]) -> None:
    """Write a build's records to a new SQLite file at ``path`` (a build folder being staged).

    ``sentences`` must be grouped by unit (as rag.build makes them): each unit records the first
    row and the count of its sentences. Everything is streamed (one pass over each iterable).

    Raises:
        ValueError: a unit's sentences are not contiguous (its range would silently take in others').
    """
    spans: dict[str, list[int]] = {}

    def sentence_rows() -> Iterator[tuple]:
        last: str | None = None
        for row, s in enumerate(sentences):
            span = spans.get(s.unit_id)
            if span is None:
                spans[s.unit_id] = [row, 1]
            elif s.unit_id != last:
                raise ValueError(f"the sentences of unit {s.unit_id!r} are not contiguous (row {row} comes after other units' sentences)")
            else:
                span[1] += 1
            last = s.unit_id
            yield s.id, s.unit_id, s.start, s.end, s.content_hash, s.context

    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        db.executemany("INSERT INTO sentences(id, unit, start, end, hash, context) VALUES (?, ?, ?, ?, ?, ?)", sentence_rows())
        db.executemany("INSERT INTO chunks(id, unit, start, end, hash, context) VALUES (?, ?, ?, ?, ?, ?)",
                       ((c.id, c.unit_id, c.start, c.end, c.content_hash, c.context) for c in chunks))
        db.executemany("INSERT INTO units(id, doc, kind, para, sub, label, parent, text, rest, sentence_start, sentence_count)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       ((u.id, u.doc, u.kind.value, u.para, u.sub, u.label, u.parent, u.text, _unit_rest(u), *spans.get(u.id, (0, 0)))
                        for u in units))
        db.executescript(_INDEXES)
        db.commit()
    finally:
        db.close()


def read_hashes(path: Path, table: str) -> list[str]:
    """Content hashes of ``chunks`` or ``sentences`` in row order, without loading a store (a rebuild's reuse).

    Raises:
        sqlite3.Error: the file cannot be read.
    """
    assert table in ("chunks", "sentences")
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)) as db:
        return [r[0] for r in db.execute(f"SELECT hash FROM {table} ORDER BY row")]


class _Reader:
    """The connections of one store file, shared by the store's caches without referring to the store.

    One connection is opened when the store is loaded; a query borrows one from the pool and gives it
    back. The pool holds at most ``max_connections`` (the server's worker threads are bounded, but a
    library user's are not; each connection holds a page cache). A new one is opened only while the
    file still exists: once a served build folder is pruned
    (the server reloads only on a later request), queries wait for a pooled connection, which still
    reads the deleted file through its open descriptor.
    """

    def __init__(self, path: Path, rebuild: str, max_connections: int = MAX_CONNECTIONS) -> None:
        self.path = path
        self.max_connections = max_connections
        self.rebuild = rebuild
        self.uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        self.idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self.opened: list[sqlite3.Connection] = []
        self.lock = threading.Lock()
        self.closed = False

    def _open(self) -> sqlite3.Connection | None:
        """A new connection, or None when the pool is full, the file is gone, or it cannot be opened while others are."""
        with self.lock:
            if self.closed:
                raise IndexUnavailableError(f"the document store {self.path} was closed; load the index again")
            if len(self.opened) >= self.max_connections or (self.opened and not self.path.exists()):
                return None
            try:
                db = sqlite3.connect(self.uri, uri=True, check_same_thread=False)  # moves between threads via the pool
            except sqlite3.Error as error:
                if self.opened:
                    return None
                raise self.damaged(error) from None
            self.opened.append(db)
            return db

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self.closed:
            raise IndexUnavailableError(f"the document store {self.path} was closed; load the index again")
        try:
            db = self.idle.get_nowait()
        except queue.Empty:
            db = self._open()
            while db is None:
                try:
                    db = self.idle.get(timeout=1.0)
                except queue.Empty:
                    if self.closed:
                        raise IndexUnavailableError(f"the document store {self.path} was closed; load the index again") from None
        try:
            with _Reading(self):
                yield db
        finally:
            self.idle.put(db)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self.connection() as db:
            return db.execute(sql, params).fetchall()

    def damaged(self, error: BaseException) -> IndexUnavailableError:
        return IndexUnavailableError(
            f"the index is damaged: {self.path} cannot be read ({type(error).__name__}: {first_line(error)}); {self.rebuild}"
        )

    def close(self) -> None:
        with self.lock:
            self.closed = True
            opened, self.opened = self.opened, []
        for db in opened:
            db.close()


def _fetch_unit(reader: _Reader, unit_id: str) -> Unit | None:
    rows = reader.query(f"SELECT {_UNIT_COLUMNS} FROM units WHERE id = ?", (unit_id,))
    return _unit(rows[0]) if rows else None


def _fetch_spans(reader: _Reader, table: str, start: int, stop: int) -> tuple[Chunk, ...]:
    rows = reader.query(_SPAN_SELECT.format(table=table) + " WHERE s.row BETWEEN ? AND ? ORDER BY s.row", (start + 1, stop))
    return tuple(Chunk(*r) for r in rows)


def _first_unit(reader: _Reader, doc: str, *, para: int | None = None, sub: str | None = None, label: str | None = None) -> Unit | None:
    """The first unit of ``doc`` with this paragraph number and sub-unit label, or (unnumbered) this label."""
    if para is not None:
        rows = reader.query(f"SELECT {_UNIT_COLUMNS} FROM units WHERE doc = ? AND para = ? AND sub IS ? ORDER BY row LIMIT 1",
                            (doc, para, sub))
    else:
        rows = reader.query(f"SELECT {_UNIT_COLUMNS} FROM units WHERE doc = ? AND para IS NULL AND label = ? AND kind != ? ORDER BY row LIMIT 1",
                            (doc, label, UnitKind.HEADING.value))
    return _unit(rows[0]) if rows else None


class DocumentStore:
    """Read side of ``store.sqlite``: units by id, paragraphs by number, spans by row.

    The caches refer to the connections (:class:`_Reader`), not to the store, so dropping the last
    reference frees the store at once and closes its file; :meth:`close` does it explicitly.
    """

    def __init__(self, path: Path, rebuild: str = "rebuild the index") -> None:
        self.path = path
        self._rebuild = rebuild
        self._reader = reader = _Reader(path, rebuild)
        self._finalizer = weakref.finalize(self, reader.close)
        self.unit: Callable[[str], Unit | None] = lru_cache(maxsize=_UNIT_CACHE)(partial(_fetch_unit, reader))
        # what answers read for their hits (sentences, the same paragraph in other versions), also kept when recent
        self._spans = lru_cache(maxsize=_UNIT_CACHE)(partial(_fetch_spans, reader))
        self.first_unit: Callable[..., Unit | None] = lru_cache(maxsize=_UNIT_CACHE)(partial(_first_unit, reader))
        try:
            self._load_maps()
        except BaseException:
            self.close()
            raise

    def _load_maps(self) -> None:
        with self._reader.connection() as db:
            rows = db.execute("SELECT id, doc, parent, sentence_start, sentence_count FROM units ORDER BY row").fetchall()
            self.unit_ids: list[str] = [r[0] for r in rows]
            self.unit_rows: dict[str, int] = {uid: i for i, uid in enumerate(self.unit_ids)}
            self.doc_names: list[str] = sorted({r[1] for r in rows})
            codes = {doc: i for i, doc in enumerate(self.doc_names)}
            self._doc_code = array("i", (codes[r[1]] for r in rows))
            ids = self.unit_ids
            self.parents: list[str | None] = [None if r[2] is None else ids[self.unit_rows[r[2]]] if r[2] in self.unit_rows else r[2] for r in rows]
            self.sentence_start = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
            self.sentence_count = np.fromiter((r[4] for r in rows), dtype=np.int32, count=len(rows))
            del rows
            chunk_rows = db.execute("SELECT id, unit FROM chunks ORDER BY row").fetchall()
            self.chunk_ids: list[str] = [r[0] for r in chunk_rows]
            self.chunk_units: list[str] = [ids[self.unit_rows[r[1]]] for r in chunk_rows]  # the unit's own string, not a copy
            del chunk_rows
            self.sentence_total: int = db.execute("SELECT count(*) FROM sentences").fetchone()[0]

    # -- plumbing ------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._reader.query(sql, params)

    def damaged(self, error: BaseException) -> IndexUnavailableError:
        return self._reader.damaged(error)

    def close(self) -> None:
        """Close every connection to the file (also done when the store is freed)."""
        self._finalizer()

    # -- units ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.unit_ids)

    def doc_of(self, unit_id: str) -> str | None:
        row = self.unit_rows.get(unit_id)
        return None if row is None else self.doc_names[self._doc_code[row]]

    def chunk_doc_codes(self) -> np.ndarray:
        """Per chunk row, the code of its document in :attr:`doc_names` (for filters; computed when first asked)."""
        codes = getattr(self, "_chunk_docs", None)
        if codes is None:
            rows = self.unit_rows
            unit_codes = np.frombuffer(self._doc_code, dtype=np.int32) if len(self._doc_code) else np.zeros(0, np.int32)
            chunk_rows = np.fromiter((rows[u] for u in self.chunk_units), dtype=np.int64, count=len(self.chunk_units))
            codes = self._chunk_docs = unit_codes[chunk_rows]
        return codes

    def parent_of(self, unit_id: str) -> str | None:
        """The enclosing paragraph's id of a sub-unit (None for others and unknown ids), without reading the record."""
        row = self.unit_rows.get(unit_id)
        return None if row is None else self.parents[row]

    def iter_units(self) -> Iterator[Unit]:
        """Units in build order, streamed from disk in batches (never all at once)."""
        last = -1
        while True:
            rows = self._query(f"SELECT row, {_UNIT_COLUMNS} FROM units WHERE row > ? ORDER BY row LIMIT {BATCH}", (last,))
            if not rows:
                return
            for row in rows:
                yield _unit(row[1:])
            last = rows[-1][0]

    def paragraphs(self, doc: str) -> dict[int, Unit]:
        """The numbered paragraphs of ``doc`` in order (the first of duplicate numbers)."""
        out: dict[int, Unit] = {}
        for row in self._query(f"SELECT {_UNIT_COLUMNS} FROM units WHERE doc = ? AND para IS NOT NULL AND kind = ? ORDER BY row",
                               (doc, UnitKind.PARAGRAPH.value)):
            out.setdefault(row[3], _unit(row))
        return dict(sorted(out.items()))

    def sub_units(self, parent: str) -> tuple[Unit, ...]:
        return tuple(_unit(r) for r in self._query(f"SELECT {_UNIT_COLUMNS} FROM units WHERE parent = ? ORDER BY row", (parent,)))

    def counts(self, column: str, *, retrievable: bool = False) -> Counter[str]:
        """Units per ``doc`` or per ``kind`` (``retrievable``: headings left out)."""
        assert column in ("doc", "kind")
        where = f"WHERE kind != '{UnitKind.HEADING.value}'" if retrievable else ""
        return Counter(dict(self._query(f"SELECT {column}, count(*) FROM units {where} GROUP BY {column}")))

    def paragraph_counts(self) -> Counter[str]:
        """Distinct paragraph numbers per document."""
        return Counter(dict(self._query("SELECT doc, count(DISTINCT para) FROM units WHERE kind = ? AND para IS NOT NULL GROUP BY doc",
                                        (UnitKind.PARAGRAPH.value,))))

    # -- sentences and chunks ------------------------------------------------

    def sentence_rows(self, unit_id: str) -> range:
        row = self.unit_rows.get(unit_id)
        if row is None:
            return range(0)
        start = int(self.sentence_start[row])
        return range(start, start + int(self.sentence_count[row]))

    def sentence_spans(self, unit_ids: Sequence[str]) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Positions in ``unit_ids`` of the units that have sentences, with their first rows and counts."""
        rows = self.unit_rows
        picked = np.fromiter((rows.get(u, -1) for u in unit_ids), dtype=np.int64, count=len(unit_ids))
        known = picked >= 0
        counts = np.zeros(len(unit_ids), np.int64)
        counts[known] = self.sentence_count[picked[known]]
        keep = np.flatnonzero(counts > 0)
        return keep.tolist(), self.sentence_start[picked[keep]], counts[keep]

    def spans(self, table: str, start: int, stop: int) -> list[Chunk]:
        """Rows ``start:stop`` of ``chunks`` or ``sentences`` with their text."""
        assert table in ("chunks", "sentences")
        return list(self._spans(table, start, stop) if stop - start <= _CACHED_SPANS else _fetch_spans(self._reader, table, start, stop))

    def check(self, expected: Mapping[str, int]) -> None:
        """Row counts against the manifest, reading every table to its end (a truncated file fails here)."""
        for table, wanted in expected.items():
            found = len(self.unit_ids) if table == "units" else len(self.chunk_ids) if table == "chunks" else self.sentence_total
            if found != wanted:
                raise IndexUnavailableError(
                    f"the index is damaged: {self.path} has {found} {table}, the manifest says {wanted}; {self._rebuild}"
                )
        problems = [r[0] for r in self._query("PRAGMA quick_check(1)")]
        if problems != ["ok"]:
            raise IndexUnavailableError(f"the index is damaged: {self.path} fails its integrity check ({problems[0]}); {self._rebuild}")


class _Reading:
    """Turns any SQLite failure while reading into one sentence naming the file."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> bool:
        if isinstance(error, sqlite3.Error):
            raise self.reader.damaged(error) from None
        return False
