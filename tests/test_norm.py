"""batch_norm, layer_norm, group_norm, instance_norm: the fused kernels (_C, forward and
backward) against float64 NumPy references on every CPU capability, running-statistic updates
(PyTorch's unbiased-variance rule), gradcheck / gradgradcheck of the functional ops, the
modules' state against PyTorch, and error paths."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from conftest import assert_close
from ember import _C
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import _norm as F
from ember.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from ember.nn.modules.normalization import (
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
    LocalResponseNorm,
)
from hypothesis import given, settings
from hypothesis import strategies as st

BN_SHAPES = [(5, 3), (2, 1), (4, 3, 7), (2, 3, 5, 6), (3, 129), (7, 2, 1, 9), (1, 4, 127)]


def tensor(a: np.ndarray, dtype: str | None = None) -> ember.Tensor:
    t = ember.tensor(np.array(a, order="C"))
    return t.to(getattr(ember, dtype)) if dtype else t


def leaf(a: np.ndarray) -> ember.Tensor:
    t = tensor(a)
    t.requires_grad_(True)
    return t


# ---- NumPy float64 references ------------------------------------------------------------
def np_bn(x, w, b, rm, rv, training, momentum, eps):
    """(y, mean, invstd, new running mean, new running var)."""
    axes = (0,) + tuple(range(2, x.ndim))
    bs = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axes), x.var(axes)
        m = x.size // x.shape[1]
        if rm is not None:
            rm = (1 - momentum) * rm + momentum * mean
            rv = (1 - momentum) * rv + momentum * var * m / (m - 1)
    else:
        mean, var = rm, rv
    invstd = 1 / np.sqrt(var + eps)
    y = (x - mean.reshape(bs)) * invstd.reshape(bs)
    if w is not None:
        y = y * w.reshape(bs)
    if b is not None:
        y = y + b.reshape(bs)
    return y, mean, invstd, rm, rv


def np_bn_backward(g, x, w, mean, invstd, training):
    axes = (0,) + tuple(range(2, x.ndim))
    bs = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    xhat = (x - mean.reshape(bs)) * invstd.reshape(bs)
    h = g * (1 if w is None else w.reshape(bs))
    gx = h * invstd.reshape(bs)
    if training:
        gx = invstd.reshape(bs) * (h - h.mean(axes, keepdims=True)
                                   - xhat * (h * xhat).mean(axes, keepdims=True))
    return gx, (g * xhat).sum(axes), g.sum(axes)


def np_rows(x, rows, w, b, eps, wshape):
    """Row norm over the last dim of x.reshape(rows): (y, mean, rstd)."""
    xr = x.reshape(rows)
    mean = xr.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(xr.var(-1, keepdims=True) + eps)
    y = ((xr - mean) * rstd).reshape(x.shape)
    if w is not None:
        y = y * w.reshape(wshape)
    if b is not None:
        y = y + b.reshape(wshape)
    return y, mean, rstd


def np_rows_backward(g, x, rows, w, eps, wshape, red_axes):
    xr = x.reshape(rows)
    mean = xr.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(xr.var(-1, keepdims=True) + eps)
    xhat = (xr - mean) * rstd
    h = (g * (1 if w is None else w.reshape(wshape))).reshape(rows)
    gx = rstd * (h - h.mean(-1, keepdims=True) - xhat * (h * xhat).mean(-1, keepdims=True))
    xh = xhat.reshape(x.shape)
    return gx.reshape(x.shape), (g * xh).sum(red_axes), g.sum(red_axes)


# ---- batch_norm kernels ------------------------------------------------------------------
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_kernel(shape, training, affine, capability, rng):
    if training and np.prod(shape) // shape[1] == 1:
        return  # an error, tested below
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 5  # an offset mean: a one-pass variance would lose it
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    rm0, rv0 = rng.standard_normal(c), rng.random(c) + 0.5
    rm, rv = tensor(rm0), tensor(rv0)
    y, mean, invstd = _C.batch_norm(tensor(x), None if w is None else tensor(w),
                                    None if b is None else tensor(b), rm, rv, training, 0.3,
                                    1e-5)
    ry, rmean, rinv, rrm, rrv = np_bn(x, w, b, rm0, rv0, training, 0.3, 1e-5)
    assert_close(y, ry, rtol=1e-10, atol=1e-10)
    assert_close(mean, rmean, rtol=1e-10, atol=1e-10)
    assert_close(invstd, rinv, rtol=1e-10, atol=1e-10)
    assert_close(rm, rrm, rtol=1e-10, atol=1e-10)
    assert_close(rv, rrv, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(shape)
    gx, gw, gb = _C.batch_norm_backward(tensor(g), tensor(x), None if w is None else tensor(w),
                                        mean, invstd, training, True, True, True)
    rgx, rgw, rgb = np_bn_backward(g, x, w, rmean, rinv, training)
    assert_close(gx, rgx, rtol=1e-9, atol=1e-9)
    assert_close(gw, rgw, rtol=1e-9, atol=1e-9)
    assert_close(gb, rgb, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-5), ("float16", 4e-3),
                                       ("bfloat16", 3e-2)])
def test_batch_norm_low_precision(dtype, tol, rng):
    x = rng.standard_normal((6, 4, 33)) * 2 + 100  # large mean: float32 statistics must hold
    xr = np.asarray(tensor(x, dtype).double())
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    y, mean, invstd = _C.batch_norm(tensor(x, dtype), tensor(w, "float32"),
                                    tensor(b, "float32"), None, None, True, 0.1, 1e-5)
    assert y.dtype is getattr(ember, dtype)
    assert mean.dtype is ember.float32
    wr, br = np.asarray(tensor(w, "float32").double()), np.asarray(tensor(b, "float32").double())
    ry, rmean, rinv, _, _ = np_bn(xr, wr, br, None, None, True, 0.1, 1e-5)
    assert_close(y, ry, rtol=tol, atol=tol)
    assert_close(invstd, rinv, rtol=1e-5, atol=1e-6)


def test_batch_norm_noncontiguous_input_and_running_stats(rng):
    x = rng.standard_normal((5, 7, 3))
    xt = tensor(x).transpose(0, 2)  # (3, 7, 5) non-contiguous
    rm = ember.zeros(14, dtype=ember.float32)[::2]  # strided, another dtype: copied back
    rv = ember.ones(14, dtype=ember.float32)[::2]
    v0 = rm._c.version
    y, _, _ = _C.batch_norm(xt, None, None, rm, rv, True, 0.1, 1e-5)
    xn = x.transpose(2, 1, 0)
    ry, _, _, rrm, rrv = np_bn(xn, None, None, np.zeros(7), np.ones(7), True, 0.1, 1e-5)
    assert_close(y, ry, rtol=1e-10, atol=1e-10)
    assert_close(rm, rrm, "float32")
    assert_close(rv, rrv, "float32")
    assert rm._c.version > v0


def test_batch_norm_empty_batch():
    y, mean, _ = _C.batch_norm(ember.zeros(0, 3, 4), None, None, ember.zeros(3), ember.ones(3),
                               False, 0.1, 1e-5)
    assert tuple(y.shape) == (0, 3, 4) and tuple(mean.shape) == (3,)


# ---- layer_norm / group_norm kernels -----------------------------------------------------
@pytest.mark.parametrize("shape,k", [((4, 7), 7), ((2, 3, 5), 15), ((3, 129), 129), ((1, 1), 1),
                                     ((5, 2, 127), 127), ((0, 4), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_kernel(shape, k, affine, capability, rng):
    x = rng.standard_normal(shape) * 2 + 3
    nshape = shape[-1:] if k == shape[-1] else shape[-2:]
    w, b = (rng.standard_normal(nshape), rng.standard_normal(nshape)) if affine else (None,) * 2
    y, mean, rstd = _C.layer_norm(tensor(x), k, None if w is None else tensor(w),
                                  None if b is None else tensor(b), 1e-5)
    ry, rmean, rrstd = np_rows(x, (-1, k), w, b, 1e-5, nshape)
    assert_close(y, ry, rtol=1e-10, atol=1e-10)
    assert_close(mean, rmean.reshape(mean.shape), rtol=1e-10, atol=1e-10)
    assert_close(rstd, rrstd.reshape(rstd.shape), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(shape)
    gx, gw, gb = _C.layer_norm_backward(tensor(g), tensor(x), k, None if w is None else
                                        tensor(w), mean, rstd, True, True, True)
    red = tuple(range(x.ndim - len(nshape)))
    rgx, rgw, rgb = np_rows_backward(g, x, (-1, k), w, 1e-5, nshape, red)
    assert_close(gx, rgx, rtol=1e-9, atol=1e-9)
    assert_close(gw, rgw.reshape(-1), rtol=1e-9, atol=1e-9)
    assert_close(gb, rgb.reshape(-1), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 7, 2), 2), ((1, 3), 1),
                                          ((2, 5, 129), 5), ((4, 8, 1, 1), 8)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_kernel(shape, groups, affine, capability, rng):
    c = shape[1]
    x = rng.standard_normal(shape) - 4
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    bs = (1, c) + (1,) * (len(shape) - 2)
    y, mean, rstd = _C.group_norm(tensor(x), groups, None if w is None else tensor(w),
                                  None if b is None else tensor(b), 1e-5)
    rows = (shape[0], groups, -1)
    ry, rmean, rrstd = np_rows(x, rows, w, b, 1e-5, bs)
    assert_close(y, ry, rtol=1e-10, atol=1e-10)
    assert_close(mean, rmean.reshape(shape[0], groups), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(shape)
    gx, gw, gb = _C.group_norm_backward(tensor(g), tensor(x), groups, None if w is None else
                                        tensor(w), mean, rstd, True, True, True)
    red = (0,) + tuple(range(2, len(shape)))
    rgx, rgw, rgb = np_rows_backward(g, x, rows, w, 1e-5, bs, red)
    assert_close(gx, rgx, rtol=1e-9, atol=1e-9)
    assert_close(gw, rgw, rtol=1e-9, atol=1e-9)
    assert_close(gb, rgb, rtol=1e-9, atol=1e-9)


def test_row_norm_float32_large_offset(rng):
    x = rng.standard_normal((3, 1000)) + 1e3
    y, _, _ = _C.layer_norm(tensor(x, "float32"), 1000, None, None, 1e-5)
    xr = np.asarray(tensor(x, "float32").double())
    assert_close(y, np_rows(xr, (-1, 1000), None, None, 1e-5, ())[0], rtol=1e-4, atol=1e-4)


# ---- functional ops: gradcheck / gradgradcheck ------------------------------------------
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 2, 3)])
def test_batch_norm_gradcheck(training, shape, rng):
    x, w, b = leaf(rng.standard_normal(shape)), leaf(rng.standard_normal(shape[1])), \
        leaf(rng.standard_normal(shape[1]))
    rm, rv = tensor(rng.standard_normal(shape[1])), tensor(rng.random(shape[1]) + 0.5)

    def f(x, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.0)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    if training:  # batch statistics only, no affine
        assert gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


def test_layer_group_instance_norm_gradcheck(rng):
    x = leaf(rng.standard_normal((2, 4, 3)))
    w, b = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal((4, 3)))
    cw, cb = leaf(rng.standard_normal(4)), leaf(rng.standard_normal(4))
    cases = [
        (lambda x, w, b: F.layer_norm(x, (4, 3), w, b), (x, w, b)),
        (lambda x: F.layer_norm(x, 3), (x,)),
        (lambda x, w, b: F.group_norm(x, 2, w, b), (x, cw, cb)),
        (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, cw, cb)),
        (lambda x: F.local_response_norm(x, 3), (x,)),
    ]
    for f, args in cases:
        assert gradcheck(f, args)
        assert gradgradcheck(f, args)


# ---- modules vs PyTorch ------------------------------------------------------------------
def test_batch_norm_modules_match_torch(rng):
    torch = pytest.importorskip("torch")
    for cls, tcls, shape in [(BatchNorm1d, torch.nn.BatchNorm1d, (6, 3)),
                             (BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 7)),
                             (BatchNorm2d, torch.nn.BatchNorm2d, (3, 3, 5, 4)),
                             (BatchNorm3d, torch.nn.BatchNorm3d, (2, 3, 2, 3, 2))]:
        for momentum in (0.1, None, 0.7):
            m = cls(3, momentum=momentum).double()
            t = tcls(3, momentum=momentum).double()
            assert repr(m) == repr(t)
            for step in range(3):
                x = rng.standard_normal(shape) + step
                g = rng.standard_normal(shape)
                ex, tx = leaf(x), torch.tensor(x, requires_grad=True)
                m(ex).backward(tensor(g))
                t(tx).backward(torch.tensor(g))
                assert_close(ex.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-9)
            sd, tsd = m.state_dict(), t.state_dict()
            assert list(sd) == list(tsd)
            for k in sd:
                assert_close(sd[k], tsd[k].numpy(), rtol=1e-10, atol=1e-12)
            assert sd["num_batches_tracked"].dtype is ember.int64
            assert_close(m.weight.grad, t.weight.grad.numpy(), rtol=1e-9, atol=1e-9)
            assert_close(m.bias.grad, t.bias.grad.numpy(), rtol=1e-9, atol=1e-9)
            m.eval()
            t.eval()
            x = rng.standard_normal(shape)
            assert_close(m(tensor(x)), t(torch.tensor(x)).detach().numpy(), rtol=1e-10,
                         atol=1e-10)


def test_batch_norm_without_running_stats(rng):
    torch = pytest.importorskip("torch")
    m, t = BatchNorm2d(2, affine=False, track_running_stats=False), \
        torch.nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert list(m.state_dict()) == list(t.state_dict()) == []
    m.eval()
    t.eval()
    x = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    assert_close(m(tensor(x)), t(torch.tensor(x)).numpy(), "float32")
    m.reset_running_stats()


def test_norm_layers_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 4, 5, 6))
    cases = [(LayerNorm((5, 6)), torch.nn.LayerNorm((5, 6))),
             (LayerNorm(6, bias=False), torch.nn.LayerNorm(6, bias=False)),
             (LayerNorm(6, elementwise_affine=False),
              torch.nn.LayerNorm(6, elementwise_affine=False)),
             (GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
             (GroupNorm(4, 4, bias=False), torch.nn.GroupNorm(4, 4, bias=False)),
             (InstanceNorm2d(4, affine=True), torch.nn.InstanceNorm2d(4, affine=True)),
             (InstanceNorm2d(4, track_running_stats=True),
              torch.nn.InstanceNorm2d(4, track_running_stats=True)),
             (LocalResponseNorm(3), torch.nn.LocalResponseNorm(3))]
    for m, t in cases:
        m, t = m.double(), t.double()
        assert repr(m) == repr(t)
        params = dict(m.named_parameters())
        for name, p in t.named_parameters():  # non-trivial affine parameters in both
            v = rng.standard_normal(tuple(p.shape))
            with torch.no_grad():
                p.copy_(torch.tensor(v))
            with ember.no_grad():
                params[name].copy_(tensor(v))
        g = rng.standard_normal(x.shape)
        ex, tx = leaf(x), torch.tensor(x, requires_grad=True)
        y, ty = m(ex), t(tx)
        assert_close(y, ty.detach().numpy(), rtol=1e-9, atol=1e-9)
        y.backward(tensor(g))
        ty.backward(torch.tensor(g))
        assert_close(ex.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-9)
        for name, p in t.named_parameters():
            assert_close(params[name].grad, p.grad.numpy(), rtol=1e-8, atol=1e-9)
        sd, tsd = m.state_dict(), t.state_dict()
        assert list(sd) == list(tsd)
        for k in sd:
            assert_close(sd[k], tsd[k].numpy(), rtol=1e-10, atol=1e-12)


def test_instance_norm_unbatched_and_1d(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 7))
    m, t = InstanceNorm1d(3), torch.nn.InstanceNorm1d(3)
    assert_close(m(tensor(x)), t(torch.tensor(x)).numpy(), rtol=1e-10, atol=1e-10)


def test_module_defaults():
    bn = BatchNorm2d(4)
    assert_close(bn.weight, np.ones(4), "float32")
    assert_close(bn.bias, np.zeros(4), "float32")
    assert bn.weight.dtype is ember.float32
    assert int(bn.num_batches_tracked) == 0
    bn(ember.ones(2, 4, 3, 3))
    assert int(bn.num_batches_tracked) == 1
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked) == 0
    assert_close(bn.running_var, np.ones(4), "float32")
    inst = InstanceNorm2d(3)
    assert inst.weight is None and inst.running_mean is None
    assert repr(bn) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)")


# ---- errors ------------------------------------------------------------------------------
def test_errors():
    x = ember.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"\[batch_norm\] weight should have 3 elements"):
        _C.batch_norm(x, ember.ones(4), None, None, None, True, 0.1, 1e-5)
    with pytest.raises(ValueError, match=r"\[batch_norm\] running_var should have 3"):
        F.batch_norm(x, ember.zeros(3), ember.ones(2), training=True)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size \(1, 3\)"):
        F.batch_norm(ember.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"\[batch_norm\] running_mean and running_var must"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"\[BatchNorm2d\] expected 4D input \(got 3D input\)"):
        BatchNorm2d(3)(x)
    with pytest.raises(ValueError, match=r"\[BatchNorm1d\] expected 2D or 3D input"):
        BatchNorm1d(3)(ember.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"\[group_norm\] .*divisible by num_groups"):
        F.group_norm(x, 2)
    with pytest.raises(ValueError, match=r"\[group_norm\] .*divisible by num_groups"):
        _C.group_norm(x, 2, None, None, 1e-5)
    with pytest.raises(ValueError, match=r"\[GroupNorm\] num_channels \(3\)"):
        GroupNorm(2, 3)
    with pytest.raises(ValueError, match=r"\[layer_norm\] normalized_shape \[5\]"):
        F.layer_norm(x, 5)
    with pytest.raises(ValueError, match=r"\[layer_norm\] normalized shape of 5 elements"):
        _C.layer_norm(x, 5, None, None, 1e-5)
    with pytest.raises(ValueError, match=r"\[layer_norm\] weight of shape \(3,\)"):
        F.layer_norm(x, 4, ember.ones(3))
    with pytest.raises(TypeError, match=r"\[batch_norm\] expected a floating point input"):
        _C.batch_norm(ember.zeros(2, 3, dtype=ember.int64), None, None, None, None, True,
                      0.1, 1e-5)
    with pytest.raises(ValueError, match=r"\[InstanceNorm2d\] expected input's size at dim=1"):
        InstanceNorm2d(4, affine=True)(ember.zeros(2, 3, 4, 4))


@pytest.mark.parametrize("need", [(True, False, False), (False, True, False),
                                  (False, False, True)])
def test_backward_need_flags(need, rng):
    x, g, w = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5)), \
        rng.standard_normal(4)
    _, mean, invstd = _C.batch_norm(tensor(x), tensor(w), None, None, None, True, 0.1, 1e-5)
    full = _C.batch_norm_backward(tensor(g), tensor(x), tensor(w), mean, invstd, True)
    part = _C.batch_norm_backward(tensor(g), tensor(x), tensor(w), mean, invstd, True, *need)
    for f, p, n in zip(full, part, need, strict=True):
        assert (p is None) != n
        if n:
            assert_close(p, np.asarray(f), rtol=0, atol=0)
    for op, arg in ((_C.group_norm, 2), (_C.layer_norm, 5)):
        back = _C.group_norm_backward if op is _C.group_norm else _C.layer_norm_backward
        wt = tensor(w if op is _C.group_norm else rng.standard_normal(5))
        _, mean, rstd = op(tensor(x), arg, wt, None, 1e-5)
        full = back(tensor(g), tensor(x), arg, wt, mean, rstd)
        part = back(tensor(g), tensor(x), arg, wt, mean, rstd, *need)
        for f, p, n in zip(full, part, need, strict=True):
            assert (p is None) != n
            if n:
                assert_close(p, np.asarray(f), rtol=0, atol=0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5), c=st.integers(1, 70), rest=st.lists(st.integers(1, 5), max_size=2),
       training=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_random_shapes(n, c, rest, training, seed):
    shape = (n, c, *rest)
    if training and int(np.prod(shape)) // c == 1:
        return
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c)
    rm0, rv0 = rng.standard_normal(c), rng.random(c) + 0.1
    rm, rv = tensor(rm0), tensor(rv0)
    y, _, _ = _C.batch_norm(tensor(x), tensor(w), tensor(b), rm, rv, training, 0.2, 1e-3)
    ry, _, _, rrm, rrv = np_bn(x, w, b, rm0, rv0, training, 0.2, 1e-3)
    assert_close(y, ry, rtol=1e-9, atol=1e-9)
    assert_close(rv, rrv, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-5), ("float16", 4e-3),
                                       ("bfloat16", 3e-2)])
def test_row_norms_low_precision_and_strided(dtype, tol, rng):
    x = rng.standard_normal((6, 5, 4)) * 3 + 10
    xt = tensor(x, dtype).transpose(0, 2)  # (4, 5, 6), non-contiguous
    xr = np.asarray(tensor(x, dtype).double()).transpose(2, 1, 0)
    w = rng.standard_normal(6)
    wr = np.asarray(tensor(w, "float32").double())
    y, mean, _ = _C.layer_norm(xt, 6, tensor(w, "float32"), None, 1e-5)
    assert y.dtype is getattr(ember, dtype) and mean.dtype is ember.float32
    assert_close(y, np_rows(xr, (-1, 6), wr, None, 1e-5, (6,))[0], rtol=tol, atol=tol)
    w5 = rng.standard_normal(5)
    w5r = np.asarray(tensor(w5, "float32").double())
    y, _, _ = _C.group_norm(xt, 5, tensor(w5, "float32"), None, 1e-5)
    assert_close(y, np_rows(xr, (4, 5, -1), w5r, None, 1e-5, (1, 5, 1))[0], rtol=tol, atol=tol)
