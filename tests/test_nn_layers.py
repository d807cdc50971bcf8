"""Layers and activations: forward against PyTorch (copied weights) and NumPy, gradcheck in
float64, dropout statistics and reproducibility, embedding padding gradients."""

from __future__ import annotations

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from conftest import assert_close
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}),
    ("selu", {}), ("celu", {"alpha": 0.7}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("softplus", {"beta": 2.0}), ("sigmoid", {}), ("tanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 0.8}), ("hardsigmoid", {}), ("hardswish", {}),
    ("softsign", {}), ("tanhshrink", {}), ("logsigmoid", {}), ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": -1}), ("softmin", {"dim": 0}), ("hardshrink", {}),
    ("softshrink", {"lambd": 0.3}), ("glu", {"dim": 1}), ("threshold", {"threshold": 0.1,
                                                                         "value": -2.0}),
]


def _x(shape=(5, 6), seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    # keep away from the kinks, where finite differences are meaningless
    a = rng.uniform(-3, 3, shape)
    a[np.abs(a) < 0.05] += 0.2
    return a.astype(dtype)


@pytest.mark.parametrize("name, kw", ACTIVATIONS)
def test_activation_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    a = _x()
    want = getattr(torch.nn.functional, name)(torch.tensor(a), **kw).numpy()
    assert_close(getattr(F, name)(ember.tensor(a), **kw), want)
    got32 = getattr(F, name)(ember.tensor(a.astype(np.float32)), **kw)
    assert got32.dtype == ember.float32
    assert_close(got32, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name, kw", ACTIVATIONS)
def test_activation_gradcheck(name, kw):
    x = ember.tensor(_x((3, 4), seed=1)).requires_grad_()
    assert gradcheck(lambda t: getattr(F, name)(t, **kw), (x,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "gelu", "mish", "logsigmoid"])
def test_activation_gradgradcheck(name):
    x = ember.tensor(_x((3, 4), seed=2)).requires_grad_()
    kw = {"dim": 1} if "softmax" in name else {}
    assert gradgradcheck(lambda t: getattr(F, name)(t, **kw), (x,))


def test_activation_modules_match_functional():
    torch = pytest.importorskip("torch")
    a = _x((2, 3, 4))
    pairs = [("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"negative_slope": 0.1}), ("ELU", {}),
             ("SELU", {}), ("CELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}),
             ("Mish", {}), ("Softplus", {}), ("Sigmoid", {}), ("Tanh", {}), ("Hardtanh", {}),
             ("Hardsigmoid", {}), ("Hardswish", {}), ("Softsign", {}), ("Tanhshrink", {}),
             ("LogSigmoid", {}), ("Softmax", {"dim": 2}), ("LogSoftmax", {"dim": 1}),
             ("Softmin", {"dim": 0}), ("GLU", {}), ("Hardshrink", {}), ("Softshrink", {})]
    for cls, kw in pairs:
        want = getattr(torch.nn, cls)(**kw)(torch.tensor(a)).numpy()
        assert_close(getattr(nn, cls)(**kw)(ember.tensor(a)), want)


def test_inplace_activation_writes_input_when_outside_autograd():
    x = ember.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]
    leaf = ember.tensor([-1.0, 2.0]).requires_grad_()
    y = F.relu(leaf, inplace=True)
    y.sum().backward()
    assert leaf.tolist() == [-1.0, 2.0] and leaf.grad.tolist() == [0.0, 1.0]


def test_prelu_per_channel_matches_torch_and_learns():
    torch = pytest.importorskip("torch")
    a = _x((2, 3, 4))
    m = nn.PReLU(3, init=0.1).double()
    tm = torch.nn.PReLU(3, init=0.1).double()
    x = ember.tensor(a)
    assert_close(m(x), tm(torch.tensor(a)).detach().numpy())
    m(x).sum().backward()
    tm(torch.tensor(a)).sum().backward()
    assert_close(m.weight.grad, tm.weight.grad.numpy())
    w = ember.tensor([0.3], dtype=ember.float64).requires_grad_()
    assert gradcheck(F.prelu, (ember.tensor(_x((4, 2))).requires_grad_(), w))


def test_softmax_legacy_dim_warns_and_dtype_casts():
    x = ember.tensor(_x((3, 4)))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)
    assert_close(y.sum(1), np.ones(3))
    assert F.softmax(x.float(), 1, dtype=ember.float64).dtype == ember.float64
    assert F.log_softmax(ember.full((2, 3), -np.inf), 1).isnan().all()
    with pytest.raises(IndexError, match=r"\[softmax\] dim 2"):
        F.softmax(x, 2)


def test_linear_matches_torch_and_grads():
    torch = pytest.importorskip("torch")
    m = nn.Linear(5, 3).double()
    tm = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(np.asarray(m.weight)))
        tm.bias.copy_(torch.tensor(np.asarray(m.bias)))
    a = _x((2, 4, 5))
    out, tout = m(ember.tensor(a)), tm(torch.tensor(a))
    assert_close(out, tout.detach().numpy())
    out.square().sum().backward()
    tout.square().sum().backward()
    assert_close(m.weight.grad, tm.weight.grad.numpy())
    assert_close(m.bias.grad, tm.bias.grad.numpy())
    assert nn.Linear(3, 2, bias=False).bias is None
    assert nn.Linear(3, 2, dtype=ember.float64).weight.dtype == ember.float64


def test_bilinear_matches_torch_and_gradcheck():
    torch = pytest.importorskip("torch")
    m = nn.Bilinear(3, 4, 2).double()
    tm = torch.nn.Bilinear(3, 4, 2).double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(np.asarray(m.weight)))
        tm.bias.copy_(torch.tensor(np.asarray(m.bias)))
    a, b = _x((5, 3)), _x((5, 4), seed=3)
    assert_close(m(ember.tensor(a), ember.tensor(b)),
                 tm(torch.tensor(a), torch.tensor(b)).detach().numpy())
    x1 = ember.tensor(a).requires_grad_()
    x2 = ember.tensor(b).requires_grad_()
    assert gradcheck(lambda u, v: m(u, v), (x1, x2))


def test_embedding_lookup_padding_and_grad():
    torch = pytest.importorskip("torch")
    m = nn.Embedding(6, 3, padding_idx=2)
    assert np.asarray(m.weight)[2].tolist() == [0, 0, 0]
    idx = ember.tensor([[0, 2, 5], [2, 1, 0]])
    out = m(idx)
    assert out.shape == (2, 3, 3)
    assert_close(out, np.asarray(m.weight)[np.asarray(idx)])
    (out * ember.arange(3).float()).sum().backward()
    tm = torch.nn.Embedding(6, 3, padding_idx=2)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(np.asarray(m.weight)))
    (tm(torch.tensor(np.asarray(idx))) * torch.arange(3.0)).sum().backward()
    assert_close(m.weight.grad, tm.weight.grad.numpy())
    assert np.asarray(m.weight.grad)[2].tolist() == [0, 0, 0]
    with pytest.raises(IndexError, match=r"\[embedding\] index out of range"):
        m(ember.tensor([6]))


