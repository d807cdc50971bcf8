"""The fused kernels behind softmax, log_softmax and cross_entropy (_C level, forward and
backward): float64 NumPy references over shapes, dims, strides and dtypes, every CPU
capability, finite differences of the forward, PyTorch parity, error paths."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from conftest import assert_close
from ember import _C

SHAPES = [(), (0,), (1,), (7,), (127,), (129,), (3, 0), (4, 7), (2, 3, 5), (2, 129, 3),
          (2, 3, 4, 5), (1, 7, 1)]
FLOATS = ["float64", "float32", "float16", "bfloat16"]


def tensor(a: np.ndarray, dtype: str | None = None) -> ember.Tensor:
    t = ember.tensor(np.array(a, order="C"))  # ascontiguousarray would make 0-d 1-d
    return t.to(getattr(ember, dtype)) if dtype else t


def np_log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return x.astype(np.float64)
    m = np.max(x, axis=dim, keepdims=True)
    return (x - m) - np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True))


def np_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    return np.exp(np_log_softmax(x, dim))


def rounded(x: np.ndarray, dtype: str) -> np.ndarray:
    """x as the kernel sees it after rounding to dtype, back in float64."""
    return np.asarray(tensor(x).to(getattr(ember, dtype)).double())


# ---- softmax / log_softmax ----------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_every_dim(shape, log, capability, rng):
    x = rng.standard_normal(shape) * 3
    op, ref = (_C.log_softmax, np_log_softmax) if log else (_C.softmax, np_softmax)
    for dim in range(-max(len(shape), 1), max(len(shape), 1)):
        for dt in ("float64", "float32"):
            got = op(tensor(x, dt), dim)
            assert got.dtype is getattr(ember, dt) and got.shape == shape
            axis = dim if shape else None
            want = ref(x, axis) if shape else np.asarray(0.0 if log else 1.0)
            assert_close(got, want, dtype=dt, atol=1e-5 if dt == "float32" else None)


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_dtypes(dt, log, rng):
    x = rounded(rng.standard_normal((5, 33)), dt)
    got = (_C.log_softmax if log else _C.softmax)(tensor(x, dt), 1)
    assert got.dtype is getattr(ember, dt)
    want = np_log_softmax(x, 1) if log else np_softmax(x, 1)
    assert_close(got, want, dtype=dt, atol=2e-2 if dt == "bfloat16" else None)


@pytest.mark.parametrize("dt", ["int64", "int32", "bool"])
def test_softmax_integer_input_promotes_to_float32(dt):
    x = np.arange(12).reshape(3, 4) % 3
    t = tensor(x).to(getattr(ember, dt))
    got = _C.softmax(t, -1)
    assert got.dtype is ember.float32
    assert_close(got, np_softmax(np.asarray(t.double()), -1))
    assert_close(_C.log_softmax(t, 0), np_log_softmax(np.asarray(t.double()), 0))


def test_softmax_non_contiguous(capability, rng):
    base = rng.standard_normal((6, 10, 9))
    t = tensor(base)
    views = {"transposed": (t.transpose(0, 2), np.swapaxes(base, 0, 2)),
             "sliced": (t[::2, 1:, ::3], base[::2, 1:, ::3]),
             "expanded": (t[:, :1, :].expand(6, 4, 9), np.broadcast_to(base[:, :1], (6, 4, 9)))}
    for v, a in views.values():
        for dim in range(3):
            assert_close(_C.softmax(v, dim), np_softmax(a, dim))
            assert_close(_C.log_softmax(v, dim), np_log_softmax(a, dim))


def test_softmax_extremes():
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, -np.inf, -np.inf], [np.inf, 0.0, 1.0],
                  [np.nan, 0.0, 1.0], [-np.inf, 0.0, 0.0]])
    for dt in ("float32", "float64"):
        s = np.asarray(_C.softmax(tensor(x, dt), 1))
        ls = np.asarray(_C.log_softmax(tensor(x, dt), 1))
        assert_close(s[0], np.array([1.0, 0.0, 0.0]))
        assert_close(ls[0], np.array([0.0, -1000.0, -2000.0]))
        assert np.isnan(s[1:4]).all() and np.isnan(ls[1:4]).all()
        assert_close(s[4], np.array([0.0, 0.5, 0.5]))
        assert ls[4, 0] == -np.inf and np.allclose(ls[4, 1:], np.log(0.5))


@pytest.mark.parametrize("shape, dim", [((4, 7), 1), ((4, 7), 0), ((2, 3, 5), 1), ((129,), 0),
                                        ((), 0), ((3, 0), 1), ((2, 70, 3), -2)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward_matches_finite_differences(shape, dim, log, capability, rng):
    fwd, bwd = ((_C.log_softmax, _C.log_softmax_backward) if log
                else (_C.softmax, _C.softmax_backward))
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    out = fwd(tensor(x), dim)
    got = bwd(tensor(g), out, dim)
    assert got.shape == shape and got.dtype is ember.float64
    if not x.size:
        return
    # d/dx of sum(g * f(x)), one central difference per element.
    num = np.zeros(x.size)
    h = 1e-6
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        up = np.asarray(fwd(tensor(x + e.reshape(shape)), dim))
        dn = np.asarray(fwd(tensor(x - e.reshape(shape)), dim))
        num[i] = np.sum(g * (up - dn)) / (2 * h)
    assert_close(got, num.reshape(shape), rtol=1e-6, atol=1e-7)
    # float32 gradients, from float32 outputs and a float64 grad (promoted).
    got32 = bwd(tensor(g), fwd(tensor(x, "float32"), dim), dim)
    assert got32.dtype is ember.float64
    assert_close(got32, num.reshape(shape), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", FLOATS)
def test_softmax_backward_dtypes(dt, rng):
    x, g = rng.standard_normal((3, 40)), rounded(rng.standard_normal((3, 40)), dt)
    s = _C.softmax(tensor(x, dt), -1)
    sd = np.asarray(s.double())
    got = _C.softmax_backward(tensor(g, dt), s, -1)
    assert got.dtype is getattr(ember, dt)
    tol = {"float16": 3e-3, "bfloat16": 3e-2}.get(dt)
    assert_close(got, sd * (g - np.sum(g * sd, -1, keepdims=True)), dtype=dt, atol=tol)
    ls = _C.log_softmax(tensor(x, dt), 0)
    lsd = np.asarray(ls.double())
    got = _C.log_softmax_backward(tensor(g, dt), ls, 0)
    assert_close(got, g - np.exp(lsd) * np.sum(g, 0, keepdims=True), dtype=dt, atol=tol)


def test_softmax_matches_torch(rng):
    torch = pytest.importorskip("torch")
    for shape, dim in [((8, 10), 1), ((2, 5, 3, 3), 1), ((4, 129), 0)]:
        x, g = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape)
        g = g.astype(np.float32)
        for log, f in [(False, torch.softmax), (True, torch.log_softmax)]:
            tx = torch.tensor(x, requires_grad=True)
            ty = f(tx, dim)
            ty.backward(torch.tensor(g))
            fwd = _C.log_softmax if log else _C.softmax
            bwd = _C.log_softmax_backward if log else _C.softmax_backward
            y = fwd(tensor(x), dim)
            assert_close(y, ty.detach().numpy(), atol=1e-6)
            assert_close(bwd(tensor(g), y, dim), tx.grad.numpy(), atol=1e-6)


def test_softmax_errors():
    x = tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"^\[softmax\] dim 2 out of range.*\(2, 3\)"):
        _C.softmax(x, 2)
    with pytest.raises(IndexError, match=r"^\[log_softmax\] dim -3"):
        _C.log_softmax(x, -3)
    with pytest.raises(IndexError, match=r"^\[softmax\]"):
        _C.softmax(tensor(np.float64(1.0)), 1)
    y = _C.softmax(x, 1)
    with pytest.raises(ValueError, match=r"^\[softmax_backward\] grad_output of shape \(3, 2\)"):
        _C.softmax_backward(tensor(np.zeros((3, 2))), y, 1)
    with pytest.raises(TypeError, match=r"^\[log_softmax_backward\] .*int64"):
        _C.log_softmax_backward(tensor(np.zeros((2, 3), np.int64)), y, 1)
    with pytest.raises(IndexError, match=r"^\[softmax_backward\] dim 5"):
        _C.softmax_backward(y, y, 5)


# ---- cross_entropy -------------------------------------------------------------------------
def np_cross_entropy(x, t, w, reduction, ignore_index, eps):
    """PyTorch's F.cross_entropy in float64 NumPy, per-row losses then the reduction."""
    cd = 0 if x.ndim == 1 else 1
    c = x.shape[cd]
    lp = np.moveaxis(np_log_softmax(x, cd), cd, -1)
    wv = np.ones(c) if w is None else w
    if np.issubdtype(t.dtype, np.floating):
        q = np.moveaxis(t, cd, -1) * (1 - eps) + eps / c
        per = -np.sum(lp * q * wv, -1)
        denom = per.size
    else:
        ign = t == ignore_index
        tc = np.where(ign, 0, t)
        wt = np.where(ign, 0.0, wv[tc] if c else 0.0)
        picked = np.take_along_axis(lp, tc[..., None], -1)[..., 0] if c else np.zeros(t.shape)
        smooth = np.where(ign, 0.0, -np.sum(lp * wv, -1))
        per = (1 - eps) * -wt * picked + eps / c * smooth
        denom = wt.sum()
    if reduction == "none":
        return per
    if reduction == "sum":
        return np.asarray(per.sum())
    return np.asarray(per.sum() / denom if denom else np.nan)


