"""Changing the served library over the API: folder and catalogue, incremental rebuild, reload.

One change at a time (a lock): the folder change is :mod:`rag.library_files`' all-or-nothing
edit, the rebuild embeds only new text (with the model the service already holds), and the
Reloader swaps the new build in, so the document is answerable when the request returns.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from index.backends.local import FaissDense
from index.store import IndexBuildError, IndexUnavailableError
from rag.build import BuildReport
from rag.catalogue import DocumentMeta
from rag.config import Settings
from rag.library_files import AddOptions, LibraryEditError, add_documents, catalogue_entries, remove_documents
from rag.qa import QuestionAnswerer

__all__ = ["EditOutcome", "LibraryEditor", "LibraryRebuildError", "UnsupportedBackendError"]


class UnsupportedBackendError(LibraryEditError):
    """The served index cannot be swapped in place (Milvus); nothing was changed."""


class LibraryRebuildError(RuntimeError):
    """The folder was changed but the index could not be rebuilt; the previous build is still served."""


@dataclass(frozen=True)
class EditOutcome:
    documents: list[DocumentMeta]  # added or removed versions
    report: BuildReport
    build: str  # the build served now


class LibraryEditor:
    """Adds, replaces and removes documents of ``settings.seeds_dir`` for the service in ``state``."""

    def __init__(self, state: Any, settings: Settings) -> None:
        self.state = state
        self.settings = settings
        self._lock = threading.Lock()

    def add(self, name: str, content: BinaryIO, options: AddOptions, *, replace: bool) -> EditOutcome:
        """Add one uploaded file under its own name (``name`` is a bare file name).

        Raises:
            LibraryEditError: the file is unusable, or it would replace a document without ``replace``.
            LibraryRebuildError: the folder changed but the index was not rebuilt.
        """
        safe = Path(name).name
        if not safe or safe != name.replace("\\", "/").rsplit("/", 1)[-1] or safe.startswith("."):
            raise LibraryEditError(f"{name!r} is not a usable file name (a plain name such as report.docx)")
        with self._lock, tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            self._check_backend()
            path = Path(tmp) / safe
            with path.open("wb") as out:
                while chunk := content.read(1 << 20):
                    out.write(chunk)
            try:
                added = add_documents(self.settings.seeds_dir, [path], options, replace=replace)
            except LibraryEditError as error:
                # the readers name the file by its path: here, a temporary one the client never saw
                raise type(error)(str(error).replace(str(path), safe).replace(tmp, "")) from None
            return self._rebuild(added)

    def remove(self, doc: str) -> EditOutcome:
        """Remove a version (by id) or every version of a document (by symbol / key).

        Raises:
            UnknownLibraryDocumentError: nothing by that name.
            LibraryEditError: it is the last document (an index needs one).
            LibraryRebuildError: the folder changed but the index was not rebuilt.
        """
        with self._lock:
            self._check_backend()
            folder = self.settings.seeds_dir
            existing = catalogue_entries(folder) if folder.is_dir() else []
            left = [d for d in existing if d.id != doc and d.document_key != doc and d.symbol != doc]
            if existing and not left and any(d.id == doc or d.document_key == doc or d.symbol == doc for d in existing):
                raise LibraryEditError(f"{doc!r} is the last document of the library; add another before removing it")
            gone = remove_documents(folder, doc)
            return self._rebuild(gone)

    def _check_backend(self) -> None:
        answerer: QuestionAnswerer = self.state.answerer
        if not isinstance(answerer.retriever.dense, FaissDense):
            raise UnsupportedBackendError("documents can be changed over the API with the local index only; use rag add / rag remove and restart")

    def _rebuild(self, changed: list[DocumentMeta]) -> EditOutcome:
        from api.reload import index_dir_of
        from rag.engine import build_from_documents, choose_model, load_seed_corpus

        answerer: QuestionAnswerer = self.state.answerer
        corpus = load_seed_corpus(self.settings, self.settings.seeds_dir)
        same_model = answerer.retriever.index.manifest.model_id == choose_model(self.settings).id
        try:
            report = build_from_documents(
                self.settings, corpus, index_dir=index_dir_of(answerer), embedder=answerer.retriever.encoder if same_model else None
            )
            outcome = self.state.reloader.reload()
        except (OSError, ValueError, IndexUnavailableError, IndexBuildError) as error:
            raise LibraryRebuildError(
                f"the library folder was changed but the index could not be rebuilt ({error}); the previous build is still served: run rag build"
            ) from None
        return EditOutcome(changed, report, outcome.build)
