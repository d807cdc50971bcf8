"""Random numbers: Philox known answers, distributions (moments, KS), determinism, thread-count
and capability independence, generator state, and argument errors."""

from __future__ import annotations

import math

import ember
import numpy as np
import pytest
from ember import _C

FLOATS = [ember.float16, ember.bfloat16, ember.float32, ember.float64]


def _np(x):
    return np.asarray(x.float() if x.dtype is ember.bfloat16 else x).astype(np.float64)


def test_philox_known_answers():
    # Random123's kat_vectors for philox4x32_10.
    assert _C.philox4x32_10([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C,
                                                      0x9B00DBD8]
    assert _C.philox4x32_10([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2) == [
        0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    assert _C.philox4x32_10([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
                            [0xA4093822, 0x299F31D0]) == [0xD16CFE09, 0x94FDCCEB, 0x5001E420,
                                                          0x24126EA1]


def _ks_uniform(u):
    u = np.sort(u)
    n = len(u)
    return max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))


def _normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=lambda d: d.name)
def test_rand_is_uniform(dtype, capability):
    g = ember.Generator().manual_seed(1)
    u = _np(ember.rand(100_000, generator=g, dtype=dtype))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert _ks_uniform(u) < 1.63 / math.sqrt(len(u))  # KS at 1% significance


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=lambda d: d.name)
def test_randn_is_normal(dtype, capability):
    g = ember.Generator().manual_seed(2)
    z = _np(ember.randn(100_001, generator=g, dtype=dtype))  # odd: last pair half used
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.02
    assert abs(np.mean(z**3)) < 0.05 and abs(np.mean(z**4) - 3) < 0.1
    assert _ks_uniform(_normal_cdf(z[:20000])) < 1.63 / math.sqrt(20000)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_float_dtypes_and_shapes(dtype):
    x = ember.rand(3, 7, dtype=dtype)
    assert x.dtype is dtype and tuple(x.shape) == (3, 7)
    assert tuple(ember.randn((2, 0, 4), dtype=dtype).shape) == (2, 0, 4)
    assert tuple(ember.rand(()).shape) == ()
    y = ember.empty(129, dtype=dtype).uniform_(-2, 3)
    assert (_np(y) >= -2).all() and (_np(y) <= 3).all()
    n = _np(ember.empty(1000, dtype=dtype).normal_(5.0, 0.5))
    assert abs(n.mean() - 5) < 0.1 and abs(n.std() - 0.5) < 0.1


def test_seed_determinism_and_offset_advance():
    ember.manual_seed(123)
    a, b = ember.rand(10), ember.rand(10)
    ember.manual_seed(123)
    assert np.array_equal(np.asarray(ember.rand(10)), np.asarray(a))
    assert np.array_equal(np.asarray(ember.rand(10)), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(b))
    g = ember.Generator().manual_seed(5)
    ember.rand(9, generator=g)  # 9 float32 values: 3 blocks of 4
    assert g.get_state().tolist() == [5, 3]
    ember.randn(3, dtype=ember.float64, generator=g)  # 2 per block
    assert g.get_state().tolist() == [5, 5]


def test_element_depends_only_on_seed_offset_and_position():
    g = ember.Generator().manual_seed(9)
    long = np.asarray(ember.rand(1000, generator=g))
    g.manual_seed(9)
    short = np.asarray(ember.rand(40, generator=g))
    assert np.array_equal(long[:40], short)


@pytest.mark.parametrize("op", ["rand", "randn", "randint", "bernoulli", "randperm"])
def test_same_result_at_any_thread_count(op):
    def draw():
        g = ember.Generator().manual_seed(77)
        if op == "randint":
            return ember.randint(-5, 1 << 40, (300_001,), generator=g)
        if op == "bernoulli":
            return ember.bernoulli(ember.full((300_001,), 0.3), generator=g)
        if op == "randperm":
            return ember.randperm(100_000, generator=g)
        return getattr(ember, op)(300_001, generator=g)

    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = np.asarray(draw())
        ember.set_num_threads(2)
        two = np.asarray(draw())
    finally:
        ember.set_num_threads(before)
    assert np.array_equal(one, two)


def test_same_result_on_every_capability():
    results = []
    before = _C.cpu_capability()
    try:
        for cap in _C.available_capabilities():
            _C.set_cpu_capability(cap)
            g = ember.Generator().manual_seed(3)
            results.append(np.asarray(ember.randn(1001, dtype=ember.float64, generator=g)))
    finally:
        _C.set_cpu_capability(before)
    for r in results[1:]:
        assert np.array_equal(r, results[0])


