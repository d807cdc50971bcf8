"""Backward formulas of the elementwise ops, written with ember ops (so they differentiate
again). ``ember.ops.elementwise`` routes a call here when grad mode is on and an input
requires grad; otherwise it calls ``_C`` directly."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import _C
from ..tensor import Tensor
from .function import Function

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)


def sum_to(g: Tensor, like: Any) -> Any:
    """`g` summed over the dims that broadcasting added to `like`, in `like`'s dtype; None
    when `like` is not a tensor (a Python scalar operand gets no gradient)."""
    if not isinstance(like, Tensor):
        return None
    c, gc = like._c, g._c
    if c.shape == gc.shape and c.dtype_code == gc.dtype_code:
        return g
    return _sum_to_meta(g, _meta(like))


def _where(cond: Tensor, a: Any, b: Any) -> Tensor:
    from ..ops.elementwise import where  # a cycle: ops.elementwise imports this module

    return where(cond, a, b)


def _zero_grad(g: Tensor, x: Tensor, y: Tensor, *extra: Any) -> Tensor:
    from ..creation import zeros_like

    return zeros_like(x)


def _make_unary(name: str, cfn: Callable[..., Any], deriv: Callable[..., Any]) -> type[Function]:
    """A Function for y = cfn(x, *extra) whose gradient is deriv(g, x, y, *extra)."""

    def forward(ctx: Any, x: Tensor, *extra: Any) -> Tensor:
        y = cfn(x, *extra)
        ctx.save_for_backward(x, y)
        ctx.extra = extra
        return y

    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        return (sum_to(deriv(g, x, y, *ctx.extra), x), *([None] * len(ctx.extra)))

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


def _gelu(g: Tensor, x: Tensor, y: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        t = inner.tanh()
        d_inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner)
    cdf = 0.5 * (1.0 + (x * _INV_SQRT_2).erf())
    pdf = _INV_SQRT_2PI * (-0.5 * x * x).exp()
    return g * (cdf + x * pdf)


def _silu(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    s = x.sigmoid()
    return g * (s * (1.0 + x * (1.0 - s)))


def _elu(g: Tensor, x: Tensor, y: Tensor, alpha: float, scale: float) -> Tensor:
    return _where(x > 0, g * scale, g * (scale * alpha) * x.exp())


def _softplus(g: Tensor, x: Tensor, y: Tensor, beta: float, threshold: float) -> Tensor:
    return _where(x * beta > threshold, g, g * (x * beta).sigmoid())


_U: dict[str, Callable[..., Any]] = {
    "neg": lambda g, x, y: -g,
    "abs": lambda g, x, y: g * x.sign(),
    "sign": _zero_grad, "floor": _zero_grad, "ceil": _zero_grad, "trunc": _zero_grad,
    "round": _zero_grad,
    "square": lambda g, x, y: g * (2.0 * x),
    "relu": lambda g, x, y: _where(x > 0, g, 0.0),
    "exp": lambda g, x, y: g * y,
    "expm1": lambda g, x, y: g * (y + 1.0),
    "log": lambda g, x, y: g / x,
    "log1p": lambda g, x, y: g / (x + 1.0),
    "log2": lambda g, x, y: g / (x * math.log(2.0)),
    "sqrt": lambda g, x, y: g / (2.0 * y),
    "rsqrt": lambda g, x, y: g * (-0.5 * y * y * y),
    "reciprocal": lambda g, x, y: -g * y * y,
    "sin": lambda g, x, y: g * x.cos(),
    "cos": lambda g, x, y: -g * x.sin(),
    "tanh": lambda g, x, y: g * (1.0 - y * y),
    "sigmoid": lambda g, x, y: g * (y * (1.0 - y)),
    "erf": lambda g, x, y: g * ((2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()),
    "silu": _silu,
    "gelu": _gelu,
    "leaky_relu": lambda g, x, y, slope: _where(x > 0, g, g * slope),
    "elu": _elu,
    "softplus": _softplus,
    "nan_to_num": lambda g, x, y, *a: _where(x.isfinite(), g, 0.0),
}

UNARY: dict[str, type[Function]] = {
    name: _make_unary(name.capitalize(), getattr(_C, name), d) for name, d in _U.items()
}


class Add(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, alpha: Any = 1) -> Tensor:
        ctx.a, ctx.b, ctx.alpha = _meta(a), _meta(b), alpha
        return _C.add(a, b, alpha)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        ga = _sum_to_meta(g, ctx.a) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = _sum_to_meta(g if ctx.alpha == 1 else g * ctx.alpha, ctx.b)
        return ga, gb, None


class Sub(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, alpha: Any = 1) -> Tensor:
        ctx.a, ctx.b, ctx.alpha = _meta(a), _meta(b), alpha
        return _C.sub(a, b, alpha)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        ga = _sum_to_meta(g, ctx.a) if ctx.needs_input_grad[0] else None
        gb = _sum_to_meta(g * -ctx.alpha, ctx.b) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _meta(x: Any) -> Any:
    """Shape and dtype of an operand, kept instead of the tensor when only those are needed."""
    return x if not isinstance(x, Tensor) else _ShapeDtype(x)


class _ShapeDtype:
    __slots__ = ("shape", "code", "dtype")

    def __init__(self, x: Tensor) -> None:
        self.shape = x._c.shape
        self.code = x._c.dtype_code
        self.dtype = x.dtype


def _sum_to_meta(g: Tensor, m: Any) -> Any:
    if not isinstance(m, _ShapeDtype):
        return None
    shape = m.shape
    gs = g._c.shape
    if gs != shape:
        lead = len(gs) - len(shape)
        dims = list(range(lead)) + [
            i + lead for i, s in enumerate(shape) if s == 1 and gs[i + lead] != 1
        ]
        if lead < 0:  # a 0-d gradient for a one-element operand
            g = g.reshape(shape)
        else:
            if dims:
                g = g.sum(dim=dims, keepdim=True)
            if lead:
                g = g.reshape(shape)
    if g._c.dtype_code != m.code:
        g = g.to(m.dtype)
    return g


class Mul(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in (a, b)))
        ctx.scalars = (a if not isinstance(a, Tensor) else None,
                       b if not isinstance(b, Tensor) else None)
        return _C.mul(a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = sum_to(g * (b if b is not None else sb), a) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * (a if a is not None else sa), b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in (a, b)))
        ctx.scalars = (a if not isinstance(a, Tensor) else None,
                       b if not isinstance(b, Tensor) else None)
        return _C.div(a, b, None)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        bb = b if b is not None else sb
        ga = sum_to(g / bb, a) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            aa = a if a is not None else sa
            gb = sum_to(-g * aa / (b * b), b)
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Tensor:
        y = _C.pow(a, b)
        ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in (a, b, y)))
        ctx.scalars = (a if not isinstance(a, Tensor) else None,
                       b if not isinstance(b, Tensor) else None)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b, y = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b is None:
                ga = g * (sb * a ** (sb - 1)) if sb != 0 else g * 0.0
            else:
                ga = g * (b * a ** (b - 1.0))
            ga = sum_to(ga, a)
        if ctx.needs_input_grad[1]:
            if a is None:
                gb = g * y * math.log(sa) if sa > 0 else g * 0.0
            else:
                gb = _where((a == 0) & (b >= 0), 0.0, g * y * a.log())
            gb = sum_to(gb, b)
        return ga, gb


class _MaxMin(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, is_max: bool) -> Tensor:
        ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in (a, b)))
        ctx.scalars = (a, b)
        ctx.is_max = is_max
        return _C.maximum(a, b) if is_max else _C.minimum(a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b = ctx.saved_tensors
        aa = a if a is not None else ctx.scalars[0]
        bb = b if b is not None else ctx.scalars[1]
        wins = (aa > bb) if ctx.is_max else (aa < bb)
        tie = aa == bb
        half = g * 0.5
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(_where(wins, g, _where(tie, half, 0.0)), a)
        if ctx.needs_input_grad[1]:
            gb = sum_to(_where(wins, 0.0, _where(tie, half, g)), b)
        return ga, gb, None


class Remainder(Function):
    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in (a, b)))
        ctx.scalars = (a, b)
        return _C.remainder(a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        a, b = ctx.saved_tensors
        ga = sum_to(g, a) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            aa = a if a is not None else ctx.scalars[0]
            gb = sum_to(-g * _C.div(aa, b, "floor"), b)
        return ga, gb


class Clamp(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, lo: Any, hi: Any) -> Tensor:
        ctx.save_for_backward(x, *(t if isinstance(t, Tensor) else None for t in (lo, hi)))
        ctx.bounds = (lo, hi)
        return _C.clamp(x, lo, hi)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, lo_t, hi_t = ctx.saved_tensors
        lo = lo_t if lo_t is not None else ctx.bounds[0]
        hi = hi_t if hi_t is not None else ctx.bounds[1]
        inside = None
        below = above = None
        if lo is not None:
            below = x < lo
            inside = ~below
        if hi is not None:
            above = x > hi
            inside = ~above if inside is None else inside & ~above
            if below is not None:
                below = below & ~above  # where lo > hi the result is hi: the gradient too
        gx = sum_to(_where(inside, g, 0.0), x) if inside is not None else g
        glo = sum_to(_where(below, g, 0.0), lo_t) if ctx.needs_input_grad[1] else None
        ghi = sum_to(_where(above, g, 0.0), hi_t) if ctx.needs_input_grad[2] else None
        return gx if ctx.needs_input_grad[0] else None, glo, ghi


class Where(Function):
    @staticmethod
    def forward(ctx: Any, cond: Tensor, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(cond)
        ctx.a, ctx.b = _meta(a), _meta(b)
        return _C.where(cond, a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (cond,) = ctx.saved_tensors
        ga = _sum_to_meta(_where(cond, g, 0.0), ctx.a) if ctx.needs_input_grad[1] else None
        gb = _sum_to_meta(_where(cond, 0.0, g), ctx.b) if ctx.needs_input_grad[2] else None
        return None, ga, gb
