"""Reductions and scans with PyTorch's signatures: sum, mean, prod, var, std, max, min, argmax,
argmin, amax, amin, logsumexp, norm, any, all, cumsum, cumprod.

``dim`` is None (all dims), an int or a tuple of ints; negative dims count from the end.
Integer and bool inputs sum/prod/cumsum into int64; mean/var/std need a floating input (or
``dtype=``); float16/bfloat16 reduce in float32 and round once."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .. import _C
from .._dtype import to_dtype
from ..autograd import _reduce as _ag
from ..autograd.grad_mode import _state
from ..tensor import Tensor, _c, _wrap

__all__ = [
    "sum", "mean", "prod", "var", "std", "max", "min", "argmax", "argmin", "amax", "amin",
    "logsumexp", "norm", "any", "all", "cumsum", "cumprod",
]

_Dim = Any  # None | int | tuple[int, ...]


class _ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor


class max_result(_ValuesIndices):  # noqa: N801  (torch.return_types.max)
    """``(values, indices)`` of ``max(x, dim)``."""


class min_result(_ValuesIndices):  # noqa: N801  (torch.return_types.min)
    """``(values, indices)`` of ``min(x, dim)``."""


def _code(dtype: Any) -> int:
    return -1 if dtype is None else to_dtype(dtype).code


def _dims(dim: _Dim) -> Any:
    return list(dim) if isinstance(dim, (tuple, list)) else dim


def sum(  # noqa: A001
    input: Tensor, dim: _Dim = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Sum over ``dim``; integers and bool give int64 unless ``dtype`` says otherwise."""
    if input._rg and _state.enabled:
        return _ag.Sum.apply(input, _dims(dim), keepdim, _code(dtype))
    return _C.sum(input, _dims(dim), keepdim, _code(dtype))


