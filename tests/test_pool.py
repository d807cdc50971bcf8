"""Pooling and upsampling (csrc/cpu/pool.cpp, ember.nn._pool, the pooling / upsampling /
padding modules): NumPy float64 direct-loop references, every CPU capability, finite
differences of every backward (first and second order), PyTorch parity, error paths."""

from __future__ import annotations

import math

import ember
import numpy as np
import pytest
from conftest import assert_close, to_numpy
from ember import _C
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import _pool as P
from ember.nn.modules import padding as PadM
from ember.nn.modules import pooling as PoolM
from ember.nn.modules import upsampling as UpM

# ---- references ---------------------------------------------------------------------------

def out_size(n, k, p, s, d, ceil):
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    o = num // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def ref_max_pool(x, k, s, p, d, ceil):
    n, c, h, w = x.shape
    oh, ow = (out_size(h, k[i], p[i], s[i], d[i], ceil) for i, h in enumerate((h, w)))
    y = np.full((n, c, oh, ow), -np.inf)
    ind = np.zeros((n, c, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            taps = [(r, q) for r in range(i * s[0] - p[0], i * s[0] - p[0] + k[0] * d[0], d[0])
                    for q in range(j * s[1] - p[1], j * s[1] - p[1] + k[1] * d[1], d[1])
                    if 0 <= r < h and 0 <= q < w]
            vals = np.stack([x[:, :, r, q] for r, q in taps], -1)
            best = vals.argmax(-1)
            y[:, :, i, j] = vals.max(-1)
            ind[:, :, i, j] = np.array([r * w + q for r, q in taps])[best]
    return y, ind


def ref_avg_pool(x, k, s, p, ceil, include_pad, divisor):
    n, c, h, w = x.shape
    oh, ow = (out_size(h, k[i], p[i], s[i], 1, ceil) for i, h in enumerate((h, w)))
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
            padded = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            if r0 >= r1 or q0 >= q1:
                continue
            div = divisor or (padded if include_pad else (r1 - r0) * (q1 - q0))
            y[:, :, i, j] = x[:, :, r0:r1, q0:q1].sum((2, 3)) / div
    return y


def ref_adaptive(x, oh, ow, fn):
    h, w = x.shape[2:]
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * h // oh:-(-(i + 1) * h // oh), j * w // ow:-(-(j + 1) * w // ow)]
            y[:, :, i, j] = fn(win, axis=(2, 3))
    return y


def ref_nearest(x, oh, ow, scales=None):
    def src(o, n, sc):
        f = np.float32(1.0 / sc) if sc else np.float32(n) / np.float32(o)
        return [min(int(np.floor(np.float32(i) * f)), n - 1) for i in range(o)]
    h, w = x.shape[2:]
    sh, sw = scales or (None, None)
    return x[:, :, src(oh, h, sh)][:, :, :, src(ow, w, sw)]


def ref_bilinear(x, oh, ow, align, scales=None):
    def taps(o, n, sc):
        if align:
            s = (n - 1) / (o - 1) if o > 1 else 0.0
        else:
            s = 1.0 / sc if sc else n / o
        out = []
        for i in range(o):
            f = s * i if align else max(s * (i + 0.5) - 0.5, 0.0)
            i0 = min(int(f), n - 1)
            lam = min(max(f - i0, 0.0), 1.0)
            out.append((i0, min(i0 + 1, n - 1), 1 - lam, lam))
        return out
    h, w = x.shape[2:]
    sh, sw = scales or (None, None)
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i, (r0, r1, a0, a1) in enumerate(taps(oh, h, sh)):
        for j, (q0, q1, b0, b1) in enumerate(taps(ow, w, sw)):
            y[:, :, i, j] = (a0 * (b0 * x[:, :, r0, q0] + b1 * x[:, :, r0, q1])
                             + a1 * (b0 * x[:, :, r1, q0] + b1 * x[:, :, r1, q1]))
    return y


def random_window(rng, dilation=True):
    k = [int(v) for v in rng.integers(1, 5, 2)]
    s = [int(v) for v in rng.integers(1, 4, 2)]
    p = [int(rng.integers(0, kk // 2 + 1)) for kk in k]
    d = [int(v) for v in rng.integers(1, 3, 2)] if dilation else [1, 1]
    return k, s, p, d


def random_input(rng, k=(1, 1), d=(1, 1), dtype="float64"):
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)),
             int(rng.integers(d[0] * (k[0] - 1) + 1, 12)),
             int(rng.integers(d[1] * (k[1] - 1) + 1, 12)))
    x = rng.standard_normal(shape)
    return x, ember.tensor(x.astype(dtype))


# ---- forward against the references ---------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool2d_reference(dtype, capability, rng):
    for _ in range(12):
        k, s, p, d = random_window(rng)
        ceil = bool(rng.integers(2))
        xn, x = random_input(rng, k, d, dtype)
        y, ind = P.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
        yr, ir = ref_max_pool(xn.astype(dtype).astype(np.float64), k, s, p, d, ceil)
        assert_close(y, yr)
        np.testing.assert_array_equal(to_numpy(ind), ir)


def test_max_pool2d_fast_path_and_nan(capability, rng):
    xn = rng.standard_normal((3, 5, 9, 8))  # odd H: the last row is dropped
    xn[0, 0, 2, 3] = np.nan
    y, ind = P.max_pool2d(ember.tensor(xn), 2, return_indices=True)
    yr, ir = ref_max_pool(np.nan_to_num(xn, nan=np.inf), [2, 2], [2, 2], [0, 0], [1, 1], False)
    yr[np.isinf(yr)] = np.nan
    assert_close(y, yr)
    np.testing.assert_array_equal(to_numpy(ind), ir)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_avg_pool2d_reference(dtype, capability, rng):
    for _ in range(12):
        k, s, p, _ = random_window(rng, dilation=False)
        ceil, include = bool(rng.integers(2)), bool(rng.integers(2))
        div = int(rng.integers(1, 7)) if rng.integers(3) == 0 else None
        xn, x = random_input(rng, k, dtype=dtype)
        y = P.avg_pool2d(x, k, s, p, ceil, include, div)
        assert_close(y, ref_avg_pool(xn.astype(dtype).astype(np.float64), k, s, p, ceil,
                                     include, div))


@pytest.mark.parametrize("size", [(1, 1), (3, 4), (7, 5), (13, 2), (0, 3)])
def test_adaptive_pools_reference(size, capability, rng):
    xn = rng.standard_normal((2, 3, 7, 11))
    x = ember.tensor(xn)
    if 0 in size:
        assert tuple(P.adaptive_avg_pool2d(x, size).shape) == (2, 3) + size
        return
    assert_close(P.adaptive_avg_pool2d(x, size), ref_adaptive(xn, *size, np.mean))
    y, ind = P.adaptive_max_pool2d(x, size, return_indices=True)
    assert_close(y, ref_adaptive(xn, *size, np.max))
    flat = xn.reshape(2, 3, -1)
    assert_close(np.take_along_axis(flat, to_numpy(ind).reshape(2, 3, -1), 2).reshape(y.shape),
                 to_numpy(y))


@pytest.mark.parametrize("size,scale", [((14, 22), None), ((5, 3), None), ((7, 11), None),
                                        (None, 2.0), (None, (1.7, 0.6)), (None, 3)])
@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", False),
                                        ("bilinear", True)])
