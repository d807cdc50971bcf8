"""Optimizers: the fused multi-tensor kernels (_C.*_step) against NumPy float64 references of
PyTorch's formulas, their argument checks, and the ember.optim classes against torch.optim."""

from __future__ import annotations

import itertools
from typing import Any

import ember
import ember.optim  # until ember/__init__.py imports it
import numpy as np
import pytest
from ember import _C

SIZES = ((1,), (7,), (3, 43), (100003,))  # mixed sizes; the last makes the step multi-thread


def tol(dtype: str) -> dict[str, float]:
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == "float64" else {"rtol": 2e-5, "atol": 2e-6}


def lists(rng: np.random.Generator, dtype: str, k: int, positive: tuple[int, ...] = ()):
    """k lists of arrays over SIZES; the lists named in `positive` hold values > 0."""
    out = []
    for j in range(k):
        arrs = [rng.standard_normal(s).astype(dtype) for s in SIZES]
        out.append([np.abs(a) + 0.1 if j in positive else a for a in arrs])
    return out


def et(arrs: list[np.ndarray]) -> list[ember.Tensor]:
    return [ember.tensor(a) for a in arrs]


def check(got: list[ember.Tensor], want: list[np.ndarray], dtype: str) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, **tol(dtype))


# ---- NumPy references: PyTorch's single-tensor formulas in float64 ---------------------------
def ref_sgd(p, g, buf, lr, mom, damp, nesterov, wd, maximize, first):
    g = -g if maximize else g
    if wd:
        g = g + wd * p
    if mom:
        buf = g.copy() if first else buf * mom + (1 - damp) * g
        g = g + mom * buf if nesterov else buf
    return p - lr * g, buf


def ref_adam(p, g, m, v, vmax, step, lr, b1, b2, eps, wd, amsgrad, decoupled, maximize):
    g = -g if maximize else g
    if wd and decoupled:
        p = p * (1 - lr * wd)
    elif wd:
        g = g + wd * p
    m = m + (1 - b1) * (g - m)
    v = v * b2 + (1 - b2) * g * g
    if amsgrad:
        vmax = np.maximum(vmax, v)
    denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - b2**step) + eps
    return p - lr / (1 - b1**step) * m / denom, m, v, vmax


def ref_rmsprop(p, g, sq, ga, buf, lr, alpha, eps, wd, mom, centered, maximize):
    g = -g if maximize else g
    if wd:
        g = g + wd * p
    sq = sq * alpha + (1 - alpha) * g * g
    if centered:
        ga = ga + (1 - alpha) * (g - ga)
        avg = np.sqrt(sq - ga * ga) + eps
    else:
        avg = np.sqrt(sq) + eps
    if mom > 0:
        buf = buf * mom + g / avg
        return p - lr * buf, sq, ga, buf
    return p - lr * g / avg, sq, ga, buf


def ref_adagrad(p, g, s, step, lr, lr_decay, wd, eps, maximize):
    g = -g if maximize else g
    if wd:
        g = g + wd * p
    s = s + g * g
    clr = lr / (1 + (step - 1) * lr_decay)
    return p - clr * g / (np.sqrt(s) + eps), s


def f64(arrs: list[np.ndarray]) -> list[np.ndarray]:
    return [a.astype(np.float64) for a in arrs]


# ---- kernels vs references, every option combination ----------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("wd,mom,damp,nesterov", [
    c for c in itertools.product([0, 0.1], [0, 0.9], [0, 0.3], [False, True])
    if not (c[3] and (c[1] == 0 or c[2] != 0)) and not (c[1] == 0 and c[2] != 0)])
