"""Reductions and scans against float64 NumPy references: every dim subset, keepdim, 0-size,
0-d, non-contiguous inputs, dtypes, each CPU capability, errors, PyTorch parity."""

from __future__ import annotations

import itertools

import ember
import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st

SHAPES = [(), (1,), (7,), (129,), (3, 4), (2, 3, 5), (4, 1, 33), (2, 0, 3)]


def dim_subsets(ndim: int) -> list:
    subsets: list = [None]
    for k in range(1, ndim + 1):
        subsets += list(itertools.combinations(range(ndim), k))
    if ndim:
        subsets.append(-1)
        subsets.append((-1, 0) if ndim > 1 else (-1,))
    return subsets


def np_axis(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


def np_var(a, axis, keepdims, ddof):
    n = a.size if axis is None else int(np.prod([a.shape[d] for d in np.atleast_1d(axis)]))
    if n - ddof <= 0:
        shape = np.sum(a, axis=axis, keepdims=keepdims).shape
        return np.full(shape, np.nan)
    return np.var(a, axis=axis, keepdims=keepdims, ddof=ddof)


def np_logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True) if a.size else np.full(
        np.sum(a, axis=axis, keepdims=True).shape, -np.inf)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


REFS = {
    "sum": lambda a, ax, k: np.sum(a, axis=ax, keepdims=k),
    "mean": lambda a, ax, k: np.mean(a, axis=ax, keepdims=k) if a.size else np.full(
        np.sum(a, axis=ax, keepdims=k).shape, np.nan),
    "prod": lambda a, ax, k: np.prod(a, axis=ax, keepdims=k),
    "var": lambda a, ax, k: np_var(a, ax, k, 1),
    "std": lambda a, ax, k: np.sqrt(np_var(a, ax, k, 1)),
    "logsumexp": np_logsumexp,
    "norm": lambda a, ax, k: np.sqrt(np.sum(a * a, axis=ax, keepdims=k)),
    "any": lambda a, ax, k: np.any(a, axis=ax, keepdims=k),
    "all": lambda a, ax, k: np.all(a, axis=ax, keepdims=k),
}


def T(a):
    """ember.tensor of a NumPy array; from_numpy keeps 0-d shapes (ember.tensor makes them 1-d)."""
    return ember.from_numpy(np.array(a))


def rand(shape, rng, dtype=np.float64):
    return rng.uniform(-1.0, 1.5, size=shape).astype(dtype)


def call(name, x, dim, keepdim):
    f = getattr(ember, name)
    if name == "logsumexp" and dim is None:
        dim = tuple(range(x.ndim))
    if name == "norm":
        return f(x, 2, dim, keepdim)
    return f(x, dim, keepdim=keepdim)


