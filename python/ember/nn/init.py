"""Weight initialisation (PyTorch's nn.init): every function fills its tensor in place under
no_grad and returns it; random ones draw from ember's seeded generator (or ``generator=``)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._dtype import float64
from ..autograd import no_grad
from ..creation import empty, eye, tensor
from ..ops import elementwise as E
from ..ops.random import Generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "trunc_normal_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (2-D tensors only)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta for {3, 4, 5}-D conv weights: each output channel passes one input
    channel through (per group)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_ch = tensor.shape[0]
    if out_ch % groups:
        raise ValueError("dim 0 must be divisible by groups")
    per = out_ch // groups
    a = np.zeros(tuple(tensor.shape))
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per, tensor.shape[1])):
            a[(g * per + d, d) + centre] = 1
    with no_grad():
        return tensor.copy_(_from_numpy(a, tensor))


def _from_numpy(a: np.ndarray, like: Tensor) -> Tensor:
    return tensor(a, dtype=like.dtype, device=like.device)


def _no_op_if_empty(t: Tensor) -> bool:
    if 0 in tuple(t.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al. 2015)."""
    if _no_op_if_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if _no_op_if_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix over (shape[0], rest) from the QR of a Gaussian matrix, with
    R's diagonal signs folded in so the result is uniform over orthogonal matrices (Saxe et al.
    2013). The QR runs once in float64 NumPy."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    g = empty(rows, cols, dtype=float64).normal_(0.0, 1.0, generator=generator)
    flat = np.asarray(g)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    with no_grad():
        return tensor.copy_(_from_numpy(gain * q.reshape(tuple(tensor.shape)), tensor))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """N(mean, std^2) truncated to [a, b], by the inverse CDF of a uniform sample (as PyTorch);
    the inverse erf is Giles' approximation refined by two Newton steps in float64."""
    lo = _norm_cdf((a - mean) / std)
    hi = _norm_cdf((b - mean) / std)
    u = empty(tuple(tensor.shape), dtype=float64).uniform_(2 * lo - 1, 2 * hi - 1,
                                                           generator=generator)
    x = E.clamp(_erfinv(u) * (std * math.sqrt(2.0)) + mean, a, b)
    with no_grad():
        return tensor.copy_(x.to(device=tensor.device, dtype=tensor.dtype))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _erfinv(y: Tensor) -> Tensor:
    """Inverse erf of a float64 tensor with values in (-1, 1)."""
    y = E.clamp(y, -1 + 1e-16, 1 - 1e-16)
    w = -E.log((1 - y) * (1 + y))
    central, tail = w - 2.5, E.sqrt(w) - 3.0
    pc, pt = central * 0 + _GILES_CENTRAL[0], tail * 0 + _GILES_TAIL[0]
    for cc, ct in zip(_GILES_CENTRAL[1:], _GILES_TAIL[1:], strict=True):
        pc, pt = pc * central + cc, pt * tail + ct
    x = E.where(w < 5.0, pc, pt) * y
    for _ in range(2):  # Newton on erf(x) - y; erf'(x) = 2 / sqrt(pi) exp(-x^2)
        x = x - (E.erf(x) - y) / (2.0 / math.sqrt(math.pi) * E.exp(-x * x))
    return x


def __getattr__(name: str) -> Any:
    # PyTorch's deprecated non-underscore aliases (init.normal, init.xavier_uniform ...).
    if name + "_" in __all__:
        warnings.warn(f"nn.init.{name} is now deprecated in favor of nn.init.{name}_.",
                      FutureWarning, stacklevel=2)
        return globals()[name + "_"]
    raise AttributeError(f"module 'ember.nn.init' has no attribute '{name}'")