def test_sgd_kernel(capability, rng, dtype, wd, mom, damp, nesterov):
    maximize = bool(wd) != bool(mom)  # a sign flip, not a kernel variant: paired, not crossed
    p, buf = lists(rng, dtype, 2)
    tp, tb = et(p), et(buf)
    p, buf = f64(p), f64(buf)
    for step in range(2):
        g = lists(rng, dtype, 1)[0]
        _C.sgd_step(tp, et(g), tb if mom else None, 0.05, mom, damp, nesterov, wd, maximize,
                    step == 0)
        for i, gi in enumerate(f64(g)):
            p[i], buf[i] = ref_sgd(p[i], gi, buf[i], 0.05, mom, damp, nesterov, wd, maximize,
                                   step == 0)
        check(tp, p, dtype)
        if mom:
            check(tb, buf, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("wd,amsgrad,decoupled", list(
    itertools.product([0, 0.1], [False, True], [False, True])))
def test_adam_kernel(capability, rng, dtype, wd, amsgrad, decoupled):
    maximize = bool(wd) != amsgrad
    p, m, v, vmax = lists(rng, dtype, 4, positive=(2, 3))
    tp, tm, tv, tvmax = et(p), et(m), et(v), et(vmax)
    p, m, v, vmax = f64(p), f64(m), f64(v), f64(vmax)
    for step in range(1, 3):
        g = lists(rng, dtype, 1)[0]
        _C.adam_step(tp, et(g), tm, tv, tvmax if amsgrad else None, step, 0.01, 0.9, 0.999,
                     1e-8, wd, amsgrad, decoupled, maximize)
        for i, gi in enumerate(f64(g)):
            p[i], m[i], v[i], vmax[i] = ref_adam(p[i], gi, m[i], v[i], vmax[i], step, 0.01, 0.9,
                                                 0.999, 1e-8, wd, amsgrad, decoupled, maximize)
        for got, want in [(tp, p), (tm, m), (tv, v)] + ([(tvmax, vmax)] if amsgrad else []):
            check(got, want, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("wd,mom,centered", list(
    itertools.product([0, 0.1], [0, 0.9], [False, True])))
def test_rmsprop_kernel(capability, rng, dtype, wd, mom, centered):
    maximize = bool(wd) != bool(mom)
    p, sq, ga, buf = lists(rng, dtype, 4, positive=(1,))
    ga = [np.clip(a * 0.1, -0.3, 0.3) for a in ga]  # sq >= 0.1 > ga^2: sq - ga^2 stays > 0
    tp, tsq, tga, tbuf = et(p), et(sq), et(ga), et(buf)
    p, sq, ga, buf = f64(p), f64(sq), f64(ga), f64(buf)
    for _ in range(2):
        g = lists(rng, dtype, 1)[0]
        _C.rmsprop_step(tp, et(g), tsq, tga if centered else None, tbuf if mom else None,
                        0.01, 0.99, 1e-8, wd, mom, centered, maximize)
        for i, gi in enumerate(f64(g)):
            p[i], sq[i], ga[i], buf[i] = ref_rmsprop(p[i], gi, sq[i], ga[i], buf[i], 0.01, 0.99,
                                                     1e-8, wd, mom, centered, maximize)
        check(tp, p, dtype)
        check(tsq, sq, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("wd,lr_decay,maximize", list(
    itertools.product([0, 0.1], [0, 0.01], [False, True])))
def test_adagrad_kernel(capability, rng, dtype, wd, lr_decay, maximize):
    p, s = lists(rng, dtype, 2, positive=(1,))
    tp, ts = et(p), et(s)
    p, s = f64(p), f64(s)
    for step in range(1, 3):
        g = lists(rng, dtype, 1)[0]
        _C.adagrad_step(tp, et(g), ts, step, 0.1, lr_decay, wd, 1e-10, maximize)
        for i, gi in enumerate(f64(g)):
            p[i], s[i] = ref_adagrad(p[i], gi, s[i], step, 0.1, lr_decay, wd, 1e-10, maximize)
        check(tp, p, dtype)
        check(ts, s, dtype)


def test_kernel_bumps_versions_and_handles_empty():
    p, g = ember.zeros(3), ember.ones(3)
    _C.sgd_step([], [], None, 0.1, 0, 0, False, 0, False, True)
    _C.sgd_step([p, ember.zeros(0)], [g, ember.zeros(0)], None, 0.5, 0, 0, False, 0, False,
                True)
    np.testing.assert_array_equal(np.asarray(p), [-0.5] * 3)
    m, v = ember.zeros(3), ember.zeros(3)
    before = [t._version for t in (p, g, m, v)]
    _C.adam_step([p], [g], [m], [v], None, 1, 0.1, 0.9, 0.999, 1e-8, 0, False, False, False)
    assert [t._version for t in (p, g, m, v)] == [before[0] + 1, before[1], before[2] + 1,
                                                  before[3] + 1]


def test_kernel_thread_count_invariant(rng):
    """The element split across threads must not change any value."""
    p0 = [rng.standard_normal(s).astype(np.float32) for s in [(5,), (70001,), (3,), (40000,)]]
    grads = [rng.standard_normal(a.shape).astype(np.float32) for a in p0]
    results = []
    before = ember.get_num_threads()
    try:
        for n in (1, 2, 3):
            ember.set_num_threads(n)
            tp, m, v = et(p0), [ember.zeros(a.shape) for a in p0], [ember.zeros(a.shape)
                                                                      for a in p0]
            _C.adam_step(tp, et(grads), m, v, None, 1, 1e-3, 0.9, 0.999, 1e-8, 0, False, False,
                         False)
            results.append([np.asarray(t) for t in tp])
    finally:
        ember.set_num_threads(before)
    for r in results[1:]:
        for a, b in zip(results[0], r, strict=True):
            np.testing.assert_array_equal(a, b)


# ---- kernel argument checks ----------------------------------------------------------------
def adam(params, grads, m, v, **kw):
    args = dict(max_exp_avg_sqs=None, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False, maximize=False)
    args.update(kw)
    _C.adam_step(params, grads, m, v, **args)


def test_kernel_errors():
    z = ember.zeros
    with pytest.raises(ValueError, match=r"\[adam_step\] grads has 1 tensors but params has 2"):
        adam([z(2), z(3)], [z(2)], [z(2), z(3)], [z(2), z(3)])
    with pytest.raises(ValueError, match=r"\[adam_step\] exp_avgs\[1\] has shape \(4,\) but "
                                         r"params\[1\] has shape \(3,\)"):
        adam([z(2), z(3)], [z(2), z(3)], [z(2), z(4)], [z(2), z(3)])
    with pytest.raises(TypeError, match=r"\[adam_step\] grads\[0\] has dtype float64"):
        adam([z(2)], [z(2, dtype=ember.float64)], [z(2)], [z(2)])
    with pytest.raises(TypeError, match=r"\[adam_step\] params\[0\] has dtype int32"):
        adam([z(2, dtype=ember.int32)], [z(2, dtype=ember.int32)], [z(2, dtype=ember.int32)],
             [z(2, dtype=ember.int32)])
    with pytest.raises(ValueError, match=r"\[adam_step\] params\[0\] of shape \(3, 2\) is not "
                                         "contiguous"):
        adam([z(2, 3).T], [z(3, 2)], [z(3, 2)], [z(3, 2)])
    with pytest.raises(TypeError, match=r"\[adam_step\] grads\[0\] is a str"):
        adam([z(2)], ["x"], [z(2)], [z(2)])
    with pytest.raises(TypeError, match=r"\[adam_step\] params must be a list"):
        adam(z(2), [z(2)], [z(2)], [z(2)])
    with pytest.raises(ValueError, match=r"max_exp_avg_sqs are required when amsgrad"):
        adam([z(2)], [z(2)], [z(2)], [z(2)], amsgrad=True)
    with pytest.raises(ValueError, match=r"step must be >= 1"):
        adam([z(2)], [z(2)], [z(2)], [z(2)], step=0)
    p = z(2)
    with pytest.raises(ValueError, match=r"exp_avgs\[0\] and params\[0\] share memory"):
        adam([p], [z(2)], [p], [z(2)])
    with pytest.raises(ValueError, match=r"\[sgd_step\] momentum_buffers are required"):
        _C.sgd_step([z(2)], [z(2)], None, 0.1, 0.9, 0, False, 0, False, True)
    with pytest.raises(ValueError, match=r"\[rmsprop_step\] grad_avgs are required"):
        _C.rmsprop_step([z(2)], [z(2)], [z(2)], None, None, 0.1, 0.99, 1e-8, 0, 0, True, False)
    with pytest.raises(ValueError, match=r"\[adagrad_step\] state_sums\[0\] has shape"):
        _C.adagrad_step([z(2)], [z(2)], [z(3)], 1, 0.1, 0, 0, 1e-10, False)


# ---- ember.optim vs torch.optim -------------------------------------------------------------
SHAPES = [(3, 5), (7,), (1,), (4, 33)]
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.2)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
]


def run_steps(lib: Any, opt: Any, params: list[Any], grads: list[list[np.ndarray | None]],
              steps: range) -> None:
    for s in steps:
        for p, g in zip(params, grads[s], strict=True):
            p.grad = None if g is None else lib.tensor(g)
        opt.step()


def make_problem(dtype: str = "float32", steps: int = 20):
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    # Parameter 1 has no gradient on every third step: skipped, its step count falls behind.
    grads = [[None if (i == 1 and s % 3 == 0) else rng.standard_normal(sh).astype(dtype)
              for i, sh in enumerate(SHAPES)] for s in range(steps)]
    return init, grads


@pytest.mark.parametrize("name,kw", CONFIGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity_with_torch(name, kw, dtype):
    torch = pytest.importorskip("torch")
    init, grads = make_problem(dtype)
    ep = [ember.tensor(a) for a in init]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    # Two groups: the second with its own lr.
    lr2 = kw.get("lr", 0.01) / 2
    eopt = getattr(ember.optim, name)([{"params": ep[:2]}, {"params": ep[2:], "lr": lr2}], **kw)
    topt = getattr(torch.optim, name)([{"params": tp[:2]}, {"params": tp[2:], "lr": lr2}], **kw)
    run_steps(ember, eopt, ep, grads, range(20))
    run_steps(torch, topt, tp, grads, range(20))
    t = {"rtol": 1e-12, "atol": 1e-12} if dtype == "float64" else {"rtol": 2e-5, "atol": 2e-6}
    for e, p in zip(ep, tp, strict=True):
        np.testing.assert_allclose(np.asarray(e), p.detach().numpy(), **t)
    tsd, esd = topt.state_dict(), eopt.state_dict()
    assert sorted(tsd["state"]) == sorted(esd["state"])
    for k, st in tsd["state"].items():
        assert set(st) == set(esd["state"][k])
        if "step" in st:
            assert int(st["step"]) == esd["state"][k]["step"]
    assert [sorted(g) for g in tsd["param_groups"]] == [sorted(g) for g in esd["param_groups"]]


@pytest.mark.parametrize("name,kw", CONFIGS[1:14:3])
def test_state_dict_round_trip(name, kw):
    init, grads = make_problem()
    cls = getattr(ember.optim, name)
    ref = [ember.tensor(a) for a in init]
    ropt = cls(ref, **kw)
    run_steps(ember, ropt, ref, grads, range(20))

    ps = [ember.tensor(a) for a in init]
    opt = cls(ps, **kw)
    run_steps(ember, opt, ps, grads, range(5))
    sd = opt.state_dict()
    ps2 = [p.clone() for p in ps]
    opt2 = cls(ps2, **kw)
    opt2.load_state_dict(sd)
    for st in sd["state"].values():  # the loaded state is a copy: scribbling here is harmless
        for v in st.values():
            if isinstance(v, ember.Tensor):
                v.fill_(1e9)
    run_steps(ember, opt2, ps2, grads, range(5, 20))
    for a, b in zip(ref, ps2, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_load_state_dict_errors():
    a, b = ember.zeros(2), ember.zeros(3)
    opt = ember.optim.Adam([a, b])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(ember.optim.Adam([{"params": [a]}, {"params": [b]}]).state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(ember.optim.Adam([a]).state_dict())


def test_optimizer_api():
    a, b, c = ember.zeros(2), ember.zeros(3), ember.zeros(1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ember.optim.SGD([a], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        ember.optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        ember.optim.SGD([a], nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        ember.optim.SGD([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        ember.optim.SGD(a)
    opt = ember.optim.SGD([a, b], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [b, c]})
    opt.add_param_group({"params": [c], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert "SGD (\nParameter Group 0\n    dampening: 0\n" in repr(opt)
    a.grad = ember.ones(2)
    opt.step()  # b and c have no gradient: skipped, no state
    np.testing.assert_allclose(np.asarray(a), [-0.1, -0.1])
    assert b not in opt.state and np.asarray(b).tolist() == [0, 0, 0]
    opt.zero_grad(set_to_none=False)
    assert np.asarray(a.grad).tolist() == [0, 0]
    opt.zero_grad()
    assert a.grad is None
    calls = []
    assert opt.step(lambda: calls.append(1) or 3.5) == 3.5 and calls == [1]


# ---- gradient clipping and the L1 penalty -----------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    from ember.nn.utils import clip_grad_norm_

    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    ep = [ember.zeros(s) for s in SHAPES] + [ember.zeros(3)]  # the last has no grad
    tp = [torch.zeros(s) for s in SHAPES] + [torch.zeros(3)]
    for e, t, g in zip(ep, tp, grads, strict=False):
        e.grad, t.grad = ember.tensor(g), torch.tensor(g)
    en = clip_grad_norm_(ep, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    np.testing.assert_allclose(float(en), float(tn), rtol=1e-6)
    for e, t in zip(ep[:-1], tp[:-1], strict=True):
        np.testing.assert_allclose(np.asarray(e.grad), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert ep[-1].grad is None


def test_clip_grad_value_and_errors():
    from ember.nn.utils import clip_grad_norm_, clip_grad_value_

    p = ember.zeros(4)
    p.grad = ember.tensor([-3.0, -0.5, 0.5, 3.0])
    clip_grad_value_(p, 1.0)
    assert np.asarray(p.grad).tolist() == [-1.0, -0.5, 0.5, 1.0]
    assert float(clip_grad_norm_([ember.zeros(2)], 1.0)) == 0.0  # no gradients at all
    p.grad = ember.tensor([1.0, float("inf"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_l1_penalty_gradient():
    from ember.nn.utils import l1_penalty

    rng = np.random.default_rng(3)
    arrs = [rng.standard_normal(s) for s in SHAPES]
    ps = [ember.tensor(a, requires_grad=True) for a in arrs]
    loss = l1_penalty(ps) * 0.5
    np.testing.assert_allclose(float(loss), 0.5 * sum(np.abs(a).sum() for a in arrs))
    loss.backward()
    for p, a in zip(ps, arrs, strict=True):
        np.testing.assert_allclose(np.asarray(p.grad), 0.5 * np.sign(a))


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("Adam", dict(lr=0.1)), ("RMSprop", dict(lr=0.05)),
                                     ("Adagrad", dict(lr=0.5))])
def test_minimises_with_autograd_closure(name, kw):
    """Gradients come from backward (an expanded, non-contiguous grad for `b`)."""
    target = ember.tensor([1.0, -2.0, 3.0])
    w = ember.zeros(3, requires_grad=True)
    b = ember.zeros(1, requires_grad=True)
    opt = getattr(ember.optim, name)([w, b], **kw)

    def closure():
        opt.zero_grad()
        loss = ((w + b - target) ** 2).sum()
        loss.backward()
        return loss

    first = float(opt.step(closure))
    for _ in range(150):
        last = float(opt.step(closure))
    assert last < 1e-2 * first
