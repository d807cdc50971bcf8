"""Winograd F(4x4, 3x3) conv2d (float32, 3x3, stride 1): forward, input and weight gradients
against the float64 direct-loop reference of test_conv.py on every CPU capability, odd and even
sizes (partial edge tiles), symmetric, per-side and > 2 paddings, one and two threads; the
"auto" choice against im2col; the algorithm switch; shapes it must leave to im2col.

Tolerance: Winograd's transforms have entries up to 5 (B), 8 (A) and 1/24 (G), so float32
rounding in the transformed domain reaches the output amplified: over the shapes here the
largest error is 6e-6 of the result's largest magnitude (forward, input and weight gradient
alike; im2col: 7e-7). The tests allow 1e-4 of it (WINO_TOL), 17x headroom, yet a wrong
transform coefficient, tile offset or flipped filter is an O(1) relative error, which
test_tolerance_catches_wrong_results checks."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember import _C
from test_conv import ref_conv, ref_grads

WINO_TOL = 1e-4
S, D = [1, 1], [1, 1]

# (N, C, O, H, W, padding (top, bottom, left, right))
SHAPES = [
    (1, 1, 1, 3, 3, (0, 0, 0, 0)),  # a single output: one tile, 15 of 16 outputs dropped
    (2, 3, 5, 4, 4, (1, 1, 1, 1)),
    (5, 16, 17, 7, 6, (2, 2, 2, 2)),
    (3, 17, 16, 13, 14, (1, 0, 2, 1)),
    (2, 32, 64, 14, 14, (0, 0, 0, 0)),  # the benchmark's second MNIST layer, N smaller
    (1, 16, 3, 5, 5, (2, 1, 0, 2)),
    (4, 3, 16, 6, 7, (1, 1, 0, 0)),
    (2, 1, 16, 13, 13, (0, 2, 1, 0)),
    (1, 4, 4, 6, 6, (3, 0, 1, 3)),  # padding > 2: the input gradient crops instead of pads
    (1, 64, 17, 56, 56, (1, 1, 1, 1)),  # the ResNet stage (fewer output channels, N 1)
    # At least 8 tiles wide: AVX-512 goes in runs of 16 tiles along a row (here 16 + 2, 11).
    (2, 5, 16, 9, 70, (1, 0, 2, 1)),
    (1, 3, 4, 6, 40, (0, 3, 3, 0)),
]


@pytest.fixture
def algorithm():
    """Sets the conv algorithm for the test and restores the previous one."""
    before = _C.get_conv_algorithm()
    yield _C.set_conv_algorithm
    _C.set_conv_algorithm(before)


def _data(rng, n, c, o, h, w, p):
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    ho, wo = h + p[0] + p[1] - 2, w + p[2] + p[3] - 2
    gy = rng.standard_normal((n, o, ho, wo)).astype(np.float32)
    return x, wt, b, gy


def _assert_wino_close(got, want):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape
    scale = max(np.abs(want).max(), 1e-30) if want.size else 1.0
    err = np.abs(got - want).max() if want.size else 0.0
    assert err <= WINO_TOL * scale, f"max error {err:.3g} over {WINO_TOL:g} * {scale:.3g}"


def _forward(x, wt, b, p):
    bias = None if b is None else ember.tensor(b)
    return _C.conv2d(ember.tensor(x), ember.tensor(wt), bias, S, list(p), D, 1).numpy()


def _input_grad(gy, x, wt, p):
    gx = _C.conv2d_backward(ember.tensor(gy), ember.tensor(x), ember.tensor(wt), S, list(p), D,
                            1, True, False, False)[0]
    return gx.numpy()


def _weight_grad(gy, x, wt, p):
    gw = _C.conv2d_backward(ember.tensor(gy), ember.tensor(x), ember.tensor(wt), S, list(p), D,
                            1, False, True, False)[1]
    return gw.numpy()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_forward_every_capability(shape, bias, capability, algorithm, rng):
    algorithm("winograd")
    n, c, o, h, w, p = shape
    x, wt, b, _ = _data(rng, *shape)
    b = b if bias else None
    _assert_wino_close(_forward(x, wt, b, p),
                       ref_conv(x.astype(np.float64), wt.astype(np.float64),
                                None if b is None else b.astype(np.float64), S, p, D))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_input_grad_every_capability(shape, capability, algorithm, rng):
    algorithm("winograd")
    x, wt, _, gy = _data(rng, *shape)
    p = shape[5]
    want = ref_grads(gy.astype(np.float64), x.astype(np.float64), wt.astype(np.float64), S, p,
                     D)[0]
    _assert_wino_close(_input_grad(gy, x, wt, p), want)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_weight_grad_every_capability(shape, capability, algorithm, rng):
    algorithm("winograd")
    x, wt, _, gy = _data(rng, *shape)
    p = shape[5]
    want = ref_grads(gy.astype(np.float64), x.astype(np.float64), wt.astype(np.float64), S, p,
                     D)[1]
    _assert_wino_close(_weight_grad(gy, x, wt, p), want)


def _random_shapes(count, seed=1):
    r = np.random.default_rng(seed)
    for _ in range(count):
        n = int(r.integers(1, 6))
        c, o = (int(v) for v in r.choice([1, 3, 16, 17, 64], 2))
        h, w = (int(v) for v in r.choice([3, 4, 5, 6, 7, 13, 14, 33], 2))
        yield n, c, o, h, w, tuple(int(v) for v in r.integers(0, 3, 4))


@pytest.mark.parametrize("shape", list(_random_shapes(24)), ids=str)
def test_random_shapes(shape, algorithm, rng):
    algorithm("winograd")
    x, wt, b, gy = _data(rng, *shape)
    p = shape[5]
    x64, w64 = x.astype(np.float64), wt.astype(np.float64)
    want = ref_grads(gy.astype(np.float64), x64, w64, S, p, D)
    _assert_wino_close(_forward(x, wt, b, p), ref_conv(x64, w64, b.astype(np.float64), S, p, D))
    _assert_wino_close(_input_grad(gy, x, wt, p), want[0])
    _assert_wino_close(_weight_grad(gy, x, wt, p), want[1])


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_and_tile_blocks(threads, algorithm, rng):
    # 8 * 7 * 7 = 392 tiles: several blocks, split over the threads, the last one partial.
    algorithm("winograd")
    shape = (8, 16, 24, 27, 26, (1, 1, 0, 1))
    x, wt, b, gy = _data(rng, *shape)
    p = shape[5]
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        y, gx = _forward(x, wt, b, p), _input_grad(gy, x, wt, p)
        gw = _weight_grad(gy, x, wt, p)
    finally:
        ember.set_num_threads(before)
    x64, w64 = x.astype(np.float64), wt.astype(np.float64)
    _assert_wino_close(y, ref_conv(x64, w64, b.astype(np.float64), S, p, D))
    want = ref_grads(gy.astype(np.float64), x64, w64, S, p, D)
    _assert_wino_close(gx, want[0])
    _assert_wino_close(gw, want[1])


def test_tolerance_catches_wrong_results(algorithm, rng):
    algorithm("winograd")
    shape = (2, 16, 16, 13, 14, (1, 1, 1, 1))
    x, wt, b, _ = _data(rng, *shape)
    y = _forward(x, wt, b, shape[5])
    x64, w64, b64 = x.astype(np.float64), wt.astype(np.float64), b.astype(np.float64)
    # A flipped filter, and one output tile shifted by a pixel, are both far outside it.
    with pytest.raises(AssertionError):
        _assert_wino_close(y, ref_conv(x64, w64[:, :, ::-1, ::-1], b64, S, shape[5], D))
    want = ref_conv(x64, w64, b64, S, shape[5], D)
    bad = want.copy()
    bad[0, 3, 4:8, 4:8] = want[0, 3, 5:9, 4:8]
    with pytest.raises(AssertionError):
        _assert_wino_close(bad, want)
    _assert_wino_close(y, want)


@pytest.mark.parametrize("shape", [SHAPES[3], SHAPES[4], (3, 16, 16, 9, 9, (1, 1, 1, 1))],
                         ids=str)
def test_auto_agrees_with_im2col(shape, algorithm, rng):
    x, wt, b, gy = _data(rng, *shape)
    p = list(shape[5])
    got = {}
    for name in ("auto", "im2col", "winograd"):
        algorithm(name)
        args = (ember.tensor(x), ember.tensor(wt))
        y = _C.conv2d(*args, ember.tensor(b), S, p, D, 1).numpy()
        grads = _C.conv2d_backward(ember.tensor(gy), *args, S, p, D, 1, True, True, True)
        got[name] = [y] + [g.numpy() for g in grads]
    for a, b_ in zip(got["auto"], got["im2col"], strict=True):
        _assert_wino_close(a, b_.astype(np.float64))
    for a, b_ in zip(got["winograd"], got["im2col"], strict=True):
        _assert_wino_close(a, b_.astype(np.float64))
    # The bias gradient is the same reduction under every setting.
    np.testing.assert_array_equal(got["winograd"][3], got["im2col"][3])


# (stride, padding, dilation, groups, kernel): not for Winograd, im2col even when forced.
OTHERS = [
    ((2, 2), (1, 1, 1, 1), (1, 1), 1, 3),
    ((1, 1), (1, 1, 1, 1), (2, 2), 1, 3),
    ((1, 1), (1, 1, 1, 1), (1, 1), 2, 3),
    ((1, 1), (2, 2, 2, 2), (1, 1), 1, 5),
    ((1, 2), (0, 0, 0, 0), (1, 1), 1, 3),
]


@pytest.mark.parametrize("case", OTHERS, ids=str)
def test_forced_winograd_leaves_other_convolutions_exact(case, algorithm, rng):
    s, p, d, g, k = case
    algorithm("winograd")
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    wt = rng.standard_normal((4, 4 // g, k, k)).astype(np.float32)
    y = _C.conv2d(ember.tensor(x), ember.tensor(wt), None, list(s), list(p), list(d), g)
    want = ref_conv(x.astype(np.float64), wt.astype(np.float64), None, s, p, d)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


def test_float64_stays_exact(algorithm, rng):
    algorithm("winograd")
    shape = (2, 16, 16, 9, 9, (1, 1, 1, 1))
    x, wt, b, gy = (a.astype(np.float64) for a in _data(rng, *shape))
    p = shape[5]
    np.testing.assert_allclose(_forward(x, wt, b, p), ref_conv(x, wt, b, S, p, D), rtol=1e-12,
                               atol=1e-12)
    want = ref_grads(gy, x, wt, S, p, D)
    np.testing.assert_allclose(_input_grad(gy, x, wt, p), want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_weight_grad(gy, x, wt, p), want[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,o", [(0, 16), (2, 0)])
def test_empty(n, o, algorithm):
    algorithm("winograd")
    x = np.ones((n, 16, 6, 6), np.float32)
    wt = np.ones((o, 16, 3, 3), np.float32)
    gy = np.ones((n, o, 4, 4), np.float32)
    assert _forward(x, wt, None, (0, 0, 0, 0)).shape == (n, o, 4, 4)
    np.testing.assert_array_equal(_input_grad(gy, x, wt, (0, 0, 0, 0)), np.zeros_like(x))
    np.testing.assert_array_equal(_weight_grad(gy, x, wt, (0, 0, 0, 0)), np.zeros_like(wt))


def test_non_contiguous_input(algorithm, rng):
    algorithm("winograd")
    x = rng.standard_normal((2, 16, 10, 9)).astype(np.float32)
    wt = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    xt = ember.tensor(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3)
    y = _C.conv2d(xt, ember.tensor(wt), None, S, [1, 1, 1, 1], D, 1).numpy()
    _assert_wino_close(y, ref_conv(x.astype(np.float64), wt.astype(np.float64), None, S,
                                   (1, 1, 1, 1), D))


def test_switch(algorithm):
    for name in ("im2col", "winograd", "auto"):
        algorithm(name)
        assert _C.get_conv_algorithm() == name
    with pytest.raises(ValueError, match=r"^\[set_conv_algorithm\].*'fft'"):
        _C.set_conv_algorithm("fft")
    assert _C.get_conv_algorithm() == "auto"