def test_interpolate_reference(size, scale, mode, align, capability, rng):
    xn = rng.standard_normal((2, 3, 7, 11))
    y = P.interpolate(ember.tensor(xn), size, scale, mode, align)
    if size is None:
        sc = scale if isinstance(scale, tuple) else (scale, scale)
        size = (math.floor(7 * sc[0]), math.floor(11 * sc[1]))
    else:
        sc = None
    want = (ref_nearest(xn, *size, sc) if mode == "nearest"
            else ref_bilinear(xn, *size, align, None if align else sc))
    assert_close(y, want)


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32])
def test_dtypes_unbatched_noncontiguous(dtype, rng):
    xn = rng.standard_normal((3, 10, 8))
    x = ember.tensor(xn).to(dtype)
    for fn in (lambda t: P.max_pool2d(t, 3, 2, 1), lambda t: P.avg_pool2d(t, 2),
               lambda t: P.adaptive_avg_pool2d(t, 3), lambda t: P.interpolate(
                   t.unsqueeze(0), scale_factor=2, mode="bilinear")[0]):
        y = fn(x)
        assert y.dtype is dtype
        want = fn(ember.tensor(to_numpy(x).astype(np.float64)))
        assert_close(y, to_numpy(want), dtype=dtype)
    xt = ember.tensor(rng.standard_normal((2, 9, 7, 3))).permute(0, 3, 1, 2)  # NHWC strides
    want = ref_max_pool(to_numpy(xt), [2, 2], [2, 2], [0, 0], [1, 1], False)[0]
    assert_close(P.max_pool2d(xt, 2), want)


