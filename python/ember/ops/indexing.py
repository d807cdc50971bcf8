"""Indexing: ``t[...]`` and ``t[...] = v`` with NumPy's rules.

Basic indices (ints, slices with any step, None, Ellipsis) give views. Advanced indices
(integer tensors/lists/arrays, boolean masks) copy, following NumPy's placement rule for the
indexed dims; they are handled by ``_advanced_getitem``/``_advanced_setitem``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _C
from ..autograd import _shape as _ag
from ..autograd.function import check_inplace, rebase_inplace
from ..autograd.grad_mode import _state
from ..creation import tensor
from ..tensor import Tensor, _as_c_tensor, _c, _wrap

__all__ = [
    "cat", "concat", "concatenate", "stack", "gather", "scatter", "scatter_add", "index_select",
    "take", "masked_fill", "masked_select", "nonzero",
]


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


def _slice(c: _C.Tensor, d: int, i: slice) -> _C.Tensor:
    start = 0 if i.start is None else _int(i.start)
    step = 1 if i.step is None else _int(i.step)
    if i.stop is None:
        stop = (1 << 62) if step > 0 else -(1 << 62)
    else:
        stop = _int(i.stop)
    if i.start is None and step < 0:
        start = 1 << 62
    return _c(c.slice(d, start, stop, step))


def _basic(c: _C.Tensor, index: tuple[Any, ...]) -> _C.Tensor:
    """Applies ints, slices and None left to right; returns a view."""
    d = 0
    for i in index:
        if i is None:
            c = _c(c.unsqueeze(d))
            d += 1
        elif isinstance(i, slice):
            c = _slice(c, d, i)
            d += 1
        else:
            c = _c(c.select(d, _int(i)))
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
    if t._rg and _state.enabled:
        return _getitem_grad(t, index)
    if isinstance(index, int) and not isinstance(index, bool):
        return _wrap(t._c.select(0, index))
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        return _advanced_getitem(t, index)
    index = _expand_ellipsis(index, t.ndim)
    return _wrap(_basic(t._c, index))


def _getitem_grad(t: Tensor, index: Any) -> Tensor:
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        return _ag.IndexGet.apply(t, index)
    index = _expand_ellipsis(index, t.ndim)
    return _ag.Slice.apply(t, lambda c: _basic(c, index))


def setitem(t: Tensor, index: Any, value: Any) -> None:
    if _state.enabled and (t._rg or (isinstance(value, Tensor) and value._rg)):
        check_inplace(t, "setitem")
        _ag.SetItem.apply(t, value, index)
        return
    _raw_setitem(t, index, value)


def _raw_setitem(t: Tensor, index: Any, value: Any) -> None:
    if not isinstance(index, tuple):
        index = (index,)
    if any(_is_advanced(i) for i in index):
        _advanced_setitem(t, index, value)
        return
    index = _expand_ellipsis(index, t.ndim)
    view = _basic(t._c, index)
    view.copy_(_as_c_tensor(value, t))  # bumps the shared storage's version


def _index_tensor(i: Any) -> _C.Tensor:
    """An index given as a Tensor, list or NumPy array, as a _C.Tensor (int64 or bool)."""
    if isinstance(i, Tensor):
        return _c(i)
    if isinstance(i, bool):
        i = np.bool_(i)
    a = np.asarray(i)
    if a.size == 0 and a.dtype != np.bool_:
        a = a.astype(np.int64)  # [] is an empty integer index, as in NumPy
    if a.dtype.kind in "iu":
        a = a.astype(np.int64)
    return _c(tensor(a))


def _advanced_parts(t: Tensor, index: tuple[Any, ...]) -> tuple[_C.Tensor, list[Any]]:
    """Applies the slices and None of `index` as views; returns the view and, per view dim,
    None (taken whole) or the index tensor for it. With advanced indices present, ints count
    as 0-d integer indices for NumPy's placement rule, as in NumPy."""
    index = _expand_ellipsis(index, t.ndim)
    c = _c(t)
    entries: list[Any] = []
    d = 0
    for i in index:
        if i is None:
            c = _c(c.unsqueeze(d))
            entries.append(None)
            d += 1
        elif isinstance(i, slice):
            c = _slice(c, d, i)
            entries.append(None)
            d += 1
        else:
            if not isinstance(i, (Tensor, list, np.ndarray, bool, np.bool_)):
                i = np.int64(_int(i))
            ix = _index_tensor(i)
            entries.append(ix)
            # A bool mask covers as many dims as it has (a 0-d one adds a dim in _C.index).
            d += ix.ndim if ix.dtype_code == 0 else 1
    return c, entries


def _advanced_getitem(t: Tensor, index: tuple[Any, ...]) -> Tensor:
    c, entries = _advanced_parts(t, index)
    return _wrap(_C.index(c, entries))


def _advanced_setitem(t: Tensor, index: tuple[Any, ...], value: Any) -> None:
    c, entries = _advanced_parts(t, index)
    if not isinstance(value, (Tensor, bool, int, float)):
        value = tensor(value)
    _C.index_put_(c, entries, _c(value), False)


def _tensors(ts: Any, op: str) -> list[_C.Tensor]:
    if isinstance(ts, Tensor) or not isinstance(ts, (list, tuple)):
        raise TypeError(f"[{op}] expected a list or tuple of tensors, got {type(ts).__name__}")
    return [x if isinstance(x, Tensor) else tensor(x) for x in ts]


def _rg(x: Any) -> Any:
    return isinstance(x, Tensor) and x._rg


def _broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(y if x == 1 else x for x, y in zip(a, b, strict=True))


