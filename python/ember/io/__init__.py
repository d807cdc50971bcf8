"""``ember.save`` / ``ember.load``: checkpoints in the safetensors format, without pickle.

Tensors anywhere in a (nested) dict/list/tuple are stored as safetensors tensors named by
their dotted path (``layer.0.weight``, ``optimizer.state.3.exp_avg``); everything else
(ints, floats incl. inf/nan, strings, bools, None, the containers and their key types) goes
as JSON in the ``__metadata__`` under ``ember.tree``. ``ember.sha256`` holds a SHA-256 of
every tensor (its bytes, dtype and shape) and of the tree, checked on load. A flat
``{str: Tensor}`` state_dict keeps its keys as the tensor names, so
``safetensors.numpy.load_file`` / ``safetensors.torch.load_file`` read it, and files they
write load here (as a flat dict, in header order).

Loading never runs code: the file is JSON plus raw bytes, checked against the file size
before anything is allocated. Loaded tensors are contiguous CPU tensors owning their memory.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import OrderedDict
from typing import Any

from ..tensor import Tensor
from . import safetensors
from .safetensors import parse_header

__all__ = ["save", "load"]

TREE_KEY = "ember.tree"
SHA_KEY = "ember.sha256"
_RESERVED = {"format", TREE_KEY, SHA_KEY}
_TAGS = {"T", "D", "O", "L", "U", "F"}  # tensor, dict, OrderedDict, list, tuple, inf/nan


class _Encoder:
    """Walks the object once: collects tensors under unique dotted names, builds the tree."""

    def __init__(self) -> None:
        self.tensors: list[tuple[str, Tensor]] = []
        self.names: set[str] = {"__metadata__", ""}  # invalid as safetensors names

    def name(self, path: list[str]) -> str:
        base = ".".join(path) or "tensor"
        name, k = base, 1
        while name in self.names:  # {"a.b": x, "a": {"b": y}} both flatten to "a.b"
            name, k = f"{base}#{k}", k + 1
        self.names.add(name)
        return name

    def scalar(self, x: Any, where: str) -> Any:
        if x is None or isinstance(x, (bool, int, str)):
            return x
        if isinstance(x, float):
            return x if math.isfinite(x) else {"F": repr(x)}
        raise TypeError(f"[save] {where}: can't store a {type(x).__name__}; ember.save takes "
                        "tensors, dicts, lists, tuples, str, int, float, bool and None")

    def encode(self, x: Any, path: list[str]) -> Any:
        if isinstance(x, Tensor):
            name = self.name(path)
            src, _ = safetensors.tensor_bytes(x)
            self.tensors.append((name, src))
            return {"T": name}
        if isinstance(x, dict):
            where = ".".join(path) or "<root>"
            tag = "O" if isinstance(x, OrderedDict) else "D"  # state_dict() gives these
            return {tag: [[self.scalar(k, f"key {k!r} of {where}"),
                           self.encode(v, [*path, str(k)])] for k, v in x.items()]}
        if isinstance(x, (list, tuple)):
            items = [self.encode(v, [*path, str(i)]) for i, v in enumerate(x)]
            return {"L" if isinstance(x, list) else "U": items}
        return self.scalar(x, ".".join(path) or "<root>")


def save(obj: Any, path: str | os.PathLike[str], *,
         metadata: dict[str, str] | None = None) -> None:
    """Writes ``obj`` (a tensor, or nested dicts/lists/tuples of tensors and JSON-able values)
    to ``path`` in the safetensors format, atomically: a crash leaves the previous file.
    ``metadata`` adds string entries to the header's ``__metadata__``."""
    enc = _Encoder()
    tree = enc.encode(obj, [])
    meta = dict(metadata or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise TypeError("[save] metadata must map str to str")
    if _RESERVED & meta.keys():
        raise ValueError(f"[save] metadata keys {sorted(_RESERVED & meta.keys())} are reserved")
    tree_json = json.dumps(tree, allow_nan=False)
    sums = {"tree": hashlib.sha256(tree_json.encode()).hexdigest(),
            "tensors": {name: _digest(t) for name, t in enc.tensors}}
    meta.update({"format": "pt", TREE_KEY: tree_json, SHA_KEY: json.dumps(sums)})
    safetensors.write_file(path, enc.tensors, meta)


def _decode(x: Any, tensors: dict[str, Tensor], fail: Any) -> Any:
    if not isinstance(x, dict):
        if isinstance(x, list):
            raise fail(f"bare list {x!r:.60} in {TREE_KEY}")
        return x
    if len(x) != 1 or next(iter(x)) not in _TAGS:
        raise fail(f"unknown node {x!r:.60} in {TREE_KEY}")
    ((tag, v),) = x.items()
    if tag == "T":
        if not isinstance(v, str) or v not in tensors:
            raise fail(f"{TREE_KEY} refers to a missing tensor {v!r:.100}")
        return tensors[v]
    if tag == "F":
        if v not in ("nan", "inf", "-inf"):
            raise fail(f"bad float {v!r:.60} in {TREE_KEY}")
        return float(v)
    if not isinstance(v, list):
        raise fail(f"node {tag} of {TREE_KEY} must hold a list")
    if tag in ("D", "O"):
        if not all(isinstance(kv, list) and len(kv) == 2 for kv in v):
            raise fail(f"dict node of {TREE_KEY} must hold [key, value] pairs")
        keys = [_decode(k, {}, fail) for k, _ in v]
        if not all(k is None or isinstance(k, (bool, int, float, str)) for k in keys):
            raise fail(f"unhashable dict key in {TREE_KEY}")
        pairs = [(k, _decode(val, tensors, fail)) for k, (_, val) in zip(keys, v, strict=True)]
        return dict(pairs) if tag == "D" else OrderedDict(pairs)
    items = [_decode(i, tensors, fail) for i in v]
    return items if tag == "L" else tuple(items)


def _digest(t: Tensor) -> str:
    # dtype and shape are hashed too: "F32 [2, 3]" read as "I32 [3, 2]" has the same bytes.
    h = hashlib.sha256(f"{safetensors.TO_CODE[t.dtype]} {list(t.shape)}\n".encode())
    h.update(safetensors.tensor_bytes(t)[1])
    return h.hexdigest()


def _verify(meta: dict[str, str], tensors: dict[str, Tensor], fail: Any) -> None:
    try:
        sums = json.loads(meta[SHA_KEY])
    except (ValueError, RecursionError) as e:
        raise fail(f"invalid {SHA_KEY} metadata: {e}") from None
    if (not isinstance(sums, dict) or sums.keys() != {"tree", "tensors"}
            or not isinstance(sums["tensors"], dict) or sums["tensors"].keys() != tensors.keys()):
        raise fail(f"{SHA_KEY} does not list exactly the file's tensors")
    if hashlib.sha256(meta.get(TREE_KEY, "").encode()).hexdigest() != sums["tree"]:
        raise fail(f"the {TREE_KEY} metadata fails its SHA-256 checksum: the header is corrupted")
    for name, t in tensors.items():
        if _digest(t) != sums["tensors"][name]:
            raise fail(f"tensor {name!r} fails its SHA-256 checksum: the data is corrupted")


def load(path: str | os.PathLike[str], *, verify: bool = True) -> Any:
    """Reads a file written by :func:`save` (the original nested object) or by the
    ``safetensors`` package (a flat ``{name: Tensor}`` dict). With ``verify`` every tensor's
    SHA-256 is checked when the file carries them. A malformed, truncated or corrupted file
    raises ValueError naming the file and the problem."""
    p = os.fspath(path)

    def fail(msg: str) -> ValueError:
        return ValueError(f"[load] {p}: {msg}")

    with safetensors.mapped(p) as buf:
        entries, meta, start = parse_header(p, buf)
        tensors = safetensors.read_tensors(buf, entries, start)
    if verify and (SHA_KEY in meta or TREE_KEY in meta):  # ember files carry both
        if SHA_KEY not in meta:
            raise fail(f"{TREE_KEY} without {SHA_KEY}: the header is corrupted")
        _verify(meta, tensors, fail)
    if TREE_KEY not in meta:
        return tensors
    try:
        return _decode(json.loads(meta[TREE_KEY]), tensors, fail)
    except (RecursionError, TypeError) as e:
        raise fail(f"invalid {TREE_KEY} metadata: {e}") from None
    except ValueError as e:
        if str(e).startswith("[load]"):
            raise
        raise fail(f"invalid {TREE_KEY} metadata: {e}") from None

