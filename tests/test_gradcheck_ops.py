"""gradcheck and gradgradcheck (float64, central differences) for every differentiable op.

Inputs are tiny (gradcheck is O(numel^2)) and kept away from kinks (0 for abs/relu, ties for
max/min, integer ratios for remainder) where the finite difference is not a derivative.
"""

from __future__ import annotations

import math
from typing import Any

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(1234)


def T(a: Any, rg: bool = True) -> ember.Tensor:  # noqa: N802
    t = ember.tensor(np.asarray(a, dtype=np.float64), dtype=ember.float64)
    return t.requires_grad_() if rg else t


def rand(*shape: int, lo: float = -2.0, hi: float = 2.0, away: float = 0.0,
         rg: bool = True) -> ember.Tensor:
    """Uniform in [lo, hi] with |x| >= away (kinks at 0 stay out of the difference stencil)."""
    a = RNG.uniform(lo, hi, size=shape)
    if away:
        a = np.where(np.abs(a) < away, np.sign(a + 1e-12) * away + a, a)
    return T(a, rg)


def check(fn: Any, *inputs: Any, gg: bool = True, **kw: Any) -> None:
    assert gradcheck(fn, inputs, **kw)
    if gg:
        assert gradgradcheck(fn, inputs, **kw)


# ---- unary elementwise ----------------------------------------------------------------------
POS = {"lo": 0.3, "hi": 2.0}
UNARY = [
    ("neg", lambda x: -x, {}),
    ("abs", ember.abs, {"away": 0.2}),
    ("square", ember.square, {}),
    ("relu", ember.relu, {"away": 0.2}),
    ("exp", ember.exp, {}),
    ("expm1", ember.expm1, {}),
    ("log", ember.log, POS),
    ("log1p", ember.log1p, {"lo": -0.5, "hi": 2.0}),
    ("log2", ember.log2, POS),
    ("sqrt", ember.sqrt, POS),
    ("rsqrt", ember.rsqrt, POS),
    ("reciprocal", ember.reciprocal, {"away": 0.4}),
    ("sin", ember.sin, {}),
    ("cos", ember.cos, {}),
    ("tanh", ember.tanh, {}),
    ("sigmoid", ember.sigmoid, {}),
    ("erf", ember.erf, {}),
    ("silu", ember.silu, {}),
    ("gelu", ember.gelu, {}),
    ("gelu_tanh", lambda x: ember.gelu(x, approximate="tanh"), {}),
    ("leaky_relu", lambda x: ember.leaky_relu(x, 0.1), {"away": 0.2}),
    ("elu", lambda x: ember.elu(x, 0.7), {"away": 0.2}),
    ("selu", ember.selu, {"away": 0.2}),
    ("softplus", ember.softplus, {}),
    # beta * x crosses the threshold (1.0) inside [-2, 2]: both branches are checked
    ("softplus_threshold", lambda x: ember.softplus(x, beta=2.0, threshold=1.0), {}),
    ("nan_to_num", ember.nan_to_num, {}),
    ("pow_method", lambda x: x.pow(3), {}),
]


@pytest.mark.parametrize("name,fn,dom", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name: str, fn: Any, dom: dict[str, float]) -> None:
    x = rand(2, 3, **dom)
    if name == "softplus_threshold":  # stay off the threshold's jump in the derivative
        x = T(np.array([[-1.5, -0.3, 0.2], [0.9, 1.4, 1.9]]))
    check(fn, x)


def test_unary_on_noncontiguous_input() -> None:
    x = rand(3, 2)
    check(lambda x: x.t().exp().sin(), x)


def test_softplus_threshold_region_gradient_is_one() -> None:
    x = T([30.0, 5.0])
    ember.softplus(x, beta=1.0, threshold=20.0).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [1.0, 1 / (1 + math.exp(-5.0))], rtol=1e-12)


def test_nan_to_num_gradient_zero_at_nonfinite() -> None:
    x = T([1.0, math.nan, math.inf, -math.inf])
    ember.nan_to_num(x, posinf=3.0).mul(2.0).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 0.0, 0.0, 0.0])


