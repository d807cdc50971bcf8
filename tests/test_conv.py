"""conv1d / conv2d / conv_transpose2d: the _C kernels against a NumPy float64 direct-loop
reference (forward and the three gradients) over shapes, strides, asymmetric paddings,
dilations and groups (depthwise and 1x1 included), every CPU capability and both the single
and the split-batch threading paths; gradcheck and gradgradcheck; the adjoint identity of
conv_transpose2d; PyTorch parity; the layers; error messages."""

from __future__ import annotations

import math

import ember
import numpy as np
import pytest
from conftest import assert_close
from ember import _C
from ember.autograd import gradcheck, gradgradcheck
from ember.nn._conv import conv1d, conv2d, conv_transpose2d
from ember.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d


def _out(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _taps(xp, w, s, d, ho, wo):
    """(i, j, output channel slice, input patch index) for every group and kernel tap."""
    n, c = xp.shape[:2]
    o, cg, kh, kw = w.shape
    groups = c // cg
    og = o // groups
    for gi in range(groups):
        cs, os_ = slice(gi * cg, (gi + 1) * cg), slice(gi * og, (gi + 1) * og)
        for i in range(kh):
            for j in range(kw):
                hs = slice(i * d[0], i * d[0] + s[0] * (ho - 1) + 1, s[0])
                ws = slice(j * d[1], j * d[1] + s[1] * (wo - 1) + 1, s[1])
                yield i, j, os_, (slice(None), cs, hs, ws)


def ref_conv(x, w, b, s, p, d):
    """Direct loop over groups and kernel taps; p = (top, bottom, left, right)."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[1]), (p[2], p[3])))
    ho = _out(x.shape[2], w.shape[2], s[0], p[0], p[1], d[0])
    wo = _out(x.shape[3], w.shape[3], s[1], p[2], p[3], d[1])
    y = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i, j, os_, sl in _taps(xp, w, s, d, ho, wo):
        y[:, os_] += np.einsum("nchw,oc->nohw", xp[sl], w[os_, :, i, j])
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def ref_grads(gy, x, w, s, p, d):
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[1]), (p[2], p[3])))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    ho, wo = gy.shape[2:]
    for i, j, os_, sl in _taps(xp, w, s, d, ho, wo):
        gxp[sl] += np.einsum("nohw,oc->nchw", gy[:, os_], w[os_, :, i, j])
        gw[os_, :, i, j] = np.einsum("nohw,nchw->oc", gy[:, os_], xp[sl])
    gx = gxp[:, :, p[0]:p[0] + x.shape[2], p[2]:p[2] + x.shape[3]]
    return gx, gw, gy.sum((0, 2, 3))


# (N, C, H, W, O, kh, kw, stride, padding(4), dilation, groups)
CASES = [
    (2, 3, 7, 6, 4, 3, 3, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (3, 4, 9, 8, 6, 3, 2, (2, 1), (1, 0, 2, 1), (1, 2), 2),
    (1, 2, 5, 5, 3, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1),  # 1x1: plain GEMM
    (3, 6, 6, 7, 4, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 2),  # 1x1 grouped
    (2, 4, 7, 7, 8, 1, 1, (2, 2), (1, 0, 0, 1), (1, 1), 1),  # 1x1 strided and padded
    (2, 5, 8, 9, 5, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 5),  # depthwise
    (3, 3, 9, 7, 6, 3, 3, (2, 3), (2, 1, 0, 3), (2, 1), 3),  # depthwise, multiplier 2
    (2, 2, 11, 4, 3, 4, 2, (3, 1), (0, 2, 1, 0), (2, 3), 1),
    (4, 4, 5, 5, 4, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1), 4),
    (0, 3, 5, 5, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),  # empty batch
    (2, 1, 1, 129, 3, 1, 7, (1, 2), (0, 0, 3, 3), (1, 1), 1),  # 1-d shaped
    (5, 8, 6, 6, 12, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 4),
    (3, 2, 30, 30, 3, 3, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1),  # 2 images per GEMM, then 1
    (2, 3, 40, 37, 4, 3, 3, (1, 1), (1, 2, 0, 1), (2, 1), 1),
    (1, 2, 70, 40, 3, 3, 3, (2, 1), (1, 1, 1, 1), (1, 1), 1),
    (2, 32, 24, 23, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),  # deep: bands of output rows
    (2, 32, 41, 30, 3, 3, 3, (2, 1), (1, 0, 1, 1), (1, 1), 1),  # strided bands
]


def _run(case, rng, dtype, bias, threads):
    n, c, h, w_, o, kh, kw, s, p, d, g = case
    x = rng.standard_normal((n, c, h, w_))
    w = rng.standard_normal((o, c // g, kh, kw))
    b = rng.standard_normal(o) if bias else None
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        y = _C.conv2d(ember.tensor(x).to(dtype), ember.tensor(w).to(dtype),
                      None if b is None else ember.tensor(b).to(dtype), list(s), list(p),
                      list(d), g)
        gy = rng.standard_normal(tuple(y.shape))
        grads = _C.conv2d_backward(ember.tensor(gy).to(dtype), ember.tensor(x).to(dtype),
                                   ember.tensor(w).to(dtype), list(s), list(p), list(d), g,
                                   True, True, bias)
    finally:
        ember.set_num_threads(before)
    return x, w, b, y, gy, grads


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_conv2d_matches_reference(case, bias, threads, rng):
    x, w, b, y, gy, (gx, gw, gb) = _run(case, rng, ember.float64, bias, threads)
    s, p, d = case[7], case[8], case[9]
    assert_close(y, ref_conv(x, w, b, s, p, d))
    rx, rw, rb = ref_grads(gy, x, w, s, p, d)
    assert_close(gx, rx)
    assert_close(gw, rw, rtol=1e-11, atol=1e-11)
    if bias:
        assert_close(gb, rb)
    else:
        assert gb is None


@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[6], CASES[11]])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_conv2d_dtypes_every_capability(case, dtype, capability, rng):
    dt = getattr(ember, dtype)
    x, w, b, y, gy, (gx, gw, gb) = _run(case, rng, dt, True, 2)
    assert y.dtype is dt and gx.dtype is dt and gw.dtype is dt
    r = {"float32": 1e-5, "float16": 2e-2, "bfloat16": 1e-1}[dtype]

    def rounded(a):
        return np.asarray(ember.tensor(a).to(dt).double())

    s, p, d = case[7], case[8], case[9]
    xr, wr, br, gyr = rounded(x), rounded(w), rounded(b), rounded(gy)
    scale = math.sqrt(w[0].size)
    assert_close(y, ref_conv(xr, wr, br, s, p, d), rtol=r, atol=r * scale)
    rx, rw, rb = ref_grads(gyr, xr, wr, s, p, d)
    assert_close(gx, rx, rtol=r, atol=r * scale)
    assert_close(gw, rw, rtol=r, atol=r * math.sqrt(gy.size / gy.shape[1]) * 2)
    assert_close(gb, rb, rtol=r, atol=r * math.sqrt(gy.size / gy.shape[1]) * 2)


# Depthwise (groups == C, direct kernels): odd widths around the vector length (16 floats,
# 8 doubles) and its 4-vector blocks, channel multipliers, strides, dilations, padding wider
# than the kernel, per-side padding, a single image.
DEPTHWISE = [
    (2, 3, 5, 1, 3, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 3),  # width 1
    (1, 2, 6, 7, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2),  # multiplier 2, N=1
    (2, 3, 4, 15, 3, 3, 3, (1, 1), (0, 2, 1, 3), (1, 1), 3),  # per-side padding
    (2, 2, 5, 17, 2, 3, 3, (1, 1), (4, 4, 5, 5), (1, 1), 2),  # padding wider than the kernel
    (2, 2, 6, 57, 6, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2),  # 57: 4 vectors, the last short
    (1, 2, 5, 70, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2),  # a full 64-lane block and more
    (2, 3, 9, 33, 3, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1), 3),  # stride 2
    (2, 2, 9, 21, 4, 3, 3, (1, 2), (2, 2, 2, 2), (2, 2), 2),  # dilation 2, column stride 2
    (2, 2, 8, 19, 2, 3, 5, (3, 2), (0, 1, 2, 0), (1, 3), 2),  # stride 3, dilation 3
    (1, 2, 12, 12, 4, 7, 7, (2, 2), (3, 3, 3, 3), (1, 1), 2),  # 7x7 stride 2, multiplier 2
]


# Dense with few input channels and depth >= 27 (the direct kernel): output widths of 1 to 5
# vectors with a partial last one, 11 output channels (a block of 8, then one at a time).
DIRECT = [
    (2, 3, 9, 8, 11, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (1, 4, 6, 40, 11, 3, 3, (1, 1), (0, 1, 2, 0), (1, 1), 1),
    (2, 3, 7, 57, 9, 3, 3, (1, 1), (1, 1, 1, 1), (1, 2), 1),
    (1, 3, 5, 70, 8, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (2, 3, 30, 121, 11, 7, 7, (2, 2), (3, 3, 3, 3), (1, 1), 1),  # the stem, 61 wide
    (1, 2, 20, 33, 5, 5, 4, (3, 2), (4, 0, 1, 5), (2, 1), 1),
]


@pytest.mark.parametrize("case", DEPTHWISE + DIRECT)
@pytest.mark.parametrize("threads", [1, 2])
def test_direct_kernels_match_reference(case, threads, rng):
    x, w, b, y, gy, (gx, gw, gb) = _run(case, rng, ember.float64, True, threads)
    s, p, d = case[7], case[8], case[9]
    assert_close(y, ref_conv(x, w, b, s, p, d))
    rx, rw, rb = ref_grads(gy, x, w, s, p, d)
    assert_close(gx, rx)
    assert_close(gw, rw, rtol=1e-11, atol=1e-11)
    assert_close(gb, rb)


@pytest.mark.parametrize("case", [DEPTHWISE[1], DEPTHWISE[7]])
def test_depthwise_backward_one_gradient(case, rng):
    x, w, b, y, gy, (gx, gw, _) = _run(case, rng, ember.float64, False, 2)
    args = [ember.tensor(a) for a in (gy, x, w)] + [list(case[7]), list(case[8]),
                                                    list(case[9]), case[10]]
    only_x = _C.conv2d_backward(*args, True, False, False)
    only_w = _C.conv2d_backward(*args, False, True, False)
    assert only_x[1] is None and only_w[0] is None
    assert_close(only_x[0], np.asarray(gx), rtol=0, atol=0)
    assert_close(only_w[1], np.asarray(gw), rtol=0, atol=0)


@pytest.mark.parametrize("case", DEPTHWISE[2:] + DIRECT)
def test_direct_kernels_float32_every_capability(case, capability, rng):
    x, w, b, y, gy, (gx, gw, gb) = _run(case, rng, ember.float32, False, 2)
    s, p, d = case[7], case[8], case[9]
    assert_close(y, ref_conv(x, w, b, s, p, d), rtol=1e-5, atol=1e-5)
    rx, rw, _ = ref_grads(gy, x, w, s, p, d)
    assert_close(gx, rx, rtol=1e-5, atol=1e-5)
    assert_close(gw, rw, rtol=1e-5, atol=1e-4)


def test_conv2d_non_contiguous_inputs(rng):
    x = ember.tensor(rng.standard_normal((2, 6, 9, 3))).permute(0, 3, 1, 2)  # (2, 3, 6, 9)
    w = ember.tensor(rng.standard_normal((4, 3, 2, 5)))[:, :, :, ::2]
    y = conv2d(x, w, stride=(2, 1), padding=1)
    assert_close(y, ref_conv(np.asarray(x), np.asarray(w), None, (2, 1), (1, 1, 1, 1), (1, 1)))


# ---- Python API, autograd ------------------------------------------------------------------
def _param(rng, *shape):
    return ember.tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("kw", [dict(padding="same", dilation=(2, 1)), dict(stride=2, padding=1),
                                dict(groups=2, padding=(0, 1)), dict(padding="valid")])
def test_conv2d_gradcheck(kw, rng):
    x, w = _param(rng, 1, 2, 5, 4), _param(rng, 4, 2 // kw.get("groups", 1), 2, 3)
    b = _param(rng, 4)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **kw), (x, w, b))
    assert gradgradcheck(lambda x, w, b: conv2d(x, w, b, **kw), (x, w, b))


def test_conv1d_and_transpose_gradcheck(rng):
    x, w = _param(rng, 2, 2, 7), _param(rng, 3, 2, 3)
    assert gradcheck(lambda x, w: conv1d(x, w, stride=2, padding=1), (x, w))
    assert gradgradcheck(lambda x, w: conv1d(x, w, dilation=2, padding="same"), (x, w))
    xt, wt, bt = _param(rng, 1, 4, 3, 2), _param(rng, 4, 1, 3, 2), _param(rng, 2)
    f = lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1,  # noqa: E731
                                         output_padding=1, groups=2)
    assert gradcheck(f, (xt, wt, bt))
    assert gradgradcheck(f, (xt, wt, bt))


@pytest.mark.parametrize("s,p,op,d,g", [(1, 0, 0, 1, 1), (2, 1, 1, 1, 2), (3, 2, 1, 2, 1),
                                        (2, 0, 1, 2, 4)])
def test_conv_transpose2d_is_the_adjoint(s, p, op, d, g, rng):
    y = rng.standard_normal((2, 4, 4, 5))
    w = rng.standard_normal((4, 8 // g, 3, 2))
    t = np.asarray(conv_transpose2d(ember.tensor(y), ember.tensor(w), stride=s, padding=p,
                                    output_padding=op, groups=g, dilation=d))
    x = rng.standard_normal(t.shape)
    cx = ref_conv(x, w, None, (s, s), (p, p, p, p), (d, d))
    assert cx.shape == y.shape
    assert math.isclose(np.vdot(cx, y), np.vdot(x, t), rel_tol=1e-11)


# ---- PyTorch parity --------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(padding="same"),
                                dict(padding="same", dilation=2), dict(groups=3, padding=2),
                                dict(groups=6, stride=(2, 1))])
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_torch_parity_conv(kw, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for dims, f, tf in [(2, conv2d, F.conv2d), (1, conv1d, F.conv1d)]:
        spatial = (7, 6)[:dims] if dims == 2 else (9,)
        x = rng.standard_normal((2, 6) + spatial)
        w = rng.standard_normal((12, 6 // kw.get("groups", 1)) + (4, 3)[:dims])
        b = rng.standard_normal(12)
        kwd = {k: (v[:dims] if isinstance(v, tuple) else v) for k, v in kw.items()}
        ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ey, ty = f(ex, ew, eb, **kwd), tf(tx, tw, tb, **kwd)
        assert_close(ey, ty.detach().numpy())
        gy = rng.standard_normal(tuple(ty.shape))
        ey.backward(ember.tensor(gy))
        ty.backward(torch.tensor(gy))
        for e, t in [(ex, tx), (ew, tw), (eb, tb)]:
            assert_close(e.grad, t.grad.numpy(), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("s,p,op,g,d", [(1, 0, 0, 1, 1), (2, 1, 1, 2, 1), (3, 1, 2, 1, 2)])
def test_torch_parity_conv_transpose2d(s, p, op, g, d, rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 4, 5, 3)), rng.standard_normal((4, 6 // g, 3, 2)), \
        rng.standard_normal(6)
    ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    kw = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    ey = conv_transpose2d(ex, ew, eb, **kw)
    ty = torch.nn.functional.conv_transpose2d(tx, tw, tb, **kw)
    assert_close(ey, ty.detach().numpy())
    gy = rng.standard_normal(tuple(ty.shape))
    ey.backward(ember.tensor(gy))
    ty.backward(torch.tensor(gy))
    for e, t in [(ex, tx), (ew, tw), (eb, tb)]:
        assert_close(e.grad, t.grad.numpy(), rtol=1e-11, atol=1e-11)


def test_layers_match_torch(rng):
    torch = pytest.importorskip("torch")
    pairs = [(Conv2d(3, 8, 3, stride=2, padding=1, groups=1), torch.nn.Conv2d(3, 8, 3, 2, 1)),
             (Conv1d(4, 6, 5, padding="same", groups=2, bias=False),
              torch.nn.Conv1d(4, 6, 5, padding="same", groups=2, bias=False)),
             (ConvTranspose2d(4, 2, (3, 2), stride=2, output_padding=1),
              torch.nn.ConvTranspose2d(4, 2, (3, 2), stride=2, output_padding=1))]
    for m, tm in pairs:
        assert repr(m) == repr(tm)
        assert m.weight.shape == tuple(tm.weight.shape)
        bound = 1 / math.sqrt(m.weight[0].numel()) if not isinstance(m, ConvTranspose2d) \
            else 1 / math.sqrt(tm.weight.shape[1] * 6)
        assert float(m.weight.abs().max()) <= bound + 1e-7
        m.double()
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(np.asarray(m.weight.detach())))
            if tm.bias is not None:
                tm.bias.copy_(torch.tensor(np.asarray(m.bias.detach())))
        tm.double()
        x = rng.standard_normal((2, tm.weight.shape[1] * tm.groups if not isinstance(
            m, ConvTranspose2d) else tm.in_channels) + (5, 6)[:m._dims])
        assert_close(m(ember.tensor(x)).detach(), tm(torch.tensor(x)).detach().numpy())


# ---- errors ----------------------------------------------------------------------------------
def test_errors():
    x, w = ember.zeros(2, 4, 5, 5), ember.zeros(6, 2, 3, 3)
    geom = ([1, 1], [0, 0, 0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"\[conv2d\] expected a 4-d input"):
        _C.conv2d(ember.zeros(4, 5, 5), w, None, *geom, 2)
    with pytest.raises(ValueError, match=r"\[conv2d\] input of shape \(2, 4, 5, 5\) has 4 ch"):
        _C.conv2d(x, w, None, *geom, 1)
    with pytest.raises(ValueError, match=r"\[conv2d\] groups=4 does not divide the 6 output"):
        _C.conv2d(x, ember.zeros(6, 1, 3, 3), None, *geom, 4)
    with pytest.raises(ValueError, match=r"\[conv2d\] kernel of size \(7, 3\)"):
        _C.conv2d(x, w, None, [1, 1], [0, 0, 0, 0], [3, 1], 2)
    with pytest.raises(ValueError, match=r"\[conv2d\] stride and dilation must be positive"):
        _C.conv2d(x, w, None, [0, 1], [0, 0, 0, 0], [1, 1], 2)
    with pytest.raises(ValueError, match=r"\[conv2d\] padding must be non-negative"):
        _C.conv2d(x, w, None, [1, 1], [0, -1, 0, 0], [1, 1], 2)
    with pytest.raises(TypeError, match=r"\[conv2d\] expected floating point"):
        _C.conv2d(x.long(), w, None, *geom, 2)
    with pytest.raises(ValueError, match=r"\[conv2d\] expected a floating bias of shape \(6\)"):
        _C.conv2d(x, w, ember.zeros(5), *geom, 2)
    with pytest.raises(ValueError, match=r"\[conv2d\] grad_output"):
        _C.conv2d_backward(ember.zeros(2, 6, 4, 4), x, w, *geom, 2, True, True, True)
    with pytest.raises(ValueError, match=r"\[conv2d\] padding='same' is not supported"):
        conv2d(x, w, stride=2, padding="same", groups=2)
    with pytest.raises(ValueError, match=r"\[conv_transpose2d\] output_padding"):
        conv_transpose2d(ember.zeros(1, 6, 3, 3), w, stride=1, output_padding=1)
    with pytest.raises(ValueError, match=r"\[conv1d\] expected a 3-d input"):
        conv1d(x, w)


def test_layer_errors():
    m = Conv2d(3, 16, 3)
    with pytest.raises(ValueError, match=r"^Conv2d\(3, 16, kernel_size=\(3, 3\), stride=\(1, 1\)"
                                         r"\) expected input with 3 channels, got \(N, 4, H, W"):
        m(ember.zeros(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"expected a 4-d input \(N, C, H, W\), got \(3, 8, 8\)"):
        m(ember.zeros(3, 8, 8))
    with pytest.raises(ValueError, match=r"Conv1d\(2, 4.*expected input with 2 channels"):
        Conv1d(2, 4, 3)(ember.zeros(1, 3, 9))
    with pytest.raises(ValueError, match=r"kernel of size \(3, 3\).*larger than the padded"):
        m(ember.zeros(1, 3, 2, 8))
    with pytest.raises(NotImplementedError, match=r"\[Conv2d\] padding_mode='reflect'"):
        Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"\[Conv2d\] groups=2"):
        Conv2d(3, 4, 3, groups=2)


@pytest.mark.parametrize("shape", [(9, 3, 12, 12, 8, 3), (7, 16, 9, 9, 16, 3),
                                   (5, 2, 20, 20, 4, 5)])
def test_backward_is_deterministic_across_threads_timing(shape: tuple[int, ...]) -> None:
    # The weight gradient sums one partial per thread; which images a partial holds must not
    # depend on thread timing, or two identical runs (a run and its resumed copy) diverge.
    n, c, h, w, o, k = shape
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((n, c, h, w), dtype=np.float32))
    wt = ember.tensor(rng.standard_normal((o, c, k, k), dtype=np.float32))
    gy = ember.tensor(rng.standard_normal((n, o, h - k + 1, w - k + 1), dtype=np.float32))
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        runs = [[t.numpy() for t in _C.conv2d_backward(gy, x, wt, [1, 1], [0, 0, 0, 0], [1, 1],
                                                        1, True, True, True)]
                for _ in range(6)]
    finally:
        ember.set_num_threads(before)
    for other in runs[1:]:
        for a, b in zip(runs[0], other, strict=True):
            np.testing.assert_array_equal(a, b)
