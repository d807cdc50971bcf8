"""The Optimizer base class: parameter groups, per-parameter state, state_dict, zero_grad.

Subclasses implement ``_step_group(group)``, which gathers the group's parameters that have a
gradient into lists (one set per dtype) and makes ONE fused ``_C.*_step`` call per list set:
no per-parameter tensor arithmetic happens in Python. The API and the state_dict layout are
PyTorch's, so checkpoints and training scripts carry over.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyperparameter with no default (e.g. a group that must give its own lr)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required: Any = _RequiredParameter()

# Keywords PyTorch's optimizers accept that select an implementation: ours is always the
# fused multi-tensor kernel, so they are stored (state_dict compatibility) and otherwise unused.
IMPL_FLAGS = ("foreach", "fused", "capturable")


def check_impl_flags(name: str, differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError(f"[{name}] differentiable=True is not supported: the step is "
                                  "a fused in-place kernel outside autograd")


def grouped_by_dtype(params: Iterable[Tensor]) -> dict[Any, list[Tensor]]:
    """The parameters with a gradient, by dtype (one fused call each)."""
    out: dict[Any, list[Tensor]] = {}
    for p in params:
        if p.grad is not None:
            out.setdefault(p.dtype, []).append(p)
    return out


def grad_of(p: Tensor) -> Tensor:
    g = p.grad
    return g if g.is_contiguous() else g.contiguous()


class Optimizer:
    """Base class: ``params`` is an iterable of tensors or of dicts (parameter groups, each
    with ``"params"`` and any hyperparameters overriding ``defaults``)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a group (a dict with "params"); missing hyperparameters take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not getattr(p, "is_leaf", True):
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        param_group["params"] = params
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drops every gradient (``set_to_none``) or fills it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter with a gradient. ``closure`` (re-evaluating the
        model and returning the loss) runs first, with gradients enabled; its loss is
        returned."""
        loss = None
        if closure is not None:
            from .. import autograd

            with autograd.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---- checkpoints: PyTorch's layout, parameters replaced by their index ------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``; the
        state tensors are the live ones (as PyTorch's), copy them to keep a snapshot."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state_dict() of an optimizer over parameters of the same group sizes; the
        state tensors are copied (cast to each parameter's dtype), never aliased."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)} vs {len(self.param_groups)})")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group ({i}) that "
                                 f"doesn't match the size of optimizer's group "
                                 f"({len(s['params'])} vs {len(g['params'])} parameters)")
        params = {k: p for k, p in zip(chain.from_iterable(s["params"] for s in saved_groups),
                                       chain.from_iterable(g["params"]
                                                           for g in self.param_groups),
                                       strict=True)}
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            p = params.get(k)
            state[p if p is not None else k] = {
                name: self._load_value(p, name, value) for name, value in v.items()}
        for g, s in zip(self.param_groups, saved_groups, strict=True):
            s["params"] = g["params"]
        self.state = state
        self.param_groups = saved_groups

    @staticmethod
    def _load_value(p: Tensor | None, name: str, value: Any) -> Any:
        if name == "step":  # ours is an int; a PyTorch checkpoint holds a 0-d tensor
            return int(float(value)) if value is not None else None
        if isinstance(value, Tensor):
            if p is not None and value.is_floating_point():
                value = value.to(dtype=p.dtype, device=p.device)
            return value.clone()
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"