# ---- gradients ----------------------------------------------------------------------------

GRAD_CASES = [
    lambda x: P.max_pool2d(x, 3, 2, 1),
    lambda x: P.max_pool2d(x, (2, 3), (1, 2), (1, 0), (2, 1), ceil_mode=True),
    lambda x: P.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: P.avg_pool2d(x, (2, 3), 1, (1, 1), divisor_override=4),
    lambda x: P.adaptive_avg_pool2d(x, (3, 4)),
    lambda x: P.adaptive_max_pool2d(x, (2, 5)),
    lambda x: P.interpolate(x, size=(11, 4)),
    lambda x: P.interpolate(x, scale_factor=1.7, mode="bilinear"),
    lambda x: P.interpolate(x, size=(3, 13), mode="bilinear", align_corners=True),
    lambda x: P.max_pool1d(x[0], 3, 2, 1),
    lambda x: P.avg_pool1d(x[0], 2, 1, 1),
    lambda x: P.adaptive_avg_pool1d(x[0], 3),
]


@pytest.mark.parametrize("case", range(len(GRAD_CASES)))
def test_backward_finite_differences(case, capability, rng):
    # distinct values keep max pooling away from ties, where it is not differentiable
    xn = rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7) / 10.0
    x = ember.tensor(xn, requires_grad=True)
    assert gradcheck(GRAD_CASES[case], (x,))
    assert gradgradcheck(GRAD_CASES[case], (x,))


