"""Random numbers from a counter-based generator (Philox4x32-10, csrc/core/philox.h).

A draw's element i depends only on (seed, offset, i): the same at any thread count and, with
CUDA kernels, on the GPU. Each draw advances its generator's offset by the Philox blocks it
used. Sizes are given as varargs or one sequence, as in PyTorch.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _C
from .._device import to_device
from .._dtype import get_default_dtype, int64
from .._dtype import to_dtype as _to_dtype
from ..creation import empty, tensor
from ..tensor import Tensor, _c, _sizes, _wrap, with_requires_grad

__all__ = [
    "Generator", "manual_seed", "seed", "initial_seed", "default_generator", "rand", "randn",
    "randint", "bernoulli", "rand_like", "randn_like", "randint_like", "randperm", "normal",
    "get_rng_state", "set_rng_state",
]

_U64 = (1 << 64) - 1


def _seed_bits(s: Any) -> int:
    s = int(s)
    if not -(1 << 63) <= s <= _U64:
        raise ValueError(f"[manual_seed] seed must fit in 64 bits, got {s}")
    return s & _U64  # negative seeds wrap, as in PyTorch


class Generator:
    """A random stream on one device: ``ember.Generator('cpu').manual_seed(0)``."""

    __slots__ = ("_g",)

    def __init__(self, device: Any = "cpu") -> None:
        self._g = _C.Generator(str(to_device(device)))

    @classmethod
    def _of(cls, g: Any) -> Generator:
        self = object.__new__(cls)
        self._g = g
        return self

    @property
    def device(self) -> Any:
        return to_device(self._g.device)

    def manual_seed(self, seed: int) -> Generator:
        """Restarts the stream at `seed`, offset 0."""
        self._g.manual_seed(_seed_bits(seed))
        return self

    def seed(self) -> int:
        """Reseeds from the operating system's entropy; returns the new seed."""
        return self._g.seed()

    def initial_seed(self) -> int:
        return self._g.initial_seed()

    def get_state(self) -> Tensor:
        """(seed, offset) as an int64 tensor of shape (2,) (64-bit patterns)."""
        s, o = self._g.get_state()
        return tensor([_signed(s), _signed(o)], dtype=int64)

    def set_state(self, state: Tensor) -> Generator:
        if not isinstance(state, Tensor) or state.dtype is not int64 or tuple(state.shape) != (2,):
            raise ValueError("[set_state] expected the int64 tensor of shape (2,) from get_state()")
        s, o = state.tolist()
        self._g.set_state(s & _U64, o & _U64)
        return self


def _signed(u: int) -> int:
    return u - (1 << 64) if u >= 1 << 63 else u


default_generator = Generator._of(_C.default_generator("cpu"))


def manual_seed(seed: int) -> Generator:
    """Seeds the default generator of every device (CPU, and CUDA when present)."""
    bits = _seed_bits(seed)
    for i in range(_C.cuda_device_count()):
        _C.default_generator(f"cuda:{i}").manual_seed(bits)
    return default_generator.manual_seed(bits)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)


def _gen(generator: Generator | None) -> Any:
    return None if generator is None else generator._g


def _new(size: tuple[Any, ...], op: str, dtype: Any, device: Any, default: Any) -> Tensor:
    shape = _sizes(size, op)
    if any(int(s) < 0 for s in shape):
        raise ValueError(f"[{op}] negative size in {tuple(shape)}")
    return empty(shape, dtype=default if dtype is None else dtype, device=device)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None,
         device: Any = None) -> Tensor:
    """Uniform on [0, 1); default dtype float32."""
    out = _new(size, "rand", dtype, device, get_default_dtype())
    _C.uniform_(_c(out), 0.0, 1.0, _gen(generator))
    return out


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None,
          device: Any = None) -> Tensor:
    """Standard normal (Box-Muller); default dtype float32."""
    out = _new(size, "randn", dtype, device, get_default_dtype())
    _C.normal_(_c(out), 0.0, 1.0, _gen(generator))
    return out


def _randint_args(args: tuple[Any, ...], low: Any, high: Any, size: Any,
                  op: str) -> tuple[int, int, Any]:
    """PyTorch's overloads: (high, size) or (low, high, size), positional or by keyword."""
    if len(args) == 3:
        low, high, size = args
    elif len(args) == 2:
        if high is None and size is None:
            high, size = args
        else:
            low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None:
        raise TypeError(f"[{op}] missing the upper bound `high`")
    return (0 if low is None else int(low)), int(high), size


