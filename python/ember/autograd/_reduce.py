"""Backward formulas of the reductions and scans. A reduced gradient is first given back the
reduced dims (size 1), then broadcast against the input."""

from __future__ import annotations

import math
from typing import Any

from .. import _C
from ..tensor import Tensor
from .function import Function
from .grad_mode import _state


def norm_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """The reduced dims, sorted and non-negative (all dims for None or ())."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = max(ndim, 1)
    return tuple(sorted({d % n for d in dims})) if ndim else ()


def _unreduce(g: Tensor, shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> Tensor:
    """g with the reduced dims restored as size 1 (so it broadcasts against the input)."""
    if not keepdim and len(shape):
        g = g.reshape(_kept(shape, dims))
    return g


def _kept(shape: tuple[int, ...], dims: tuple[int, ...]) -> list[int]:
    kept = list(shape)
    for d in dims:
        kept[d] = 1
    return kept


def _count(shape: tuple[int, ...], dims: tuple[int, ...]) -> int:
    n = 1
    for d in dims:
        n *= shape[d]
    return n


class Sum(Function):
    """sum, and mean (the subclass): the gradient broadcast back over the reduced dims."""

    _mean = False

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, keepdim: bool, code: int) -> Tensor:
        ctx.shape, ctx.dtype = x._c.shape, x.dtype
        ctx.dims, ctx.keepdim = norm_dims(dim, x.ndim), keepdim
        return (_C.mean if ctx._forward_cls._mean else _C.sum)(x, dim, keepdim, code)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        if ctx._forward_cls._mean:
            g = g / _count(ctx.shape, ctx.dims)
        if not _state.enabled and g._c.dtype_code == ctx.dtype.code:
            # first order: the same views straight on _C (no graph to record)
            c = g._c
            if not ctx.keepdim and ctx.shape:
                c = c.reshape(_kept(ctx.shape, ctx.dims))._c
            return c.expand(ctx.shape), None, None, None
        g = _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim).expand(ctx.shape)
        return (g if g.dtype == ctx.dtype else g.to(ctx.dtype)), None, None, None


class Mean(Sum):
    _mean = True


class Prod(Function):
    """The gradient of a product is the product of the others: prod / x where x != 0, and
    for the entries that are zero the product of the rest, computed exactly."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, keepdim: bool, code: int) -> Tensor:
        y = _C.prod(x, dim, keepdim, code)
        ctx.dims, ctx.keepdim = norm_dims(dim, x.ndim), keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        shape = x.shape
        gk = _unreduce(g, shape, ctx.dims, ctx.keepdim)
        yk = _unreduce(y, shape, ctx.dims, ctx.keepdim)
        zero = x == 0
        if not bool(zero.any()):
            gx = gk * yk / x
        elif not ctx.dims:
            gx = gk
        else:
            gx = gk * _prod_others(x, ctx.dims)
        # prod(dtype=...) computes in another dtype; the gradient takes the input's
        return (gx if gx.dtype == x.dtype else gx.to(x.dtype)), None, None, None