def test_integer_rounding_ops_have_zero_gradient() -> None:
    x = rand(2, 3, away=0.1)
    for f in (ember.floor, ember.ceil, ember.trunc, ember.round, ember.sign):
        (g,) = ember.autograd.grad(f(x).sum(), x)
        np.testing.assert_array_equal(np.asarray(g), np.zeros((2, 3)))


# ---- binary elementwise ---------------------------------------------------------------------
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((1, 3), (2, 1)),
          ((), (2, 3)), ((2, 3), ())]
BINARY = [
    ("add", lambda a, b: ember.add(a, b), {}),
    ("add_alpha", lambda a, b: ember.add(a, b, alpha=2.5), {}),
    ("sub", lambda a, b: a - b, {}),
    ("sub_alpha", lambda a, b: ember.sub(a, b, alpha=-1.5), {}),
    ("mul", lambda a, b: a * b, {}),
    ("div", lambda a, b: a / b, {"b": {"away": 0.5}}),
    ("pow", lambda a, b: a ** b, {"a": POS}),
    ("maximum", ember.maximum, {}),
    ("minimum", ember.minimum, {}),
    ("remainder", ember.remainder, {"b": {"lo": 0.9, "hi": 1.1}}),
    ("where", lambda a, b: ember.where(a.detach() > 0, a, b), {"a": {"away": 0.1}}),
]


@pytest.mark.parametrize("sa,sb", SHAPES, ids=[f"{a}-{b}" for a, b in SHAPES])
@pytest.mark.parametrize("name,fn,dom", BINARY, ids=[b[0] for b in BINARY])
def test_binary(name: str, fn: Any, dom: dict[str, Any], sa: tuple[int, ...],
                sb: tuple[int, ...]) -> None:
    a = rand(*sa, **dom.get("a", {}))
    b = rand(*sb, **dom.get("b", {}))
    if name == "remainder":  # a / b stays >= 0.18 from integers, where remainder jumps
        half = RNG.choice([-1.5, -0.5, 0.5, 1.5], size=sa) + RNG.uniform(-0.1, 0.1, size=sa)
        a = T(half)
    check(fn, a, b)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                  "remainder"])
def test_binary_with_python_scalar(name: str, side: str) -> None:
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
           "maximum": ember.maximum, "minimum": ember.minimum, "remainder": ember.remainder}
    op = ops[name]
    x = rand(2, 3, lo=0.3, hi=1.9)
    s = 1.3 if name != "remainder" else 2.1
    if side == "left" and name in ("maximum", "minimum", "remainder"):
        s_t = s  # ember.maximum(scalar, tensor)
        check(lambda x: op(s_t, x), x)
    elif side == "left":
        check(lambda x: op(s, x), x)
    else:
        check(lambda x: op(x, s), x)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 0, 1])
def test_pow_tensor_scalar(exponent: float) -> None:
    check(lambda x: x ** exponent, rand(2, 3, **POS))


def test_pow_scalar_tensor() -> None:
    check(lambda x: 2.0 ** x, rand(2, 3))
    check(lambda x: ember.pow(0.5, x), rand(2, 3))


def test_clamp_scalar_bounds() -> None:
    x = T([[-1.7, -0.6, -0.1], [0.2, 0.8, 1.6]])
    check(lambda x: ember.clamp(x, -0.5, 0.5), x)
    check(lambda x: ember.clamp(x, min=-0.5), x)
    check(lambda x: ember.clamp(x, max=0.5), x)
    check(lambda x: x.clip(-0.5, 0.5), x)


def test_clamp_tensor_bounds() -> None:
    x = T([[-1.7, -0.6, -0.1], [0.2, 0.8, 1.6]])
    lo = T([-0.5, -0.9, 0.3])
    hi = T([[0.6], [1.0]])
    check(lambda x, lo, hi: ember.clamp(x, lo, hi), x, lo, hi)
    check(lambda x, lo: ember.clamp(x, min=lo), x, lo)


