"""Phase profile of one index build (XQuAD zh by default): where a build's time and CPU go.

Wraps the real pipeline's functions (nothing re-implemented) and builds once in this process into a
temporary folder: wall and CPU seconds of imports, chunking, sentence spans, model load, compiling
(or loading from the on-disk cache) the encoder's shapes, embedding, FAISS, BM25 (jieba), the
document store, the sentence vectors and fsync; peak RSS (VmHWM). CPU seconds stay meaningful on a
shared machine where wall seconds do not. The build's settings come from the environment
(``RAG_BUILD_ENCODER_MODE``, ``RAG_BUILD_POOL_SENTENCE_VECTORS``...).

    RAG_HOME=/tmp/x PYTHONPATH=. python bench/profile_build.py [--paragraphs N] [--out bench/results/build_profile.json]
"""

from __future__ import annotations

import time

STARTED_WALL, STARTED_CPU = time.perf_counter(), time.process_time()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from compare import squad_paragraphs, write_corpus  # noqa: E402

import index.store as store  # noqa: E402
import rag.build as build  # noqa: E402
import rag.embedding.onnx_backend as onnx_backend  # noqa: E402
import rag.embedding.openvino_backend as openvino_backend  # noqa: E402
import rag.engine as engine  # noqa: E402
from rag.config import Settings  # noqa: E402

IMPORTS = (time.perf_counter() - STARTED_WALL, time.process_time() - STARTED_CPU)
WALL: dict[str, float] = {}
CPU: dict[str, float] = {}


def _timed(label: str, function):
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            WALL[label] = WALL.get(label, 0.0) + time.perf_counter() - wall
            CPU[label] = CPU.get(label, 0.0) + time.process_time() - cpu
    return wrapper


def _instrument() -> None:
    for module, name, label in [
        (build, "chunk_units", "chunking"), (build, "sentence_spans", "sentence spans"), (build, "corpus_hash", "corpus hash"),
        (engine, "load_build_embedder", "model load"), (build, "write_build", "writing (all)"), (store, "build_dense", "FAISS build"),
        (store, "save_dense_index", "FAISS save"), (store, "write_store", "document store"),
        (store, "save_sentence_vectors", "sentence vectors save"), (store, "fsync_tree", "fsync"),
    ]:
        setattr(module, name, _timed(label, getattr(module, name)))
    lexical = store.LexicalIndex
    lexical.build = classmethod(_timed("BM25 build (jieba)", lexical.build.__func__))
    encoder = onnx_backend.OnnxEncoder
    encoder._encode_into = _timed("embedding (all)", encoder._encode_into)
    vino = openvino_backend.OpenVinoEncoder
    compile_shape = vino._shape

    def shape(self, rows: int, length: int):
        if ((rows, length) if length else None) in self._shapes:
            return compile_shape(self, rows, length)
        return _timed("compile or cache-load shapes", compile_shape)(self, rows, length)

    vino._shape = shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    _instrument()
    work = Path(tempfile.mkdtemp(prefix="rag-build-profile-"))
    corpus = write_corpus(squad_paragraphs(ROOT / "eval/data/xquad/xquad.zh.json")[: args.paragraphs], work / "xquad_zh.jsonl")
    settings = Settings()
    wall, cpu = time.perf_counter(), time.process_time()
    report = engine.build_from_corpus_file(settings, corpus, index_dir=work / "index")
    WALL["build (all)"], CPU["build (all)"] = time.perf_counter() - wall, time.process_time() - cpu
    WALL["imports"], CPU["imports"] = IMPORTS
    with open("/proc/self/status", encoding="utf-8") as status:
        peak = round(int(next(x for x in status if x.startswith("VmHWM:")).split()[1]) / 1024)
    result = {
        "units": report.manifest.units, "chunks": report.manifest.chunks, "sentences": report.manifest.sentences,
        "texts_embedded": report.embedded, "build_encoder_mode": settings.build.encoder_mode,
        "pool_sentence_vectors": settings.build.pool_sentence_vectors, "peak_rss_mb": peak,
        "process_wall_s": round(time.perf_counter() - STARTED_WALL, 2), "process_cpu_s": round(time.process_time() - STARTED_CPU, 2),
        "phases": {k: {"wall_s": round(WALL[k], 3), "cpu_s": round(CPU[k], 3)} for k in sorted(WALL, key=lambda k: -CPU[k])},
    }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
