"""The fast encoder: the same ONNX export run by OpenVINO, in bfloat16 on static shape buckets.

Why: on CPUs with AMX or AVX-512 BF16 (Sapphire Rapids and later) OpenVINO runs the matrix
products in bfloat16 with float32 accumulation, but only a model compiled for a *static* shape
gets the fast kernels: one query of ~20 tokens costs ~4 ms padded to [1, 32] on one thread,
~9 ms with dynamic shapes on two (measured on a quiet machine; bench/encoder_speed.py). So texts
are padded (attention mask 0, which mean pooling ignores) to a few token-length buckets
(:data:`QUERY_BUCKETS`, :data:`LENGTH_BUCKETS` for builds), and each
(rows, length) shape is compiled on first use and cached on disk by OpenVINO (``compiled/``).
The vectors are torch's within a cosine of 1e-4 (tests/test_openvino_encoder.py), so an index
built here is read with any float backend and the model id gets no suffix (int8's does).

Memory: each compiled shape holds its own copy of the weights. The word-embedding table is 80 %
of them (250,037 × 384), so the conversion cuts it out of the graph: it is stored as a float16
``.npy`` memory-mapped at run time (only the rows of tokens seen are read) and looked up here,
and each compiled shape holds only the 12 transformer layers (~70 MB instead of ~290 MB).

The float32 ONNX export (:func:`rag.embedding.onnx_backend.ensure_onnx`) is converted once to
OpenVINO's format beside it; written to a temporary folder and renamed, like the export.
"""

from __future__ import annotations

import json
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .onnx_backend import _ATTENTION_BUDGET, OnnxEncoder, OnnxExportError, ensure_onnx

__all__ = ["LENGTH_BUCKETS", "QUERY_BUCKETS", "QUERY_WARM_LENGTHS", "OpenVinoEncoder", "bucket_length", "ensure_openvino", "openvino_available", "openvino_bf16"]

_FORMAT = 2
_MODEL_FILE = "model.xml"
_TABLE_FILE = "word_embeddings.npy"
_STAMP_FILE = "export.json"
_COMPILED_DIR = "compiled"
#: token lengths a build batch is padded to: ten shapes to compile (one held at a time), ~20 %
#: padding on XQuAD zh's chunks and sentences (powers of two alone: ~45 %)
LENGTH_BUCKETS = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512)
#: token lengths a query is padded to (each a shape held for the life of the process)
QUERY_BUCKETS = (16, 32, 64, 128, 256, 512)
#: single queries up to this many tokens run on static shapes (one compiled shape per bucket);
#: longer ones and batches of queries run on the dynamic model
QUERY_STATIC_MAX = 64
#: query shapes compiled when the encoder loads (a service start), not on a request
QUERY_WARM_LENGTHS = (16, 32, 64)


def openvino_available() -> bool:
    """True when the ``openvino`` package can be imported (it is an optional dependency)."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def openvino_bf16() -> bool:
    """True when OpenVINO is installed and this CPU computes in bfloat16 (AMX or AVX-512 BF16):
    only then does it beat ONNX Runtime's float32 for queries."""
    if not openvino_available():
        return False
    import openvino as ov

    try:
        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:  # pragma: no cover - no CPU plugin
        return False


def bucket_length(tokens: int, max_length: int = 512, buckets: tuple[int, ...] = LENGTH_BUCKETS) -> int:
    """The bucket ``tokens`` are padded to (never beyond ``max_length``, the truncation length)."""
    for bucket in buckets:
        if bucket >= tokens:
            return max(tokens, min(bucket, max_length))
    return tokens


def _split_word_embeddings(model: Any) -> np.ndarray | None:
    """Cut the word-embedding lookup out of ``model`` (an ``inputs_embeds`` input takes its place);
    return its table, or None when the graph has no such lookup (then the model stays whole)."""
    import openvino as ov

    for op in model.get_ordered_ops():
        if op.get_type_name() != "Gather":
            continue
        indices, data = op.input_value(1).get_node(), op.input_value(0).get_node()
        if indices.get_type_name() != "Parameter" or "input_ids" not in indices.output(0).get_names():
            continue
        if data.get_type_name() == "Convert":
            data = data.input_value(0).get_node()
        if data.get_type_name() != "Constant" or len(data.get_output_shape(0)) != 2:
            continue
        table = np.array(data.get_data(), dtype=np.float16)
        embeds = ov.opset13.parameter([-1, -1, table.shape[1]], ov.Type.f32, name="inputs_embeds")
        embeds.output(0).get_tensor().set_names({"inputs_embeds"})
        for target in list(op.output(0).get_target_inputs()):
            target.replace_source_output(embeds.output(0))
        model.add_parameters([embeds])
        model.validate_nodes_and_infer_types()
        return table
    return None


