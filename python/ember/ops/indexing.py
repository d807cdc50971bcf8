"""Indexing: ``t[...]`` and ``t[...] = v`` with NumPy's rules.

Basic indices (ints, slices with any step, None, Ellipsis) give views. Advanced indices
(integer tensors/lists/arrays, boolean masks) copy, following NumPy's placement rule for the
indexed dims; they are handled by ``_advanced_getitem``/``_advanced_setitem``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _C
from ..tensor import Tensor, _as_c_tensor, _wrap

__all__: list[str] = []


def _is_advanced(i: Any) -> bool:
    return isinstance(i, (Tensor, list, np.ndarray)) or (isinstance(i, bool))


def _expand_ellipsis(index: tuple[Any, ...], ndim: int) -> tuple[Any, ...]:
    consumed = sum(
        1 if not (i is None or i is Ellipsis or isinstance(i, bool)) else 0 for i in index
    )
    for i in index:  # a boolean mask consumes as many dims as it has
        if isinstance(i, Tensor) and i.dtype.name == "bool":
            consumed += max(i.ndim, 1) - 1
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            consumed += max(i.ndim, 1) - 1
    n_ell = sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("[getitem] an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"[getitem] too many indices for a tensor of dimension {ndim}")
    if n_ell == 0:
        return index + (slice(None),) * (ndim - consumed)
    k = index.index(Ellipsis)
    return index[:k] + (slice(None),) * (ndim - consumed) + index[k + 1 :]


def _basic(c: _C.Tensor, index: tuple[Any, ...]) -> _C.Tensor:
    """Applies ints, slices and None left to right; returns a view."""
    d = 0
    for i in index:
        if i is None:
            c = c.unsqueeze(d)
            d += 1
        elif isinstance(i, slice):
            start = 0 if i.start is None else _int(i.start)
            step = 1 if i.step is None else _int(i.step)
            if i.stop is None:
                stop = (1 << 62) if step > 0 else -(1 << 62)
            else:
                stop = _int(i.stop)
            if i.start is None and step < 0:
                start = (1 << 62)
            c = c.slice(d, start, stop, step)
            d += 1
        else:
            c = c.select(d, _int(i))
    return c


def _int(i: Any) -> int:
    if isinstance(i, Tensor):
        return i.__index__()
    try:
        return int(i.__index__())
    except AttributeError:
        raise TypeError(
            f"[getitem] indices must be ints, slices, None, Ellipsis, integer or boolean tensors;"
            f" got {type(i).__name__}"
        ) from None


def getitem(t: Tensor, index: Any) -> Tensor:
    if isinstance(index, int) and not isinstance(index, bool):
        return _wrap(t._c.select(0, index))
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        return _advanced_getitem(t, index)
    index = _expand_ellipsis(index, t.ndim)
    return _wrap(_basic(t._c, index))


def setitem(t: Tensor, index: Any, value: Any) -> None:
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        _advanced_setitem(t, index, value)
        return
    index = _expand_ellipsis(index, t.ndim)
    view = _basic(t._c, index)
    view.copy_(_as_c_tensor(value, t))  # bumps the shared storage's version


def _advanced_getitem(t: Tensor, index: tuple[Any, ...]) -> Tensor:
    raise NotImplementedError("[getitem] advanced indexing is not implemented yet")


def _advanced_setitem(t: Tensor, index: tuple[Any, ...], value: Any) -> None:
    raise NotImplementedError("[setitem] advanced indexing is not implemented yet")
