"""In-process fuzzing of the public API: random dtypes, shapes (0-4 dims of size 0-5), strided
layouts (transposes, stepped and reversed slices, expand), random ops with random and often
invalid arguments. Each call returns what the NumPy reference returns or raises a Python
exception; a crash kills pytest, which is the failure signal."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest
from conftest import TOLERANCES, to_numpy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

ALLOWED = (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError, MemoryError,
           ZeroDivisionError)
DTYPES = ["bool", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
FLOATS = {"float16", "bfloat16", "float32", "float64"}
INTS = {"int32", "int64"}

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


class NoReference(Exception):
    """The reference does not model this case: only 'no crash' is checked."""


# ---- inputs ---------------------------------------------------------------------------------
@st.composite
def tensors(draw) -> tuple[ember.Tensor, np.ndarray]:
    """An ember tensor and the float64 NumPy array of the same values and layout."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=4)))
    n = math.prod(shape)
    if dtype == "bool":
        vals = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=np.float64)
    else:
        pool = [-3, -2, -1, 0, 1, 2, 3, 0.5, -1.5] if dtype in FLOATS else [-3, -1, 0, 1, 2, 7]
        if dtype in FLOATS and draw(st.booleans()):
            pool = pool + [np.nan, np.inf, -np.inf]
        vals = np.array(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)),
                        dtype=np.float64)
    a = vals.reshape(shape)
    t = ember.tensor(a).to(dtype)
    for _ in range(draw(st.integers(0, 3))):  # strided views, applied to both
        t, a = draw(_layout(t, a))
    return t, a


@st.composite
def _layout(draw, t: ember.Tensor, a: np.ndarray):
    if a.ndim == 0:
        return t, a
    kind = draw(st.sampled_from(["T", "slice", "expand", "permute"]))
    d = draw(st.integers(0, a.ndim - 1))
    if kind == "T":
        return t.T, a.T
    if kind == "permute":
        p = draw(st.permutations(range(a.ndim)))
        return t.permute(*p), a.transpose(p)
    if kind == "slice":
        s = slice(draw(st.integers(-6, 6) | st.none()), draw(st.integers(-6, 6) | st.none()),
                  draw(st.sampled_from([None, 1, 2, -1, -2, 3])))
        idx = (slice(None),) * d + (s,)
        return t[idx], a[idx]
    if a.shape[d] != 1:
        t, a = t.unsqueeze(d), np.expand_dims(a, d)
    shape = list(a.shape)
    shape[d] = draw(st.integers(0, 4))
    return t.expand(*shape), np.broadcast_to(a, shape)


def _dims(draw, a: np.ndarray) -> int:
    return draw(st.integers(-a.ndim - 2, a.ndim + 1))  # out of range now and then


def _other(draw, a: np.ndarray) -> tuple[Any, np.ndarray | float]:
    """A second operand: a broadcastable or random-shaped tensor of any dtype, or a scalar."""
    kind = draw(st.sampled_from(["same", "bcast", "random", "int", "float", "bool"]))
    if kind in ("int", "float", "bool"):
        v = {"int": draw(st.integers(-3, 3)), "float": draw(st.sampled_from([0.5, -2.0, 0.0])),
             "bool": draw(st.booleans())}[kind]
        return v, float(v)
    if kind == "same":
        shape = a.shape
    elif kind == "bcast":
        shape = tuple(s if draw(st.booleans()) else 1 for s in a.shape)
        shape = shape[draw(st.integers(0, len(shape))):]
    else:
        shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    dtype = draw(st.sampled_from(DTYPES))
    vals = np.array(draw(st.lists(st.sampled_from([-2, -1, 0, 1, 3]), min_size=math.prod(shape),
                                  max_size=math.prod(shape))), dtype=np.float64).reshape(shape)
    t = ember.tensor(vals).to(dtype)
    return t, to_numpy(t).astype(np.float64)


# ---- ops: each returns (call ember, reference) ------------------------------------------------
def _binary(draw, t, a):
    name = draw(st.sampled_from(["add", "sub", "mul", "div", "maximum", "lt", "eq", "ge",
                                 "floor_divide", "remainder", "pow", "logical_and"]))
    other, b = _other(draw, a)
    np_fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
             "maximum": np.maximum, "lt": np.less, "eq": np.equal, "ge": np.greater_equal,
             "logical_and": np.logical_and}.get(name)

    def ref():
        if np_fn is None or t.dtype is ember.bool or isinstance(other, bool):
            raise NoReference
        if getattr(other, "dtype", None) is ember.bool and name in ("sub", "div"):
            raise NoReference
        return np_fn(a, b)

    return lambda: getattr(ember, name)(t, other), ref


