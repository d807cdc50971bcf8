"""Creating tensors: from Python data, NumPy and DLPack, and the usual constructors.

Sizes are accepted as varargs or one sequence, as in PyTorch: ``zeros(2, 3) == zeros((2, 3))``.
Python floats become the default dtype (float32), ints int64, bools bool.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _C
from ._device import to_device
from ._dtype import bool_, dtype, from_numpy_dtype, get_default_dtype, int64
from ._dtype import to_dtype as _to_dtype
from .tensor import Tensor, _sizes, _wrap, with_requires_grad

__all__ = [
    "tensor", "as_tensor", "from_numpy", "from_dlpack", "empty", "zeros", "ones", "full",
    "empty_like", "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye",
]


def _dt(d: Any, default: dtype) -> dtype:
    return default if d is None else _to_dtype(d)


def _infer_python_dtype(data: Any) -> dtype:
    """bool < int < float over the leaves of nested Python data (default dtype for floats);
    no leaves at all (``[]``) gives the default dtype, as in PyTorch."""
    kind = -1
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            k = 2 if x.dtype.is_floating_point else (0 if x.dtype is bool_ else 1)
            kind = max(kind, k)
        elif isinstance(x, (bool, np.bool_)):
            kind = max(kind, 0)
        elif isinstance(x, (int, np.integer)):
            kind = max(kind, 1)
        elif isinstance(x, (float, np.floating)):
            kind = 2
        else:
            raise TypeError(
                f"[tensor] can't make a tensor from an element of type {type(x).__name__}"
            )
    return get_default_dtype() if kind < 0 else (bool_, int64, get_default_dtype())[kind]


def tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A new tensor holding a copy of `data` (scalar, nested sequence, NumPy array, Tensor)."""
    if isinstance(data, Tensor):
        out = data.to(dtype=_dt(dtype, data.dtype), device=device or data.device, copy=True)
        return out
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.asarray(data)
        src_dt = from_numpy_dtype(arr.dtype, widen=True)
        if arr.dtype != src_dt.numpy_dtype:
            arr = arr.astype(src_dt.numpy_dtype)
    else:
        if hasattr(data, "__dlpack__") and not isinstance(data, (list, tuple)):
            return from_dlpack(data).to(dtype=_dt(dtype, None) if dtype else None, copy=True)
        src_dt = _infer_python_dtype(data)
        # Python floats are doubles: parse as float64 so that dtype=float64 keeps every bit.
        parse_dt = np.float64 if src_dt.is_floating_point else src_dt.numpy_dtype
        try:
            arr = np.asarray(data, dtype=parse_dt)
        except (ValueError, TypeError) as e:
            raise ValueError(f"[tensor] can't make a tensor from this data: {e}") from None
    arr = np.require(arr, requirements="C")  # keeps 0-d arrays 0-d
    return _wrap(_C.from_buffer(arr).clone()).to(dtype=_dt(dtype, src_dt), device=device)


def from_numpy(a: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with the NumPy array `a` (any strides)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"[from_numpy] expected a numpy.ndarray, got {type(a).__name__}")
    from_numpy_dtype(a.dtype)  # clear TypeError for unsupported dtypes
    if not a.flags.writeable:
        a = a.view()
    return _wrap(_C.from_buffer(a))


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like tensor(), but shares memory with a Tensor or NumPy array when it can."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray):
        try:
            t = from_numpy(data)
        except TypeError:
            return tensor(data, dtype, device)
        return t.to(dtype=dtype, device=device)
    return tensor(data, dtype, device)


def from_dlpack(x: Any) -> Tensor:
    """A tensor sharing memory with any object implementing ``__dlpack__`` (or a capsule)."""
    if hasattr(x, "__dlpack__"):
        try:
            cap = x.__dlpack__(max_version=(1, 0))
        except TypeError:
            cap = x.__dlpack__()
    else:
        cap = x
    return _wrap(_C.from_dlpack_capsule(cap))


def empty(*size: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Uninitialised memory of the given shape."""
    return _wrap(_C.empty(_sizes(size, "empty"), _dt(dtype, get_default_dtype()).code,
                          str(to_device(device))))


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor filled with `fill_value`; its dtype follows the value's type by default."""
    if dtype is None:
        dtype = (bool_ if isinstance(fill_value, bool) else
                 int64 if isinstance(fill_value, int) else get_default_dtype())
    if isinstance(size, int):
        size = (size,)
    return _wrap(_C.full(tuple(size), fill_value, _to_dtype(dtype).code, str(to_device(device))))


def zeros(*size: Any, dtype: Any = None, device: Any = None) -> Tensor:
    return full(_sizes(size, "zeros"), 0, dtype=_dt(dtype, get_default_dtype()), device=device)


def ones(*size: Any, dtype: Any = None, device: Any = None) -> Tensor:
    return full(_sizes(size, "ones"), 1, dtype=_dt(dtype, get_default_dtype()), device=device)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple[dtype, Any]:
    return _dt(dtype, t.dtype), device if device is not None else t.device


def empty_like(t: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    d, dev = _like(t, dtype, device)
    return empty(t.shape, dtype=d, device=dev)


def zeros_like(t: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    d, dev = _like(t, dtype, device)
    return full(t.shape, 0, dtype=d, device=dev)


def ones_like(t: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    d, dev = _like(t, dtype, device)
    return full(t.shape, 1, dtype=d, device=dev)


def full_like(t: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    d, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=d, device=dev)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None) -> Tensor:
    """Values from start (inclusive) to end (exclusive) by step; int64 when all are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("[arange] step must be nonzero")
    for v in (start, end, step):
        if not math.isfinite(v):
            raise ValueError(
                f"[arange] start, end and step must be finite, got {start}, {end}, {step}"
            )
    all_int = all(isinstance(v, int) for v in (start, end, step))
    d = _dt(dtype, int64 if all_int else get_default_dtype())
    n = max(0, math.ceil((end - start) / step))
    if d.is_floating_point:
        a = start + step * np.arange(n, dtype=np.float64)
    else:
        a = np.arange(start, end, step, dtype=np.int64)
    return tensor(a, dtype=d, device=device)


def linspace(
    start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included."""
    if steps < 0:
        raise ValueError(f"[linspace] steps must be non-negative, got {steps}")
    return tensor(np.linspace(start, end, steps), dtype=_dt(dtype, get_default_dtype()),
                  device=device)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The n x m identity matrix."""
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ValueError(f"[eye] sizes must be non-negative, got n={n}, m={m}")
    return tensor(np.eye(n, m), dtype=_dt(dtype, get_default_dtype()), device=device)


# PyTorch's requires_grad= keyword on every factory
tensor = with_requires_grad(tensor)
empty, full, zeros, ones = (with_requires_grad(f) for f in (empty, full, zeros, ones))
empty_like, zeros_like = with_requires_grad(empty_like), with_requires_grad(zeros_like)
ones_like, full_like = with_requires_grad(ones_like), with_requires_grad(full_like)
arange, linspace, eye = (with_requires_grad(f) for f in (arange, linspace, eye))
