"""Adam and AdamW (PyTorch's torch.optim.Adam / AdamW), one fused kernel call per group,
dtype and step count."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import _C
from ..creation import zeros_like
from .optimizer import Optimizer, check_impl_flags, grad_of, grouped_by_dtype

__all__ = ["Adam", "AdamW"]


def check_adam_args(lr: float, betas: tuple[float, float], eps: float,
                    weight_decay: float) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i in range(2):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; ``weight_decay`` adds ``wd * p`` to the
    gradient (L2), or with ``decoupled_weight_decay=True`` scales ``p`` by ``1 - lr * wd``
    as AdamW does. ``amsgrad`` keeps the running maximum of the second moment."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        check_impl_flags(type(self).__name__, differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        amsgrad = bool(group["amsgrad"])
        beta1, beta2 = (float(b) for b in group["betas"])
        hyper = (float(group["lr"]), beta1, beta2, float(group["eps"]),
                 float(group["weight_decay"]), amsgrad, bool(group["decoupled_weight_decay"]),
                 bool(group["maximize"]))
        for params in grouped_by_dtype(group["params"]).values():
            by_step: dict[int, list[Any]] = {}
            for p in params:
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = zeros_like(p)
                    st["exp_avg_sq"] = zeros_like(p)
                if amsgrad and "max_exp_avg_sq" not in st:
                    st["max_exp_avg_sq"] = zeros_like(p)
                st["step"] += 1
                by_step.setdefault(st["step"], []).append(p)
            for step, ps in by_step.items():
                states = [self.state[p] for p in ps]
                _C.adam_step(ps, [grad_of(p) for p in ps], [s["exp_avg"] for s in states],
                             [s["exp_avg_sq"] for s in states],
                             [s["max_exp_avg_sq"] for s in states] if amsgrad else None,
                             step, *hyper)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * wd``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
