"""Serve a rebuilt index without a restart: load the new build beside the old one, then swap.

The swap is one attribute assignment, so a request that already holds the old answerer finishes
on it, and every later request gets the new one; nothing fails while a reload is in progress.
The model and the generator are reused: only the index is read again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.backends.local import FaissDense
from index.store import IndexUnavailableError, live_build_id, load_index
from rag.chunking import ChunkingParams
from rag.engine import settle_heap
from rag.qa import QuestionAnswerer
from rag.retriever import Retriever

__all__ = ["ReloadOutcome", "Reloader", "index_dir_of"]

log = logging.getLogger("rag.api")


@dataclass(frozen=True)
class ReloadOutcome:
    changed: bool
    build: str  # the build now served
    previous: str


def index_dir_of(answerer: QuestionAnswerer) -> Path:
    """The index directory an answerer's build lives in (``<index dir>/builds/<build id>``)."""
    return answerer.retriever.index.path.parents[1]


class Reloader:
    """Swaps ``state.answerer`` for one over the live build of the same index directory."""

    def __init__(self, state: Any, *, chunking: ChunkingParams | None, check_every_s: float) -> None:
        self.state = state
        self.chunking = chunking
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._next_check = time.monotonic() + check_every_s

    def reload(self) -> ReloadOutcome:
        """Load the live build if it is not the one served, and swap it in.

        Raises:
            IndexUnavailableError: the live build cannot be loaded; the old one keeps being served.
        """
        with self._lock:
            old: QuestionAnswerer = self.state.answerer
            served = old.retriever.index.path.name
            directory = index_dir_of(old)
            if live_build_id(directory) == served:
                return ReloadOutcome(False, served, served)
            if not isinstance(old.retriever.dense, FaissDense):
                raise IndexUnavailableError("reload swaps the local index only; restart the service to serve a rebuilt Milvus collection")
            index = load_index(directory, model_id=old.retriever.index.manifest.model_id, chunking=self.chunking)
            retriever = Retriever(index, old.retriever.encoder, fusion=old.retriever.fusion, lexicon=old.retriever.lexicon)
            self.state.answerer = QuestionAnswerer(retriever, old.params, old.generator)
            del old
            settle_heap()  # the old build's objects go, the new one's are frozen
            log.info("reloaded the index: now serving build %s (was %s)", index.path.name, served)
            return ReloadOutcome(True, index.path.name, served)

    def is_stale(self) -> bool:
        """The index directory's live build is not the one served."""
        answerer: QuestionAnswerer = self.state.answerer
        return live_build_id(index_dir_of(answerer)) != answerer.retriever.index.path.name

    def check_soon(self) -> None:
        """At most every ``check_every_s``: if a rebuild made another build live, reload in the background."""
        if self.check_every_s <= 0 or time.monotonic() < self._next_check or self._lock.locked():
            return
        self._next_check = time.monotonic() + self.check_every_s
        if self.is_stale():
            threading.Thread(target=self._reload_quietly, name="index-reload", daemon=True).start()

    def _reload_quietly(self) -> None:
        try:
            self.reload()
        except Exception as error:  # a damaged new build: keep serving the old one, say so in the log
            log.error("could not reload the index, still serving the previous build: %s", error)