UNARY = {"neg": np.negative, "abs": np.abs, "exp": np.exp, "sqrt": np.sqrt, "relu": None,
         "floor": np.floor, "sigmoid": None, "tanh": np.tanh, "sign": np.sign,
         "isnan": np.isnan, "logical_not": np.logical_not, "square": np.square, "log": np.log}


def _unary(draw, t, a):
    name = draw(st.sampled_from(sorted(UNARY)))

    def ref():
        if UNARY[name] is None or (t.dtype is ember.bool and name not in ("isnan", "logical_not")):
            raise NoReference
        with np.errstate(all="ignore"):
            return UNARY[name](a)

    return lambda: getattr(ember, name)(t), ref


def _clamp(draw, t, a):
    lo = draw(st.sampled_from([None, -1, 0.5, 2]))
    hi = draw(st.sampled_from([None, 1, -2, 3.5]))

    def ref():
        if (lo is None and hi is None) or t.dtype is ember.bool:
            raise NoReference
        if t.dtype.name in INTS and (isinstance(lo, float) or isinstance(hi, float)):
            raise NoReference  # the result dtype rules, not the values, differ here
        return np.clip(a, lo, hi)

    return lambda: ember.clamp(t, lo, hi), ref


def _reduce(draw, t, a):
    name = draw(st.sampled_from(["sum", "mean", "amax", "amin", "prod", "argmax", "any", "all",
                                 "cumsum"]))
    dim = draw(st.none() | st.integers(-a.ndim - 2, a.ndim + 1))
    keepdim = draw(st.booleans())
    axis = None if dim is None or a.ndim == 0 else dim
    kwargs = {} if name == "cumsum" else {"keepdim": keepdim}

    def call():
        if name == "cumsum":
            return ember.cumsum(t, 0 if dim is None else dim)
        if dim is None:
            return getattr(ember, name)(t, **kwargs) if name != "argmax" else ember.argmax(t)
        return getattr(ember, name)(t, dim, **kwargs)

    def ref():
        if a.ndim == 0 and dim not in (None, 0, -1):
            raise ValueError
        np_name = {"amax": "max", "amin": "min"}.get(name, name)
        if name == "mean" and t.dtype.name not in FLOATS:
            raise NoReference
        if name in ("argmax", "cumsum") and t.dtype is ember.bool:
            raise NoReference
        if name in ("amax", "amin", "argmax") and np.isnan(a).any():
            raise NoReference  # NaN propagation is tested in test_reduce
        if name == "cumsum":
            return np.cumsum(a, axis=0 if dim is None or a.ndim == 0 else dim).reshape(a.shape)
        if name == "argmax":
            r = np.argmax(a, axis=axis, keepdims=keepdim and dim is not None)
            return r
        return getattr(np, np_name)(a, axis=axis, keepdims=keepdim)

    return call, ref


def _view(draw, t, a):
    name = draw(st.sampled_from(["reshape", "view", "transpose", "permute", "squeeze",
                                 "unsqueeze", "flatten", "narrow", "diagonal", "expand",
                                 "movedim", "contiguous", "split", "unbind"]))
    d0, d1 = _dims(draw, a), _dims(draw, a)
    if name in ("reshape", "view"):
        shape = list(a.shape)
        if draw(st.booleans()) and shape:
            shape[draw(st.integers(0, len(shape) - 1))] = -1
        shape = draw(st.permutations(shape)) if draw(st.booleans()) else shape
        if draw(st.booleans()):
            shape = draw(st.lists(st.integers(-2, 6), max_size=4))
        shape = tuple(shape)
        return (lambda: getattr(t, name)(shape)), (lambda: a.reshape(shape) if -2 not in shape
                                                   else _raise())
    if name == "transpose":
        return (lambda: t.transpose(d0, d1)), (lambda: np.swapaxes(a, d0, d1)
                                               if a.ndim else _no_ref())
    if name == "permute":
        p = draw(st.permutations(range(a.ndim)) | st.lists(st.integers(-4, 4), max_size=5))
        return (lambda: t.permute(*p)), (lambda: np.transpose(a, p) if a.ndim else _no_ref())
    if name == "squeeze":
        return (lambda: t.squeeze(d0)), (lambda: a.squeeze(d0) if a.ndim and a.shape[d0] == 1
                                         else _no_ref())
    if name == "unsqueeze":
        return (lambda: t.unsqueeze(d0)), (lambda: np.expand_dims(a, d0))
    if name == "flatten":
        return (lambda: t.flatten(d0, d1)), (lambda: _flatten(a, d0, d1))
    if name == "narrow":
        start, length = draw(st.integers(-6, 6)), draw(st.integers(-1, 6))
        return (lambda: t.narrow(d0, start, length)), (lambda: _narrow(a, d0, start, length))
    if name == "diagonal":
        off = draw(st.integers(-4, 4))
        return (lambda: t.diagonal(off, d0, d1)), (lambda: np.diagonal(a, off, d0, d1))
    if name == "expand":
        shape = tuple(draw(st.lists(st.integers(-1, 4), max_size=5)))
        return (lambda: t.expand(shape)), _no_ref
    if name == "movedim":
        return (lambda: t.movedim(d0, d1)), (lambda: np.moveaxis(a, d0, d1))
    if name == "split":
        size = draw(st.integers(-1, 4))
        return (lambda: ember.stack(t.split(size, d0)) if size > 0 else t.split(size, d0)), \
            _no_ref
    if name == "unbind":
        return (lambda: list(t.unbind(d0))), (lambda: [np.take(a, i, d0)
                                                       for i in range(a.shape[d0])])
    return t.contiguous, lambda: a


