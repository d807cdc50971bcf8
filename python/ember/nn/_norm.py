"""batch_norm, layer_norm, group_norm and instance_norm as autograd Functions over fused kernels.

The forwards are the fused C++ kernels (csrc/cpu/norm.cpp); each backward calls the fused
backward kernel in the usual case (grad mode off during backward) and, under
``create_graph=True``, computes the same gradient from differentiable ember ops, recomputing
the statistics from the input so that second derivatives see their dependence on it.

With xhat = (x - mean) * rstd over a normalised set of m values and h = grad * weight:
  grad_x = rstd * (h - mean(h) - xhat * mean(h * xhat))   (batch statistics)
  grad_x = rstd * h                                       (eval: running statistics)
  grad_weight = sum(grad * xhat), grad_bias = sum(grad)   (over everything but the channel)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _C
from ..autograd import Function
from ..autograd.grad_mode import is_grad_enabled
from ..ops import elementwise as E
from ..tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm"]


def _row_grad(g: Tensor, x: Tensor, w: Tensor | None, rows: tuple[int, ...],
              wshape: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor]:
    """(grad_x, xhat) of a norm whose statistics are over the last dim of x.reshape(rows),
    from differentiable ops; ``w`` broadcasts against x after reshape(wshape)."""
    xr = x.reshape(rows)
    xc = xr - xr.mean(-1, keepdim=True)
    rstd = E.rsqrt((xc * xc).mean(-1, keepdim=True) + eps)
    xhat = xc * rstd
    h = g if w is None else g * w.reshape(wshape)
    hr = h.reshape(rows)
    gx = rstd * (hr - hr.mean(-1, keepdim=True) - xhat * (hr * xhat).mean(-1, keepdim=True))
    return gx.reshape(x.shape), xhat.reshape(x.shape)


def _affine_grads(ctx: Any, g: Tensor, xhat: Tensor, dims: tuple[int, ...],
                  shape: tuple[int, ...]) -> tuple[Any, Any]:
    gw = (g * xhat).sum(dims).reshape(shape) if ctx.needs_input_grad[1] else None
    gb = g.sum(dims).reshape(shape) if ctx.needs_input_grad[2] else None
    return gw, gb


class _BatchNorm(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None,
                running_mean: Tensor | None, running_var: Tensor | None, training: bool,
                momentum: float, eps: float) -> Tensor:
        y, mean, invstd = _C.batch_norm(x, weight, bias, running_mean, running_var, training,
                                        momentum, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.training, ctx.eps = training, eps
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        x, weight, mean, invstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        none = (None,) * 5
        if not is_grad_enabled():
            return _C.batch_norm_backward(grad, x, weight, mean, invstd, ctx.training,
                                          need[0], need[1], need[2]) + none
        bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        dims = (0,) + tuple(range(2, x.ndim))
        if ctx.training:  # channel c's values as one row: move C first
            xt = x.transpose(0, 1)
            gt = grad.transpose(0, 1)
            wt = None if weight is None else weight.reshape((x.shape[1],) + (1,) * (x.ndim - 1))
            gx, xhat = _row_grad(gt, xt, wt, (x.shape[1], -1), tuple(xt.shape[:1]) + (1,) *
                                 (x.ndim - 1), ctx.eps)
            gx, xhat = gx.transpose(0, 1), xhat.transpose(0, 1)
        else:  # the running statistics are constants
            xhat = (x - mean.reshape(bshape)) * invstd.reshape(bshape)
            gx = grad * invstd.reshape(bshape)
            if weight is not None:
                gx = gx * weight.reshape(bshape)
        gw, gb = _affine_grads(ctx, grad, xhat, dims, (x.shape[1],))
        return (gx if need[0] else None, gw, gb) + none


def _check_channels(op: str, input: Tensor) -> None:
    if input.ndim < 2:
        raise ValueError(f"[{op}] expected an input of shape (N, C) or (N, C, *), got shape "
                         f"{tuple(input.shape)}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each channel (dim 1) of an (N, C, *) input by its batch statistics
    (training, updating running_mean / running_var in place with ``momentum``) or by the
    running statistics (eval), then scales by ``weight`` and shifts by ``bias``."""
    _check_channels("batch_norm", input)
    return _BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                            float(momentum), float(eps))


