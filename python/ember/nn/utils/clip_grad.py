"""Gradient clipping (PyTorch's torch.nn.utils.clip_grad_norm_ / clip_grad_value_) and an L1
penalty helper."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...ops.elementwise import abs as _abs
from ...ops.indexing import stack
from ...ops.reduce import norm as _norm
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "l1_penalty"]

_Params = Tensor | Iterable[Tensor]


def _grads(parameters: _Params) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scales all gradients in place so that their joint ``norm_type`` norm (the norm of the
    per-gradient norms; ``inf`` for the largest magnitude) is at most ``max_norm``; returns
    the norm before clipping. As PyTorch, the scale is ``max_norm / (norm + 1e-6)`` clamped
    to 1, so gradients already under the limit are multiplied by 1."""
    from ...creation import tensor

    grads = _grads(parameters)
    if not grads:
        return tensor(0.0)
    norm_type = float(norm_type)
    dtype = grads[0].dtype
    norms = [_norm(g.detach(), norm_type).to(dtype=dtype) for g in grads]
    total = _norm(stack(norms), norm_type)
    t = float(total)
    if error_if_nonfinite and (t != t or t in (float("inf"), float("-inf"))):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.to(dtype=g.dtype))
    return total


def clip_grad_value_(parameters: _Params, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamps every gradient in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)


def l1_penalty(parameters: _Params) -> Any:
    """Sum of ``|p|`` over all parameters, built from differentiable ember ops, so adding
    ``lam * l1_penalty(model.parameters())`` to a loss gives the L1 (lasso) gradient
    ``lam * sign(p)``. PyTorch has no such helper: it is ember's. Returns 0.0 for no
    parameters."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total: Any = 0.0
    for p in params:
        total = total + _abs(p).sum()
    return total