def _getitem(draw, t, a):
    def one(n):
        return (st.integers(-n - 1, n) | st.none() | st.just(Ellipsis) |
                st.builds(slice, st.integers(-7, 7) | st.none(), st.integers(-7, 7) | st.none(),
                          st.sampled_from([None, 1, 2, -1, -3, 0])))

    items = [draw(one(s)) for s in a.shape[: draw(st.integers(0, a.ndim + 1))]]
    kind = draw(st.sampled_from(["basic", "int_tensor", "mask", "list"]))
    if kind == "int_tensor" and a.ndim:
        items = [np.array(draw(st.lists(st.integers(-6, 6), max_size=4)), dtype=np.int64)]
    elif kind == "mask":
        items = [np.array(draw(st.lists(st.booleans(), min_size=a.shape[0] if a.ndim else 0,
                                        max_size=a.shape[0] if a.ndim else 0)), dtype=bool)]
    elif kind == "list":
        items = [draw(st.lists(st.integers(-3, 3), max_size=3))]
    index = tuple(items)
    eidx = tuple(ember.tensor(i) if isinstance(i, np.ndarray) and draw(st.booleans()) else i
                 for i in index)

    def ref():
        if any(isinstance(i, slice) and i.step == 0 for i in index):
            raise ValueError
        return a[index]

    return (lambda: t[eidx]), ref


def _setitem(draw, t, a):
    value = draw(st.sampled_from([0, 2, -1.5, True]))
    items = tuple(draw(st.integers(-4, 4) | st.builds(slice, st.none(), st.integers(-4, 4)))
                  for _ in range(draw(st.integers(0, max(a.ndim, 1)))))

    def call():
        c = t.clone()
        c[items] = value
        return c

    def ref():
        if 0 in t.stride() or t.dtype.name not in FLOATS:
            raise NoReference  # expanded tensors clone densely; ints truncate the value
        w = a.copy()
        w[items] = value
        return w

    return call, ref


def _convert(draw, t, a):
    dt = draw(st.sampled_from(DTYPES + ["complex64", "bogus"]))

    def ref():
        if dt in ("complex64", "bogus"):
            raise TypeError
        if t.dtype.name in FLOATS and dt in INTS and not np.isfinite(a).all():
            raise NoReference  # undefined in C, as in PyTorch
        return a.astype(bool).astype(np.float64) if dt == "bool" else a

    return (lambda: t.to(dt)), ref


def _join(draw, t, a):
    other, b = _other(draw, a)
    dim = _dims(draw, a)
    name = draw(st.sampled_from(["cat", "stack"]))

    def ref():
        if not isinstance(other, ember.Tensor):
            raise TypeError
        if a.ndim == 0 and name == "cat":
            raise ValueError
        return getattr(np, "concatenate" if name == "cat" else "stack")([a, b], dim)

    return lambda: getattr(ember, name)([t, other], dim), ref


