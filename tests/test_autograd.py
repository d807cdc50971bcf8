"""The autograd engine: accumulation, graph reuse, in-place checks, grad modes, hooks,
higher-order gradients, custom Functions, and gradient parity with PyTorch."""

from __future__ import annotations

import threading
from typing import Any

import ember
import numpy as np
import pytest
from ember.autograd import Function, gradcheck

RNG = np.random.default_rng(7)


def T(a: Any, rg: bool = True, dtype: Any = ember.float64) -> ember.Tensor:  # noqa: N802
    t = ember.tensor(np.asarray(a, dtype=np.float64), dtype=dtype)
    return t.requires_grad_() if rg else t


def arr(t: ember.Tensor) -> np.ndarray:
    return np.asarray(t.detach())


# ---- accumulation and graph shape ----------------------------------------------------------
def test_tensor_used_several_times() -> None:
    x = T([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), 2 * arr(x) + 1)


def test_diamond_graph() -> None:
    x = T([0.5, 1.5])
    a = x.exp()
    b, c = a * 2.0, a.sin()
    (b * c).sum().backward()
    xv = arr(x)
    ea = np.exp(xv)
    np.testing.assert_allclose(arr(x.grad), (2 * np.sin(ea) + 2 * ea * np.cos(ea)) * ea)


def test_grad_accumulates_across_backward_calls() -> None:
    x = T([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), 3 + 2 * arr(x))
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])