def test_clamp_min_above_max_gradient_goes_to_max() -> None:
    # lo > hi: the result is hi everywhere (PyTorch), so only hi gets gradient
    x = T([-2.0, 0.0, 2.0])
    lo, hi = T([1.0, 1.0, 1.0]), T([-1.0, -1.0, -1.0])
    ember.clamp(x, lo, hi).sum().backward()
    np.testing.assert_array_equal(np.asarray(ember.clamp(x, lo, hi).detach()), [-1, -1, -1])
    np.testing.assert_array_equal(np.asarray(hi.grad), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(lo.grad), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 0.0, 0.0])


def test_where_scalar_operands_and_broadcast() -> None:
    c = ember.tensor(np.array([[True, False, True]]))
    check(lambda a: ember.where(c, a, 0.5), rand(2, 3))
    check(lambda b: ember.where(c, 2.0, b), rand(2, 1))
    check(lambda a, b: ember.where(c, a, b), rand(3), rand(2, 1))


def test_maximum_tie_splits_gradient() -> None:
    a, b = T([1.0, 2.0, 3.0]), T([1.0, 1.0, 4.0])
    ember.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(np.asarray(a.grad), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(np.asarray(b.grad), [0.5, 0.0, 1.0])


# ---- reductions -----------------------------------------------------------------------------
DIMS = [(None, False), (1, False), (-1, True), (0, True), ((0, 2), False), ((-1, 0), True),
        ((), False)]


def _red(name: str, dim: Any, keepdim: bool) -> Any:
    def f(x: ember.Tensor) -> Any:
        fn = getattr(ember, name)
        return fn(x) if dim is None else fn(x, dim=dim, keepdim=keepdim)

    return f


@pytest.mark.parametrize("dim,keepdim", DIMS, ids=[str(d) for d in DIMS])
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp", "amax", "amin"])
def test_reduction(name: str, dim: Any, keepdim: bool) -> None:
    if name == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    x = rand(2, 3, 2, lo=0.3, hi=1.5) if name == "prod" else rand(2, 3, 2)
    check(_red(name, dim, keepdim), x)


@pytest.mark.parametrize("zeros", [1, 2])
@pytest.mark.parametrize("dim", [None, 1, 0])
def test_prod_with_zeros(zeros: int, dim: Any) -> None:
    a = RNG.uniform(0.5, 1.5, size=(2, 3))
    a[0, 1] = 0.0
    if zeros == 2:
        a[0, 2] = 0.0
    x = T(a)
    check(lambda x: x.prod() if dim is None else x.prod(dim), x)


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, 2), False), (-1, False)])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name: str, correction: int, dim: Any, keepdim: bool) -> None:
    fn = getattr(ember, name)
    check(lambda x: fn(x, dim=dim, correction=correction, keepdim=keepdim), rand(2, 3, 3))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min(name: str) -> None:
    fn = getattr(ember, name)
    x = T(RNG.permutation(12).reshape(3, 4) * 0.25 - 1.0)  # distinct: no ties
    check(lambda x: fn(x), x)
    check(lambda x: fn(x, 1), x)
    check(lambda x: fn(x, dim=0, keepdim=True).values, x)
    check(lambda x: getattr(x, name)(-1)[0], x)


def test_max_dim_indices_not_differentiable() -> None:
    x = rand(2, 3)
    v, i = ember.max(x, 1)
    assert v.requires_grad and not i.requires_grad


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_ties_share_gradient(name: str) -> None:
    x = T([[1.0, 1.0, 0.0], [2.0, -3.0, -3.0]])
    getattr(ember, name)(x, dim=1).sum().backward()
    want = {"amax": [[0.5, 0.5, 0], [1, 0, 0]], "amin": [[0, 0, 1], [0, 0.5, 0.5]]}[name]
    np.testing.assert_array_equal(np.asarray(x.grad), want)