def _torch_cases(torch):
    F = torch.nn.functional
    return [
        (lambda x: P.max_pool2d(x, 3, 2, 1, 1, True), lambda x: F.max_pool2d(x, 3, 2, 1, 1, True)),
        (lambda x: P.max_pool2d(x, 2, 1, 1, 2), lambda x: F.max_pool2d(x, 2, 1, 1, 2)),
        (lambda x: P.avg_pool2d(x, 3, 2, 1, True, False),
         lambda x: F.avg_pool2d(x, 3, 2, 1, True, False)),
        (lambda x: P.avg_pool2d(x, 4, 3, 2, True, True, 5),
         lambda x: F.avg_pool2d(x, 4, 3, 2, True, True, 5)),
        (lambda x: P.adaptive_avg_pool2d(x, (4, 6)), lambda x: F.adaptive_avg_pool2d(x, (4, 6))),
        (lambda x: P.adaptive_max_pool2d(x, (3, 7)),
         lambda x: F.adaptive_max_pool2d(x, (3, 7))),
        (lambda x: P.interpolate(x, (17, 5)), lambda x: F.interpolate(x, (17, 5))),
        (lambda x: P.interpolate(x, scale_factor=2.3),
         lambda x: F.interpolate(x, scale_factor=2.3)),
        (lambda x: P.interpolate(x, scale_factor=(0.5, 1.5), mode="bilinear"),
         lambda x: F.interpolate(x, scale_factor=(0.5, 1.5), mode="bilinear")),
        (lambda x: P.interpolate(x, (20, 13), mode="bilinear", align_corners=True),
         lambda x: F.interpolate(x, (20, 13), mode="bilinear", align_corners=True)),
        (lambda x: P.interpolate(x[0], scale_factor=1.5, mode="linear"),
         lambda x: F.interpolate(x[0], scale_factor=1.5, mode="linear")),
        (lambda x: P.max_pool1d(x[0], 3, 2, 1, ceil_mode=True),
         lambda x: F.max_pool1d(x[0], 3, 2, 1, ceil_mode=True)),
        (lambda x: P.avg_pool1d(x[0], 3, 2, 1, True, False),
         lambda x: F.avg_pool1d(x[0], 3, 2, 1, True, False)),
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_parity_forward_backward(dtype, rng):
    torch = pytest.importorskip("torch")
    for ours, theirs in _torch_cases(torch):
        xn = rng.standard_normal((2, 4, 9, 10)).astype(dtype)
        x = ember.tensor(xn, requires_grad=True)
        xt = torch.tensor(xn, requires_grad=True)
        y, yt = ours(x), theirs(xt)
        g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        assert_close(y, yt.detach().numpy())
        y.backward(ember.tensor(g))
        yt.backward(torch.tensor(g))
        assert_close(x.grad, xt.grad.numpy(), rtol=1e-5 if dtype == "float32" else None)


def test_torch_parity_indices(rng):
    torch = pytest.importorskip("torch")
    xn = rng.standard_normal((2, 3, 11, 9))
    _, ind = P.max_pool2d(ember.tensor(xn), 3, 2, 1, 2, True, return_indices=True)
    _, it = torch.nn.functional.max_pool2d(torch.tensor(xn), 3, 2, 1, 2, True, True)
    np.testing.assert_array_equal(to_numpy(ind), it.numpy())
    _, ind = P.max_pool1d(ember.tensor(xn[0]), 4, 3, 2, return_indices=True)
    _, it = torch.nn.functional.max_pool1d(torch.tensor(xn[0]), 4, 3, 2, return_indices=True)
    np.testing.assert_array_equal(to_numpy(ind), it.numpy())


def test_modules_match_torch(rng):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    pairs = [
        (PoolM.MaxPool2d(3, 2, 1, ceil_mode=True), nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (PoolM.MaxPool1d(2), nn.MaxPool1d(2)),
        (PoolM.AvgPool1d(3, padding=1), nn.AvgPool1d(3, padding=1)),
        (PoolM.AvgPool2d((2, 3), divisor_override=2), nn.AvgPool2d((2, 3), divisor_override=2)),
        (PoolM.AdaptiveAvgPool1d(4), nn.AdaptiveAvgPool1d(4)),
        (PoolM.AdaptiveAvgPool2d((None, 3)), nn.AdaptiveAvgPool2d((None, 3))),
        (PoolM.AdaptiveMaxPool2d(3), nn.AdaptiveMaxPool2d(3)),
        (UpM.Upsample(scale_factor=2, mode="bilinear"), nn.Upsample(scale_factor=2,
                                                                    mode="bilinear")),
        (UpM.UpsamplingNearest2d(size=(9, 4)), nn.UpsamplingNearest2d(size=(9, 4))),
        (UpM.UpsamplingBilinear2d(scale_factor=1.5), nn.UpsamplingBilinear2d(scale_factor=1.5)),
        (PadM.ZeroPad2d((1, 0, 2, 3)), nn.ZeroPad2d((1, 0, 2, 3))),
        (PadM.ConstantPad2d(2, -1.5), nn.ConstantPad2d(2, -1.5)),
        (PadM.ReflectionPad2d(2), nn.ReflectionPad2d(2)),
        (PadM.ReplicationPad2d((0, 1, 2, 3)), nn.ReplicationPad2d((0, 1, 2, 3))),
        (PadM.ReflectionPad1d(2), nn.ReflectionPad1d(2)),
    ]
    xn = rng.standard_normal((2, 3, 7, 8))
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        one_d = "1d" in type(ours).__name__
        x = xn[0] if one_d else xn
        assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)).numpy())


