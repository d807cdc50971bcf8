"""Parameter: a Tensor that a Module registers as learnable state (PyTorch's nn.Parameter).

A Parameter shares storage with the tensor it was made from, is a leaf, and requires grad
unless told otherwise. It has a ``__dict__`` (unlike Tensor's slots) so users may tag it with
attributes, as they do in PyTorch."""

from __future__ import annotations

import copy
from typing import Any

from ..creation import empty
from ..tensor import Tensor, _fresh

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True)``: ``data`` defaults to an empty tensor."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a Tensor, got {type(data).__name__}")
        p = _fresh(data._c, cls)
        p._rg = True if requires_grad else None
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # everything happens in __new__; Tensor.__init__ refuses direct construction

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        p = type(self)(self.detach().clone(), self.requires_grad)
        p.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (self.detach(), self.requires_grad))


class Buffer:
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (PyTorch's nn.Buffer): ``self.running_mean = Buffer(ember.zeros(3))``."""

    def __init__(self, data: Tensor, *, persistent: bool = True) -> None:
        self.data = data
        self.persistent = persistent
