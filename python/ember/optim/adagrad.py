"""Adagrad (PyTorch's torch.optim.Adagrad), one fused kernel call per group, dtype and step
count."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import _C
from ..creation import full_like
from .optimizer import Optimizer, check_impl_flags, grad_of, grouped_by_dtype

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Scales each coordinate by the root of its summed squared gradients; the rate decays
    as ``lr / (1 + (step - 1) * lr_decay)``. State is created at construction, as PyTorch's."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_impl_flags("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        st = self.state[p]
        if not st:
            st["step"] = 0
            st["sum"] = full_like(p, float(group["initial_accumulator_value"]))
        return st

    def _step_group(self, group: dict[str, Any]) -> None:
        for params in grouped_by_dtype(group["params"]).values():
            by_step: dict[int, list[Any]] = {}
            for p in params:
                st = self._init_state(p, group)
                st["step"] += 1
                by_step.setdefault(st["step"], []).append(p)
            for step, ps in by_step.items():
                _C.adagrad_step(ps, [grad_of(p) for p in ps], [self.state[p]["sum"] for p in ps],
                                step, float(group["lr"]), float(group["lr_decay"]),
                                float(group["weight_decay"]), float(group["eps"]),
                                bool(group["maximize"]))
