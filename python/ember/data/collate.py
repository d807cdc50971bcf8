"""default_collate / default_convert with PyTorch's rules.

Tensors are stacked; NumPy arrays become tensors and are stacked; Python ints become int64,
floats float64 and bools bool (as ``torch.tensor(batch)`` does); NumPy scalars keep their dtype;
strings and bytes stay a list; mappings, namedtuples and sequences are collated field by field
(a tuple sample gives a list, as in PyTorch). ember has no uint8/int8/int16: those NumPy arrays
are widened losslessly (to int32), as ``ember.tensor`` does.
"""

from __future__ import annotations

import collections.abc as abc
from typing import Any

import numpy as np

from .._dtype import bool_, float64, int64
from ..creation import from_numpy, tensor
from ..ops.indexing import stack
from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_NOT_NUMERIC = "USO"  # NumPy kinds: unicode, bytes, object


def _np_to_tensor(a: np.ndarray) -> Tensor:
    if a.dtype.kind in _NOT_NUMERIC:
        raise TypeError(f"[default_collate] NumPy arrays of dtype {a.dtype} can't become tensors")
    if a.dtype in _NATIVE:
        return from_numpy(a)  # shares memory, as torch.as_tensor
    return tensor(a)  # widens uint8/int8/int16/uint16/uint32


_NATIVE = {np.dtype(n) for n in ("bool", "int32", "int64", "float16", "float32", "float64")}


def default_collate(batch: list[Any]) -> Any:
    """A list of samples -> a batch with a leading dimension (see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in _NOT_NUMERIC:
            raise TypeError(f"[default_collate] batch must contain tensors, numbers, dicts or "
                            f"lists; found NumPy array of dtype {elem.dtype}")
        return _np_to_tensor(np.stack(batch))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return _np_to_tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=bool_)
    if isinstance(elem, int):
        return tensor(batch, dtype=int64)
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        return _same_type(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, abc.Sequence):
        n = len(elem)
        if any(len(e) != n for e in batch):
            raise RuntimeError("[default_collate] each element in list of batch should be of "
                               f"equal size, got sizes {sorted({len(e) for e in batch})}")
        cols = [default_collate(list(s)) for s in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return cols  # a list, for backwards compatibility (as PyTorch)
        try:
            return type(elem)(cols)
        except TypeError:
            return cols
    raise TypeError(f"[default_collate] batch must contain tensors, NumPy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def _same_type(elem: abc.Mapping, d: dict) -> Any:
    """The mapping type of the sample when it can be built from a dict, else a dict."""
    if type(elem) is dict:
        return d
    try:
        return type(elem)(d)
    except TypeError:
        return d


def default_convert(data: Any) -> Any:
    """Unbatched conversion (batch_size=None): NumPy arrays/scalars -> tensors, recursively;
    everything else unchanged."""
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in _NOT_NUMERIC else _np_to_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return _np_to_tensor(np.asarray(data))
    if isinstance(data, abc.Mapping):
        return _same_type(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