@pytest.mark.parametrize("p", [1, 2, 3, math.inf, -math.inf, "fro", 0.5])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (-1, True)])
def test_norm(p: Any, dim: Any, keepdim: bool) -> None:
    x = T(RNG.permutation(6).reshape(2, 3) * 0.3 + 0.2) * T(
        [[1, -1, 1], [-1, 1, -1]], rg=False)
    x = x.detach().requires_grad_()  # distinct magnitudes, both signs, no zero
    if p == "fro" and dim is not None:
        dim = (0, 1)
    check(lambda x: ember.norm(x, p=p, dim=dim, keepdim=keepdim), x)


def test_norm_of_zero_vector_has_zero_gradient() -> None:
    x = T([0.0, 0.0, 0.0])
    ember.norm(x).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scan(name: str, dim: int) -> None:
    x = rand(2, 3, lo=0.4, hi=1.6) if name == "cumprod" else rand(2, 3)
    check(lambda x: getattr(ember, name)(x, dim), x)


def test_cumprod_with_zero() -> None:
    check(lambda x: ember.cumprod(x, 0), T([0.7, 0.0, 1.3, 0.0, 1.1]))
    check(lambda x: ember.cumprod(x, 1), T([[1.2, 0.0, 0.5], [0.0, 0.9, 1.4]]))


def test_reduction_of_0d() -> None:
    x = T(1.7)
    for f in (ember.sum, ember.mean, ember.prod, ember.amax, ember.logsumexp):
        check(lambda x, f=f: f(x) if f is not ember.logsumexp else f(x, 0), x)
    check(lambda x: ember.cumsum(x, 0), x)