@pytest.mark.parametrize("low, high", [(0, 7), (-3, 3), (-(1 << 62), 1 << 62), (5, 6)])
def test_randint_range_and_dtype(low, high):
    x = ember.randint(low, high, (20_000,))
    v = np.asarray(x)
    assert x.dtype is ember.int64 and v.min() >= low and v.max() < high
    if high - low <= 7:
        counts = np.bincount(v - low, minlength=high - low)
        assert (np.abs(counts / len(v) - 1 / (high - low)) < 0.02).all()
    y = ember.randint(10, (3, 4), dtype=ember.int32)
    assert y.dtype is ember.int32 and tuple(y.shape) == (3, 4) and np.asarray(y).max() < 10
    z = ember.randint_like(ember.zeros(5), 2, 4)
    assert z.dtype is ember.float32 and set(np.asarray(z).tolist()) <= {2.0, 3.0}


def test_bernoulli_rate():
    p = ember.tensor(np.linspace(0, 1, 5).repeat(20_000).reshape(5, -1))
    b = _np(ember.bernoulli(p))
    assert np.all(np.abs(b.mean(1) - np.linspace(0, 1, 5)) < 0.015)
    assert b[0].sum() == 0 and b[-1].sum() == b.shape[1]
    assert abs(_np(ember.bernoulli(ember.zeros(50_000), 0.25)).mean() - 0.25) < 0.01
    assert abs(_np(ember.zeros(10_000).bernoulli_(0.7)).mean() - 0.7) < 0.02


def test_randperm_is_a_permutation():
    for n in (0, 1, 7, 1000):
        p = np.asarray(ember.randperm(n))
        assert sorted(p.tolist()) == list(range(n))
    assert ember.randperm(5, dtype=ember.int32).dtype is ember.int32


def test_normal_overloads():
    x = _np(ember.normal(3.0, 2.0, (50_000,)))
    assert abs(x.mean() - 3) < 0.05 and abs(x.std() - 2) < 0.05
    m = ember.tensor([0.0, 100.0])
    y = ember.normal(m, ember.tensor([[1e-6], [1e-6]]))
    assert tuple(y.shape) == (2, 2) and np.allclose(_np(y), [[0, 100], [0, 100]], atol=1e-3)
    assert tuple(ember.normal(0.0, ember.ones(3)).shape) == (3,)


def test_generator_state_round_trip_and_seed():
    g = ember.Generator("cpu").manual_seed(-1)  # negative seeds wrap to 64 bits
    assert g.initial_seed() == (1 << 64) - 1
    ember.rand(7, generator=g)
    state = g.get_state()
    a = np.asarray(ember.randn(5, generator=g))
    g.set_state(state)
    assert np.array_equal(np.asarray(ember.randn(5, generator=g)), a)
    s = g.seed()
    assert g.initial_seed() == s
    with pytest.raises(ValueError):
        g.set_state(ember.zeros(3))


def test_like_functions_keep_shape_and_dtype():
    t = ember.zeros(2, 3, dtype=ember.float64)
    for f in (ember.rand_like, ember.randn_like):
        y = f(t)
        assert y.dtype is ember.float64 and tuple(y.shape) == (2, 3)
    assert ember.rand_like(t, dtype=ember.float16).dtype is ember.float16


def test_noncontiguous_in_place_fill():
    base = ember.zeros(4, 6)
    base.T[::2].uniform_(1.0, 2.0)  # writes rows 0..3 of columns 0, 2, 4
    v = np.asarray(base)
    assert (v[:, ::2] >= 1).all() and (v[:, 1::2] == 0).all()


def test_errors():
    with pytest.raises(ValueError, match="high > low"):
        ember.randint(5, 5, (3,))
    with pytest.raises(ValueError, match="negative"):
        ember.rand(2, -1)
    with pytest.raises(ValueError, match="negative"):
        ember.randint(0, 3, (-2,))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ember.bernoulli(ember.full((3,), 1.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ember.bernoulli(ember.zeros(3), p=-0.1)
    with pytest.raises(ValueError, match="std"):
        ember.zeros(3).normal_(0.0, -1.0)
    with pytest.raises(ValueError, match="std"):
        ember.normal(0.0, -1.0, (2,))
    with pytest.raises(TypeError, match="floating"):
        ember.rand(3, dtype=ember.int64)
    with pytest.raises(ValueError, match="from <= to"):
        ember.zeros(2).uniform_(2.0, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        ember.randperm(-1)
    with pytest.raises(ValueError, match="64 bits"):
        ember.manual_seed(1 << 64)
