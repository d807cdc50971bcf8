"""Pooling and upsampling as autograd Functions over the pool2d kernels (csrc/cpu/pool.cpp).

Every 1-d variant is the 2-d one with H = 1. Average pooling, adaptive average pooling and
nearest / bilinear upsampling are linear maps, so each backward is the kernel computing the
adjoint map, and under ``create_graph=True`` it is an autograd Function whose own backward is
the forward map again: derivatives of any order. Max pooling's backward scatters the output
gradient to the argmax positions; under ``create_graph`` that is a differentiable
``scatter_add``."""

from __future__ import annotations

import math
from typing import Any

from .. import _C
from ..autograd import Function
from ..autograd.grad_mode import is_grad_enabled
from ..creation import zeros
from ..tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate",
    "upsample", "upsample_nearest", "upsample_bilinear",
]


def _pair(v: Any) -> list[int]:
    return [int(e) for e in v] if isinstance(v, (tuple, list)) else [int(v), int(v)]


def _single(op: str, v: Any) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"[{op}] expected an int or a 1-tuple, got {tuple(v)}")
        return int(v[0])
    return int(v)


# ---- linear maps: forward kernel, adjoint kernel ------------------------------------------

# op -> (forward(x, *args), adjoint(g, input_shape, *args)); the adjoints of the resizing
# ops take no output size (grad_output has it).
_LINEAR: dict[str, tuple[Any, Any]] = {
    "avg": (_C.avg_pool2d, _C.avg_pool2d_backward),
    "adaptive_avg": (_C.adaptive_avg_pool2d,
                     lambda g, shape, size: _C.adaptive_avg_pool2d_backward(g, shape)),
    "nearest": (_C.upsample_nearest2d,
                lambda g, shape, size, *a: _C.upsample_nearest2d_backward(g, shape, *a)),
    "bilinear": (_C.upsample_bilinear2d,
                 lambda g, shape, size, *a: _C.upsample_bilinear2d_backward(g, shape, *a)),
}


class _LinearMap(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, op: str, args: tuple[Any, ...]) -> Tensor:
        ctx.op, ctx.args, ctx.shape = op, args, list(x.shape)
        return _LINEAR[op][0](x, *args)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        if not is_grad_enabled():
            return _LINEAR[ctx.op][1](grad, ctx.shape, *ctx.args), None, None
        return _Adjoint.apply(grad, ctx.op, ctx.args, ctx.shape), None, None


class _Adjoint(Function):
    @staticmethod
    def forward(ctx: Any, g: Tensor, op: str, args: tuple[Any, ...], shape: list[int]) -> Tensor:
        ctx.op, ctx.args = op, args
        return _LINEAR[op][1](g, shape, *args)

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> tuple[Any, ...]:
        return _LinearMap.apply(gg, ctx.op, ctx.args), None, None, None


# ---- max pooling ----------------------------------------------------------------------------

def _scatter_grad(grad: Tensor, ind: Tensor, shape: list[int]) -> Tensor:
    """grad scattered (summed) to the flat plane positions `ind`, differentiably."""
    planes = math.prod(shape[:-2])
    g = grad.reshape(planes, -1)
    gx = zeros(planes, shape[-2] * shape[-1], dtype=grad.dtype, device=grad.device)
    return gx.scatter_add(1, ind.reshape(planes, -1), g).reshape(shape)


class _MaxPool(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, adaptive: bool, args: tuple[Any, ...]) -> tuple[Tensor, ...]:
        y, ind = (_C.adaptive_max_pool2d if adaptive else _C.max_pool2d)(x, *args)
        ctx.mark_non_differentiable(ind)
        ctx.set_materialize_grads(False)  # no zero tensor for the indices' gradient
        ctx.save_for_backward(ind)
        ctx.shape = list(x.shape)
        return y, ind

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _gind: Any) -> tuple[Any, ...]:
        (ind,) = ctx.saved_tensors
        if grad is None:  # only the (non-differentiable) indices were used
            return None, None, None
        if not is_grad_enabled():
            return _C.max_pool2d_backward(grad, ind, ctx.shape), None, None
        return _scatter_grad(grad, ind, ctx.shape), None, None