def mean(input: Tensor, dim: _Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean over ``dim``; a floating input or ``dtype`` is required (NaN when empty)."""
    if input._rg and _state.enabled:
        return _ag.Mean.apply(input, _dims(dim), keepdim, _code(dtype))
    return _C.mean(input, _dims(dim), keepdim, _code(dtype))


def prod(input: Tensor, dim: _Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over ``dim``; integers and bool give int64 unless ``dtype`` says otherwise."""
    if input._rg and _state.enabled:
        return _ag.Prod.apply(input, _dims(dim), keepdim, _code(dtype))
    return _C.prod(input, _dims(dim), keepdim, _code(dtype))


def _correction(op: str, unbiased: Any, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"[{op}] pass either unbiased or correction, not both")
    if unbiased is not None:
        return 1.0 if unbiased else 0.0
    return 1.0 if correction is None else float(correction)


def _var_args(op: str, dim: Any, unbiased: Any, keepdim: bool, correction: Any) -> Any:
    # torch.var(x, True) and x.var(dim, True) pass `unbiased` positionally.
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if isinstance(unbiased, bool) or unbiased is None:
        return dim, _correction(op, unbiased, correction), keepdim
    raise TypeError(f"[{op}] unbiased must be a bool, got {unbiased!r}")


def var(input: Tensor, dim: _Dim = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    """Variance over ``dim`` with divisor ``N - correction`` (default 1, Bessel's)."""
    dim, c, keepdim = _var_args("var", dim, unbiased, keepdim, correction)
    if input._rg and _state.enabled:
        return _ag.Var.apply(input, _dims(dim), c, keepdim, False)
    return _C.var(input, _dims(dim), c, keepdim)


def std(input: Tensor, dim: _Dim = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    """Standard deviation, the square root of ``var`` with the same arguments."""
    dim, c, keepdim = _var_args("std", dim, unbiased, keepdim, correction)
    if input._rg and _state.enabled:
        return _ag.Var.apply(input, _dims(dim), c, keepdim, True)
    return _C.std(input, _dims(dim), c, keepdim)


def max(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``max(x)``: the largest element (NaN if any). ``max(x, dim)``: ``(values, indices)``
    with the first occurrence's index. Raises IndexError on an empty reduction."""
    if input._rg and _state.enabled:
        if dim is None:
            return _ag.AMax.apply(input, None, False, "max_all")
        return max_result(*_ag.MaxDim.apply(input, dim, keepdim, True))
    if dim is None:
        return _wrap(_C.max_all(_c(input)))
    v, i = _C.max_dim(_c(input), dim, keepdim)
    return max_result(_wrap(v), _wrap(i))


def min(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``min(x)`` or ``min(x, dim) -> (values, indices)``, as ``max``."""
    if input._rg and _state.enabled:
        if dim is None:
            return _ag.AMax.apply(input, None, False, "min_all")
        return min_result(*_ag.MaxDim.apply(input, dim, keepdim, False))
    if dim is None:
        return _wrap(_C.min_all(_c(input)))
    v, i = _C.min_dim(_c(input), dim, keepdim)
    return min_result(_wrap(v), _wrap(i))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """int64 index of the first maximum along ``dim`` (of the flattened input when None)."""
    return _wrap(_C.argmax(_c(input), dim, keepdim))


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """int64 index of the first minimum along ``dim`` (of the flattened input when None)."""
    return _wrap(_C.argmin(_c(input), dim, keepdim))


def amax(input: Tensor, dim: _Dim = (), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims when empty); NaN propagates."""
    if input._rg and _state.enabled:
        return _ag.AMax.apply(input, _dims(dim), keepdim, "amax")
    return _C.amax(input, _dims(dim), keepdim)


def amin(input: Tensor, dim: _Dim = (), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims when empty); NaN propagates."""
    if input._rg and _state.enabled:
        return _ag.AMax.apply(input, _dims(dim), keepdim, "amin")
    return _C.amin(input, _dims(dim), keepdim)


def logsumexp(input: Tensor, dim: _Dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, shifted by the max so it never overflows."""
    if input._rg and _state.enabled:
        return _ag.LogSumExp.apply(input, _dims(dim), keepdim)
    return _C.logsumexp(input, _dims(dim), keepdim)


def _norm_order(p: Any) -> float:
    if p is None or p == "fro":
        return 2.0
    if isinstance(p, str):
        raise ValueError(f"[norm] unsupported p={p!r} (use a number, inf, -inf or 'fro')")
    return float(p)


def norm(input: Tensor, p: Any = "fro", dim: _Dim = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all dims by default): p = 0, 1, 2, any p > 0, inf, -inf;
    'fro' is 2. Floating inputs only."""
    x = input if dtype is None else input.to(dtype)
    order = _norm_order(p)
    if math.isnan(order) or (order < 0 and not math.isinf(order)):
        raise ValueError(f"[norm] p must be >= 0, inf or -inf, got {p!r}")
    if x._rg and _state.enabled:
        return _ag.Norm.apply(x, order, _dims(dim), keepdim)
    return _C.norm(x, order, _dims(dim), keepdim)


def any(input: Tensor, dim: _Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where any element over ``dim`` is non-zero; bool result for every input dtype."""
    return _wrap(_C.any(_c(input), _dims(dim), keepdim))


def all(input: Tensor, dim: _Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` is non-zero; bool result for every input dtype."""
    return _wrap(_C.all(_c(input), _dims(dim), keepdim))


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``; integers and bool give int64 unless ``dtype`` is given."""
    if input._rg and _state.enabled:
        return _ag.CumSum.apply(input, dim, _code(dtype))
    return _C.cumsum(input, dim, _code(dtype))


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``; integers and bool give int64 unless ``dtype`` is given."""
    if input._rg and _state.enabled:
        return _ag.CumProd.apply(input, dim, _code(dtype))
    return _C.cumprod(input, dim, _code(dtype))


for _f in (sum, mean, prod, var, std, max, min, argmax, argmin, amax, amin, logsumexp, norm,
           any, all, cumsum, cumprod):
    setattr(Tensor, _f.__name__, _f)
del _f
