"""Backward formulas of views, copies, indexing, gather/scatter and cat/stack.

A view's gradient is the incoming gradient put back where the view came from: ``Slice`` (any
view given as a function of the base) has ``Embed`` as its backward, which writes the gradient
into zeros of the base's shape through the same view function, and ``Embed``'s backward is
``Slice`` again, so views differentiate to any order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import _C
from ..tensor import Tensor, _fresh
from ._elementwise import _meta, _sum_to_meta
from .function import Function


def _zeros(shape: Sequence[int], like: Tensor) -> Tensor:
    from ..creation import zeros

    return zeros(*shape, dtype=like.dtype, device=like.device)


class Reshape(Function):
    """view, reshape, flatten, unflatten, squeeze, unsqueeze: `method` of the _C tensor."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, method: str, *args: Any) -> Tensor:
        ctx.shape = x._c.shape
        ctx.nargs = len(args) + 1
        return getattr(x._c, method)(*args)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return (g.reshape(ctx.shape), *([None] * ctx.nargs))


class Permute(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dims: Sequence[int]) -> Tensor:
        n = x._c.ndim
        dims = [d % n if n else d for d in dims]
        inv = [0] * n
        for i, d in enumerate(dims):
            inv[d] = i
        ctx.inv = tuple(inv)
        return x._c.permute(tuple(dims))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return g.permute(ctx.inv), None


class Expand(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, method: str, shape: Any) -> Tensor:
        ctx.x = _meta(x)
        return getattr(x._c, method)(shape)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return _sum_to_meta(g, ctx.x), None, None


class Slice(Function):
    """y = view_fn(x) for a view function of the _C tensor (narrow, select, diagonal, basic
    indexing...)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, view_fn: Callable[[Any], Any]) -> Tensor:
        ctx.shape, ctx.view_fn, ctx.dtype, ctx.device = x._c.shape, view_fn, x.dtype, x.device
        return _fresh(view_fn(x._c))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return Embed.apply(g, ctx.shape, ctx.view_fn, ctx.dtype), None


class Embed(Function):
    """zeros(shape) with view_fn(zeros) = g: the gradient of a view."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, shape: Any, view_fn: Callable[[Any], Any],
                dtype: Any) -> Tensor:
        from ..creation import zeros

        ctx.view_fn = view_fn
        z = zeros(*shape, dtype=dtype, device=g.device)
        view_fn(z._c).copy_(g._c)
        return z

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> Any:
        return Slice.apply(gg, ctx.view_fn), None, None, None


for _cls in (Reshape, Permute, Expand, Slice):
    _cls._backward_cls._is_view = True  # in-place writes into these outputs are refused


class Clone(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return x._c.clone()

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return g


class Cast(Function):
    """to(dtype) / to(device)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dtype_code: int | None, dev: str | None) -> Tensor:
        ctx.dtype, ctx.device = x.dtype, str(x.device)
        out = x
        if dtype_code is not None:
            out = out._c.to_dtype(dtype_code)
        if dev is not None:
            out = out._c.to_device(dev)
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return g.to(device=ctx.device, dtype=ctx.dtype), None, None


class IndexGet(Function):
    """x[index] with advanced (tensor / bool) indices."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, index: tuple[Any, ...]) -> Tensor:
        from ..ops import indexing

        ctx.shape, ctx.index = x._c.shape, index
        return indexing._advanced_getitem(x, index)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return IndexAdd.apply(g, ctx.shape, ctx.index), None


class IndexAdd(Function):
    """zeros(shape) with g accumulated at index (repeated indices add up)."""

    @staticmethod
    def forward(ctx: Any, g: Tensor, shape: Any, index: tuple[Any, ...]) -> Tensor:
        from ..ops import indexing

        ctx.index = index
        z = _zeros(shape, g)
        c, entries = indexing._advanced_parts(z, index)
        _C.index_put_(c, entries, g, True)
        return z

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> Any:
        return IndexGet.apply(gg, ctx.index), None, None


class SetItem(Function):
    """t[index] = value, written in place: t's old values get the gradient outside the
    written region, value gets the gradient of the region."""

    @staticmethod
    def forward(ctx: Any, t: Tensor, value: Any, index: Any) -> Tensor:
        from ..ops import indexing

        ctx.index = index
        ctx.value = _meta(value)
        indexing._raw_setitem(t, index, value)
        ctx.mark_dirty(t)
        return t

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        gt = gv = None
        if ctx.needs_input_grad[0]:
            gt = g.clone()
            gt[ctx.index] = 0.0
        if ctx.needs_input_grad[1]:
            gv = _sum_to_meta(g[ctx.index], ctx.value)
        return gt, gv, None


class Gather(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, index: Tensor) -> Tensor:
        ctx.shape, ctx.dim = x._c.shape, dim
        ctx.save_for_backward(index)
        return _C.gather(x, dim, index)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (index,) = ctx.saved_tensors
        return ScatterAdd.apply(_zeros(ctx.shape, g), ctx.dim, index, g), None, None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
        ctx.dim = dim
        ctx.save_for_backward(index)
        return _C.scatter(x, dim, index, src, "add", False)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (index,) = ctx.saved_tensors
        gsrc = Gather.apply(g, ctx.dim, index) if ctx.needs_input_grad[3] else None
        return g, None, None, gsrc


class Scatter(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, index: Tensor, src: Any, reduce: Any) -> Tensor:
        if reduce is not None:
            raise NotImplementedError(
                f"[scatter] the gradient of scatter with reduce={reduce!r} is not implemented"
            )
        ctx.dim = dim
        ctx.save_for_backward(index)
        return _C.scatter(x, dim, index, src, None, False)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (index,) = ctx.saved_tensors
        gx = Scatter.apply(g, ctx.dim, index, 0.0, None) if ctx.needs_input_grad[0] else None
        gsrc = Gather.apply(g, ctx.dim, index) if ctx.needs_input_grad[3] else None
        return gx, None, None, gsrc, None


class Cat(Function):
    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        out = _C.cat(list(tensors), dim)
        d = dim % out._c.ndim
        ctx.dim = d
        ctx.sizes = [t._c.shape[d] if t._c.ndim else 0 for t in tensors]
        ctx.like = [t._c.shape for t in tensors]
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        out: list[Any] = [None]
        start = 0
        for i, (n, shape) in enumerate(zip(ctx.sizes, ctx.like, strict=True)):
            if ctx.needs_input_grad[i + 1]:
                if shape == (0,) and g._c.ndim != 1:
                    out.append(None)  # the legacy empty (0,) operand of cat
                else:
                    out.append(g.narrow(ctx.dim, start, n))
            else:
                out.append(None)
            start += n
        return tuple(out)


class Stack(Function):
    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        out = _C.stack(list(tensors), dim)
        ctx.dim = dim % out._c.ndim
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return (None, *(g.select(ctx.dim, i) if need else None
                         for i, need in enumerate(ctx.needs_input_grad[1:])))


class MaskedFill(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, mask: Tensor, value: Any) -> Tensor:
        ctx.save_for_backward(mask)
        ctx.x, ctx.value = _meta(x), _meta(value)
        return _C.masked_fill(x, mask, value, False)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        from ..ops.elementwise import where

        (mask,) = ctx.saved_tensors
        gx = _sum_to_meta(where(mask, 0.0, g), ctx.x) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[2]:
            gv = _sum_to_meta(where(mask, g, 0.0).sum(), ctx.value)
        return gx, None, gv