def ensure_openvino(source: str | Path, cache_dir: Path) -> Path:
    """Path of the OpenVINO model of ``source`` under ``cache_dir``, converting it once if needed."""
    onnx_file = ensure_onnx(source, cache_dir, quantize=False)
    stamp_of_onnx = (onnx_file.parent / _STAMP_FILE).read_text(encoding="utf-8")
    target = onnx_file.parent.with_name(onnx_file.parent.name.removesuffix("-onnx") + "-openvino")
    try:
        stamp = json.loads((target / _STAMP_FILE).read_text(encoding="utf-8"))
        if stamp.get("onnx") == stamp_of_onnx and stamp.get("format") == _FORMAT and (target / _MODEL_FILE).is_file():
            return target / _MODEL_FILE
    except (OSError, ValueError):
        pass
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        import openvino as ov

        model = ov.Core().read_model(str(onnx_file))
        table = _split_word_embeddings(model)
        if table is not None:
            np.save(staging / _TABLE_FILE, table)
        # weights stored as float16 (half the disk; the CPU computes in bfloat16 or float32)
        ov.save_model(model, str(staging / _MODEL_FILE), compress_to_fp16=True)
        shutil.copy2(onnx_file.parent / "tokenizer.json", staging / "tokenizer.json")
        (staging / _STAMP_FILE).write_text(json.dumps({"onnx": stamp_of_onnx, "format": _FORMAT}), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except Exception as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise OnnxExportError(f"converting {onnx_file} for OpenVINO failed: {error}") from error
    return target / _MODEL_FILE


class _Compiled:
    """One compiled shape (or the dynamic model) with its pool of inference requests: a request is
    not thread-safe, so each concurrent caller takes its own (made on demand)."""

    def __init__(self, compiled: Any) -> None:
        self.model = compiled
        self.requests: queue.SimpleQueue = queue.SimpleQueue()
        self.first_use = threading.Lock()

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        try:
            request = self.requests.get_nowait()
        except queue.Empty:
            # a new request's first run one at a time: two streams' requests run at once from the
            # start have hung in OpenVINO (both waiting in get_tensor)
            with self.first_use:
                try:  # one may have come back while this thread waited: no new request then
                    request = self.requests.get_nowait()
                except queue.Empty:
                    request = self.model.create_infer_request()
                    try:
                        return np.array(request.infer(inputs, share_inputs=True)[0], copy=True)
                    finally:
                        self.requests.put(request)
        try:
            # inputs shared, not copied into the request's tensors (the copy path has hung two
            # streams' requests in OpenVINO's Python layer); the output buffer is reused by the next call
            return np.array(request.infer(inputs, share_inputs=True)[0], copy=True)
        finally:
            self.requests.put(request)


class OpenVinoEncoder(OnnxEncoder):
    """:class:`OnnxEncoder`'s tokenising, length-sorted batching and pooling, on an OpenVINO model.

    ``throughput=False`` (queries): a single query of ≤ :data:`QUERY_STATIC_MAX` tokens runs on a
    static [1, bucket] shape, anything else on the dynamic model (padded to a bucket, so few shapes);
    ``threads`` per inference (one is fastest for one short query). ``throughput=True`` (builds):
    every batch is padded to [rows, bucket] with rows fixed per bucket by the token budget, so a
    build compiles one shape per bucket; ``streams`` > 1 runs batches concurrently, one caller
    thread and one ``threads // streams``-thread stream each. ``static_shapes=False``: the dynamic
    model only (what this encoder did before buckets; for comparisons).
    """

    #: padded tokens per build batch: OpenVINO keeps scratch memory for each compiled shape, and
    #: 2,048 tokens keep that near 100 MB and the matrix units busy
    token_budget = 2048

    def __init__(
        self,
        model_file: Path,
        *,
        threads: int = 2,
        max_seq_length: int = 512,
        streams: int = 1,
        token_budget: int | None = None,
        throughput: bool = False,
        static_shapes: bool = True,
        warm: Iterable[int] = (),
    ) -> None:
        import openvino as ov

        if token_budget:
            self.token_budget = token_budget
        # static shapes run one stream: two streams double each shape's memory, and their
        # requests on shapes compiled and let go by turns have been seen to deadlock
        self.streams = 1 if static_shapes else max(1, streams)
        self.throughput = throughput
        self.static_shapes = static_shapes
        hint = "LATENCY" if self.streams == 1 else "THROUGHPUT"
        self._config = {"INFERENCE_NUM_THREADS": max(1, threads), "PERFORMANCE_HINT": hint, "NUM_STREAMS": self.streams}
        folder = Path(model_file).parent
        self._core = ov.Core()
        # each shape compiled for this CPU once, then loaded from the cache (seconds less on every
        # start); OpenVINO checks a cached blob against the model and the device and recompiles if stale
        self._core.set_property({"CACHE_DIR": str(folder / _COMPILED_DIR)})
        self._model = self._core.read_model(str(model_file))
        self._inputs = {i.get_any_name() for i in self._model.inputs}
        self._table = np.load(folder / _TABLE_FILE, mmap_mode="r") if "inputs_embeds" in self._inputs else None
        self._shapes: dict[tuple[int, int] | None, _Compiled] = {}
        self._compile_lock = threading.Lock()
        self._load_tokenizer(folder, max_seq_length)
        self.dimension = int(self._model.output(0).get_partial_shape()[-1].get_length())
        for length in warm:  # compile (or load from the cache) now, not on a request
            self._shape(1, bucket_length(length, max_seq_length, QUERY_BUCKETS) if static_shapes else 0)

    @property
    def precision(self) -> str:
        """What the CPU computes in ("bf16" on AMX/AVX-512 BF16, else "f32")."""
        return self._core.get_property("CPU", "INFERENCE_PRECISION_HINT").to_string()

    @property
    def compiled_shapes(self) -> list[tuple[int, int] | None]:
        """Shapes compiled so far (None: the dynamic model)."""
        return list(self._shapes)

    def _shape(self, rows: int, length: int) -> _Compiled:
        """The model compiled for [rows, length] (0: the dynamic model), compiling it on first use."""
        key = (rows, length) if length else None
        found = self._shapes.get(key)
        if found is not None:
            return found
        with self._compile_lock:
            found = self._shapes.get(key)
            if found is None:
                model = self._model.clone()
                if key is not None:
                    shapes = {"input_ids": [rows, length], "attention_mask": [rows, length]}
                    if self._table is not None:
                        shapes["inputs_embeds"] = [rows, length, self._table.shape[1]]
                    model.reshape(shapes)
                if self.throughput:  # a build runs its buckets one after another (longest first):
                    self._shapes.clear()  # hold one shape's weights and scratch, not all of them
                found = self._shapes[key] = _Compiled(self._core.compile_model(model, "CPU", self._config))
        return found

    def _pad_width(self, width: int) -> int:
        # the dynamic model too: it keeps scratch memory per shape it has run, so few shapes
        return bucket_length(width, self.max_seq_length, LENGTH_BUCKETS if self.throughput else QUERY_BUCKETS)

    def _rows(self, width: int) -> int:
        """Rows of a build batch of ``width`` padded tokens (what :meth:`_batches` fills)."""
        return max(1, min(32, _ATTENTION_BUDGET // (width * width), self.token_budget // width))

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        rows, width = ids.shape
        target, length = rows, 0
        if self.static_shapes and self.throughput:
            target, length = max(rows, self._rows(width)), width
        elif self.static_shapes and rows == 1 and width <= QUERY_STATIC_MAX:
            length = width
        if target > rows:  # fill the fixed batch: rows of one <s> token, dropped below
            ids = np.concatenate([ids, np.full((target - rows, width), self.pad_id, ids.dtype)])
            mask = np.concatenate([mask, np.zeros((target - rows, width), mask.dtype)])
            mask[rows:, 0] = 1
            ids[rows:, 0] = ids[0, 0]
        inputs = {"input_ids": np.ascontiguousarray(ids), "attention_mask": np.ascontiguousarray(mask)}
        if self._table is not None:
            inputs["inputs_embeds"] = self._table[ids].astype(np.float32)  # a fresh contiguous array
        return self._shape(target, length).infer(inputs)[:rows]

    def _run_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]], sink: Any, progress: Any) -> None:
        if self.streams == 1:
            super()._run_batches(batches, sink, progress)
            return
        # one Python thread per stream, each with its own request (infer releases the GIL); not
        # OpenVINO's AsyncInferQueue, whose callbacks can deadlock the compiled model's destructor
        pending = iter(batches)
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    batch = next(pending, None)
                if batch is None:
                    return
                rows, ids, mask = batch
                hidden = self._run(ids, mask)
                with lock:
                    sink(rows, hidden, mask)
                    if progress is not None:
                        progress.update(len(rows))

        with ThreadPoolExecutor(self.streams, thread_name_prefix="openvino") as workers:
            for done in [workers.submit(work) for _ in range(self.streams)]:
                done.result()  # re-raises a worker's error