@pytest.mark.parametrize("name", sorted(REFS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_numpy_every_dim_subset(name, shape, rng, capability):
    a = rand(shape, rng)
    a[a < 0] = 0 if name in ("any", "all") else a[a < 0]
    x = T(a)
    for dim in dim_subsets(len(shape)):
        for keepdim in (False, True):
            want = REFS[name](a, np_axis(dim), keepdim)
            assert_close(call(name, x, dim, keepdim), np.asarray(want), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("shape", [s for s in SHAPES if 0 not in s], ids=str)
def test_amax_amin_tuple_dims(name, shape, rng, capability):
    a = rand(shape, rng)
    ref = np.max if name == "amax" else np.min
    for dim in dim_subsets(len(shape)):
        for keepdim in (False, True):
            got = getattr(ember, name)(T(a), () if dim is None else dim, keepdim)
            assert_close(got, ref(a, axis=np_axis(dim), keepdims=keepdim))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp", "norm", "prod"])
def test_float_dtypes_keep_dtype(name, dtype, rng):
    a = rand((5, 67), rng, np.float32)
    x = T(a).to(dtype)
    ref = np.asarray(x.float()).astype(np.float64)
    got = call(name, x, 1, False)
    assert got.dtype is getattr(ember, dtype)
    assert_close(got, REFS[name](ref, 1, False), dtype=dtype)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_integer_sum_prod_cumsum_give_int64(dtype, rng):
    a = rng.integers(0 if dtype == "bool" else -3, 2 if dtype == "bool" else 4, size=(4, 9))
    a = a.astype(dtype)
    x = T(a)
    for got, want in [(x.sum(), a.sum()), (x.sum(1), a.sum(1)), (x.prod(0), a.prod(0)),
                      (x.cumsum(1), np.cumsum(a, 1)), (x.cumprod(0), np.cumprod(a, 0))]:
        assert got.dtype is ember.int64
        np.testing.assert_array_equal(np.asarray(got), want.astype(np.int64))
    assert x.sum(dtype=ember.float64).dtype is ember.float64
    assert_close(x.mean(1, dtype=ember.float64), a.astype(np.float64).mean(1))


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_mean_var_std_norm_reject_integers(dtype):
    x = ember.zeros(3, dtype=dtype)
    for f in (ember.mean, ember.var, ember.std, ember.norm):
        with pytest.raises(TypeError, match=r"^\[(mean|var|std|norm)\]"):
            f(x)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float16", "float32", "float64"])
def test_max_min_arg_any_all_every_dtype(dtype, rng, capability):
    a = rng.integers(-5, 6, size=(6, 35))
    a = (a > 0) if dtype == "bool" else a
    a = a.astype(dtype)
    x = T(a)
    assert x.max().item() == a.max() and x.min().item() == a.min()
    for dim in (0, 1, -1):
        v, i = x.max(dim)
        np.testing.assert_array_equal(np.asarray(v), a.max(dim))
        np.testing.assert_array_equal(np.asarray(i), a.argmax(dim))
        v, i = ember.min(x, dim, keepdim=True)
        np.testing.assert_array_equal(np.asarray(v), a.min(dim, keepdims=True))
        np.testing.assert_array_equal(np.asarray(i), a.argmin(dim, keepdims=True))
        np.testing.assert_array_equal(np.asarray(x.any(dim)), a.any(dim))
        np.testing.assert_array_equal(np.asarray(x.all(dim)), a.all(dim))
    assert x.argmax().item() == a.argmax() and x.argmin().item() == a.argmin()
    assert x.argmax(keepdim=True).shape == (1, 1)
    assert x.max(1).values.dtype is x.dtype and x.max(1).indices.dtype is ember.int64


def test_first_occurrence_and_nan_propagation(capability):
    a = np.array([[1.0, 3.0, 3.0, np.nan, 2.0, np.nan], [5.0, 5.0, 0.0, 0.0, 5.0, 1.0]])
    x = T(a)
    v, i = x.max(1)
    assert np.isnan(v[0].item()) and i.tolist() == [3, 0]
    assert x.min(1).indices.tolist() == [3, 2]
    assert np.isnan(x.max().item()) and np.isnan(x.amin().item())
    assert np.isnan(x.amax(1)[0].item()) and x.amax(1)[1].item() == 5.0
    assert x[1].argmax().item() == 0 and x.argmax().item() == 3


def test_noncontiguous_inputs(rng, capability):
    a = rand((6, 10, 8), rng)
    x = T(a)
    views = [
        (x.transpose(0, 2), np.swapaxes(a, 0, 2)),
        (x[::2, 1::3, ::3], a[::2, 1::3, ::3]),
        (x.permute(1, 2, 0), a.transpose(1, 2, 0)),
        (x[:, 3].unsqueeze(1).expand(6, 5, 8), np.broadcast_to(a[:, 3:4], (6, 5, 8))),
    ]
    for v, ref in views:
        for dim in dim_subsets(3):
            ax = np_axis(dim)
            assert_close(v.sum(dim), ref.sum(axis=ax))
            assert_close(v.var(dim), np_var(ref, ax, False, 1))
            assert_close(v.amax(() if dim is None else dim), ref.max(axis=ax))
        for d in range(3):
            assert_close(v.cumsum(d), np.cumsum(ref, d))
            assert_close(v.cumprod(d), np.cumprod(ref, d))
            np.testing.assert_array_equal(np.asarray(v.argmax(d)), ref.argmax(d))
            np.testing.assert_array_equal(np.asarray(v.min(d).indices), ref.argmin(d))


def test_large_outer_inner_and_threaded(rng, capability):
    a = rng.standard_normal((300, 517)).astype(np.float32)
    x = T(a)
    ref = a.astype(np.float64)
    for dim in (0, 1, None, (0, 1)):
        ax = np_axis(dim)
        assert_close(x.sum(dim), ref.sum(axis=ax), rtol=1e-5, atol=1e-4)
        assert_close(x.var(dim), np_var(ref, ax, False, 1), rtol=1e-5, atol=1e-5)
        assert_close(x.logsumexp(dim if dim is not None else (0, 1)),
                     np_logsumexp(ref, ax, False), rtol=1e-5)
    assert_close(x.cumsum(0), np.cumsum(ref, 0), rtol=1e-5, atol=1e-4)
    assert x.argmax().item() == ref.argmax()


@pytest.mark.slow
def test_float32_sum_of_16m_is_accurate():
    a = np.random.default_rng(1).random(1 << 24, dtype=np.float32)
    got = T(a).sum().item()
    want = a.astype(np.float64).sum()
    assert abs(got - want) / want < 1e-6
    assert abs(T(a).mean().item() - want / a.size) / (want / a.size) < 1e-6


def test_float32_sum_of_1m_is_accurate(capability):
    a = np.random.default_rng(2).random(1 << 20, dtype=np.float32)
    want = a.astype(np.float64).sum()
    assert abs(T(a).sum().item() - want) / want < 1e-6
    b = a.reshape(1 << 14, 64)
    assert_close(T(b).sum(0), b.astype(np.float64).sum(0), rtol=1e-6)


@pytest.mark.parametrize("p", [0, 1, 2, 3, 0.5, "fro", float("inf"), float("-inf")])
def test_norm_orders(p, rng):
    a = rand((4, 9), rng)
    a[0, 0] = 0
    pv = 2 if p == "fro" else p
    for dim in (None, 1, (0, 1)):
        ax = np_axis(dim)
        want = np.linalg.norm(a.reshape(-1) if ax is None or ax == (0, 1) else a,
                              ord=pv, axis=None if ax in (None, (0, 1)) else ax)
        assert_close(ember.norm(T(a), p, dim), want)


def test_var_std_correction_and_unbiased(rng):
    a = rand((5, 8), rng)
    x = T(a)
    assert_close(x.var(1, unbiased=False), a.var(1))
    assert_close(ember.var(x, False), a.var())
    assert_close(x.std(0, correction=0, keepdim=True), a.std(0, keepdims=True))
    assert_close(x.var(1, correction=2), a.var(1, ddof=2))
    assert np.isnan(T(np.array([1.0])).var().item())


def test_empty_reductions():
    x = ember.zeros(0, 3)
    assert x.sum().item() == 0 and x.prod().item() == 1
    assert_close(x.sum(0), np.zeros(3))
    assert x.sum(1).shape == (0,) and x.amax(1).shape == (0,) and x.max(1).values.shape == (0,)
    assert np.isnan(x.mean().item()) and x.logsumexp((0, 1)).item() == -np.inf
    assert x.any().item() is False and x.all().item() is True
    assert x.cumsum(0).shape == (0, 3)
    for f in (lambda: x.max(), lambda: x.amax(0), lambda: x.max(0), lambda: x.argmin()):
        with pytest.raises(IndexError, match=r"^\[(max|amax|argmin)\].*size 0.*\(0, 3\)"):
            f()


def test_zero_dim_tensor():
    x = T(np.array(2.5))
    for f in (ember.sum, ember.mean, ember.amax, ember.prod):
        assert f(x).shape == () and f(x).item() == 2.5
    assert x.sum(0).shape == () and x.sum(-1, keepdim=True).shape == ()
    assert x.max(0).indices.item() == 0 and x.argmax().item() == 0
    assert x.cumsum(0).item() == 2.5


def test_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(IndexError, match=r"^\[sum\] dim 2 out of range.*\(2, 3\)"):
        x.sum(2)
    with pytest.raises(IndexError, match=r"^\[max\]"):
        x.max(-3)
    with pytest.raises(ValueError, match=r"^\[mean\] dim 1 appears multiple times"):
        x.mean((1, -1))
    with pytest.raises(TypeError, match=r"^\[sum\]"):
        x.sum("a")
    with pytest.raises(IndexError, match=r"^\[cumsum\]"):
        x.cumsum(5)
    with pytest.raises(ValueError, match=r"^\[norm\]"):
        x.norm("nuc")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 6), min_size=0, max_size=4),
       data=st.data(), keepdim=st.booleans())
