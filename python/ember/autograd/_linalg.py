"""Backward formulas of the matrix products, written with the products themselves (so they
differentiate again). Gradients of broadcast batch dims are summed back to each operand's
shape; a weight shared across a batch, ``(B, T, K) @ (K, N)``, gets one folded GEMM."""

from __future__ import annotations

from typing import Any

from .. import _C
from ..tensor import Tensor
from ._elementwise import sum_to
from .function import Function
from .grad_mode import _state


def _mT(t: Tensor) -> Tensor:  # noqa: N802
    return t.transpose(-2, -1)


class Matmul(Function):
    """matmul / mm / bmm / mv / dot (NumPy's matmul semantics; `op` names the _C entry so
    each keeps its own shape checks and messages)."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, op: str = "matmul") -> Tensor:
        ctx.save_for_backward(a, b)
        return getattr(_C, op)(a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b = ctx.saved_tensors
        a1, b1 = a.ndim == 1, b.ndim == 1
        A = a.unsqueeze(0) if a1 else a
        B = b.unsqueeze(-1) if b1 else b
        if a1 and b1:
            G = g.reshape(1, 1)
        elif a1:
            G = g.unsqueeze(-2)
        elif b1:
            G = g.unsqueeze(-1)
        else:
            G = g
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(G.matmul(_mT(B)), A)
            ga = ga.reshape(a.shape) if a1 else ga
        if ctx.needs_input_grad[1]:
            if B.ndim == 2 and A.ndim > 2:  # one GEMM over the folded batch
                k, m = A.shape[-1], G.shape[-1]
                gb = A.reshape(-1, k).t().matmul(G.reshape(-1, m))
                gb = sum_to(gb, B)
            else:
                gb = sum_to(_mT(A).matmul(G), B)
            gb = gb.reshape(b.shape) if b1 else gb
        return ga, gb, None


class Outer(Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        return _C.outer(a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b = ctx.saved_tensors
        ga = sum_to(g.matmul(b), a) if ctx.needs_input_grad[0] else None
        gb = sum_to(a.matmul(g), b) if ctx.needs_input_grad[1] else None
        return ga, gb


class AddMM(Function):
    """addmm / baddbmm: beta * input + alpha * (m1 @ m2)."""

    @staticmethod
    def forward(ctx: Any, inp: Tensor, m1: Tensor, m2: Tensor, beta: Any, alpha: Any,
                op: str) -> Tensor:
        ctx.save_for_backward(inp if isinstance(inp, Tensor) else None, m1, m2)
        ctx.beta, ctx.alpha = beta, alpha
        return getattr(_C, op)(inp, m1, m2, beta, alpha)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        inp, m1, m2 = ctx.saved_tensors
        gi = g1 = g2 = None
        if ctx.needs_input_grad[0]:
            gi = sum_to(g * ctx.beta if ctx.beta != 1 else g, inp)
        ga = g * ctx.alpha if ctx.alpha != 1 else g
        if ctx.needs_input_grad[1]:
            g1 = sum_to(ga.matmul(_mT(m2)), m1)
        if ctx.needs_input_grad[2]:
            g2 = sum_to(_mT(m1).matmul(ga), m2)
        return gi, g1, g2, None, None, None


class Linear(Function):
    """input @ weight.T + bias, with the bias fused into the forward GEMM."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, w)
        return _C.linear(x, w, bias)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, w = ctx.saved_tensors
        if not _state.enabled and x._c.ndim == 2 and g._c.dtype_code == x._c.dtype_code:
            # the usual first-order backward of a 2-D batch: three kernels, no Python ops
            need = ctx.needs_input_grad
            return (_C.mm(g, w) if need[0] else None,
                    _C.mm(g._c.transpose(0, 1), x) if need[1] else None,
                    _C.sum(g, [0], False, -1) if need[2] else None)
        out_f, in_f = w.shape
        g2 = g.reshape(-1, out_f)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = sum_to(g2.matmul(w).reshape(x.shape), x)
        if ctx.needs_input_grad[1]:
            gw = sum_to(g2.t().matmul(x.reshape(-1, in_f)), w)
        if ctx.needs_input_grad[2]:
            gb = g2.sum(0)
        return gx, gw, gb