def _check_rank(op: str, x: Tensor, dims: int) -> None:
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"[{op}] expected a {dims + 1}-D or {dims + 2}-D input, got shape "
                         f"{tuple(x.shape)}")


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over (kH, kW) windows of (N, C, H, W) or (C, H, W); indices are flat in H * W."""
    k = _pair(kernel_size)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    y, ind = _MaxPool.apply(input, False,
                            (k, _pair(s), _pair(padding), _pair(dilation), bool(ceil_mode)))
    return (y, ind) if return_indices else y


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows of length k along the last dim of (N, C, L) or (C, L)."""
    op = "max_pool1d"
    _check_rank(op, input, 1)
    k = _single(op, kernel_size)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    y, ind = max_pool2d(input.unsqueeze(-2), (1, k), (1, _single(op, s)),
                        (0, _single(op, padding)), (1, _single(op, dilation)), ceil_mode, True)
    y, ind = y.squeeze(-2), ind.squeeze(-2)
    return (y, ind) if return_indices else y


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over (kH, kW) windows of (N, C, H, W) or (C, H, W) (PyTorch's padding rules)."""
    k = _pair(kernel_size)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    div = None if divisor_override is None else int(divisor_override)
    args = (k, _pair(s), _pair(padding), bool(ceil_mode), bool(count_include_pad), div)
    return _LinearMap.apply(input, "avg", args)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of length k along the last dim of (N, C, L) or (C, L)."""
    op = "avg_pool1d"
    _check_rank(op, input, 1)
    k = _single(op, kernel_size)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, _single(op, s)),
                      (0, _single(op, padding)), ceil_mode, count_include_pad).squeeze(-2)


# ---- adaptive pooling -----------------------------------------------------------------------

def _adaptive_size(op: str, x: Tensor, output_size: Any) -> list[int]:
    _check_rank(op, x, 2)
    size = list(output_size) if isinstance(output_size, (tuple, list)) else [output_size] * 2
    if len(size) != 2:
        raise ValueError(f"[{op}] output_size must be an int or a pair, got {output_size}")
    return [int(x.shape[-2 + i]) if v is None else int(v) for i, v in enumerate(size)]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over the windows [floor(i * H / oH), ceil((i + 1) * H / oH)) (and along W)."""
    size = _adaptive_size("adaptive_avg_pool2d", input, output_size)
    return _LinearMap.apply(input, "adaptive_avg", (size,))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    _check_rank("adaptive_avg_pool1d", input, 1)
    size = [1, _single("adaptive_avg_pool1d", output_size)]
    return _LinearMap.apply(input.unsqueeze(-2), "adaptive_avg", (size,)).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over adaptive windows; indices are flat in H * W."""
    size = _adaptive_size("adaptive_max_pool2d", input, output_size)
    y, ind = _MaxPool.apply(input, True, (size,))
    return (y, ind) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    _check_rank("adaptive_max_pool1d", input, 1)
    size = [1, _single("adaptive_max_pool1d", output_size)]
    y, ind = _MaxPool.apply(input.unsqueeze(-2), True, (size,))
    y, ind = y.squeeze(-2), ind.squeeze(-2)
    return (y, ind) if return_indices else y


# ---- interpolation --------------------------------------------------------------------------

def _interp_sizes(input: Tensor, size: Any, scale_factor: Any, dims: int,
                  recompute: bool | None) -> tuple[list[int], list[float] | None]:
    if (size is None) == (scale_factor is None):
        raise ValueError("[interpolate] exactly one of size or scale_factor must be given")
    spatial = [int(v) for v in input.shape[2:]]
    if size is not None:
        out = list(size) if isinstance(size, (tuple, list)) else [size] * dims
        if len(out) != dims:
            raise ValueError(f"[interpolate] size {size} must have {dims} entries for input "
                             f"of shape {tuple(input.shape)}")
        return [int(v) for v in out], None
    sf = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * dims
    if len(sf) != dims:
        raise ValueError(f"[interpolate] scale_factor {scale_factor} must have {dims} entries "
                         f"for input of shape {tuple(input.shape)}")
    sf = [float(v) for v in sf]
    out = [int(math.floor(n * f)) for n, f in zip(spatial, sf, strict=True)]
    return out, (None if recompute else sf)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resizes (N, C, L) or (N, C, H, W): mode 'nearest', 'linear' (3-D) or 'bilinear' (4-D),
    with PyTorch's source-index formulas (a given scale_factor is used as is unless
    recompute_scale_factor)."""
    dims = input.ndim - 2
    linear = {1: "linear", 2: "bilinear"}.get(dims)
    if dims not in (1, 2) or mode not in ("nearest", linear) or antialias:
        raise NotImplementedError(
            f"[interpolate] mode {mode!r} (antialias={antialias}) is not supported for input of "
            f"shape {tuple(input.shape)}: use 'nearest', 'linear' (3-D) or 'bilinear' (4-D)")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("[interpolate] align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    out, scales = _interp_sizes(input, size, scale_factor, dims, recompute_scale_factor)
    x = input
    if dims == 1:
        x, out = x.unsqueeze(-2), [1] + out
        scales = None if scales is None else [1.0] + scales
    if mode == "nearest":
        y = _LinearMap.apply(x, "nearest", (out, scales))
    else:
        y = _LinearMap.apply(x, "bilinear", (out, bool(align_corners), scales))
    return y.squeeze(-2) if dims == 1 else y


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