def _ix(index: Any) -> _C.Tensor:
    return index if isinstance(index, Tensor) else _wrap(_index_tensor(index))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Joins tensors along an existing dim; dtypes promote as in PyTorch."""
    ts = _tensors(tensors, "cat")
    if _state.enabled and any(t._rg for t in ts):
        return _ag.Cat.apply(dim, *ts)
    return _C.cat(ts, dim)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Joins same-shaped tensors along a new dim."""
    ts = _tensors(tensors, "stack")
    if _state.enabled and any(t._rg for t in ts):
        return _ag.Stack.apply(dim, *ts)
    return _C.stack(ts, dim)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[index[i][j]][j] (dim 0); the result has index's shape."""
    if input._rg and _state.enabled:
        return _ag.Gather.apply(input, dim, _ix(index))
    return _C.gather(input, dim, _ix(index))


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of input with input[index[i][j]][j] = src[i][j] (dim 0); src may be a scalar
    (or given as value=). reduce='add' or 'multiply' combines instead of storing."""
    s = _src(src, value)
    if _state.enabled and (input._rg or _rg(s)):
        return _ag.Scatter.apply(input, dim, _ix(index), s, reduce)
    return _C.scatter(input, dim, _ix(index), s, reduce, False)


def _src(src: Any, value: Any) -> Any:
    if (src is None) == (value is None):
        raise TypeError("[scatter] give exactly one of src and value")
    return _c(src if value is None else value)


def scatter_(self: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    s = _src(src, value)
    if _state.enabled and (self._rg or _rg(s)):
        return rebase_inplace(self, "scatter_", scatter(self, dim, index, s, reduce=reduce))
    _C.scatter(self, dim, _ix(index), s, reduce, True)
    return self


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """scatter with reduce='add': duplicate indices accumulate."""
    if _state.enabled and (input._rg or _rg(src)):
        return _ag.ScatterAdd.apply(input, dim, _ix(index), src)
    return _C.scatter(input, dim, _ix(index), src, "add", False)


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    if _state.enabled and (self._rg or _rg(src)):
        return rebase_inplace(self, "scatter_add_", scatter_add(self, dim, index, src))
    _C.scatter(self, dim, _ix(index), src, "add", True)
    return self


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of input along dim at the (0-d or 1-D) index."""
    if input._rg and _state.enabled:
        ix = _ix(index)
        d = dim % max(input.ndim, 1)
        if input.ndim == 0:
            return _ag.IndexGet.apply(input.reshape(1), (ix.reshape(-1),)).reshape(())
        return _ag.IndexGet.apply(input, (slice(None),) * d + (ix.reshape(-1),))
    return _C.index_select(input, dim, _ix(index))


def take(input: Tensor, index: Tensor) -> Tensor:
    """input flattened, indexed by index; the result has index's shape."""
    if input._rg and _state.enabled:
        return _ag.IndexGet.apply(input.reshape(-1), (_ix(index),))
    return _C.take(input, _ix(index))


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """input where mask is False, value where it is True (mask broadcasts)."""
    if _state.enabled and (input._rg or _rg(value)):
        return _ag.MaskedFill.apply(input, mask, value)
    return _C.masked_fill(input, mask, value, False)


def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    if _state.enabled and (self._rg or _rg(value)):
        return rebase_inplace(self, "masked_fill_", masked_fill(self, mask, value))
    _C.masked_fill(self, mask, value, True)
    return self


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of input's entries where the (broadcast) mask is True."""
    if input._rg and _state.enabled:
        shape = _broadcast_shape(input.shape, mask.shape)
        return _ag.IndexGet.apply(input.expand(shape), (mask.expand(shape),))
    return _C.masked_select(input, mask)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """(count, ndim) int64 coordinates of the nonzero entries in row-major order; with
    as_tuple, one 1-D tensor per dim (a 0-d input counts as 1-D)."""
    c = _c(input)
    if not as_tuple:
        return _wrap(_C.nonzero(c))
    nz = _C.nonzero(c if c.ndim else c.reshape((1,)))
    return tuple(_wrap(nz.select(1, d)) for d in range(nz.shape[1]))


def index_put_(self: Tensor, indices: Sequence[Any], values: Any,
               accumulate: bool = False) -> Tensor:
    """self[indices] = values; with accumulate, values add up (duplicates included)."""
    if _state.enabled and (self._rg or _rg(values)):
        index = tuple(slice(None) if i is None else _ix(i) for i in indices)
        if not accumulate:
            setitem(self, index, values)
            return self
        sel_shape = _advanced_getitem(self.detach(), index).shape
        vals = values.expand(sel_shape) if isinstance(values, Tensor) else values
        added = _ag.IndexAdd.apply(vals, self.shape, index)
        return rebase_inplace(self, "index_put_", self + added)
    entries = [None if i is None else _ix(i) for i in indices]
    _C.index_put_(self, entries, values, accumulate)
    return self


def index_put(self: Tensor, indices: Sequence[Any], values: Any,
              accumulate: bool = False) -> Tensor:
    return index_put_(self.clone(), indices, values, accumulate)


Tensor.gather = gather
Tensor.scatter = scatter
Tensor.scatter_ = scatter_
Tensor.scatter_add = scatter_add
Tensor.scatter_add_ = scatter_add_
Tensor.index_select = index_select
Tensor.take = take
Tensor.masked_fill = masked_fill
Tensor.masked_fill_ = masked_fill_
Tensor.masked_select = masked_select
Tensor.nonzero = nonzero
Tensor.index_put_ = index_put_
Tensor.index_put = index_put