def test_embedding_scale_grad_by_freq_and_max_norm_match_torch():
    torch = pytest.importorskip("torch")
    w = _x((5, 4))
    idx = np.array([1, 1, 3, 4, 1])
    m = nn.Embedding.from_pretrained(ember.tensor(w), freeze=False, scale_grad_by_freq=True)
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False,
                                            scale_grad_by_freq=True)
    m(ember.tensor(idx)).sum().backward()
    tm(torch.tensor(idx)).sum().backward()
    assert_close(m.weight.grad, tm.weight.grad.numpy())
    assert not nn.Embedding.from_pretrained(ember.tensor(w)).weight.requires_grad
    m2 = nn.Embedding.from_pretrained(ember.tensor(w), max_norm=1.0)
    tm2 = torch.nn.Embedding.from_pretrained(torch.tensor(w), max_norm=1.0)
    assert_close(m2(ember.tensor(idx)), tm2(torch.tensor(idx)).numpy(), rtol=1e-6)
    assert_close(m2.weight, tm2.weight.numpy(), rtol=1e-6)


def test_embedding_gradcheck():
    w = ember.tensor(_x((4, 3))).requires_grad_()
    idx = ember.tensor([[0, 3], [3, 1]])
    assert gradcheck(lambda t: F.embedding(idx, t), (w,))
    assert gradgradcheck(lambda t: F.embedding(idx, t).square(), (w,))


def test_dropout_scaling_reproducibility_and_eval():
    x = ember.ones(200, 500)
    ember.manual_seed(7)
    a = F.dropout(x, 0.3)
    ember.manual_seed(7)
    b = nn.Dropout(0.3)(x)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    vals = np.unique(np.asarray(a))
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((np.asarray(a) == 0).mean() - 0.3) < 0.01
    m = nn.Dropout(0.3).eval()
    assert m(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = ember.ones(50, 40).requires_grad_()
    y = F.dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), np.asarray(y.detach()), rtol=1e-6)


def test_dropout2d_zeroes_whole_channels():
    x = ember.ones(8, 16, 3, 3)
    y = np.asarray(nn.Dropout2d(0.5)(x))
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))


def test_alpha_dropout_keeps_moments():
    ember.manual_seed(0)
    x = ember.randn(400, 500)
    y = np.asarray(F.alpha_dropout(x, 0.2, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_flatten_unflatten_identity():
    x = ember.tensor(_x((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 1))(x).shape == (2, 3, 1, 4, 5)
    assert nn.Identity(5, foo=1)(x) is x


def test_functional_misc_matches_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    a, b = _x((4, 5)), _x((4, 5), seed=9)
    ta, tb, ea, eb = torch.tensor(a), torch.tensor(b), ember.tensor(a), ember.tensor(b)
    assert_close(F.normalize(ea, dim=0), tf.normalize(ta, dim=0).numpy())
    assert_close(F.cosine_similarity(ea, eb), tf.cosine_similarity(ta, tb).numpy())
    assert_close(F.pairwise_distance(ea, eb), tf.pairwise_distance(ta, tb).numpy())
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(np.asarray(F.one_hot(ember.tensor(idx), 5)),
                                  tf.one_hot(torch.tensor(idx), 5).numpy())
    assert F.one_hot(ember.tensor(idx)).shape == (2, 2, 4)
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(ember.tensor(idx), 3)
    x3 = _x((2, 3, 5))
    for pad, mode in [((1, 2), "constant"), ((2, 1, 1, 0), "reflect"), ((3, 1), "replicate"),
                      ((2, 2), "circular"), ((-1, 2), "constant")]:
        want = tf.pad(torch.tensor(x3), pad, mode=mode).numpy()
        assert_close(F.pad(ember.tensor(x3), pad, mode=mode), want)
    assert_close(F.pad(ember.tensor(x3), (1, 1), value=7.0),
                 tf.pad(torch.tensor(x3), (1, 1), value=7.0).numpy())
    t = ember.tensor(x3).requires_grad_()
    assert gradcheck(lambda u: F.pad(u, (2, 1, 1, 0), mode="reflect"), (t,))