# ---- errors -------------------------------------------------------------------------------

def test_errors():
    x = ember.zeros(2, 3, 5, 5)
    with pytest.raises(ValueError, match=r"\[max_pool2d\].*\(2, 3\)"):
        P.max_pool2d(ember.zeros(2, 3), 2)
    with pytest.raises(ValueError, match=r"\[max_pool2d\].*too small"):
        P.max_pool2d(x, 6)
    with pytest.raises(ValueError, match=r"\[max_pool2d\].*half the kernel"):
        P.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"\[max_pool2d\] stride must be positive"):
        P.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"\[avg_pool2d\].*too small"):
        P.avg_pool2d(x, (1, 7))
    with pytest.raises(ValueError, match=r"\[avg_pool2d\] divisor_override"):
        P.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match=r"\[max_pool2d\].*int64"):
        P.max_pool2d(ember.zeros(2, 3, 4, 4, dtype=ember.int64), 2)
    with pytest.raises(ValueError, match=r"\[interpolate\] exactly one"):
        P.interpolate(x)
    with pytest.raises(ValueError, match=r"\[interpolate\] align_corners"):
        P.interpolate(x, 3, align_corners=True)
    with pytest.raises(NotImplementedError, match=r"\[interpolate\] mode 'bicubic'"):
        P.interpolate(x, 3, mode="bicubic")
    with pytest.raises(ValueError, match=r"\[max_pool2d_backward\] indices must be"):
        _C.max_pool2d_backward(ember.zeros(2, 3, 2, 2), ember.zeros(2, 3, 3, 3,
                                                                   dtype=ember.int64),
                               [2, 3, 5, 5])
    with pytest.raises(IndexError, match=r"\[max_pool2d_backward\] index 25"):
        _C.max_pool2d_backward(ember.zeros(1, 1, 1, 1), ember.full((1, 1, 1, 1), 25,
                                                                   dtype=ember.int64),
                               [1, 1, 5, 5])
    with pytest.raises(ValueError, match=r"\[avg_pool2d_backward\] grad_output of shape"):
        _C.avg_pool2d_backward(ember.zeros(2, 3, 3, 3), [2, 3, 5, 5], [2], [], [0], False,
                               True, None)
    with pytest.raises(ValueError, match=r"\[adaptive_avg_pool2d\].*zero"):
        P.adaptive_avg_pool2d(ember.zeros(2, 0, 4, 4), 2)


def test_empty_batch_and_odd_lengths(capability, rng):
    x = ember.zeros(0, 3, 6, 6, requires_grad=True)
    y = P.max_pool2d(x, 2) + P.avg_pool2d(x, 2) + P.adaptive_avg_pool2d(x, 3)
    assert tuple(y.shape) == (0, 3, 3, 3)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 6, 6)
    for shape in [(1, 1, 1, 129), (3, 2, 127, 1), (1, 4, 129, 127)]:
        xn = rng.standard_normal(shape)
        x = ember.tensor(xn, requires_grad=True)
        k = 1 if 1 in shape[2:] else 3
        y, ind = P.max_pool2d(x, k, 2, return_indices=True)
        yr, ir = ref_max_pool(xn, [k, k], [2, 2], [0, 0], [1, 1], False)
        assert_close(y, yr)
        np.testing.assert_array_equal(to_numpy(ind), ir)
        y.backward(ember.ones_like(y))
        planes = math.prod(shape[:2])
        want = np.zeros((planes, shape[2] * shape[3]))
        np.add.at(want, (np.arange(planes)[:, None], ir.reshape(planes, -1)), 1.0)
        assert_close(x.grad, want.reshape(shape))
        assert_close(P.interpolate(ember.tensor(xn), scale_factor=2),
                     ref_nearest(xn, 2 * shape[2], 2 * shape[3], (2.0, 2.0)))
