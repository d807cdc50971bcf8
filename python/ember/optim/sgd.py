"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay
(PyTorch's torch.optim.SGD), one fused kernel call per group and dtype."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import _C
from ..creation import empty_like
from .optimizer import Optimizer, check_impl_flags, grad_of, grouped_by_dtype

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p -= lr * g`` with optional weight decay (``g += wd * p``) and momentum (``buf =
    momentum * buf + (1 - dampening) * g``; the first step takes ``buf = g``)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_impl_flags("SGD", differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        momentum = float(group["momentum"])
        hyper = (float(group["lr"]), momentum, float(group["dampening"]),
                 bool(group["nesterov"]), float(group["weight_decay"]),
                 bool(group["maximize"]))
        for params in grouped_by_dtype(group["params"]).values():
            if momentum == 0:
                _C.sgd_step(params, [grad_of(p) for p in params], None, *hyper, False)
                continue
            # Parameters with a buffer and new ones (buffer := grad) take separate calls.
            old = [p for p in params if self.state[p].get("momentum_buffer") is not None]
            new = [p for p in params if self.state[p].get("momentum_buffer") is None]
            for p in new:
                self.state[p]["momentum_buffer"] = empty_like(p)
            for ps, first in ((old, False), (new, True)):
                if ps:
                    bufs = [self.state[p]["momentum_buffer"] for p in ps]
                    _C.sgd_step(ps, [grad_of(p) for p in ps], bufs, *hyper, first)
