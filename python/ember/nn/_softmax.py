"""softmax, log_softmax, softmin and cross_entropy as autograd Functions over fused kernels.

The forwards are the fused C++ kernels (csrc/cpu/softmax.cpp, loss.cpp); each backward calls the
fused backward kernel in the usual case (grad mode off during
backward) and, under ``create_graph=True``, computes the same gradient from differentiable
ember ops so second derivatives work.

Cross-entropy in one formula (PyTorch's semantics): with ``lsm = log_softmax(x)`` along the
class dim, every variant is ``loss_i = -sum_c q_ic * lsm_ic`` for coefficients q:
  class indices t: q_ic = keep_i * ((1 - eps) * w_{t_i} * [c == t_i] + eps / C * w_c)
  probabilities t: q_ic = ((1 - eps) * t_ic + eps / C) * w_c
and 'mean' divides the sum by D = sum_i keep_i * w_{t_i} (indices) or N * d1 * ... (probs).
Its gradient is ``g_i * (softmax(x)_i * sum_c q_ic - q_i)``."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _C
from .._dtype import to_dtype
from ..autograd import Function
from ..autograd.grad_mode import is_grad_enabled
from ..creation import arange
from ..ops import elementwise as E
from ..tensor import Tensor

__all__ = ["softmax", "log_softmax", "softmin", "cross_entropy"]


class _Softmax(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> Tensor:
        y = _C.softmax(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (y,) = ctx.saved_tensors
        if not is_grad_enabled():
            return _C.softmax_backward(grad, y, ctx.dim), None
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class _LogSoftmax(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> Tensor:
        y = _C.log_softmax(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (y,) = ctx.saved_tensors
        if not is_grad_enabled():
            return _C.log_softmax_backward(grad, y, ctx.dim), None
        return grad - E.exp(y) * grad.sum(ctx.dim, keepdim=True), None


def _prepare(op: str, input: Tensor, dim: int | None, dtype: Any) -> tuple[Tensor, int]:
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = input.to(to_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise TypeError(f"[{op}] expects a floating-point input, got {input.dtype}")
    n = max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"[{op}] dim {dim} out of range for shape {tuple(input.shape)}")
    return input, dim % n


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``; ``dtype`` casts the input first."""
    x, d = _prepare("softmax", input, dim, dtype)
    return _Softmax.apply(x, d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed without overflow."""
    x, d = _prepare("log_softmax", input, dim, dtype)
    return _LogSoftmax.apply(x, d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x, d = _prepare("softmin", input, dim, dtype)
    return _Softmax.apply(-x, d)


# ---- cross entropy -------------------------------------------------------------------------
def _ce_coefficients(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                     eps: float) -> tuple[Tensor, Any]:
    """(q, D) of the module docstring: q has the input's shape."""
    cdim = 1 if input.ndim >= 2 else 0
    n_cls = input.shape[cdim]
    bshape = [1] * input.ndim
    bshape[cdim] = n_cls
    w = None if weight is None else weight.to(input.dtype).reshape(bshape)
    if target.dtype.is_floating_point:
        t = target * (1 - eps) + eps / n_cls if eps else target
        return (t if w is None else t * w), input.numel() // max(n_cls, 1)
    keep = (target != ignore_index).unsqueeze(cdim)
    classes = arange(n_cls, device=input.device).reshape(bshape)
    onehot = (E.where(keep, target.unsqueeze(cdim), 0) == classes).to(input.dtype)
    keepf = keep.to(input.dtype)
    if w is None:
        q = onehot * (1 - eps) + keepf * (eps / n_cls)
        return q * keepf, keepf.sum()
    w_t = (onehot * w).sum(cdim, keepdim=True) * keepf
    return (onehot * w * (1 - eps) + w * (eps / n_cls)) * keepf, w_t.sum()


def _ce_grad(grad: Tensor, input: Tensor, target: Tensor, weight: Tensor | None,
             reduction: str, ignore_index: int, eps: float) -> Tensor:
    q, denom = _ce_coefficients(input, target, weight, ignore_index, eps)
    cdim = 1 if input.ndim >= 2 else 0
    p = softmax(input, cdim)
    g = grad.unsqueeze(cdim) if reduction == "none" else grad
    if reduction == "mean":
        g = g / denom
    return (p * q.sum(cdim, keepdim=True) - q) * g


class _CrossEntropy(Function):
    @staticmethod
    def forward(ctx: Any, input: Tensor, target: Tensor, weight: Tensor | None,
                reduction: str, ignore_index: int, eps: float) -> Tensor:
        ctx.save_for_backward(input, target)
        ctx.args = (weight, reduction, ignore_index, eps)
        return _C.cross_entropy(input, target, weight, reduction, ignore_index, eps)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        input, target = ctx.saved_tensors
        weight, reduction, ignore_index, eps = ctx.args
        gi = gt = None
        if ctx.needs_input_grad[0]:
            if is_grad_enabled():  # create_graph: the same gradient from differentiable ops
                gi = _ce_grad(grad, input, target, *ctx.args)
            else:
                gi = _C.cross_entropy_backward(grad, input, target, *ctx.args)
        if ctx.needs_input_grad[1]:  # probability targets: d/dt = -(1 - eps) * w * lsm
            cdim = 1 if input.ndim >= 2 else 0
            gt = -log_softmax(input, cdim) * (1 - eps)
            if weight is not None:
                shape = [1] * input.ndim
                shape[cdim] = input.shape[cdim]
                gt = gt * weight.reshape(shape)
            g = grad.unsqueeze(cdim) if reduction == "none" else grad
            gt = gt * (g / (input.numel() // input.shape[cdim]) if reduction == "mean" else g)
        return gi, gt, None, None, None, None


def _ce_check(input: Tensor, target: Tensor, weight: Tensor | None, eps: float) -> None:
    if input.ndim == 0:
        raise ValueError("[cross_entropy] input needs a class dim, got a 0-d tensor")
    shape = tuple(input.shape)
    n_cls = shape[1] if input.ndim >= 2 else shape[0]
    if target.dtype.is_floating_point:
        if tuple(target.shape) != shape:
            raise ValueError(
                f"[cross_entropy] a floating-point target holds class probabilities and must "
                f"have the input's shape {shape}, got {tuple(target.shape)}; class-index "
                "targets must be an integer tensor"
            )
    else:
        want = shape[:1] + shape[2:] if input.ndim >= 2 else ()
        if target.dtype.name == "bool" or tuple(target.shape) != want:
            raise ValueError(
                f"[cross_entropy] input {shape} needs an integer class-index target of shape "
                f"{want} (or a float probability target of shape {shape}), got "
                f"{target.dtype.name} {tuple(target.shape)}"
            )
    if weight is not None and tuple(weight.shape) != (n_cls,):
        raise ValueError(
            f"[cross_entropy] weight must have shape ({n_cls},) for {n_cls} classes, "
            f"got {tuple(weight.shape)}"
        )
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"[cross_entropy] label_smoothing must be in [0, 1], got {eps}")


def _check_class_range(op: str, target: Tensor, n_cls: int, ignore_index: int) -> None:
    bad = ((target < 0) | (target >= n_cls)) & (target != ignore_index)
    if target.numel() and bool(bad.any()):
        value = int(target[bad].reshape(-1)[0])
        raise IndexError(f"[{op}] target {value} is out of bounds for {n_cls} classes")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` (N, C), (C,) or (N, C, d1, ...) and class indices
    (N,), (), (N, d1, ...) or class probabilities (input's shape)."""
    from ._losses import _reduction

    reduction = _reduction(reduction, size_average, reduce)
    _ce_check(input, target, weight, label_smoothing)  # the kernel checks class ranges
    return _CrossEntropy.apply(input, target, weight, reduction, ignore_index,
                               float(label_smoothing))