def test_second_backward_needs_retain_graph() -> None:
    x = T([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(arr(x.grad), 2 * (np.exp(arr(x)) * (1 + arr(x))))
    z = (x.exp() * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_backward_non_scalar_needs_gradient() -> None:
    x = T([1.0, 2.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(ember.tensor([1.0, -1.0], dtype=ember.float64))
    np.testing.assert_allclose(arr(x.grad), [2.0, -2.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2.0).backward(ember.ones(3, dtype=ember.float64))


def test_backward_without_graph_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        T([1.0], rg=False).sum().backward()


def test_broadcast_gradient_has_input_shape_and_dtype() -> None:
    w = T([[0.5, -1.0, 2.0]], dtype=ember.float32)
    x = T(RNG.normal(size=(4, 3)), rg=False)
    y = w * x
    assert y.dtype == ember.float64
    y.sum().backward()
    assert w.grad.dtype == ember.float32 and tuple(w.grad.shape) == (1, 3)
    np.testing.assert_allclose(arr(w.grad)[0], arr(x).sum(0), rtol=1e-6)
    b = T(0.5)
    (b + x).sum().backward()
    assert b.grad.shape == () and float(b.grad) == 12.0


def test_deep_chain_no_recursion_error() -> None:
    x = T([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [1.0001 ** 5000], rtol=1e-9)


# ---- in-place --------------------------------------------------------------------------------
def test_inplace_on_saved_tensor_raises_naming_op() -> None:
    x = T([1.0, 2.0])
    y = x * 2.0
    z = y.exp()  # exp saves its output... and its input y
    w = y * y  # Mul saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="Mul.*modified by an in-place"):
        w.sum().backward()
    del z


def test_inplace_on_leaf_requiring_grad_raises() -> None:
    x = T([1.0, 2.0])
    for f in (lambda: x.add_(1.0), lambda: x.mul_(2.0), lambda: x.__setitem__(0, 3.0),
              lambda: x.exp_(), lambda: x.zero_()):
        with pytest.raises(RuntimeError, match="leaf"):
            f()
    with ember.no_grad():
        x.add_(1.0)  # a parameter update
    np.testing.assert_allclose(arr(x), [2.0, 3.0])
    assert x.is_leaf and x.requires_grad


def test_inplace_on_non_leaf_gives_right_grad() -> None:
    x = T([1.0, 2.0, 3.0])
    y = x * 2.0
    y.add_(1.0)
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0, 2.0])
    x.grad = None
    y = x * 2.0
    y.mul_(x)  # y = 2x^2
    y.exp_()
    y.sum().backward()
    xv = arr(x)
    np.testing.assert_allclose(arr(x.grad), 4 * xv * np.exp(2 * xv ** 2))


def test_setitem_into_non_leaf() -> None:
    x = T([1.0, 2.0, 3.0])
    v = T(5.0)
    y = x * 1.0
    y[1] = v * 2.0
    (y * y).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [2.0, 0.0, 6.0])
    np.testing.assert_allclose(arr(v.grad), 40.0)


# ---- grad modes ------------------------------------------------------------------------------
def test_no_grad_and_enable_grad_context_managers() -> None:
    x = T([1.0])
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_modes_as_decorators() -> None:
    @ember.no_grad()
    def f(x: ember.Tensor) -> ember.Tensor:
        return x * 2

    @ember.enable_grad()
    def g(x: ember.Tensor) -> ember.Tensor:
        return x * 2

    x = T([1.0])
    assert not f(x).requires_grad
    with ember.no_grad():
        assert g(x).requires_grad
    assert ember.is_grad_enabled()


def test_set_grad_enabled() -> None:
    x = T([1.0])
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    ember.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def h(x: ember.Tensor) -> ember.Tensor:
        return x * 2

    assert ember.is_grad_enabled()  # the decorator changes nothing until h runs
    assert not h(x).requires_grad and ember.is_grad_enabled()


def test_grad_mode_restored_after_exception() -> None:
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError
    assert ember.is_grad_enabled()


def test_grad_mode_is_thread_local() -> None:
    seen: list[bool] = []
    started, release = threading.Event(), threading.Event()

    def worker() -> None:
        with ember.no_grad():
            started.set()
            release.wait(5)
            seen.append(ember.is_grad_enabled())

    t = threading.Thread(target=worker)
    t.start()
    started.wait(5)
    assert ember.is_grad_enabled()  # the worker's no_grad does not leak into this thread
    assert (T([1.0]) * 2).requires_grad
    release.set()
    t.join()
    assert seen == [False]
    with ember.no_grad():
        out: list[bool] = []
        t = threading.Thread(target=lambda: out.append(ember.is_grad_enabled()))
        t.start()
        t.join()
    assert out == [True]  # a new thread starts with grad enabled


def test_detach_and_requires_grad_rules() -> None:
    x = T([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 7.0  # shares storage
    assert float(y[0]) == 7.0
    with pytest.raises(RuntimeError, match="floating-point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None


# ---- autograd.grad and higher order --------------------------------------------------------
def test_grad_allow_unused() -> None:
    x, u = T([1.0, 2.0]), T([3.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="not used"):
        ember.autograd.grad(y, [x, u], retain_graph=True)
    gx, gu = ember.autograd.grad(y, [x, u], allow_unused=True)
    np.testing.assert_allclose(arr(gx), [2.0, 4.0])
    assert gu is None
    assert x.grad is None  # grad() does not accumulate


def test_grad_of_non_leaf_input() -> None:
    x = T([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = ember.autograd.grad(y, h)
    np.testing.assert_allclose(arr(gh), 2 * arr(h))


def _mlp(params: list[ember.Tensor], x: ember.Tensor) -> ember.Tensor:
    w1, b1, w2 = params
    return ((x @ w1 + b1).tanh() @ w2).square().sum()


def test_hessian_vector_product_vs_finite_difference() -> None:
    x = T(RNG.normal(size=(3, 2)), rg=False)
    ps = [T(RNG.normal(size=(2, 4))), T(RNG.normal(size=(4,))), T(RNG.normal(size=(4, 1)))]
    vs = [T(RNG.normal(size=tuple(p.shape)), rg=False) for p in ps]
    gs = ember.autograd.grad(_mlp(ps, x), ps, create_graph=True)
    dot = sum(((g * v).sum() for g, v in zip(gs, vs, strict=True)), T(0.0, rg=False))
    hv = ember.autograd.grad(dot, ps)

    def grads_at(shift: float) -> list[np.ndarray]:
        q = [(p.detach() + shift * v).requires_grad_() for p, v in zip(ps, vs, strict=True)]
        return [arr(g) for g in ember.autograd.grad(_mlp(q, x), q)]

    eps = 1e-5
    plus, minus = grads_at(eps), grads_at(-eps)
    for h, p_, m_ in zip(hv, plus, minus, strict=True):
        np.testing.assert_allclose(arr(h), (p_ - m_) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_create_graph_third_derivative() -> None:
    x = T([0.7])
    (g1,) = ember.autograd.grad(x.sin(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g1, x, create_graph=True)
    (g3,) = ember.autograd.grad(g2, x)
    np.testing.assert_allclose(arr(g3), [-np.cos(0.7)])


# ---- hooks -----------------------------------------------------------------------------------
def test_register_hook_modifies_grad() -> None:
    x = T([1.0, 2.0])
    h = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [30.0, 30.0])
    h.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])


def test_hook_on_non_leaf_and_observation() -> None:
    x = T([1.0, 2.0])
    y = x * 2
    seen: list[np.ndarray] = []
    y.register_hook(lambda g: seen.append(arr(g)))
    y.register_hook(lambda g: g + 1)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * arr(y))
    np.testing.assert_allclose(arr(x.grad), 2 * (2 * arr(y) + 1))
    with pytest.raises(RuntimeError, match="does not require grad"):
        T([1.0], rg=False).register_hook(lambda g: g)


def test_retain_grad() -> None:
    x = T([1.0, 2.0])
    y = x * 2
    z = x * 3
    y.retain_grad()
    (y * y + z).sum().backward()
    assert y.retains_grad and not z.retains_grad
    np.testing.assert_allclose(arr(y.grad), 2 * arr(y))
    assert z.grad is None


# ---- custom Function -------------------------------------------------------------------------
class ScaledCube(Function):
    @staticmethod
    def forward(ctx: Any, x: ember.Tensor, k: float, w: ember.Tensor) -> Any:
        ctx.save_for_backward(x, w)
        ctx.k = k
        ctx.record = ctx.needs_input_grad
        idx = (x > 0).to(ember.int64)
        ctx.mark_non_differentiable(idx)
        return x * x * x * w * k, idx

    @staticmethod
    def backward(ctx: Any, g: ember.Tensor, gidx: Any) -> Any:
        x, w = ctx.saved_tensors
        gx = g * 3 * x * x * w * ctx.k if ctx.needs_input_grad[0] else None
        gw = g * x * x * x * ctx.k if ctx.needs_input_grad[2] else None
        return gx, None, gw


def test_custom_function() -> None:
    x, w = T([1.0, -2.0]), T([0.5, 3.0], rg=False)
    y, idx = ScaledCube.apply(x, 2.0, w)
    assert y.requires_grad and not idx.requires_grad
    assert y.grad_fn.record == (True, False, False)
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), 3 * arr(x) ** 2 * arr(w) * 2)
    w.requires_grad_()
    assert gradcheck(lambda x, w: ScaledCube.apply(x, 2.0, w)[0], (x, w))
    ember.autograd.gradgradcheck(lambda x, w: ScaledCube.apply(x, 2.0, w)[0], (x, w))


def test_custom_function_wrong_number_of_grads() -> None:
    class Bad(Function):
        @staticmethod
        def forward(ctx: Any, a: ember.Tensor, b: ember.Tensor) -> ember.Tensor:
            return a + b

        @staticmethod
        def backward(ctx: Any, g: ember.Tensor) -> Any:
            return g

    a, b = T([1.0]), T([2.0])
    with pytest.raises(RuntimeError, match="returned 1 gradients, expected 2"):
        Bad.apply(a, b).sum().backward()


def test_custom_function_without_grad_inputs_records_nothing() -> None:
    y, _ = ScaledCube.apply(T([1.0], rg=False), 1.0, T([1.0], rg=False))
    assert not y.requires_grad and y.grad_fn is None


def test_inplace_chain_on_non_leaf_gradcheck() -> None:
    def f(x: ember.Tensor) -> ember.Tensor:
        y = x * 2.0
        y.mul_(x)
        y.sin_()
        y.pow_(2)
        y.clamp_(max=0.8)
        return y

    x = T(RNG.uniform(0.2, 0.5, size=(2, 3)))
    assert gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))


# ---- PyTorch parity --------------------------------------------------------------------------
def _pair(a: np.ndarray, torch: Any) -> tuple[ember.Tensor, Any]:
    return T(a), torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _mlp_loss(lib: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, onehot: Any) -> Any:
    h = (x @ w1 + b1).tanh()
    h = lib.maximum(h, h * 0.1) + (h * 0.5).sigmoid() * h.abs()
    z = h @ w2 + b2
    z = z - z.amax(dim=1, keepdim=True).detach()
    logp = z - z.exp().sum(dim=1, keepdim=True).log()  # log-softmax from primitives
    return -(logp * onehot).sum() / x.shape[0] + 1e-2 * (w1 * w1).sum()


def test_mlp_gradients_match_torch() -> None:
    torch = pytest.importorskip("torch")
    shapes = [(5, 4), (4, 6), (6,), (6, 3), (3,)]
    arrays = [RNG.normal(size=s) for s in shapes]
    onehot = np.eye(3)[RNG.integers(0, 3, size=5)]
    ours = [_pair(a, torch) for a in arrays]
    le = _mlp_loss(ember, *(e for e, _ in ours), T(onehot, rg=False))
    lt = _mlp_loss(torch, *(t for _, t in ours), torch.tensor(onehot))
    le.backward()
    lt.backward()
    np.testing.assert_allclose(float(le), lt.item(), rtol=1e-12)
    for e, t in ours:
        np.testing.assert_allclose(arr(e.grad), t.grad.numpy(), rtol=1e-6, atol=1e-10)


def _cnnish(x: Any, w: Any) -> Any:
    # (N, C, H, W) -> patches via reshape/permute, a matmul, back: a conv-free "conv"
    n, c, h, wd = x.shape
    p = x.reshape(n, c, h // 2, 2, wd // 2, 2).permute(0, 2, 4, 1, 3, 5)
    p = p.reshape(n, (h // 2) * (wd // 2), c * 4)
    y = (p @ w).relu()
    y = y.transpose(1, 2).reshape(n, -1, h // 2, wd // 2)
    y = y[:, :, ::-1, 1:].flatten(1)
    return (y.cumsum(1) * y.softmax(1) if hasattr(y, "softmax") else y.cumsum(1) * y).mean()


def test_cnn_like_chain_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    xa, wa = RNG.normal(size=(2, 3, 4, 4)), RNG.normal(size=(12, 5))
    (xe, xt), (we, wt) = _pair(xa, torch), _pair(wa, torch)
    _cnnish(xe, we).backward()
    # torch has no negative-step slicing: flip the same dim instead
    n, c, h, wd = xt.shape
    p = xt.reshape(n, c, h // 2, 2, wd // 2, 2).permute(0, 2, 4, 1, 3, 5)
    p = p.reshape(n, (h // 2) * (wd // 2), c * 4)
    y = (p @ wt).relu().transpose(1, 2).reshape(n, -1, h // 2, wd // 2)
    y = y.flip(2)[:, :, :, 1:].flatten(1)
    ((y.cumsum(1) * y.softmax(1)) if hasattr(xe, "softmax") else y.cumsum(1) * y).mean().backward()
    np.testing.assert_allclose(arr(xe.grad), xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(arr(we.grad), wt.grad.numpy(), rtol=1e-6, atol=1e-12)


def _critic(lib: Any, x: Any, w1: Any, w2: Any) -> Any:
    return (lib.tanh(x @ w1) @ w2).sum()


def test_gradient_penalty_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    xa, w1a, w2a = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=(5, 1))
    xe, xt = _pair(xa, torch)
    (w1e, w1t), (w2e, w2t) = _pair(w1a, torch), _pair(w2a, torch)
    (ge,) = ember.autograd.grad(_critic(ember, xe, w1e, w2e), xe, create_graph=True)
    (gt,) = torch.autograd.grad(_critic(torch, xt, w1t, w2t), xt, create_graph=True)
    pe = ((ge.square().sum(1).sqrt() - 1.0) ** 2).mean()
    pt = ((gt.square().sum(1).sqrt() - 1.0) ** 2).mean()
    pe.backward()
    pt.backward()
    np.testing.assert_allclose(float(pe), pt.item(), rtol=1e-12)
    for e, t in ((w1e, w1t), (w2e, w2t), (xe, xt)):
        np.testing.assert_allclose(arr(e.grad), t.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("case", ["prod_zeros", "cumprod_zeros", "amax_ties", "clamp_tensor",
                                  "norm_inf", "std", "pow_zero_base"])
def test_edge_gradients_match_torch(case: str) -> None:
    torch = pytest.importorskip("torch")
    a = {"prod_zeros": [[0.0, 2.0, 0.0], [1.5, 0.0, 3.0]],
         "cumprod_zeros": [[0.0, 2.0, 0.0], [1.5, 0.0, 3.0]],
         "amax_ties": [[1.0, 2.0, 2.0], [3.0, 3.0, 3.0]],
         "clamp_tensor": [[-2.0, 0.5, 2.0], [0.0, 1.0, -1.0]],
         "norm_inf": [[1.0, -3.0, 3.0], [0.5, 0.2, -0.1]],
         "std": [[1.0, 2.0, 4.0], [0.5, 0.2, -0.1]],
         "pow_zero_base": [[0.0, 2.0, 1.0], [1.5, 0.0, 3.0]]}[case]
    fns = {
        "prod_zeros": lambda x, lib: x.prod(1).sum() + x.prod(),
        "cumprod_zeros": lambda x, lib: (x.cumprod(1) * x).sum() + x.cumprod(0).sum(),
        "amax_ties": lambda x, lib: x.amax(1).sum() + x.amax(),
        "clamp_tensor": lambda x, lib: lib.clamp(x, x.detach()[0] * 0 - 0.5, x.detach()[1]).sum(),
        "norm_inf": lambda x, lib: lib.linalg.vector_norm(x, float("inf"), dim=1).sum()
        if lib is torch else ember.norm(x, float("inf"), dim=1).sum(),
        "std": lambda x, lib: x.std(1).sum() + x.var(0, correction=0).sum(),
        "pow_zero_base": lambda x, lib: (x ** 2.0).sum() + (x ** 3).sum(),
    }
    xe, xt = _pair(np.asarray(a), torch)
    f = fns[case]
    (ge,) = ember.autograd.grad(f(xe, ember), xe, create_graph=True)
    (gt,) = torch.autograd.grad(f(xt, torch), xt, create_graph=True)
    np.testing.assert_allclose(arr(ge), gt.detach().numpy(), rtol=1e-6, atol=1e-12)
    ve = T(RNG.normal(size=(2, 3)), rg=False)
    vt = torch.tensor(arr(ve))
    assert ge.requires_grad == gt.requires_grad
    if not gt.requires_grad:  # piecewise linear (amax, clamp): the gradient is a constant
        return
    (ht,) = torch.autograd.grad((gt * vt).sum(), xt, allow_unused=True)
    want = np.zeros((2, 3)) if ht is None else ht.detach().numpy(force=True)
    (he,) = ember.autograd.grad((ge * ve).sum(), xe, allow_unused=True)
    got = np.zeros((2, 3)) if he is None else arr(he)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


def test_inplace_on_view_of_non_leaf_is_refused() -> None:
    y = T([1.0, 2.0, 3.0]) * 2.0
    with pytest.raises(RuntimeError, match="view"):
        y[1:].mul_(2.0)
    with pytest.raises(RuntimeError, match="view"):
        y.view(3).add_(1.0)


def test_view_sees_later_inplace_on_base() -> None:
    # the view is rebased onto the base's new graph, as in PyTorch
    x = T([1.0, 2.0])
    y = x * 2.0
    v = y[:1]
    w = v.view(1, 1)  # a view of the view follows too
    y.mul_(3.0)
    (v.sum() + w.sum()).backward()
    np.testing.assert_allclose(arr(x.grad), [12.0, 0.0])


def test_view_sees_later_setitem_on_base() -> None:
    x = T([1.0, 2.0, 3.0])
    y = x * 1.0
    v = y[1:]
    y[0:2] = x[2] * 5.0  # y = [5 x2, 5 x2, x2]; v = [5 x2, x2]
    v.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [0.0, 0.0, 6.0])


def test_view_used_before_inplace_on_base_raises() -> None:
    x = T([1.0, 2.0])
    y = x * 2.0
    z = y[:1] * y[:1]  # saved the view's old values
    y.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "cumsum", "cumprod"])
def test_reduction_dtype_argument_keeps_grad_dtype(op: str) -> None:
    x = T([1.0, 2.0, 0.5], dtype=ember.float32)
    f = getattr(x, op)
    y = f(0, dtype=ember.float64) if op.startswith("cum") else f(dtype=ember.float64)
    assert y.dtype == ember.float64
    y.sum().backward()
    assert x.grad.dtype == ember.float32


def test_backward_inputs_and_duplicate_grad_inputs() -> None:
    x, w = T([1.0, 2.0]), T([3.0, 4.0])
    (x * w).sum().backward(inputs=[x])
    np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])
    assert w.grad is None
    g1, g2 = ember.autograd.grad((x * x).sum(), [x, x])
    np.testing.assert_allclose(arr(g1), [2.0, 4.0])
    np.testing.assert_allclose(arr(g2), [2.0, 4.0])


def test_max_all_ties_share_and_split_outputs() -> None:
    a = T([1.0, 3.0, 3.0])
    a.max().backward()
    np.testing.assert_allclose(arr(a.grad), [0.0, 0.5, 0.5])
    b = T(np.arange(6.0))
    p, _ = b.split(3)
    (p * 2).sum().backward()  # an unused output of the split gets no gradient
    np.testing.assert_allclose(arr(b.grad), [2, 2, 2, 0, 0, 0])


def test_deepcopy_copies_leaves_and_refuses_non_leaves() -> None:
    import copy

    x = ember.randn(3, requires_grad=True)
    x.grad = ember.ones(3)
    y = copy.deepcopy(x)
    assert y.requires_grad and y.is_leaf and y.grad is not x.grad
    y.detach().add_(1.0)  # own storage: x unchanged
    np.testing.assert_allclose(y.detach().numpy() - 1.0, x.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(y.grad.numpy(), 1.0)
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        copy.deepcopy(x * 2)
