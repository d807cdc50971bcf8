"""Losses: forward and gradient against PyTorch for every reduction and option; gradcheck in
float64; shape errors."""

from __future__ import annotations

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from conftest import assert_close
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional
REDUCTIONS = ["none", "mean", "sum"]


def _rand(shape, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _compare(name, args, kwargs, grad_args=(0,)):
    """Runs F.<name> in ember and torch on float64 copies of args; compares the loss and the
    gradients of the args listed in grad_args."""
    e_args, t_args = [], []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            e, t = ember.tensor(a), torch.tensor(a)
            if i in grad_args:
                e.requires_grad_()
                t.requires_grad_()
        else:
            e, t = a, a
        e_args.append(e)
        t_args.append(t)
    e_kw = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    got, want = getattr(F, name)(*e_args, **e_kw), getattr(TF, name)(*t_args, **t_kw)
    assert_close(got, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(5).uniform(0.5, 1.5, tuple(want.shape))
    got.backward(ember.tensor(g))
    want.backward(torch.tensor(g))
    for i in grad_args:
        assert_close(e_args[i].grad, t_args[i].grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kw", [("mse_loss", {}), ("l1_loss", {}),
                                      ("smooth_l1_loss", {"beta": 0.5}),
                                      ("smooth_l1_loss", {"beta": 0.0}),
                                      ("huber_loss", {"delta": 0.7}),
                                      ("soft_margin_loss", {})])
def test_pointwise_losses(name, kw, reduction):
    wrt = (0,) if name == "soft_margin_loss" else (0, 1)  # torch: no target grad there
    _compare(name, (_rand((4, 5)), _rand((4, 5), 1)), {"reduction": reduction, **kw}, wrt)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 4, 2, 3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_class_indices(reduction, shape, weighted, smoothing):
    rng = np.random.default_rng(1)
    c = shape[1] if len(shape) > 1 else shape[0]
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    target = rng.integers(0, c, tshape)
    if target.ndim:
        target.flat[0] = -100  # ignored
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, c)
    _compare("cross_entropy", (_rand(shape, 2), target), kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(reduction, smoothing):
    p = np.random.default_rng(3).dirichlet(np.ones(5), size=(4, 3)).transpose(0, 2, 1)
    kw = {"reduction": reduction, "label_smoothing": smoothing,
          "weight": np.linspace(0.5, 1.5, 5)}
    _compare("cross_entropy", (_rand((4, 5, 3), 4), p.copy()), kw, (0, 1))


def test_cross_entropy_custom_ignore_index_and_module():
    x, t = _rand((5, 4), 6), np.array([1, 3, 3, 0, 2])
    _compare("cross_entropy", (x, t), {"ignore_index": 3})
    loss = nn.CrossEntropyLoss(weight=ember.tensor([1.0, 2, 3, 4]), label_smoothing=0.1)
    want = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2, 3, 4]), label_smoothing=0.1)
    assert_close(loss(ember.tensor(x).float(), ember.tensor(t)),
                 want(torch.tensor(x).float(), torch.tensor(t)).numpy(), rtol=1e-5)


def test_cross_entropy_second_derivatives():
    x = ember.tensor(_rand((3, 4), 7)).requires_grad_()
    t = ember.tensor([0, 3, 1])
    w = ember.tensor([1.0, 0.5, 2.0, 1.5], dtype=ember.float64)
    fn = lambda u: F.cross_entropy(u, t, weight=w, label_smoothing=0.1)  # noqa: E731
    assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))