# ---- views and copies -----------------------------------------------------------------------
VIEWS = [
    ("view", lambda x: x.view(3, 2)),
    ("view_-1", lambda x: x.view(-1)),
    ("reshape_noncontig", lambda x: x.t().reshape(6)),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("permute", lambda x: x.unsqueeze(0).permute(2, 0, 1)),
    ("T", lambda x: x.T),
    ("mT", lambda x: x.unsqueeze(0).mT),
    ("expand", lambda x: x.unsqueeze(1).expand(2, 4, 3)),
    ("broadcast_to", lambda x: x[:1].broadcast_to((3, 2, 3))),
    ("squeeze", lambda x: x.unsqueeze(1).squeeze()),
    ("squeeze_dim", lambda x: x.unsqueeze(-1).squeeze(-1)),
    ("unsqueeze", lambda x: x.unsqueeze(-1)),
    ("flatten", lambda x: x.unsqueeze(0).flatten()),
    ("unflatten", lambda x: x.flatten().unflatten(0, (3, 2))),
    ("narrow", lambda x: x.narrow(1, 1, 2)),
    ("select", lambda x: x.select(1, -1)),
    ("diagonal", lambda x: x.diagonal()),
    ("diagonal_offset", lambda x: x.diagonal(1)),
    ("split", lambda x: x.split(2, dim=1)),
    ("split_sections", lambda x: x.split([1, 2], dim=1)[1]),
    ("chunk", lambda x: x.chunk(2, 1)),
    ("unbind", lambda x: x.unbind(1)),
    ("movedim", lambda x: x.unsqueeze(0).movedim(0, -1)),
    ("contiguous", lambda x: x.t().contiguous()),
    ("clone", lambda x: x.clone() * 2),
    ("to_float32_and_back", lambda x: x.to(ember.float32).to(ember.float64)),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_view(name: str, fn: Any) -> None:
    x = rand(2, 3)
    kw = {"eps": 1e-2, "atol": 1e-4} if "float32" in name else {}
    check(fn, x, **kw)
    out = fn(x)
    outs = out if isinstance(out, tuple) else (out,)
    assert all(o.requires_grad and not o.is_leaf for o in outs)


def test_to_float32_grad_has_input_dtype() -> None:
    x = rand(2, 3)
    x.to(ember.float32).sum().backward()
    assert x.grad.dtype == ember.float64


INDEX = [
    ("int", lambda x: x[1]),
    ("neg_int", lambda x: x[-1, 0]),
    ("slice_step", lambda x: x[:, ::2]),
    ("slice_neg_step", lambda x: x[::-1, ::-2]),
    ("none_ellipsis", lambda x: x[None, ..., 1:]),
    ("ellipsis_int", lambda x: x[..., 2]),
    ("adv_repeats", lambda x: x[ember.tensor([0, 1, 1, 0, 1])]),
    ("adv_2d", lambda x: x[ember.tensor([[1, 0], [1, 1]]), ember.tensor([2, 2])]),
    ("adv_with_slice", lambda x: x[:, ember.tensor([2, 0, 2])]),
    ("adv_list", lambda x: x[[0, 0, 1], [1, 1, 2]]),
    ("bool_mask", lambda x: x[ember.tensor([[True, False, True], [False, True, True]])]),
    ("bool_rows", lambda x: x[ember.tensor([False, True])]),
]


@pytest.mark.parametrize("name,fn", INDEX, ids=[v[0] for v in INDEX])
def test_getitem(name: str, fn: Any) -> None:
    check(fn, rand(2, 3))


SETITEM = [("int", (0,), (3,)), ("slice", (slice(None), 1), (2,)), ("scalar", (1, 2), ()),
           ("adv", (ember.tensor([1, 0]),), (2, 3)), ("adv_bcast", (ember.tensor([1]),), (3,)),
           ("mask", (ember.tensor([[True, False, True], [True, True, False]]),), (4,))]


@pytest.mark.parametrize("name,index,vshape", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_with_grad_value(name: str, index: Any, vshape: tuple[int, ...]) -> None:
    def f(x: ember.Tensor, v: ember.Tensor) -> ember.Tensor:
        y = x * 1.5
        y[index] = v
        return y * y

    check(f, rand(2, 3), rand(*vshape))


def test_index_put_accumulate() -> None:
    idx = (ember.tensor([0, 1, 0, 0]), ember.tensor([2, 1, 2, 0]))

    def f(x: ember.Tensor, v: ember.Tensor) -> ember.Tensor:
        y = x * 1.0
        y.index_put_(idx, v, accumulate=True)
        return y.square()

    check(f, rand(2, 3), rand(4))
    x, v = rand(2, 3), rand(4)
    y = x * 1.0
    y.index_put_(idx, v, accumulate=True)
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(v.grad), np.ones(4))


def test_gather_scatter_family() -> None:
    ix = ember.tensor([[0, 1, 1], [1, 0, 0]])
    check(lambda x: ember.gather(x, 0, ix), rand(2, 3))
    check(lambda x: x.gather(1, ember.tensor([[2, 2], [0, 1]])), rand(2, 3))
    ix_u = ember.tensor([[0, 1, 0], [1, 0, 1]])  # a permutation per column: scatter is exact
    check(lambda x, s: ember.scatter(x, 0, ix_u, s), rand(2, 3), rand(2, 3))
    check(lambda x: ember.scatter(x, 0, ix_u, value=0.5), rand(2, 3))
    check(lambda x, s: ember.scatter_add(x, 0, ix, s), rand(2, 3), rand(2, 3))
    check(lambda s: ember.scatter_add(ember.zeros(3, 3, dtype=ember.float64), 0, ix, s),
          rand(2, 3))
    check(lambda x: ember.index_select(x, 1, ember.tensor([2, 0, 2])), rand(2, 3))
    check(lambda x: ember.index_select(x, 0, ember.tensor([1])), rand(2, 3))
    check(lambda x: ember.take(x, ember.tensor([[5, 0], [5, 3]])), rand(2, 3))


def test_scatter_src_gets_gradient() -> None:
    ix = ember.tensor([[0, 1, 0], [1, 0, 1]])
    x, s = rand(2, 3), rand(2, 3)
    ember.scatter(x, 0, ix, s).mul(T([[1.0, 2, 3], [4, 5, 6]], rg=False)).sum().backward()
    assert s.grad is not None
    np.testing.assert_array_equal(np.asarray(s.grad), [[1, 5, 3], [4, 2, 6]])
    np.testing.assert_array_equal(np.asarray(x.grad), np.zeros((2, 3)))


def test_masked_fill_and_select() -> None:
    m = ember.tensor([[True, False, True]])
    check(lambda x: ember.masked_fill(x, m, 0.25), rand(2, 3))
    check(lambda x, v: x.masked_fill(m, v), rand(2, 3), rand())
    check(lambda x: ember.masked_select(x, m), rand(2, 3))
    check(lambda x: x.masked_select(ember.tensor([[True], [False]])), rand(2, 3))


def test_cat_stack() -> None:
    check(lambda a, b: ember.cat([a, b], 0), rand(2, 3), rand(1, 3))
    check(lambda a, b: ember.cat([a, b * 2, a], -1), rand(2, 3), rand(2, 1))
    check(lambda a, b: ember.stack([a, b], 1), rand(2, 3), rand(2, 3))
    c = rand(3, rg=False)
    check(lambda a: ember.stack([a, c], -1), rand(3))
    check(lambda a: ember.cat([a, ember.zeros(1, 3, dtype=ember.float64)]), rand(2, 3))


# ---- matrix products ------------------------------------------------------------------------
MATMUL = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 2)), ((2, 2, 3), (3, 2)),
          ((3,), (2, 3, 2)), ((2, 2, 3), (3,)), ((2, 1, 2, 3), (2, 3, 2)), ((2, 3), (2, 3, 2)),
          ((1, 2, 3), (2, 3, 1))]