def _creation(draw, t, a):
    name = draw(st.sampled_from(["zeros", "full", "arange", "eye", "linspace", "empty"]))
    sizes = tuple(draw(st.lists(st.integers(-2, 5), max_size=4)))
    dt = draw(st.sampled_from(DTYPES))
    if name == "arange":
        args = tuple(draw(st.lists(st.integers(-5, 5) | st.sampled_from([0.5, -1.5]),
                                   min_size=1, max_size=3)))
        return (lambda: ember.arange(*args)), (lambda: np.arange(*args) if 0 not in args[2:]
                                               else _raise())
    if name == "eye":
        n, m = draw(st.integers(-1, 4)), draw(st.integers(-1, 4))
        return (lambda: ember.eye(n, m, dtype=dt)), (lambda: np.eye(n, m) if n >= 0 and m >= 0
                                                     else _raise())
    if name == "linspace":
        n = draw(st.integers(-1, 6))
        return (lambda: ember.linspace(-1, 2, n)), (lambda: np.linspace(-1, 2, n) if n >= 0
                                                    else _raise())
    if name == "empty":
        return (lambda: ember.empty(sizes, dtype=dt).shape), (
            lambda: np.empty(sizes).shape if min(sizes, default=0) >= 0 else _raise())
    value = 2 if dt != "bool" else True
    fn = (lambda: ember.zeros(sizes, dtype=dt)) if name == "zeros" else (
        lambda: ember.full(sizes, value, dtype=dt))
    return fn, lambda: np.full(sizes, 0 if name == "zeros" else value).astype(np.float64)


OPS: list[Callable] = [_binary, _unary, _clamp, _reduce, _view, _getitem, _setitem, _convert,
                       _join, _creation]


def _raise():
    raise ValueError


def _no_ref():
    raise NoReference


def _flatten(a, s, e):
    n = max(a.ndim, 1)
    if not (-n <= s < n and -n <= e < n) or s % n > e % n:
        raise ValueError
    if a.ndim == 0:
        return a.reshape(1)
    s, e = s % n, e % n
    return a.reshape(a.shape[:s] + (math.prod(a.shape[s:e + 1]),) + a.shape[e + 1:])


def _narrow(a, d, start, length):
    if a.ndim == 0 or not -a.ndim <= d < a.ndim:
        raise IndexError
    n = a.shape[d]
    start = start + n if start < 0 else start
    if start < 0 or length < 0 or start + length > n:
        raise IndexError
    return np.take(a, range(start, start + length), d)


# ---- the check --------------------------------------------------------------------------------
def _compare(got: Any, want: Any) -> None:
    if isinstance(want, tuple) and not isinstance(want, np.ndarray):  # a shape
        assert tuple(got) == want
        return
    if isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _compare(g, w)
        return
    assert isinstance(got, ember.Tensor), type(got)
    g = to_numpy(got)
    w = np.asarray(want)
    assert g.shape == w.shape, f"shape {g.shape} != {w.shape}"
    if got.dtype is ember.bool:
        np.testing.assert_array_equal(g, w.astype(bool))
        return
    if got.dtype.name in INTS:
        w = w.astype(np.float64)
        finite = np.isfinite(w)
        np.testing.assert_array_equal(g[finite], np.trunc(w[finite]))
        return
    rtol, atol = TOLERANCES[got.dtype.name]
    w = w.astype(np.float64)
    if got.dtype.name == "float16":
        w = w.astype(np.float16).astype(np.float64)  # overflow to inf as the result does
    np.testing.assert_allclose(g.astype(np.float64), w, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("op", OPS, ids=lambda f: f.__name__.strip("_"))
@FUZZ
@given(tensors(), st.data())
def test_fuzz_api(op, ta, data):
    t, a = ta
    call, ref = op(data.draw, t, a)
    try:
        with np.errstate(all="ignore"):
            want = ref()
    except NoReference:
        want = None
    except Exception:  # NumPy refuses: ember may refuse too, or be more permissive
        want = None
    name = op.__name__
    try:
        got = call()
    except ALLOWED as e:
        assert str(e), "exceptions carry a message"
        if want is not None and op is not _view:
            pytest.fail(f"raised {e!r} where NumPy returns {want!r}")
        event(f"{name}: raised {type(e).__name__}")
        return
    event(f"{name}: {'compared' if want is not None else 'returned'}")
    if want is not None:
        _compare(got, want)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_division_edge_cases_do_not_crash(dtype):
    lo = np.iinfo(dtype).min
    x = ember.tensor([lo, -7, 7, 0, 5], dtype=dtype)
    for y in (ember.tensor([-1, 0, 0, 0, 2], dtype=dtype), -1, 0):
        for fn in (ember.floor_divide, ember.remainder):
            try:
                fn(x, y)
            except ALLOWED:
                pass
        try:
            x % y
        except ALLOWED:
            pass