def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None,
            generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``;
    default dtype int64."""
    lo, hi, size = _randint_args(args, low, high, size, "randint")
    if size is None:
        raise TypeError("[randint] missing `size`")
    out = _new((size,) if isinstance(size, int) else tuple(size), "randint", dtype, device, int64)
    _C.randint_(_c(out), lo, hi, _gen(generator))
    return out


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """1 with probability input[i] (or p), else 0; input's shape and dtype."""
    out = empty(input.shape, dtype=input.dtype, device=input.device)
    if p is None:
        _C.bernoulli_(_c(out), _c(input), 0.0, _gen(generator))
    else:
        _C.bernoulli_(_c(out), None, float(p), _gen(generator))
    return out


def _like(input: Tensor, dtype: Any, device: Any) -> Tensor:
    return empty(input.shape, dtype=input.dtype if dtype is None else dtype,
                 device=input.device if device is None else device)


def rand_like(input: Tensor, *, generator: Generator | None = None, dtype: Any = None,
              device: Any = None) -> Tensor:
    out = _like(input, dtype, device)
    _C.uniform_(_c(out), 0.0, 1.0, _gen(generator))
    return out


def randn_like(input: Tensor, *, generator: Generator | None = None, dtype: Any = None,
               device: Any = None) -> Tensor:
    out = _like(input, dtype, device)
    _C.normal_(_c(out), 0.0, 1.0, _gen(generator))
    return out


def randint_like(input: Tensor, *args: Any, low: Any = None, high: Any = None,
                 generator: Generator | None = None, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``."""
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        high = args[0]
    if high is None:
        raise TypeError("[randint_like] missing the upper bound `high`")
    lo, hi = (0 if low is None else int(low)), int(high)
    out = _like(input, dtype, device)
    _C.randint_(_c(out), lo, hi, _gen(generator))
    return out


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1; default dtype int64."""
    d = int64 if dtype is None else _to_dtype(dtype)
    return _wrap(_C.randperm(int(n), d.code, str(to_device(device)), _gen(generator)))


def normal(mean: Any = 0.0, std: Any = 1.0, size: Sequence[int] | None = None, *,
           generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Normal samples: mean and std are floats (then `size` is required) or tensors that
    broadcast together."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("[normal] with float mean and std, `size` is required")
        out = _new(tuple(size), "normal", dtype, device, get_default_dtype())
        _C.normal_(_c(out), float(mean), float(std), _gen(generator))
        return out
    negative = (np.asarray(std.cpu()) < 0).any() if isinstance(std, Tensor) else std < 0
    if negative:
        raise ValueError("[normal] std must be >= 0")
    ref = mean if isinstance(mean, Tensor) else std
    shape = _broadcast(_shape(mean), _shape(std))
    dt = ref.dtype if ref.dtype.is_floating_point else get_default_dtype()
    z = empty(shape, dtype=dt, device=ref.device)
    _C.normal_(_c(z), 0.0, 1.0, _gen(generator))
    return z * std + mean


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, Tensor) else ()


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = builtins.max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b, strict=True)):
        raise ValueError(f"[normal] shapes {a} and {b} cannot be broadcast together")
    return tuple(builtins.max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b, strict=True))


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *,
             generator: Generator | None = None, **kwargs: Any) -> Tensor:
    """Fills self with uniform samples on [from, to) (``from=`` is accepted as a keyword)."""
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"[uniform_] unexpected arguments {sorted(kwargs)}")
    _C.uniform_(_c(self), float(from_), float(to), _gen(generator))
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    _C.normal_(_c(self), float(mean), float(std), _gen(generator))
    return self


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    if isinstance(p, Tensor):
        _C.bernoulli_(_c(self), _c(p), 0.0, _gen(generator))
    else:
        _C.bernoulli_(_c(self), None, float(p), _gen(generator))
    return self


Tensor.uniform_ = uniform_
Tensor.normal_ = normal_
Tensor.bernoulli = bernoulli
Tensor.bernoulli_ = bernoulli_


# PyTorch's requires_grad= keyword on the float factories
rand, randn, normal = (with_requires_grad(f) for f in (rand, randn, normal))
rand_like, randn_like = with_requires_grad(rand_like), with_requires_grad(randn_like)
