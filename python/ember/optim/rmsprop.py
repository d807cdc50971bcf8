"""RMSprop (PyTorch's torch.optim.RMSprop), one fused kernel call per group and dtype."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import _C
from ..creation import zeros_like
from .optimizer import Optimizer, check_impl_flags, grad_of, grouped_by_dtype

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Divides the gradient by a running root mean square (``alpha`` the smoothing
    constant); ``centered`` subtracts the squared running mean of the gradient first,
    ``momentum`` > 0 keeps a buffer of the scaled steps."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        check_impl_flags("RMSprop", differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        centered, momentum = bool(group["centered"]), float(group["momentum"])
        for params in grouped_by_dtype(group["params"]).values():
            states = []
            for p in params:
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["square_avg"] = zeros_like(p)
                if momentum > 0 and "momentum_buffer" not in st:
                    st["momentum_buffer"] = zeros_like(p)
                if centered and "grad_avg" not in st:
                    st["grad_avg"] = zeros_like(p)
                st["step"] += 1
                states.append(st)
            _C.rmsprop_step(params, [grad_of(p) for p in params],
                            [s["square_avg"] for s in states],
                            [s["grad_avg"] for s in states] if centered else None,
                            [s["momentum_buffer"] for s in states] if momentum > 0 else None,
                            float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                            float(group["weight_decay"]), momentum, centered,
                            bool(group["maximize"]))
