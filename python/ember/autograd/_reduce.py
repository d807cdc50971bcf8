"""Backward formulas of the reductions and scans. A reduced gradient is first given back the
reduced dims (size 1), then broadcast against the input."""

from __future__ import annotations

import math
from typing import Any

from .. import _C
from ..tensor import Tensor
from .function import Function


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
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        g = g.reshape(kept)
    return g


def _count(shape: tuple[int, ...], dims: tuple[int, ...]) -> int:
    n = 1
    for d in dims:
        n *= shape[d]
    return n


class Sum(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, keepdim: bool, code: int) -> Tensor:
        ctx.shape, ctx.dtype = x._c.shape, x.dtype
        ctx.dims, ctx.keepdim = norm_dims(dim, x.ndim), keepdim
        return _C.sum(x, dim, keepdim, code)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        g = _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim).expand(ctx.shape)
        return (g if g.dtype == ctx.dtype else g.to(ctx.dtype)), None, None, None


class Mean(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: Any, keepdim: bool, code: int) -> Tensor:
        ctx.shape, ctx.dtype = x._c.shape, x.dtype
        ctx.dims, ctx.keepdim = norm_dims(dim, x.ndim), keepdim
        return _C.mean(x, dim, keepdim, code)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        n = _count(ctx.shape, ctx.dims)
        g = (_unreduce(g, ctx.shape, ctx.dims, ctx.keepdim) / n).expand(ctx.shape)
        return (g if g.dtype == ctx.dtype else g.to(ctx.dtype)), None, None, None


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
        from ..ops.elementwise import where

        x, y = ctx.saved_tensors
        shape = x.shape
        gk = _unreduce(g, shape, ctx.dims, ctx.keepdim)
        yk = _unreduce(y, shape, ctx.dims, ctx.keepdim)
        zero = x == 0
        if not bool(zero.any()):
            return gk * yk / x, None, None, None
        # with zeros: prod of the others = prod over x with that entry replaced by 1
        ones_in = where(zero, 1.0, x)
        p = ones_in.prod(dim=list(ctx.dims), keepdim=True) if ctx.dims else ones_in
        nz = zero.to(x.dtype).sum(dim=list(ctx.dims), keepdim=True) if ctx.dims else zero
        # an entry gets prod(others): 0 if another entry is zero, p if it is the only zero
        only = where(zero, (nz == 1).to(x.dtype) * p, yk / ones_in)
        return gk * only, None, None, None


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
        return v, i

    @staticmethod
    def backward(ctx: Any, g: Tensor, gi: Any) -> Any:
        from ..creation import zeros
        from ._shape import ScatterAdd

        (i,) = ctx.saved_tensors
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
    """Gradient (sum over later k of g_k * y_k) / x_i; exact only for non-zero inputs."""

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
            return g, None, None
        gy = g * y
        rev = gy.sum(dim=ctx.dim, keepdim=True) - gy.cumsum(ctx.dim) + gy
        return rev / x, None, None