def _prod_others(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    """For each entry, the product of the other entries over `dims`, without dividing (so
    zeros are exact, to any order): exclusive cumulative products from both ends."""
    from ..creation import ones
    from ..ops.indexing import cat

    keep = [d for d in range(x.ndim) if d not in dims]
    order = keep + list(dims)
    xp = x.permute(order)
    lead = tuple(xp.shape)[: len(keep)]
    flat = xp.reshape(*lead, -1)
    n = flat.shape[-1]
    one = ones(*lead, 1, dtype=x.dtype, device=x.device)
    left = cat([one, flat.narrow(-1, 0, n - 1)], -1).cumprod(-1)
    rev = flat[..., ::-1]
    right = cat([one, rev.narrow(-1, 0, n - 1)], -1).cumprod(-1)[..., ::-1]
    inv = [0] * len(order)
    for i, d in enumerate(order):
        inv[d] = i
    return (left * right).reshape(xp.shape).permute(inv)


class Var(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, correction: float, keepdim: bool,
                is_std: bool) -> Tensor:
        y = _C.std(x, dim, correction, keepdim) if is_std else _C.var(x, dim, correction,
                                                                         keepdim)
        ctx.dims, ctx.keepdim, ctx.correction, ctx.is_std = (
            norm_dims(dim, x.ndim), keepdim, correction, is_std)
        ctx.save_for_backward(x, y if is_std else None)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        dims = list(ctx.dims)
        n = _count(tuple(x.shape), ctx.dims)
        centered = x - x.mean(dim=dims, keepdim=True) if dims else x - x
        gk = _unreduce(g, tuple(x.shape), ctx.dims, ctx.keepdim)
        denom = max(n - ctx.correction, 0)
        if ctx.is_std:
            yk = _unreduce(y, tuple(x.shape), ctx.dims, ctx.keepdim)
            return gk * centered / (yk * denom), None, None, None, None
        return gk * centered * (2.0 / denom if denom else math.inf), None, None, None, None


class MaxDim(Function):
    """max(x, dim) / min(x, dim): the gradient goes to the index that was returned."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, keepdim: bool, is_max: bool) -> Any:
        v, i = (_C.max_dim if is_max else _C.min_dim)(x, dim, keepdim)
        ctx.shape, ctx.dim, ctx.keepdim = x._c.shape, dim % max(x.ndim, 1), keepdim
        ctx.save_for_backward(i)
        ctx.mark_non_differentiable(i)
        ctx.set_materialize_grads(False)  # no zero tensor for the indices' gradient
        return v, i

    @staticmethod
    def backward(ctx: Any, g: Tensor, gi: Any) -> Any:
        from ..creation import zeros
        from ._shape import ScatterAdd

        (i,) = ctx.saved_tensors
        if g is None:  # only the (non-differentiable) indices were used
            return None, None, None, None
        if not ctx.shape:
            return g.reshape(()), None, None, None
        if not ctx.keepdim:
            g, i = g.unsqueeze(ctx.dim), i.unsqueeze(ctx.dim)
        z = zeros(*ctx.shape, dtype=g.dtype, device=g.device)
        return ScatterAdd.apply(z, ctx.dim, i, g), None, None, None


class AMax(Function):
    """amax / amin / max() / min(): the gradient is shared evenly between tied extremes."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
        if op in ("max_all", "min_all"):
            y = getattr(_C, op)(x)
            dim, keepdim = None, False
        else:
            y = getattr(_C, op)(x, dim, keepdim)
        ctx.dims, ctx.keepdim = norm_dims(dim, x.ndim), keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        shape = tuple(x.shape)
        yk = _unreduce(y, shape, ctx.dims, ctx.keepdim)
        gk = _unreduce(g, shape, ctx.dims, ctx.keepdim)
        mask = (x == yk).to(x.dtype)
        count = mask.sum(dim=list(ctx.dims), keepdim=True) if ctx.dims else mask
        return gk * mask / count, None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
        y = _C.logsumexp(x, dim, keepdim)
        ctx.dims, ctx.keepdim = norm_dims(dim, x.ndim), keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        shape = tuple(x.shape)
        yk = _unreduce(y, shape, ctx.dims, ctx.keepdim)
        return _unreduce(g, shape, ctx.dims, ctx.keepdim) * (x - yk).exp(), None, None


class Norm(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, p: float, dim: Any, keepdim: bool) -> Tensor:
        y = _C.norm(x, p, dim, keepdim)
        ctx.p, ctx.dims, ctx.keepdim = p, norm_dims(dim, x.ndim), keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        from ..ops.elementwise import where

        x, y = ctx.saved_tensors
        shape, p = tuple(x.shape), ctx.p
        gk = _unreduce(g, shape, ctx.dims, ctx.keepdim)
        yk = _unreduce(y, shape, ctx.dims, ctx.keepdim)
        if p == 0:
            return x * 0.0, None, None, None
        if p == 1:
            return gk * x.sign(), None, None, None
        if math.isinf(p):
            mask = (x.abs() == yk).to(x.dtype)
            count = mask.sum(dim=list(ctx.dims), keepdim=True) if ctx.dims else mask
            return gk * x.sign() * mask / count, None, None, None
        if p == 2:
            return where(yk == 0, 0.0, gk * x / yk), None, None, None
        ax = x.abs()
        scaled = x * ax ** (p - 2) / yk ** (p - 1)
        return where(yk == 0, 0.0, gk * scaled), None, None, None


class CumSum(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, code: int) -> Tensor:
        ctx.dim, ctx.dtype = dim, x.dtype
        return _C.cumsum(x, dim, code)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        if g.ndim == 0:
            return g.to(ctx.dtype), None, None
        # the reversed cumulative sum: total - (running sum before this entry)
        gx = g.sum(dim=ctx.dim, keepdim=True) - g.cumsum(ctx.dim) + g
        return gx.to(ctx.dtype), None, None


class CumProd(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, code: int) -> Tensor:
        y = _C.cumprod(x, dim, code)
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        if g.ndim == 0:
            return g.to(x.dtype), None, None
        gx = _cumprod_grad(x, y, g, ctx.dim)
        return (gx if gx.dtype == x.dtype else gx.to(x.dtype)), None, None


def _rev_cumsum(t: Tensor, dim: int) -> Tensor:
    return t.sum(dim=dim, keepdim=True) - t.cumsum(dim) + t


def _cumprod_grad(x: Tensor, y: Tensor, g: Tensor, dim: int) -> Tensor:
    """d/dx_i = (sum over k >= i of g_k * y_k) / x_i, which divides by zero at zeros. Along
    each line, z being the first zero: before z the division is safe; at z the products skip
    x_z, i.e. are those of x with x_z replaced by 1 (y1); after z every product holds the
    factor x_z, so the gradient is x_z times that of cumprod(x1): 0, but with the right
    derivative for create_graph (computed only then)."""
    from ..ops.elementwise import where
    from .grad_mode import _state

    zero = x == 0
    if not bool(zero.any()):
        return _rev_cumsum(g * y, dim) / x
    nz = zero.to(x.dtype).cumsum(dim)
    first = zero & (nz == 1)
    x1 = where(first, 1.0, x)
    y1 = x1.cumprod(dim)
    before = _rev_cumsum(g * y, dim) / where(zero, 1.0, x)
    at_z = _rev_cumsum(g * y1, dim)
    if _state.enabled:
        xz = where(first, x, 0.0).sum(dim=dim, keepdim=True)
        after = xz * _cumprod_grad(x1, y1, g, dim)
    else:
        after = 0.0
    return where(nz == 0, before, where(first, at_z, after))
