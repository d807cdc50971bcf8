"""conv1d, conv2d and conv_transpose2d as autograd Functions over the C++ kernels.

The convolution C(x, w), its input gradient T(gy, w) (which is conv_transpose2d) and its weight
gradient G(x, gy) are the three partial adjoints of one trilinear form <C(x, w), gy>, so each
one's backward is made of the other two: first order calls ``_C.conv2d_backward`` directly,
and under ``create_graph=True`` the same gradients come from the Functions themselves, which
makes every derivative order work. conv1d is conv2d over a height of 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _C
from ..autograd import Function
from ..autograd.grad_mode import is_grad_enabled
from ..creation import empty
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]

# (stride(2), padding(4: top, bottom, left, right), dilation(2), groups)
Geom = tuple[list[int], list[int], list[int], int]


def _blank(shape: Sequence[int], like: Tensor) -> Tensor:
    # Only its shape is read: the kernels take the geometry from it.
    return empty(*shape, dtype=like.dtype, device=like.device)


class _Conv(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Tensor | None, geom: Geom) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.geom = geom
        ctx.has_bias = b is not None
        return _C.conv2d(x, w, b, *geom)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Any, ...]:
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        if not is_grad_enabled():
            gx, gw, gb = _C.conv2d_backward(g, x, w, *ctx.geom, nx, nw, nb and ctx.has_bias)
            return gx, gw, gb, None
        gx = _InputGrad.apply(g, w, tuple(x.shape), ctx.geom) if nx else None
        gw = _WeightGrad.apply(x, g, tuple(w.shape), ctx.geom) if nw else None
        gb = g.sum((0, 2, 3)) if nb and ctx.has_bias else None
        return gx, gw, gb, None


class _InputGrad(Function):
    """T(gy, w): the gradient of conv2d w.r.t. an input of shape x_shape (conv_transpose2d)."""

    @staticmethod
    def forward(ctx: Any, gy: Tensor, w: Tensor, x_shape: tuple[int, ...], geom: Geom) -> Tensor:
        ctx.save_for_backward(gy, w)
        ctx.geom = geom
        return _C.conv2d_backward(gy, _blank(x_shape, gy), w, *geom, True, False, False)[0]

    @staticmethod
    def backward(ctx: Any, h: Tensor) -> tuple[Any, ...]:
        gy, w = ctx.saved_tensors
        ggy = _Conv.apply(h, w, None, ctx.geom) if ctx.needs_input_grad[0] else None
        gw = (_WeightGrad.apply(h, gy, tuple(w.shape), ctx.geom)
              if ctx.needs_input_grad[1] else None)
        return ggy, gw, None, None


class _WeightGrad(Function):
    """G(x, gy): the gradient of conv2d w.r.t. a weight of shape w_shape."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, gy: Tensor, w_shape: tuple[int, ...], geom: Geom) -> Tensor:
        ctx.save_for_backward(x, gy)
        ctx.geom = geom
        return _C.conv2d_backward(gy, x, _blank(w_shape, x), *geom, False, True, False)[1]

    @staticmethod
    def backward(ctx: Any, h: Tensor) -> tuple[Any, ...]:
        x, gy = ctx.saved_tensors
        gx = (_InputGrad.apply(gy, h, tuple(x.shape), ctx.geom)
              if ctx.needs_input_grad[0] else None)
        ggy = _Conv.apply(x, h, None, ctx.geom) if ctx.needs_input_grad[1] else None
        return gx, ggy, None, None


def _tuple(op: str, name: str, v: Any, n: int) -> list[int]:
    if isinstance(v, int):
        return [v] * n
    v = list(v)
    if len(v) == 1:
        v = v * n
    if len(v) != n or not all(isinstance(e, int) for e in v):
        raise ValueError(f"[{op}] {name} must be an int or a tuple of {n} ints, got {v!r}")
    return v


def _padding(op: str, padding: Any, kernel: Sequence[int], stride: Sequence[int],
             dilation: Sequence[int]) -> list[int]:
    """Per-side padding [top, bottom, left, right] (1-d: the first two are 0)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [0, 0, 0, 0]
        if padding != "same":
            raise ValueError(f"[{op}] padding must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"[{op}] padding='same' is not supported for strided convolutions")
        # PyTorch puts the odd extra row/column of an even kernel at the bottom/right.
        sides: list[int] = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            sides += [total // 2, total - total // 2]
        return [0, 0] * (2 - n) + sides
    p = _tuple(op, "padding", padding, n)
    return [0, 0] * (2 - n) + [s for v in p for s in (v, v)]


def _check_input(op: str, input: Tensor, weight: Tensor, rank: int) -> None:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"[{op}] expected Tensor input and weight, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input.ndim != rank or weight.ndim != rank:
        raise ValueError(f"[{op}] expected a {rank}-d input and a {rank}-d weight, got input of "
                         f"shape {tuple(input.shape)} and weight of shape "
                         f"{tuple(weight.shape)}")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d convolution (cross-correlation) of (N, C, H, W) with (O, C/groups, kh, kw)."""
    _check_input("conv2d", input, weight, 4)
    s = _tuple("conv2d", "stride", stride, 2)
    d = _tuple("conv2d", "dilation", dilation, 2)
    p = _padding("conv2d", padding, tuple(weight.shape[2:]), s, d)
    return _Conv.apply(input, weight, bias, (s, p, d, groups))


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d convolution of (N, C, L) with (O, C/groups, k): conv2d over a height of 1."""
    _check_input("conv1d", input, weight, 3)
    s = [1] + _tuple("conv1d", "stride", stride, 1)
    d = [1] + _tuple("conv1d", "dilation", dilation, 1)
    p = _padding("conv1d", padding, (weight.shape[2],), s[1:], d[1:])
    y = _Conv.apply(input.unsqueeze(2), weight.unsqueeze(2), bias, (s, p, d, groups))
    return y.squeeze(2)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed convolution of (N, Cin, H, W) with weight (Cin, Cout/groups, kh, kw): the
    gradient of conv2d(y, weight) w.r.t. y, for y of the output's shape."""
    op = "conv_transpose2d"
    _check_input(op, input, weight, 4)
    s = _tuple(op, "stride", stride, 2)
    d = _tuple(op, "dilation", dilation, 2)
    p = _tuple(op, "padding", padding, 2)
    op_ = _tuple(op, "output_padding", output_padding, 2)
    if groups <= 0 or input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"[{op}] input of shape {tuple(input.shape)} does not match weight of "
                         f"shape {tuple(weight.shape)} with groups={groups} (expected "
                         f"{weight.shape[0]} input channels divisible by groups)")
    for i in range(2):
        if not 0 <= op_[i] < max(s[i], d[i]):
            raise ValueError(f"[{op}] output_padding {tuple(op_)} must be non-negative and "
                             f"smaller than stride {tuple(s)} or dilation {tuple(d)}")
        if p[i] < 0:
            raise ValueError(f"[{op}] padding must be non-negative, got {tuple(p)}")
    n, _, h, w = input.shape
    k = weight.shape[2:]
    out = [(size - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op_[i] + 1
           for i, size in enumerate((h, w))]
    if min(out) <= 0:
        raise ValueError(f"[{op}] input of shape {tuple(input.shape)} with weight of shape "
                         f"{tuple(weight.shape)} gives a non-positive output size {tuple(out)}")
    x_shape = (n, weight.shape[1] * groups, out[0], out[1])
    geom = (s, [p[0], p[0], p[1], p[1]], d, groups)
    y = _InputGrad.apply(input, weight, x_shape, geom)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y