class _LayerNorm(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, k: int,
                eps: float) -> Tensor:
        y, mean, rstd = _C.layer_norm(x, k, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.k, ctx.eps = k, eps
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        x, weight, mean, rstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        wshape = tuple(x.shape[mean.ndim:])  # the normalised trailing dims
        if not is_grad_enabled():
            gx, gw, gb = _C.layer_norm_backward(grad, x, ctx.k, weight, mean, rstd, need[0],
                                                need[1], need[2])
            gw = None if gw is None else gw.reshape(wshape)
            gb = None if gb is None else gb.reshape(wshape)
            return gx, gw, gb, None, None
        gx, xhat = _row_grad(grad, x, weight, (-1, ctx.k), wshape, ctx.eps)
        gw, gb = _affine_grads(ctx, grad, xhat, tuple(range(mean.ndim)), wshape)
        return gx if need[0] else None, gw, gb, None, None


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalises over the trailing ``normalized_shape`` dims, then applies the elementwise
    affine ``weight`` / ``bias`` (of that shape) when given."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or tuple(input.shape[input.ndim - n:]) != shape or input.ndim < n:
        raise ValueError(f"[layer_norm] normalized_shape {list(shape)} does not match the "
                         f"trailing dims of the input of shape {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"[layer_norm] {name} of shape {tuple(t.shape)} must have the "
                             f"normalized_shape {shape}")
    k = 1
    for s in shape:
        k *= s
    if k == 0:
        return input * 1.0 if weight is None else input * weight
    return _LayerNorm.apply(input, weight, bias, k, float(eps))


class _GroupNorm(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, groups: int,
                eps: float) -> Tensor:
        y, mean, rstd = _C.group_norm(x, groups, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.groups, ctx.eps = groups, eps
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        x, weight, mean, rstd = ctx.saved_tensors
        need = ctx.needs_input_grad
        if not is_grad_enabled():
            return _C.group_norm_backward(grad, x, ctx.groups, weight, mean, rstd, need[0],
                                          need[1], need[2]) + (None, None)
        n, c = x.shape[0], x.shape[1]
        wshape = (1, c) + (1,) * (x.ndim - 2)
        gx, xhat = _row_grad(grad, x, weight, (n, ctx.groups, -1), wshape, ctx.eps)
        dims = (0,) + tuple(range(2, x.ndim))
        gw, gb = _affine_grads(ctx, grad, xhat, dims, (c,))
        return gx if need[0] else None, gw, gb, None, None


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalises each of ``num_groups`` groups of channels of an (N, C, *) input per sample,
    then applies the per-channel affine ``weight`` / ``bias``."""
    if input.ndim < 2:
        raise ValueError(f"[group_norm] expected an input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    if num_groups <= 0 or input.shape[1] % num_groups:
        raise ValueError(f"[group_norm] Expected number of channels in input to be divisible "
                         f"by num_groups, but got input of shape {tuple(input.shape)} and "
                         f"num_groups={num_groups}")
    return _GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each (sample, channel) plane of an (N, C, *) input. Without running
    statistics this is group_norm with one group per channel; with them it is batch_norm on
    the (1, N * C, *) view, whose per-(sample, channel) running updates are averaged over the
    batch, as PyTorch does."""
    if input.ndim < 2:
        raise ValueError(f"[instance_norm] expected an input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if running_mean is None and running_var is None and use_input_stats:
        return group_norm(input, c, weight, bias, eps)
    if use_input_stats and input.numel() // max(n * c, 1) <= 1:
        raise ValueError(f"[instance_norm] Expected more than 1 spatial element when "
                         f"training, got input size {tuple(input.shape)}")
    from ..ops.indexing import cat

    rm = None if running_mean is None else cat([running_mean] * n)
    rv = None if running_var is None else cat([running_var] * n)
    w = None if weight is None else cat([weight] * n)
    b = None if bias is None else cat([bias] * n)
    x = input.reshape((1, n * c) + tuple(input.shape[2:]))
    y = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        from ..autograd.grad_mode import no_grad

        with no_grad():
            if running_mean is not None:
                running_mean.copy_(rm.reshape(n, c).mean(0))
            if running_var is not None:
                running_var.copy_(rv.reshape(n, c).mean(0))
    return y.reshape(input.shape)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta, the
    window centred on each channel (zero-padded), from differentiable ember ops."""
    if input.ndim < 3:
        raise ValueError(f"[local_response_norm] expected 3D or higher input, got shape "
                         f"{tuple(input.shape)}")
    from ..creation import zeros
    from ..ops.indexing import cat

    c = input.shape[1]
    sq = input * input
    pad_shape = list(input.shape)
    lo, hi = size // 2, (size - 1) // 2
    parts = []
    if lo:
        pad_shape[1] = lo
        parts.append(zeros(*pad_shape, dtype=input.dtype))
    parts.append(sq)
    if hi:
        pad_shape[1] = hi
        parts.append(zeros(*pad_shape, dtype=input.dtype))
    padded = cat(parts, 1)
    acc = padded[:, 0:c]
    for i in range(1, size):
        acc = acc + padded[:, i:i + c]
    return input / (acc * (alpha / size) + k) ** beta