CE_CASES = [  # input shape, probability targets
    ((5, 7), False), ((4, 1), False), ((3, 129), False), ((7,), False), ((0, 4), False),
    ((2, 5, 3, 4), False), ((3, 6, 7), False), ((4, 127), True), ((6,), True), ((2, 5, 3, 2), True),
    ((0, 3), True),
]


def ce_inputs(rng, shape, prob, ignore=False):
    x = rng.standard_normal(shape) * 2
    cd = 0 if len(shape) == 1 else 1
    c = shape[cd]
    if prob:
        t = rng.random(shape)
        t /= t.sum(axis=cd, keepdims=True)
    else:
        t = rng.integers(0, c, size=shape[:cd] + shape[cd + 1:])
        if ignore and t.size:
            t.flat[1::2] = -100  # keeps one counted target
    return x, t, rng.random(c) + 0.5


@pytest.mark.parametrize("shape, prob", CE_CASES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_forward(shape, prob, reduction, capability, rng):
    x, t, w = ce_inputs(rng, shape, prob, ignore=True)
    for weight in (None, w):
        for eps in (0.0, 0.1, 1.0):
            want = np_cross_entropy(x, t, weight, reduction, -100, eps)
            for dt in ("float64", "float32"):
                got = _C.cross_entropy(tensor(x, dt), tensor(t),
                                       None if weight is None else tensor(weight, dt),
                                       reduction, -100, eps)
                assert got.dtype is getattr(ember, dt)
                assert_close(got, want, dtype=dt, atol=2e-5 if dt == "float32" else None)


def test_cross_entropy_index_variants(rng):
    x, t, w = ce_inputs(rng, (6, 5), False)
    want = np_cross_entropy(x, t, w, "none", -100, 0.2)
    assert_close(_C.cross_entropy(tensor(x), tensor(t.astype(np.int32)), tensor(w), "none",
                                  -100, 0.2), want)
    # ignore_index inside [0, C) ignores that class; the default -100 then needs no rows.
    t[:2] = 3
    for red in ("none", "mean", "sum"):
        assert_close(_C.cross_entropy(tensor(x), tensor(t), tensor(w), red, 3, 0.3),
                     np_cross_entropy(x, t, w, red, 3, 0.3))
    # every target ignored: 'mean' is NaN as in PyTorch, the others 0.
    t[:] = -100
    assert np.isnan(_C.cross_entropy(tensor(x), tensor(t), None, "mean", -100, 0.0).item())
    assert _C.cross_entropy(tensor(x), tensor(t), tensor(w), "sum", -100, 0.1).item() == 0
    assert (np.asarray(_C.cross_entropy(tensor(x), tensor(t), None, "none", -100, 0)) == 0).all()
    # defaults: weight None, 'mean', -100, no smoothing.
    assert_close(_C.cross_entropy(tensor(x), tensor(t[::-1] * 0 + 1)),
                 np_cross_entropy(x, np.ones(6, np.int64), None, "mean", -100, 0.0))


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_cross_entropy_half_types(dt, rng):
    x, t, w = ce_inputs(rng, (8, 33), False)
    x, w = rounded(x, dt), rounded(w, dt)
    for red in ("none", "mean"):
        got = _C.cross_entropy(tensor(x, dt), tensor(t), tensor(w, dt), red, -100, 0.1)
        assert got.dtype is getattr(ember, dt)
        assert_close(got, np_cross_entropy(x, t, w, red, -100, 0.1), dtype=dt)
        g = _C.cross_entropy_backward(tensor(np.ones(t.shape) if red == "none" else
                                             np.float64(1), dt), tensor(x, dt), tensor(t),
                                      tensor(w, dt), red, -100, 0.1)
        want = _C.cross_entropy_backward(tensor(np.ones(t.shape) if red == "none" else
                                                np.float64(1)), tensor(x), tensor(t), tensor(w),
                                         red, -100, 0.1)
        assert g.dtype is getattr(ember, dt) and g.shape == x.shape
        assert_close(g, np.asarray(want), dtype=dt)


def test_cross_entropy_non_contiguous(rng):
    x = rng.standard_normal((9, 6, 4))
    t = rng.integers(0, 6, (9,))
    xv = tensor(x).transpose(1, 2)[::2, 1:, :]  # (5, 3, 6) with C = 3, any strides
    xs = x.transpose(0, 2, 1)[::2, 1:, :]
    tt = rng.integers(0, 3, (5, 6))
    for red in ("none", "mean"):
        assert_close(_C.cross_entropy(xv, tensor(tt), None, red, -100, 0.1),
                     np_cross_entropy(xs, tt, None, red, -100, 0.1))
    xt = tensor(x[:, :, 0].T.copy()).t()  # (9, 6), transposed storage
    assert_close(_C.cross_entropy(xt, tensor(t), None, "none", -100, 0.0),
                 np_cross_entropy(x[:, :, 0], t, None, "none", -100, 0.0))


def numeric_grad(f, x, h=1e-6):
    g = np.zeros(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        g[i] = (f(x + e.reshape(x.shape)) - f(x - e.reshape(x.shape))) / (2 * h)
    return g.reshape(x.shape)


@pytest.mark.parametrize("shape, prob", [((5, 7), False), ((7,), False), ((2, 4, 3), False),
                                         ((3, 6), True), ((2, 3, 2, 2), True), ((4, 1), False)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_backward_matches_finite_differences(shape, prob, reduction, capability,
                                                           rng):
    x, t, w = ce_inputs(rng, shape, prob, ignore=True)
    loss_shape = np.asarray(np_cross_entropy(x, t, None, reduction, -100, 0)).shape
    g = rng.standard_normal(loss_shape)
    for weight, eps in [(None, 0.0), (w, 0.0), (None, 0.25), (w, 0.25)]:
        wt = None if weight is None else tensor(weight)

        def f(xx, wt=wt, eps=eps):
            out = np.asarray(_C.cross_entropy(tensor(xx), tensor(t), wt, reduction, -100, eps))
            return np.sum(out * g)
        got = _C.cross_entropy_backward(tensor(g), tensor(x), tensor(t), wt, reduction, -100, eps)
        assert got.shape == shape and got.dtype is ember.float64
        assert_close(got, numeric_grad(f, x), rtol=1e-6, atol=1e-8)


def test_cross_entropy_backward_all_ignored_is_zero():
    x, t = np.ones((3, 4)), np.full(3, -100)
    for red in ("none", "mean", "sum"):
        g = tensor(np.ones(3) if red == "none" else np.float64(1))
        got = _C.cross_entropy_backward(g, tensor(x), tensor(t), None, red, -100, 0.1)
        assert (np.asarray(got) == 0).all()


@pytest.mark.parametrize("shape, prob", [((16, 10), False), ((3, 5, 4, 2), False),
                                         ((6,), False), ((8, 9), True), ((2, 4, 3, 3), True)])
def test_cross_entropy_matches_torch(shape, prob, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, t, w = ce_inputs(rng, shape, prob, ignore=not prob)
    x, w = x.astype(np.float32), w.astype(np.float32)
    t = t.astype(np.float32) if prob else t
    for weight in (None, w):
        for eps in (0.0, 0.3):
            for red in ("none", "mean", "sum"):
                tx = torch.tensor(x, requires_grad=True)
                tw = None if weight is None else torch.tensor(weight)
                ty = F.cross_entropy(tx, torch.tensor(t), weight=tw, reduction=red,
                                     label_smoothing=eps)
                g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
                ty.backward(torch.tensor(g))
                ew = None if weight is None else tensor(weight)
                got = _C.cross_entropy(tensor(x), tensor(t), ew, red, -100, eps)
                assert_close(got, ty.detach().numpy(), atol=1e-5)
                gx = _C.cross_entropy_backward(tensor(g), tensor(x), tensor(t), ew, red, -100, eps)
                assert_close(gx, tx.grad.numpy(), atol=1e-6)


def test_cross_entropy_errors():
    x = tensor(np.zeros((4, 5), np.float32))
    t = tensor(np.array([0, 1, 7, 2]))
    with pytest.raises(IndexError, match=r"^\[cross_entropy\] target 7 is out of bounds"):
        _C.cross_entropy(x, t, None, "mean", -100, 0.0)
    with pytest.raises(IndexError, match=r"^\[cross_entropy\] target -1 "):
        _C.cross_entropy(x, tensor(np.array([0, -1, 0, 0])), None, "none", -100, 0.0)
    with pytest.raises(IndexError, match=r"^\[cross_entropy\] target 7"):
        _C.cross_entropy_backward(tensor(np.float32(1)), x, t, None, "mean", -100, 0.0)
    with pytest.raises(ValueError, match=r"^\[cross_entropy\] target of shape \(3,\) .*\(4, 5\)"):
        _C.cross_entropy(x, tensor(np.array([0, 1, 2])), None, "mean", -100, 0.0)
    with pytest.raises(ValueError, match=r"^\[cross_entropy\] probability target of shape"):
        _C.cross_entropy(x, tensor(np.zeros((4, 4), np.float32)), None, "mean", -100, 0.0)
    with pytest.raises(ValueError, match=r"^\[cross_entropy\] weight must be 1-D .*\(4,\)"):
        _C.cross_entropy(x, tensor(np.zeros(4, np.int64)), tensor(np.ones(4, np.float32)))
    with pytest.raises(TypeError, match=r"^\[cross_entropy\] expected a floating point weight"):
        _C.cross_entropy(x, tensor(np.zeros(4, np.int64)), tensor(np.ones(5, np.int64)))
    with pytest.raises(TypeError, match=r"^\[cross_entropy\] expected a floating point input"):
        _C.cross_entropy(tensor(np.zeros((4, 5), np.int64)), tensor(np.zeros((4, 5))))
    with pytest.raises(TypeError, match=r"^\[cross_entropy\] target must hold .*bool"):
        _C.cross_entropy(x, tensor(np.zeros(4, bool)))
    with pytest.raises(ValueError, match=r"^\[cross_entropy\] reduction must be"):
        _C.cross_entropy(x, tensor(np.zeros(4, np.int64)), None, "avg")
    with pytest.raises(ValueError, match=r"^\[cross_entropy\] label_smoothing must be in"):
        _C.cross_entropy(x, tensor(np.zeros(4, np.int64)), None, "mean", -100, 1.5)
    with pytest.raises(ValueError, match=r"^\[cross_entropy\] input must have at least 1 dim"):
        _C.cross_entropy(tensor(np.float32(1)), tensor(np.int64(0)))
    with pytest.raises(ValueError, match=r"^\[cross_entropy_backward\] grad_output of shape"):
        _C.cross_entropy_backward(tensor(np.ones(4, np.float32)), x,
                                  tensor(np.zeros(4, np.int64)), None, "mean", -100, 0.0)
    with pytest.raises(ValueError, match=r"^\[cross_entropy_backward\] grad_output of shape"):
        _C.cross_entropy_backward(tensor(np.ones(3, np.float32)), x,
                                  tensor(np.zeros(4, np.int64)), None, "none", -100, 0.0)


def test_kernel_tables_are_registered():
    tables = _C.kernels()
    for name in ("softmax_kernel", "softmax_backward_kernel", "cross_entropy_kernel",
                 "cross_entropy_backward_kernel"):
        assert set(_C.available_capabilities()) <= set(tables[name])
