"""Serving a rebuilt library without a restart: one small swap function.

``rag add`` / ``rag remove`` rebuild the index atomically (a new build folder, then the
``CURRENT`` pointer); :func:`reload_answerer` gives a new answerer over whatever build is live,
sharing the loaded model, lexicon and parameters. The caller swaps it in with one attribute
assignment (``app.state.answerer = new``): a request already holding the old answerer finishes
on it, everything in it being in memory, so no request fails during the swap. The library
service (:func:`rag.library.library_of`) follows the index it is given.

The reliability work (issue 11) calls the same swap from ``POST /admin/reload`` and a periodic
check; this function is the library side's minimal version of it.
"""

from __future__ import annotations

from pathlib import Path

from index.store import load_index
from rag.qa import QuestionAnswerer
from rag.retriever import Retriever

__all__ = ["live_build_name", "reload_answerer"]

_CURRENT = "CURRENT"


def live_build_name(index_dir: Path) -> str | None:
    """The build ``CURRENT`` names, or None when there is no readable pointer."""
    try:
        return (index_dir / _CURRENT).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def reload_answerer(answerer: QuestionAnswerer) -> QuestionAnswerer | None:
    """A new answerer over the live build when it is not the one ``answerer`` serves, else None.

    Raises:
        IndexUnavailableError: the live build cannot be loaded (keep serving the old one).
    """
    index = answerer.retriever.index
    index_dir = index.path.parents[1]  # <index dir>/builds/<build id>
    if live_build_name(index_dir) in (None, index.path.name):
        return None
    fresh = load_index(index_dir, model_id=index.manifest.model_id)
    old = answerer.retriever
    return QuestionAnswerer(Retriever(fresh, old.encoder, fusion=old.fusion, lexicon=old.lexicon), answerer.params, answerer.generator)
