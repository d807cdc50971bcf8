"""Loss functions of ember.nn.functional (cross_entropy lives in _softmax.py).

All follow PyTorch: ``reduction`` is 'none' | 'mean' | 'sum' (the legacy ``size_average`` /
``reduce`` flags still map onto it), weights broadcast over the batch, and every loss is built
from differentiable ember ops, so gradients (and second derivatives) come from autograd."""

from __future__ import annotations

import warnings
from typing import Any

from ..ops import elementwise as E
from ..tensor import Tensor
from ._softmax import _check_class_range, cross_entropy

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "margin_ranking_loss", "cosine_embedding_loss", "soft_margin_loss",
    "hinge_embedding_loss",
]


def _reduction(reduction: str, size_average: Any = None, reduce: Any = None) -> str:
    """The reduction string, honouring PyTorch's deprecated size_average / reduce flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _pointwise_check(op: str, input: Tensor, target: Tensor) -> None:
    """Warns on a size mismatch that broadcasting would hide, as PyTorch; errors if the shapes
    do not broadcast at all."""
    a, b = tuple(input.shape), tuple(target.shape)
    if a == b:
        return
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    if any(x != y and 1 not in (x, y) for x, y in zip(pa, pb, strict=True)):
        raise ValueError(f"[{op}] input {a} and target {b} shapes cannot be broadcast together")
    warnings.warn(
        f"[{op}] Using a target size ({b}) that is different to the input size ({a}). This "
        "will likely lead to incorrect results due to broadcasting. Please ensure they have "
        "the same size.", stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2, optionally weighted."""
    reduction = _reduction(reduction, size_average, reduce)
    _pointwise_check("mse_loss", input, target)
    loss = E.square(input - target)
    return _reduce(loss if weight is None else loss * weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target|, optionally weighted."""
    reduction = _reduction(reduction, size_average, reduce)
    _pointwise_check("l1_loss", input, target)
    loss = E.abs(input - target)
    return _reduce(loss if weight is None else loss * weight, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is l1_loss)."""
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"[smooth_l1_loss] beta must be >= 0, got {beta}")
    _pointwise_check("smooth_l1_loss", input, target)
    d = E.abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(E.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    reduction = _reduction(reduction)
    if delta <= 0:
        raise ValueError(f"[huber_loss] delta must be > 0, got {delta}")
    _pointwise_check("huber_loss", input, target)
    d = E.abs(input - target)
    loss = E.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """-weight[t] * input[i, t] for log-probabilities input (N, C), (C,) or (N, C, d1, ...)
    and class indices t; 'mean' divides by the total weight of the non-ignored targets."""
    reduction = _reduction(reduction, size_average, reduce)
    if input.ndim == 0:
        raise ValueError("[nll_loss] input needs a class dim, got a 0-d tensor")
    cdim = 1 if input.ndim >= 2 else 0
    shape = tuple(input.shape)
    want = shape[:1] + shape[2:] if input.ndim >= 2 else ()
    if target.dtype.is_floating_point or tuple(target.shape) != want:
        raise ValueError(
            f"[nll_loss] input {shape} needs an integer class-index target of shape {want}, "
            f"got {target.dtype.name} {tuple(target.shape)}"
        )
    n_cls = shape[cdim]
    if weight is not None and tuple(weight.shape) != (n_cls,):
        raise ValueError(f"[nll_loss] weight must have shape ({n_cls},), got {tuple(weight.shape)}")
    _check_class_range("nll_loss", target, n_cls, ignore_index)
    keep = target != ignore_index
    safe = E.where(keep, target, 0)
    picked = input.gather(cdim, safe.unsqueeze(cdim)).squeeze(cdim)
    w = keep.to(input.dtype)
    if weight is not None:
        w = w * weight.to(input.dtype).index_select(0, safe.reshape(-1)).reshape(safe.shape)
    loss = -picked * w
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-(t log x + (1 - t) log(1 - x)) with each log clamped to >= -100 (as PyTorch), for
    probabilities x in [0, 1]."""
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"[binary_cross_entropy] Using a target size ({tuple(target.shape)}) that is "
            f"different to the input size ({tuple(input.shape)}) is deprecated. Please ensure "
            "they have the same size."
        )
    if input.numel() and bool(((input < 0) | (input > 1)).any()):
        raise ValueError("[binary_cross_entropy] all elements of input should be between 0 and 1")
    log_x = E.clamp(E.log(input), -100.0)
    log_1mx = E.clamp(E.log(1 - input), -100.0)
    loss = -(target * log_x + (1 - target) * log_1mx)
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE of sigmoid(input), computed as (1 - t) x + (1 + (pw - 1) t) softplus(-x), which
    never overflows (finite at logits of +-1000)."""
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"[binary_cross_entropy_with_logits] Target size ({tuple(target.shape)}) must be "
            f"the same as input size ({tuple(input.shape)})"
        )
    sp = E.softplus(-input, 1.0, 20.0)
    if pos_weight is None:
        loss = (1 - target) * input + sp
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    return _reduce(loss if weight is None else loss * weight, reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target * (log target - input) for log-probabilities ``input``; 'batchmean' divides
    the sum by the batch size (the mathematically correct KL), 'mean' by every element."""
    if reduction == "batchmean":
        red = "batchmean"
    else:
        red = _reduction(reduction, size_average, reduce)
        if red == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the "
                "support size. 'batchmean' divides only by the batch size, and aligns with "
                "the KL div math definition.", stacklevel=2)
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        pos = target > 0
        # where() keeps log's argument positive so t = 0 contributes 0 (and no NaN gradient).
        loss = target * E.log(E.where(pos, target, 1.0)) - target * input
    if red == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, red)


def _same_ndim(op: str, *ts: Tensor) -> None:
    if len({t.ndim for t in ts}) != 1:
        shapes = ", ".join(str(tuple(t.shape)) for t in ts)
        raise ValueError(f"[{op}] all input tensors should have the same dimension, got {shapes}")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin), target in {1, -1}."""
    reduction = _reduction(reduction, size_average, reduce)
    _same_ndim("margin_ranking_loss", input1, input2, target)
    return _reduce(E.relu(-target * (input1 - input2) + margin), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1; cos is
    over the last dim of (N, D) or (D,) inputs, with PyTorch's eps of 1e-12 on the norms."""
    reduction = _reduction(reduction, size_average, reduce)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape) or \
            tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ValueError(
            f"[cosine_embedding_loss] expects inputs (N, D) or (D,) of one shape and a target "
            f"(N,) or (); got {tuple(input1.shape)}, {tuple(input2.shape)}, "
            f"{tuple(target.shape)}"
        )
    eps = 1e-12
    dot = (input1 * input2).sum(-1)
    mag = E.sqrt(((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps))
    cos = dot / mag
    loss = E.where(target == 1, 1 - cos, 0.0) + E.where(target == -1, E.relu(cos - margin), 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input))."""
    reduction = _reduction(reduction, size_average, reduce)
    _pointwise_check("soft_margin_loss", input, target)
    return _reduce(E.softplus(-target * input, 1.0, 20.0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where it is -1."""
    reduction = _reduction(reduction, size_average, reduce)
    loss = E.where(target == 1, input, 0.0) + E.where(target == -1, E.relu(margin - input), 0.0)
    return _reduce(loss, reduction)

