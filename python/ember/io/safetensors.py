"""The safetensors file format: a strict reader and an atomic writer, no pickle, no code.

Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
N bytes of UTF-8 JSON ``{name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
"__metadata__": {str: str}}`` padded with spaces, then the tensor bytes. Offsets are relative
to the end of the header; the tensors tile the data exactly (no holes, no overlap, nothing
after). The reader checks every size against the file size before it allocates anything, so
a lying header costs at most the file's size in memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import mmap
import os
import struct
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .._atomic import atomic_open
from .._dtype import bfloat16, bool_, dtype, float16, float32, float64, int32, int64
from ..creation import empty
from ..tensor import Tensor

# A header this large would be millions of tensors; safetensors itself caps it at 100 MB.
MAX_HEADER_BYTES = 100 * 1024 * 1024

TO_CODE: dict[dtype, str] = {
    float32: "F32", float64: "F64", float16: "F16", bfloat16: "BF16",
    int32: "I32", int64: "I64", bool_: "BOOL",
}
FROM_CODE: dict[str, dtype] = {v: k for k, v in TO_CODE.items()}

if sys.byteorder != "little":  # pragma: no cover - ember targets little-endian CPUs only
    raise ImportError("ember.io: safetensors files are little-endian; this host is not")


def _byte_view(t: Tensor) -> np.ndarray:
    """The bytes of a contiguous CPU tensor as a uint8 array sharing its memory (any dtype,
    bfloat16 included, which NumPy's buffer protocol refuses)."""
    n = t.numel() * t.element_size()
    if n == 0:
        return np.empty(0, np.uint8)
    return np.ctypeslib.as_array((ctypes.c_uint8 * n).from_address(t.data_ptr()))


def tensor_bytes(t: Tensor) -> tuple[Tensor, np.ndarray]:
    """A contiguous CPU copy-or-self of ``t`` and its bytes (keep the tensor alive while the
    bytes are in use)."""
    src = t.detach().cpu().contiguous()
    return src, _byte_view(src)


def build_header(tensors: list[tuple[str, Tensor]], metadata: dict[str, str]) -> bytes:
    """The padded JSON header for tensors laid out in the given order."""
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, t in tensors:
        n = t.numel() * t.element_size()
        header[name] = {"dtype": TO_CODE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return raw + b" " * (-(8 + len(raw)) % 8)  # 8-aligned data start, spaces as the spec allows


def write_file(path: str | os.PathLike[str], tensors: list[tuple[str, Tensor]],
               metadata: dict[str, str]) -> None:
    """Writes a safetensors file atomically: a temporary file in the same directory, fsync,
    rename over ``path``, fsync of the directory. A crash at any point leaves either the old
    file or the new one, never a mix."""
    # Larger elements first keeps every tensor aligned to its itemsize, as safetensors does.
    tensors = sorted(tensors, key=lambda nt: -nt[1].element_size())
    header = build_header(tensors, metadata)
    with atomic_open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for _, t in tensors:
            f.write(_byte_view(t))


def _fail(path: str, msg: str) -> ValueError:
    return ValueError(f"[load] {path}: {msg}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r:.100}")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class Entry:
    """One validated tensor record of a header."""

    __slots__ = ("name", "dtype", "shape", "begin", "end")

    def __init__(self, name: str, dt: dtype, shape: tuple[int, ...], begin: int, end: int):
        self.name, self.dtype, self.shape, self.begin, self.end = name, dt, shape, begin, end


def _entry(path: str, name: str, rec: Any, data_size: int) -> Entry:
    if not isinstance(rec, dict) or set(rec) != {"dtype", "shape", "data_offsets"}:
        raise _fail(path, f"tensor {name!r}: expected keys dtype, shape, data_offsets, "
                          f"got {rec!r:.200}")
    code, shape, offsets = rec["dtype"], rec["shape"], rec["data_offsets"]
    if code not in FROM_CODE:
        raise _fail(path, f"tensor {name!r}: unsupported dtype {code!r:.40} (ember reads "
                          f"{', '.join(FROM_CODE)})")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise _fail(path, f"tensor {name!r}: invalid shape {shape!r:.200}")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_int, offsets))
            or not 0 <= offsets[0] <= offsets[1] <= data_size):
        raise _fail(path, f"tensor {name!r}: data_offsets {offsets!r:.200} out of range "
                          f"[0, {data_size}]")
    dt = FROM_CODE[code]
    numel, span = 1, 1
    for d in shape:  # Python ints: a lying shape can't overflow, only mismatch
        numel, span = numel * d, span * max(d, 1)
    if span >= 2**63:  # a 0-size tensor still needs int64 strides
        raise _fail(path, f"tensor {name!r}: shape {shape} does not fit in int64")
    if numel * dt.itemsize != offsets[1] - offsets[0]:
        raise _fail(path, f"tensor {name!r}: shape {shape} of {code} needs "
                          f"{numel * dt.itemsize} bytes, data_offsets span "
                          f"{offsets[1] - offsets[0]}")
    return Entry(name, dt, tuple(shape), offsets[0], offsets[1])


def parse_header(path: str, buf: Any) -> tuple[list[Entry], dict[str, str], int]:
    """Validates the header of the file in ``buf``; returns the entries in header order, the
    metadata and where the data starts."""
    size = len(buf)
    if size < 8:
        raise _fail(path, f"truncated file ({size} bytes; the header length alone takes 8)")
    (n,) = struct.unpack_from("<Q", buf, 0)
    if n > MAX_HEADER_BYTES:
        raise _fail(path, f"header length {n} exceeds the {MAX_HEADER_BYTES}-byte limit")
    if 8 + n > size:
        raise _fail(path, f"header length {n} exceeds the file size {size} (truncated file?)")
    try:
        text = bytes(buf[8:8 + n]).decode("utf-8")
        if not text.startswith("{"):
            raise ValueError("the header must start with '{'")
        header = json.loads(text, object_pairs_hook=_no_duplicates,
                            parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _fail(path, f"invalid JSON header: {e}") from None
    if not isinstance(header, dict):
        raise _fail(path, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, "__metadata__ must map strings to strings")
    data_size = size - 8 - n
    entries = [_entry(path, k, v, data_size) for k, v in header.items()]
    pos = 0
    for e in sorted(entries, key=lambda e: (e.begin, e.end)):  # must tile the data exactly
        if e.begin != pos:
            what = "overlaps the previous tensor" if e.begin < pos else f"leaves a gap at {pos}"
            raise _fail(path, f"tensor {e.name!r} (data_offsets [{e.begin}, {e.end}]) {what}")
        pos = e.end
    if pos != data_size:
        raise _fail(path, f"{data_size - pos} bytes of trailing data after the last tensor")
    return entries, metadata, 8 + n


@contextlib.contextmanager
def mapped(path: str | os.PathLike[str]) -> Iterator[Any]:
    """The file's bytes, memory-mapped read-only (an empty bytes object for an empty file)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            yield b""
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            yield mm


def read_tensors(buf: Any, entries: Iterable[Entry], start: int) -> dict[str, Tensor]:
    """Copies each tensor out of ``buf`` into fresh ember memory (the result owns its
    storage and outlives the mapping)."""
    out: dict[str, Tensor] = {}
    src = np.frombuffer(buf, np.uint8) if len(buf) else np.empty(0, np.uint8)
    try:
        for e in entries:
            t = empty(*e.shape, dtype=e.dtype)
            _byte_view(t)[:] = src[start + e.begin:start + e.end]
            out[e.name] = t
    finally:
        del src  # a traceback keeping this view alive would make the mmap's close() fail
    return out
