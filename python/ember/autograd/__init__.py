"""Reverse-mode automatic differentiation, in Python over the C++ kernels.

``Function`` is the base of every differentiable op; ``backward``/``grad`` run the graph;
``no_grad``/``enable_grad``/``set_grad_enabled`` switch recording; ``gradcheck`` and
``gradgradcheck`` compare analytic gradients with finite differences."""

from __future__ import annotations

from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck

__all__ = [
    "Function", "FunctionCtx", "once_differentiable", "backward", "grad", "no_grad",
    "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "gradcheck",
    "gradgradcheck",
]