def test_cross_entropy_shape_errors_name_the_shapes():
    x = ember.randn(4, 5)
    with pytest.raises(ValueError, match=r"\[cross_entropy\].*\(4, 5\).*\(4,\)"):
        F.cross_entropy(x, ember.zeros(4))
    with pytest.raises(ValueError, match=r"\[cross_entropy\].*\(4,\).*\(3,\)"):
        F.cross_entropy(x, ember.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match=r"target 5 is out of bounds"):
        F.cross_entropy(x, ember.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(x, ember.tensor([0, 1, 1, 2]), weight=ember.ones(3))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(x, ember.tensor([0, 1, 1, 2]), reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    x = np.log(np.random.default_rng(8).dirichlet(np.ones(4), size=(6,)))
    t = np.array([0, 3, -100, 1, 1, 2])
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = np.array([0.3, 1.0, 2.0, 0.7])
    _compare("nll_loss", (x, t), kw)
    _compare("nll_loss", (np.log(np.full((2, 3, 4), 1 / 3)), np.array([[0, 1, 2, 1]] * 2)), kw
             if not weighted else {"reduction": reduction, "weight": np.ones(3)})


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    x = np.random.default_rng(9).uniform(0.01, 0.99, (4, 3))
    t = np.random.default_rng(10).uniform(0, 1, (4, 3))
    _compare("binary_cross_entropy", (x, t), {"reduction": reduction,
                                             "weight": np.array([1.0, 2.0, 0.5])})
    edge = F.binary_cross_entropy(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 0.0]),
                                  reduction="none")
    assert edge.tolist() == [100.0, 100.0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weights_and_stability(reduction):
    x, t = _rand((4, 3), 11, -5, 5), np.random.default_rng(12).uniform(0, 1, (4, 3))
    _compare("binary_cross_entropy_with_logits", (x, t),
             {"reduction": reduction, "weight": np.array([[1.0], [2.0], [0.5], [1.0]]),
              "pos_weight": np.array([1.0, 3.0, 0.5])}, (0, 1))
    big = ember.tensor([1000.0, -1000.0, 1000.0, -1000.0]).requires_grad_()
    tt = ember.tensor([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(big, tt, reduction="none")
    assert loss.tolist() == [1000.0, 1000.0, 0.0, 0.0]
    loss.sum().backward()
    assert big.grad.tolist() == [1.0, -1.0, 0.0, 0.0]


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(np.random.default_rng(13).dirichlet(np.ones(5), size=4))
    t = np.random.default_rng(14).dirichlet(np.ones(5), size=4)
    t[0, 0] = 0.0
    if log_target:
        t = np.log(t + 1e-3)
    # torch's target gradient at t = 0 is NaN (xlogy); ember's is finite, so skip it there
    wrt = (0, 1) if log_target else (0,)
    _compare("kl_div", (x, t), {"reduction": reduction, "log_target": log_target}, wrt)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(ember.tensor(x), ember.tensor(t), reduction="mean")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    _compare("margin_ranking_loss", (_rand(5, 15), _rand(5, 16), y),
             {"margin": 0.3, "reduction": reduction}, (0, 1))
    _compare("cosine_embedding_loss", (_rand((5, 3), 17), _rand((5, 3), 18), y),
             {"margin": 0.1, "reduction": reduction}, (0, 1))
    _compare("hinge_embedding_loss", (_rand((5,), 19), y), {"reduction": reduction})


def test_pointwise_shape_mismatch_warns_or_raises():
    with pytest.warns(UserWarning, match=r"target size \(\(3, 1\)\).*input size \(\(3, 4\)\)"):
        F.mse_loss(ember.zeros(3, 4), ember.zeros(3, 1))
    with pytest.raises(ValueError, match=r"\[l1_loss\] input \(3, 4\) and target \(2, 4\)"):
        F.l1_loss(ember.zeros(3, 4), ember.zeros(2, 4))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(ember.zeros(3), ember.zeros(3, 1))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy_with_logits", "soft_margin_loss"])
def test_pointwise_gradcheck(name):
    x = ember.tensor(_rand((3, 4), 20)).requires_grad_()
    t = ember.tensor(np.random.default_rng(21).uniform(0.1, 0.9, (3, 4)))
    assert gradcheck(lambda u: getattr(F, name)(u, t), (x,))


def test_loss_modules_forward_and_legacy_flags():
    x, t = ember.tensor(_rand((4, 3))), ember.tensor(_rand((4, 3), 1))
    assert_close(nn.MSELoss(reduction="sum")(x, t), F.mse_loss(x, t, reduction="sum"))
    assert nn.L1Loss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    m = nn.BCEWithLogitsLoss(pos_weight=ember.ones(3))
    assert "pos_weight" in dict(m.named_buffers())
    assert_close(m(x, t), F.binary_cross_entropy_with_logits(x, t))
    for cls in ("SmoothL1Loss", "HuberLoss", "NLLLoss", "BCELoss", "MarginRankingLoss",
                "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss"):
        assert repr(getattr(nn, cls)()) == f"{cls}()"
