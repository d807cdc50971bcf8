"""Elementwise ops: arithmetic, math, activations, comparisons, logical ops, where.

Every function takes tensors or Python scalars, broadcasts like NumPy and promotes like
PyTorch (the promotion table is in csrc/python/bind_elementwise.cpp). Each calls one `_C` op;
in-place variants (`add_`...) are Tensor methods. Tensor operators beyond the arithmetic ones
in tensor.py are attached at the bottom of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C
from ..autograd import _elementwise as _ag
from ..autograd.function import rebase_inplace
from ..autograd.grad_mode import _state
from ..tensor import Tensor

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "pow", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "neg", "negative", "abs", "sign", "square", "relu", "floor", "ceil", "trunc", "round",
    "exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt", "reciprocal", "sin", "cos",
    "tanh", "sigmoid", "erf", "silu", "gelu", "leaky_relu", "elu", "selu", "softplus",
    "clamp", "clip", "where", "isnan", "isinf", "isfinite", "nan_to_num",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _rg(x: Any) -> Any:
    return isinstance(x, Tensor) and x._rg


_BINARY_GRAD: dict[str, Callable[..., Any]] = {
    "mul": _ag.Mul.apply, "pow": _ag.Pow.apply, "remainder": _ag.Remainder.apply,
    "maximum": lambda a, b: _ag._MaxMin.apply(a, b, True),
    "minimum": lambda a, b: _ag._MaxMin.apply(a, b, False),
}


def _binary(name: str) -> Callable[[Any, Any], Tensor]:
    fn = getattr(_C, name)
    grad_fn = _BINARY_GRAD.get(name)
    if grad_fn is None:  # comparisons, logical and bitwise ops, floor_divide: not differentiable

        def op(input: Any, other: Any) -> Tensor:
            return fn(input, other)

    else:

        def op(input: Any, other: Any) -> Tensor:
            if (_rg(input) or _rg(other)) and _state.enabled:
                return grad_fn(input, other)
            return fn(input, other)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}(input, other) with broadcasting and PyTorch promotion."
    return op


def _unary(name: str) -> Callable[[Any], Tensor]:
    fn = getattr(_C, name)
    grad_fn = _ag.UNARY[name].apply if name in _ag.UNARY else None
    if grad_fn is None:

        def op(input: Any) -> Tensor:
            return fn(input)

    else:

        def op(input: Any) -> Tensor:
            if _rg(input) and _state.enabled:
                return grad_fn(input)
            return fn(input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}(input); integer input gives float32 for float functions."
    return op


mul = multiply = _binary("mul")
floor_divide = _binary("floor_divide")
remainder = _binary("remainder")
pow = _binary("pow")  # noqa: A001
maximum = _binary("maximum")
minimum = _binary("minimum")
eq, ne, lt, le, gt, ge = (_binary(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
logical_and = _binary("logical_and")
logical_or = _binary("logical_or")
logical_xor = _binary("logical_xor")
bitwise_and = _binary("bitwise_and")
bitwise_or = _binary("bitwise_or")
bitwise_xor = _binary("bitwise_xor")

neg = negative = _unary("neg")
abs = _unary("abs")  # noqa: A001
sign, square, relu = _unary("sign"), _unary("square"), _unary("relu")
floor, ceil, trunc = _unary("floor"), _unary("ceil"), _unary("trunc")
exp, expm1, log, log1p, log2 = (_unary(n) for n in ("exp", "expm1", "log", "log1p", "log2"))
sqrt, rsqrt, reciprocal = _unary("sqrt"), _unary("rsqrt"), _unary("reciprocal")
sin, cos, tanh, sigmoid, erf = (_unary(n) for n in ("sin", "cos", "tanh", "sigmoid", "erf"))
silu = _unary("silu")
logical_not, bitwise_not = _unary("logical_not"), _unary("bitwise_not")
isnan, isinf, isfinite = _unary("isnan"), _unary("isinf"), _unary("isfinite")


def add(input: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """input + alpha * other."""
    if (_rg(input) or _rg(other)) and _state.enabled:
        return _ag.Add.apply(input, other, alpha)
    return _C.add(input, other, alpha)


def sub(input: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """input - alpha * other."""
    if (_rg(input) or _rg(other)) and _state.enabled:
        return _ag.Sub.apply(input, other, alpha)
    return _C.sub(input, other, alpha)


subtract = sub


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """True division (integers give float32), or rounded: 'trunc' (toward 0), 'floor'."""
    if rounding_mode is None and (_rg(input) or _rg(other)) and _state.enabled:
        return _ag.Div.apply(input, other)
    return _C.div(input, other, rounding_mode)


divide = true_divide = div


def _un(name: str, input: Any, *extra: Any) -> Tensor:
    if _rg(input) and _state.enabled:
        return _ag.UNARY[name].apply(input, *extra)
    return getattr(_C, name)(input, *extra)


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Rounds half to even (as torch.round), at `decimals` decimal places."""
    return _un("round", input, decimals)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x); approximate='tanh' uses the tanh formula. Float input only."""
    return _un("gelu", input, approximate)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope * x. Float input only."""
    return _un("leaky_relu", input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1). Float input only."""
    return _un("elu", input, alpha, 1.0)


def selu(input: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants. Float input only."""
    return _un("elu", input, _SELU_ALPHA, _SELU_SCALE)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return _un("softplus", input, beta, threshold)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """min(max(input, min), max); bounds may be scalars or tensors; NaN propagates."""
    if (_rg(input) or _rg(min) or _rg(max)) and _state.enabled:
        return _ag.Clamp.apply(input, min, max)
    return _C.clamp(input, min, max)