def test_hypothesis_sum_amax_any(shape, data, keepdim):
    a = np.random.default_rng(len(shape)).standard_normal(shape)
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-max(nd, 1), max(nd, 1) - 1), unique=True)) if nd else []
    wrapped = sorted({d % nd for d in dims}) if nd else []
    if len(wrapped) != len(dims):
        return
    x = T(a)
    ax = tuple(wrapped) if dims else None
    a = np.where(a > 0.5, a, 0.0)
    x = T(a)
    assert_close(x.sum(dims or None, keepdim), np.sum(a, axis=ax, keepdims=keepdim))
    assert_close(x.any(dims or None, keepdim), np.any(a > 0.5, axis=ax, keepdims=keepdim))
    red = a.shape if ax is None else [a.shape[d] for d in ax]
    if 0 not in red:
        assert_close(x.amax(dims, keepdim), np.max(a, axis=ax, keepdims=keepdim))


def test_pytorch_parity(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((4, 6, 5)).astype(np.float32)
    x, t = T(a), torch.tensor(a)
    for name in ["sum", "mean", "var", "std", "amax", "amin", "logsumexp"]:
        for dim in [(0,), (1, 2), -1]:
            want = getattr(torch, name)(t, dim, keepdim=True).numpy()
            assert_close(getattr(ember, name)(x, dim, keepdim=True), want, rtol=1e-5, atol=1e-6)
    for name in ["max", "min"]:
        v, i = getattr(ember, name)(x, 1)
        tv, ti = getattr(torch, name)(t, 1)
        assert_close(v, tv.numpy()) and np.testing.assert_array_equal(np.asarray(i), ti.numpy())
    assert_close(ember.norm(x, float("inf"), (0, 2)), torch.norm(t, float("inf"), (0, 2)).numpy())
    assert_close(x.cumprod(2), torch.cumprod(t, 2).numpy(), rtol=1e-5)
    ti = torch.tensor(a > 0)
    assert T(a > 0).sum(1).dtype.name == str(ti.sum(1).dtype).split(".")[1]


def test_integer_sum_prod_and_scans_wrap_on_overflow_like_numpy():
    a = np.array([2**62, 2**62, 2**62, 7], dtype=np.int64)
    t = ember.from_numpy(a)
    with np.errstate(over="ignore"):
        assert t.sum().item() == int(a.sum())
        assert t.prod().item() == int(a.prod())
        np.testing.assert_array_equal(np.asarray(t.cumsum(0)), np.cumsum(a))
        np.testing.assert_array_equal(np.asarray(t.cumprod(0)), np.cumprod(a))
