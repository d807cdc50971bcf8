"""LR schedulers: each one's lr sequence against torch.optim.lr_scheduler's over 40 steps,
state_dict round trips, and the argument checks."""

from __future__ import annotations

from typing import Any

import ember
import ember.optim  # until ember/__init__.py imports it
import numpy as np
import pytest

torch = pytest.importorskip("torch")
lrs = ember.optim.lr_scheduler

SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 25], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=12, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=9)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.97**e / (1 + e % 4))),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=41)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=41, anneal_strategy="linear",
                        three_phase=True, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=4, steps_per_epoch=11, cycle_momentum=False)),
]


def optimizers(opt: str = "SGD", **kw: Any) -> tuple[Any, Any]:
    """The same two-group optimizer in ember and torch."""
    kw = kw or ({"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {"lr": 0.1})
    e = getattr(ember.optim, opt)([{"params": [ember.zeros(2)]},
                                   {"params": [ember.zeros(1)], "lr": 0.05}], **kw)
    t = getattr(torch.optim, opt)([{"params": [torch.zeros(2)]},
                                   {"params": [torch.zeros(1)], "lr": 0.05}], **kw)
    return e, t


def momenta(opt: Any) -> list[Any]:
    return [g.get("momentum", g.get("betas")) for g in opt.param_groups]


def assert_same(e_opt: Any, t_opt: Any, e_s: Any, t_s: Any) -> None:
    np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose([g["lr"] for g in e_opt.param_groups],
                               [g["lr"] for g in t_opt.param_groups], rtol=1e-13, atol=1e-15)
    assert np.allclose(np.array(momenta(e_opt), dtype=float),
                       np.array(momenta(t_opt), dtype=float), rtol=1e-13)


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
@pytest.mark.parametrize("name,kw", SCHEDULERS)
def test_sequence_matches_torch(name, kw, opt):
    e_opt, t_opt = optimizers(opt)
    e_s = getattr(lrs, name)(e_opt, **kw)
    t_s = getattr(torch.optim.lr_scheduler, name)(t_opt, **kw)
    assert_same(e_opt, t_opt, e_s, t_s)
    for _ in range(40):
        e_opt.step()
        t_opt.step()
        e_s.step()
        t_s.step()
        assert_same(e_opt, t_opt, e_s, t_s)


def test_sequential_warmup_then_cosine():
    e_opt, t_opt = optimizers()
    pairs = []
    for lib, opt in ((lrs, e_opt), (torch.optim.lr_scheduler, t_opt)):
        warm = lib.LinearLR(opt, start_factor=0.01, total_iters=5)
        cos = lib.CosineAnnealingLR(opt, T_max=20, eta_min=1e-4)
        decay = lib.ExponentialLR(opt, gamma=0.9)
        pairs.append(lib.SequentialLR(opt, [warm, cos, decay], milestones=[5, 25]))
    assert_same(e_opt, t_opt, *pairs)
    for _ in range(40):
        e_opt.step()
        t_opt.step()
        for s in pairs:
            s.step()
        assert_same(e_opt, t_opt, *pairs)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs", cooldown=3,
         min_lr=[0.02, 0.01], eps=1e-3),
    dict(patience=0, threshold_mode="rel", min_lr=0.004),
])
def test_reduce_on_plateau_matches_torch(kw):
    e_opt, t_opt = optimizers()
    e_s = lrs.ReduceLROnPlateau(e_opt, **kw)
    t_s = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kw)
    metrics = np.random.default_rng(0).standard_normal(60).cumsum() * 0.1 + 5
    metrics[20:40] = metrics[20]  # a plateau
    for m in metrics:
        e_s.step(float(m))
        t_s.step(float(m))
        assert_same(e_opt, t_opt, e_s, t_s)
        assert e_s.num_bad_epochs == t_s.num_bad_epochs and e_s.best == t_s.best


@pytest.mark.parametrize("name,kw", SCHEDULERS[:7])
def test_state_dict_resume(name, kw):
    opt, _ = optimizers()
    s = getattr(lrs, name)(opt, **kw)
    for _ in range(10):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 10
    opt2, _ = optimizers()
    opt2.load_state_dict(opt.state_dict())
    s2 = getattr(lrs, name)(opt2, **kw)
    s2.load_state_dict(sd)
    for g2, g in zip(opt2.param_groups, opt.param_groups, strict=True):
        g2["lr"] = g["lr"]
    for _ in range(15):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()


def test_closed_form_epoch_argument():
    e_opt, t_opt = optimizers()
    e_s, t_s = lrs.StepLR(e_opt, 3, 0.5), torch.optim.lr_scheduler.StepLR(t_opt, 3, 0.5)
    e_s.step(7)
    with pytest.warns(UserWarning):
        t_s.step(7)
    assert e_s.get_last_lr() == t_s.get_last_lr()


def test_errors():
    opt, _ = optimizers()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lrs.StepLR(object(), 3)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lrs.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lrs.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lrs.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="total_steps OR"):
        lrs.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lrs.StepLR(optimizers()[0], 3, last_epoch=4)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        lrs.SequentialLR(opt, [lrs.StepLR(opt, 3)], milestones=[2])
    s = lrs.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()
    no_momentum = ember.optim.Adagrad([ember.zeros(1)])
    with pytest.raises(ValueError, match="must support momentum"):
        lrs.OneCycleLR(no_momentum, max_lr=0.1, total_steps=5)