clip = clamp


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """input where condition (a bool tensor) holds, else other; scalars allowed."""
    if (_rg(input) or _rg(other)) and _state.enabled:
        return _ag.Where.apply(condition, input, other)
    return _C.where(condition, input, other)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> nan, +-inf -> posinf/neginf (default: the dtype's largest finite values)."""
    return _un("nan_to_num", input, nan, posinf, neginf)


# ---- Tensor methods and operators -----------------------------------------------------------
def _inplace(name: str) -> Callable[..., Tensor]:
    fn = getattr(_C, name)
    out_of_place = name[:-1]

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if _state.enabled and (self._rg or any(_rg(a) for a in args)
                               or any(_rg(v) for v in kwargs.values())):
            # recorded as the out-of-place op whose result is written back into self
            return rebase_inplace(self, name, getattr(Tensor, out_of_place)(self, *args,
                                                                            **kwargs))
        fn(self, *args, **kwargs)
        return self

    method.__name__ = method.__qualname__ = name
    return method


def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return method


_METHODS: dict[str, Callable[..., Any]] = {
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "floor_divide": floor_divide, "remainder": remainder,
    "pow": pow, "maximum": maximum, "minimum": minimum, "eq": eq, "ne": ne, "lt": lt, "le": le,
    "gt": gt, "ge": ge, "logical_and": logical_and, "logical_or": logical_or,
    "logical_xor": logical_xor, "logical_not": logical_not, "bitwise_and": bitwise_and,
    "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
    "neg": neg, "negative": neg, "abs": abs, "sign": sign, "square": square, "relu": relu,
    "floor": floor, "ceil": ceil, "trunc": trunc, "round": round, "exp": exp, "expm1": expm1,
    "log": log, "log1p": log1p, "log2": log2, "sqrt": sqrt, "rsqrt": rsqrt,
    "reciprocal": reciprocal, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid,
    "erf": erf, "clamp": clamp, "clip": clamp, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "nan_to_num": nan_to_num,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

_INPLACE = {
    "add_": "add_", "sub_": "sub_", "mul_": "mul_", "div_": "div_", "floor_divide_":
    "floor_divide_", "remainder_": "remainder_", "pow_": "pow_", "eq_": "eq_", "ne_": "ne_",
    "lt_": "lt_", "le_": "le_", "gt_": "gt_", "ge_": "ge_", "logical_and_": "logical_and_",
    "logical_or_": "logical_or_", "logical_xor_": "logical_xor_", "logical_not_": "logical_not_",
    "bitwise_and_": "bitwise_and_", "bitwise_or_": "bitwise_or_", "bitwise_xor_": "bitwise_xor_",
    "bitwise_not_": "bitwise_not_", "neg_": "neg_", "negative_": "neg_", "abs_": "abs_",
    "sign_": "sign_", "square_": "square_", "relu_": "relu_", "floor_": "floor_",
    "ceil_": "ceil_", "trunc_": "trunc_", "round_": "round_", "exp_": "exp_",
    "expm1_": "expm1_", "log_": "log_", "log1p_": "log1p_", "log2_": "log2_",
    "sqrt_": "sqrt_", "rsqrt_": "rsqrt_", "reciprocal_": "reciprocal_", "sin_": "sin_",
    "cos_": "cos_", "tanh_": "tanh_", "sigmoid_": "sigmoid_", "erf_": "erf_",
    "clamp_": "clamp_", "clip_": "clamp_", "nan_to_num_": "nan_to_num_",
}
for _name, _cname in _INPLACE.items():
    setattr(Tensor, _name, _inplace(_cname))

def _op(name: str, c_op: Callable[[Any, Any], Any], grad: Callable[..., Any],
        reflected: bool = False) -> Callable[[Tensor, Any], Tensor]:
    """An arithmetic operator: straight into _C unless the graph is recorded."""
    if reflected:

        def method(self: Tensor, other: Any) -> Tensor:
            if (self._rg or _rg(other)) and _state.enabled:
                return grad(other, self)
            return c_op(other, self)

    else:

        def method(self: Tensor, other: Any) -> Tensor:
            if (self._rg or _rg(other)) and _state.enabled:
                return grad(self, other)
            return c_op(self, other)

    method.__name__ = method.__qualname__ = name
    return method


Tensor.__add__ = _op("__add__", _C.op_add, _ag.Add.apply)
Tensor.__radd__ = _op("__radd__", _C.op_add, _ag.Add.apply, reflected=True)
Tensor.__sub__ = _op("__sub__", _C.op_sub, _ag.Sub.apply)
Tensor.__rsub__ = _op("__rsub__", _C.op_sub, _ag.Sub.apply, reflected=True)
Tensor.__mul__ = _op("__mul__", _C.op_mul, _ag.Mul.apply)
Tensor.__rmul__ = _op("__rmul__", _C.op_mul, _ag.Mul.apply, reflected=True)
Tensor.__truediv__ = _op("__truediv__", _C.op_div, _ag.Div.apply)
Tensor.__rtruediv__ = _op("__rtruediv__", _C.op_div, _ag.Div.apply, reflected=True)
Tensor.__iadd__ = _inplace("add_")
Tensor.__isub__ = _inplace("sub_")
Tensor.__imul__ = _inplace("mul_")
Tensor.__itruediv__ = _inplace("div_")
Tensor.__neg__ = neg
Tensor.__eq__ = eq  # type: ignore[assignment]
Tensor.__ne__ = ne  # type: ignore[assignment]
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__pow__ = pow
Tensor.__rpow__ = _reflected(pow)
Tensor.__ipow__ = _inplace("pow_")
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = _reflected(floor_divide)
Tensor.__ifloordiv__ = _inplace("floor_divide_")
Tensor.__mod__ = remainder
Tensor.__rmod__ = _reflected(remainder)
Tensor.__imod__ = _inplace("remainder_")
Tensor.__abs__ = abs
Tensor.__and__ = bitwise_and
Tensor.__rand__ = _reflected(bitwise_and)
Tensor.__iand__ = _inplace("bitwise_and_")
Tensor.__or__ = bitwise_or
Tensor.__ror__ = _reflected(bitwise_or)
Tensor.__ior__ = _inplace("bitwise_or_")
Tensor.__xor__ = bitwise_xor
Tensor.__rxor__ = _reflected(bitwise_xor)
Tensor.__ixor__ = _inplace("bitwise_xor_")
Tensor.__invert__ = bitwise_not
Tensor.__hash__ = object.__hash__  # __eq__ is elementwise, identity hashing stays
