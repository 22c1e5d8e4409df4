"""The build encoder: the same ONNX export run by OpenVINO, in bfloat16 on CPUs that have it.

Why: an index build embeds every chunk and every sentence, hundreds of tokens per paragraph.
On CPUs with AMX or AVX-512 BF16 (Sapphire Rapids and later) OpenVINO runs the matrix products
in bfloat16 with float32 accumulation, several times faster than ONNX Runtime's float32 or
dynamic-int8 kernels (bench/build_time.py); elsewhere it runs float32. Either way the vectors
are torch's within a cosine of 1e-4 (tests/test_onnx_encoder.py), so an index built here is
read with any float backend and the model id gets no suffix (int8's does).

The float32 ONNX export (:func:`rag.embedding.onnx_backend.ensure_onnx`) is converted once to
OpenVINO's own format beside it (float16 weights, memory-mapped when loaded, so a build does not
hold a second copy); written to a temporary folder and renamed, like the export. The model
compiled for the CPU at hand is cached in that folder's ``compiled/`` by OpenVINO itself.
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

from .onnx_backend import OnnxEncoder, OnnxExportError, ensure_onnx, pool_into

__all__ = ["OpenVinoEncoder", "ensure_openvino", "openvino_available"]

_FORMAT = 1
_MODEL_FILE = "model.xml"
_STAMP_FILE = "export.json"
_COMPILED_DIR = "compiled"


def openvino_available() -> bool:
    """True when the ``openvino`` package can be imported (it is an optional dependency)."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


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

        # weights stored as float16 (half the disk and memory; the CPU computes in bfloat16 or float32)
        ov.save_model(ov.Core().read_model(str(onnx_file)), str(staging / _MODEL_FILE), compress_to_fp16=True)
        shutil.copy2(onnx_file.parent / "tokenizer.json", staging / "tokenizer.json")
        (staging / _STAMP_FILE).write_text(json.dumps({"onnx": stamp_of_onnx, "format": _FORMAT}), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except Exception as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise OnnxExportError(f"converting {onnx_file} for OpenVINO failed: {error}") from error
    return target / _MODEL_FILE


class OpenVinoEncoder(OnnxEncoder):
    """:class:`OnnxEncoder`'s tokenising, length-sorted batching and pooling, on an OpenVINO model.

    ``streams=1`` (serving): one stream of ``threads`` threads, lowest latency for one query;
    inference requests are not thread-safe, so each call takes one from a pool (one per
    concurrent caller, made on demand). ``streams`` > 1 (builds): that many streams share the
    threads and batches run on them concurrently, one caller thread per stream, which keeps the
    cores busier than one stream (small matrices leave threads waiting on each other).
    """

    #: OpenVINO keeps scratch memory for the largest batch it has run; 2,048 tokens a batch keeps
    #: that near 100 MB a stream and the matrix units busy
    token_budget = 2048

    def __init__(
        self, model_file: Path, *, threads: int = 2, max_seq_length: int = 512, streams: int = 1, token_budget: int | None = None
    ) -> None:
        import openvino as ov

        if token_budget:
            self.token_budget = token_budget
        self.streams = max(1, streams)
        hint = "LATENCY" if self.streams == 1 else "THROUGHPUT"
        config = {"INFERENCE_NUM_THREADS": max(1, threads), "PERFORMANCE_HINT": hint, "NUM_STREAMS": self.streams}
        core = ov.Core()
        # compiled for this CPU once, then loaded from the cache (seconds less on every start);
        # OpenVINO checks a cached blob against the model and the device and recompiles if stale
        core.set_property({"CACHE_DIR": str(Path(model_file).parent / _COMPILED_DIR)})
        self._compiled = core.compile_model(str(model_file), "CPU", config)
        self.precision = str(self._compiled.get_property("INFERENCE_PRECISION_HINT"))
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._load_tokenizer(Path(model_file).parent, max_seq_length)
        self.dimension = int(self._compiled.output(0).get_partial_shape()[-1].get_length())

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        try:
            request = self._requests.get_nowait()
        except queue.Empty:
            request = self._compiled.create_infer_request()
        try:
            result = request.infer({"input_ids": ids, "attention_mask": mask})
            return np.array(result[0], copy=True)  # the request's buffer is reused by its next call
        finally:
            self._requests.put(request)

    def _run_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]], out: np.ndarray, progress: Any) -> None:
        if self.streams == 1:
            super()._run_batches(batches, out, progress)
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
                    pool_into(out, rows, hidden, mask)
                    if progress is not None:
                        progress.update(len(rows))

        with ThreadPoolExecutor(self.streams, thread_name_prefix="openvino") as workers:
            for done in [workers.submit(work) for _ in range(self.streams)]:
                done.result()  # re-raises a worker's error