@pytest.mark.parametrize("sa,sb", MATMUL, ids=[f"{a}@{b}" for a, b in MATMUL])
def test_matmul(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    check(lambda a, b: a @ b, rand(*sa), rand(*sb))


def test_matmul_one_side_requires_grad() -> None:
    w = rand(3, 2, rg=False)
    check(lambda a: ember.matmul(a, w), rand(2, 2, 3))
    check(lambda b: ember.matmul(w.t(), b), rand(3, 2))


def test_mm_bmm_mv_dot_outer() -> None:
    check(ember.mm, rand(2, 3), rand(3, 2))
    check(lambda a, b: ember.mm(a.t(), b), rand(3, 2), rand(3, 2))
    check(ember.bmm, rand(2, 2, 3), rand(2, 3, 2))
    check(ember.mv, rand(2, 3), rand(3))
    check(ember.dot, rand(3), rand(3))
    check(ember.outer, rand(3), rand(2))


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2.0), (0, 1.5)])
def test_addmm_baddbmm(beta: float, alpha: float) -> None:
    check(lambda i, a, b: ember.addmm(i, a, b, beta=beta, alpha=alpha),
          rand(2, 2), rand(2, 3), rand(3, 2))
    check(lambda i, a, b: ember.addmm(i, a, b, beta=beta, alpha=alpha),
          rand(2), rand(2, 3), rand(3, 2))
    check(lambda i, a, b: ember.baddbmm(i, a, b, beta=beta, alpha=alpha),
          rand(2, 1, 2), rand(2, 2, 3), rand(2, 3, 2))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape: tuple[int, ...], bias: bool) -> None:
    if bias:
        check(lambda x, w, b: ember.linear(x, w, b), rand(*shape), rand(2, 3), rand(2))
    else:
        check(lambda x, w: ember.linear(x, w), rand(*shape), rand(2, 3))


def test_einsum_tensordot() -> None:
    if hasattr(ember, "einsum"):
        check(lambda a, b: ember.einsum("ij,jk->ik", a, b), rand(2, 3), rand(3, 2))
        check(lambda a, b: ember.einsum("bij,bkj->bik", a, b), rand(2, 2, 3), rand(2, 2, 3))
        check(lambda a: ember.einsum("ii->", a), rand(3, 3))
    if hasattr(ember, "tensordot"):
        check(lambda a, b: ember.tensordot(a, b, dims=([1, 2], [0, 1])), rand(2, 3, 2),
              rand(3, 2, 2))
        check(lambda a, b: ember.tensordot(a, b, dims=1), rand(2, 3), rand(3, 2))
