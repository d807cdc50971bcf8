"""CUDA: the module without a device (imports, reports no CUDA, clear errors), the kernel tables
a CUDA build fills, and, on a GPU (tests marked `cuda`), every CUDA kernel against the CPU one."""

from __future__ import annotations

from typing import Any

import ember
import numpy as np
import pytest
from conftest import CUDA, assert_close
from ember import _C
from ember.tensor import _c, _wrap
from test_cuda_nn import CUDA_TABLES as NN_TABLES  # tested there

ALL_DTYPES = ["bool", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
NUMERIC = ["int32", "int64", "float16", "bfloat16", "float32", "float64"]
FLOATING = ["float16", "bfloat16", "float32", "float64"]

BOOL_NUMERIC = ["bool", *NUMERIC]
INTEGRAL = ["bool", "int32", "int64"]

# (ember function, kwargs, kernel table, input dtypes, input kind). The CUDA result of each must
# match the CPU one. Kinds: "any"; "nonzero" (second input != 0); "small" (pow exponents).
BINARY = [
    ("add", {"alpha": 2}, "add_kernel", NUMERIC, "any"),
    ("sub", {"alpha": 0.5}, "sub_kernel", ["float32", "float64"], "any"),
    ("sub", {}, "sub_kernel", NUMERIC, "any"),
    ("mul", {}, "mul_kernel", NUMERIC, "any"),
    ("div", {}, "div_kernel", NUMERIC, "nonzero"),
    ("div", {"rounding_mode": "trunc"}, "div_trunc_kernel", NUMERIC, "nonzero"),
    ("div", {"rounding_mode": "floor"}, "div_floor_kernel", NUMERIC, "nonzero"),
    ("remainder", {}, "remainder_kernel", NUMERIC, "nonzero"),
    ("pow", {}, "pow_kernel", NUMERIC, "small"),
    ("maximum", {}, "maximum_kernel", BOOL_NUMERIC, "any"),
    ("minimum", {}, "minimum_kernel", BOOL_NUMERIC, "any"),
    *[(op, {}, f"{op}_kernel", BOOL_NUMERIC, "any") for op in ("eq", "ne", "lt", "le", "gt", "ge")],
    *[(f"logical_{op}", {}, f"logical_{op}_kernel", BOOL_NUMERIC, "any")
      for op in ("and", "or", "xor")],
    *[(f"bitwise_{op}", {}, f"bitwise_{op}_kernel", INTEGRAL, "any")
      for op in ("and", "or", "xor")],
]
FLOAT_MATH = ["exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt", "reciprocal", "sin", "cos",
              "tanh", "sigmoid", "erf", "silu", "isnan", "isinf", "isfinite"]
UNARY = [
    ("logical_not", {}, "logical_not_kernel", BOOL_NUMERIC),
    ("bitwise_not", {}, "bitwise_not_kernel", INTEGRAL),
    ("sign", {}, "sign_kernel", BOOL_NUMERIC),
    *[(op, {}, f"{op}_kernel", NUMERIC)
      for op in ("neg", "abs", "square", "relu", "floor", "ceil", "trunc", "round")],
    ("round", {"decimals": 2}, "round_kernel", FLOATING),
    ("clamp", {"min": -1, "max": 2}, "clamp_kernel", NUMERIC),
    *[(op, {}, f"{op}_kernel", FLOATING) for op in FLOAT_MATH],
    ("gelu", {}, "gelu_kernel", FLOATING),
    ("gelu", {"approximate": "tanh"}, "gelu_kernel", FLOATING),
    ("leaky_relu", {"negative_slope": 0.1}, "leaky_relu_kernel", FLOATING),
    ("elu", {"alpha": 0.7}, "elu_kernel", FLOATING),
    ("selu", {}, "elu_kernel", FLOATING),
    ("softplus", {"beta": 2.0, "threshold": 5.0}, "softplus_kernel", FLOATING),
    ("nan_to_num", {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}, "nan_to_num_kernel", FLOATING),
    ("nan_to_num", {}, "nan_to_num_kernel", FLOATING),
]
# (ember function, kwargs, kernel table, input dtypes). dim=None is a full reduction.
REDUCE = [
    ("sum", {}, "sum_kernel", BOOL_NUMERIC),
    ("prod", {}, "prod_kernel", BOOL_NUMERIC),
    ("mean", {}, "mean_kernel", FLOATING),
    ("var", {}, "var_kernel", FLOATING),
    ("var", {"correction": 0}, "var_kernel", FLOATING),
    ("std", {}, "std_kernel", FLOATING),
    ("amax", {}, "amax_kernel", BOOL_NUMERIC),
    ("amin", {}, "amin_kernel", BOOL_NUMERIC),
    ("max", {}, "max_dim_kernel", BOOL_NUMERIC),
    ("min", {}, "min_dim_kernel", BOOL_NUMERIC),
    ("argmax", {}, "max_dim_kernel", BOOL_NUMERIC),
    ("argmin", {}, "min_dim_kernel", BOOL_NUMERIC),
    ("logsumexp", {}, "logsumexp_kernel", FLOATING),
    *[("norm", {"p": p}, "norm_kernel", FLOATING) for p in (2, 1, 3, 0, float("inf"))],
    ("any", {}, "any_kernel", ALL_DTYPES),
    ("all", {}, "all_kernel", ALL_DTYPES),
]
SCAN = [("cumsum", "cumsum_kernel"), ("cumprod", "cumprod_kernel")]
WHERE_TABLE = "where_kernel"

# gemm_kernel is tested against NumPy in test_cuda_gemm.py.
CUDA_TABLES = {"copy_kernel", WHERE_TABLE, "gemm_kernel"} | {
    e[2] for e in (*BINARY, *UNARY, *REDUCE)} | {t for _, t in SCAN} | NN_TABLES

gpu = pytest.mark.skipif(not CUDA, reason="no CUDA device")


def cuda_slot_tables() -> set[str]:
    return {name for name, slots in _C.kernels().items() if "cuda" in slots}


# ---- without a device ---------------------------------------------------------------------

no_gpu = pytest.mark.skipif(CUDA, reason="checks the behaviour without a CUDA device")


@no_gpu
def test_no_device_reports_unavailable() -> None:
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0
    assert ember.config()["cuda_device_count"] == 0
    ember.cuda.synchronize()  # a no-op, not an error


@no_gpu
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_no_device_creation_raises(device: str) -> None:
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.ones(2, device=device)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.empty((0, 3), device=device)


@no_gpu
def test_no_device_transfer_raises_and_leaves_tensor_usable() -> None:
    t = ember.arange(6).reshape(2, 3)
    with pytest.raises(RuntimeError, match=r"CUDA is not available"):
        t.to("cuda")
    with pytest.raises(RuntimeError, match=r"CUDA is not available"):
        t.cuda()
    assert_close(t, np.arange(6).reshape(2, 3))


@no_gpu
def test_no_device_name_raises() -> None:
    with pytest.raises(RuntimeError, match=r"^\[device_name\] CUDA is not available"):
        ember.cuda.get_device_name(0)


def test_config_reports_the_build() -> None:
    assert ember.config()["cuda_built"] is ember.cuda.is_built()


@pytest.mark.skipif(not ember.cuda.is_built(), reason="CPU-only build")
def test_cuda_build_fills_every_table_it_tests() -> None:
    """A CUDA build has a CUDA kernel for every table listed here, and every table with a CUDA
    kernel is listed here (so it is compared against the CPU on a GPU)."""
    filled = cuda_slot_tables()
    assert CUDA_TABLES - filled == set(), "listed tables without a CUDA kernel"
    assert filled - CUDA_TABLES == set(), "CUDA kernels this file does not test"


@pytest.mark.skipif(ember.cuda.is_built(), reason="CUDA build")
def test_cpu_only_build_has_no_cuda_kernels() -> None:
    assert cuda_slot_tables() == set()
    with pytest.raises(RuntimeError, match="built without CUDA"):
        ember.zeros(1, device="cuda")


# ---- on a GPU -----------------------------------------------------------------------------


def random_tensor(rng: np.random.Generator, shape: tuple[int, ...], dtype: str,
                  positive: bool = False, near_one: bool = False) -> ember.Tensor:
    """Random values; `positive` > 0, `near_one` keeps long products finite (+-1 for ints)."""
    if dtype == "bool":
        x: Any = rng.random(shape) < 0.5
    elif dtype in ("int32", "int64"):
        x = rng.choice([-1, 1], size=shape) if near_one else rng.integers(
            1 if positive else -50, 50, size=shape)
    elif near_one:
        x = np.exp(rng.standard_normal(shape) / 1000)
    else:
        x = rng.standard_normal(shape) * 3
        if positive:
            x = np.abs(x) + 0.5
    return ember.tensor(x, dtype=getattr(ember, "bool" if dtype == "bool" else dtype))


def on_cuda(t: ember.Tensor) -> ember.Tensor:
    out = t.to("cuda")
    assert out.is_cuda
    return out


# (shape, how to make a non-contiguous view); 0-size, 0-d, odd lengths, > 2^16 elements.
LAYOUTS = [
    ((), "contiguous"),
    ((0, 3), "contiguous"),
    ((1,), "contiguous"),
    ((7,), "contiguous"),
    ((129,), "contiguous"),
    ((127, 129), "contiguous"),
    ((300, 301), "contiguous"),
    ((33, 17), "transposed"),
    ((9, 40), "sliced"),
    ((5, 1, 7), "expanded"),
    ((1, 5), "offset"),
]


def make_layout(t: ember.Tensor, how: str) -> ember.Tensor:
    if how == "transposed":
        return t.transpose(0, 1)
    if how == "sliced":
        return _wrap(_c(t).slice(0, 1, t.shape[0], 2).slice(1, 0, t.shape[1], 3))
    if how == "expanded":
        return t.expand(5, 6, 7)
    if how == "offset":  # contiguous but starting one element in: not 16-byte aligned
        return t.select(0, 0).narrow(0, 1, t.shape[1] - 1)
    return t


@pytest.mark.cuda
@gpu
def test_device_queries() -> None:
    n = ember.cuda.device_count()
    assert n >= 1 and ember.cuda.is_available()
    assert isinstance(ember.cuda.get_device_name(0), str) and ember.cuda.get_device_name(0)
    with pytest.raises(RuntimeError, match=rf"device index {n} out of range \({n} device"):
        ember.zeros(2, device=f"cuda:{n}")
    ember.cuda.synchronize()


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape, how", LAYOUTS)
def test_round_trip(rng: np.random.Generator, dtype: str, shape: tuple[int, ...], how: str) -> None:
    x = make_layout(random_tensor(rng, shape, dtype), how)
    back = on_cuda(x).cpu()
    assert back.dtype == x.dtype and not back.is_cuda
    assert_close(back, x.numpy() if dtype != "bfloat16" else x.float().numpy())


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
@pytest.mark.parametrize("how", ["contiguous", "transposed", "offset"])
def test_cast_matches_cpu(rng: np.random.Generator, src: str, dst: str, how: str) -> None:
    x = make_layout(random_tensor(rng, (37, 41), src), how)
    want = x.to(getattr(ember, dst))
    got = on_cuda(x).to(getattr(ember, dst))
    assert got.is_cuda and got.dtype == want.dtype
    np.testing.assert_array_equal(got.cpu().float().numpy() if dst == "bfloat16" else
                                  got.cpu().numpy(),
                                  want.float().numpy() if dst == "bfloat16" else want.numpy())


@pytest.mark.cuda
@gpu
def test_copy_into_cuda_view_and_between_views(rng: np.random.Generator) -> None:
    x = random_tensor(rng, (16, 24), "float32")
    y = on_cuda(ember.zeros(24, 16))
    # A strided source into a strided destination.
    y.narrow(0, 2, 8).transpose(0, 1).copy_(on_cuda(x).narrow(1, 2, 8))
    want = np.zeros((24, 16), np.float32)
    want[2:10] = x.numpy().T[2:10]
    assert_close(y, want)


def resolve(name: str) -> Any:
    """The ember function `name` (ember or ember.nn.functional); skips while it is unbound."""
    for mod in ("ember", "ember.nn.functional"):
        try:
            fn = getattr(__import__(mod, fromlist=["_"]), name, None)
        except ImportError:
            fn = None
        if fn is not None:
            return fn
    pytest.skip(f"ember.{name} is not bound in this build")


def as_numpy(t: Any) -> np.ndarray:
    t = t.cpu()
    return t.float().numpy() if t.dtype is ember.bfloat16 else t.numpy()


def assert_same(got: Any, want: Any) -> None:
    """CUDA result vs CPU result: same dtype, device, shape, values within the dtype's tolerance."""
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            assert_same(g, w)
        return
    assert got.is_cuda and got.dtype == want.dtype
    assert_close(got, as_numpy(want))


def make_input(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, kind: str) -> Any:
    if kind == "small" and dtype in ("int32", "int64"):
        return ember.tensor(rng.integers(0, 5, size=shape), dtype=getattr(ember, dtype))
    if kind == "small":
        return ember.tensor(rng.random(shape) * 3, dtype=getattr(ember, dtype))
    return random_tensor(rng, shape, dtype, positive=kind == "nonzero")


def binary_id(e: tuple) -> str:
    return f"{e[0]}{e[1] or ''}"


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("entry", BINARY, ids=binary_id)
@pytest.mark.parametrize("shape, how", LAYOUTS)
def test_binary_matches_cpu(rng: np.random.Generator, entry: tuple, shape: tuple[int, ...],
                            how: str) -> None:
    name, kwargs, _, dtypes, kind = entry
    fn = resolve(name)
    for dtype in dtypes:
        a = make_layout(random_tensor(rng, shape, dtype), how)
        b = make_input(rng, tuple(a.shape), dtype, kind)
        assert_same(fn(on_cuda(a), on_cuda(b), **kwargs), fn(a, b, **kwargs))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("entry", BINARY, ids=binary_id)
def test_binary_broadcast_and_scalar_match_cpu(rng: np.random.Generator, entry: tuple) -> None:
    name, kwargs, _, dtypes, kind = entry
    fn = resolve(name)
    dtype = dtypes[-1]
    a = random_tensor(rng, (4, 1, 9), dtype)
    b = make_input(rng, (5, 1), dtype, kind)
    scalar = 2 if dtype in ("bool", "int32", "int64") else 2.5
    for x, y in [(a, b), (a, scalar)]:
        cy = on_cuda(y) if isinstance(y, ember.Tensor) else y
        assert_same(fn(on_cuda(x), cy, **kwargs), fn(x, y, **kwargs))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("entry", UNARY, ids=binary_id)
@pytest.mark.parametrize("shape, how", LAYOUTS)
def test_unary_matches_cpu(rng: np.random.Generator, entry: tuple, shape: tuple[int, ...],
                           how: str) -> None:
    name, kwargs, _, dtypes = entry
    fn = resolve(name)
    for dtype in dtypes:
        positive = name in ("log", "log2", "sqrt", "rsqrt", "log1p")
        x = make_layout(random_tensor(rng, shape, dtype, positive=positive), how)
        assert_same(fn(on_cuda(x), **kwargs), fn(x, **kwargs))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", FLOATING)
def test_special_values_match_cpu(dtype: str) -> None:
    """NaN and +-inf through the ops whose contracts name them."""
    vals = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0, -2.5, 1e30]
    x = ember.tensor(vals, dtype=getattr(ember, dtype))
    y = ember.tensor(vals[::-1], dtype=getattr(ember, dtype))
    for name, kwargs, *_ in [*UNARY, ("maximum", {}), ("minimum", {})]:
        if name in ("logical_not", "bitwise_not", "sign"):
            continue
        fn = resolve(name)
        args = (x, y) if name in ("maximum", "minimum") else (x,)
        got = fn(*(on_cuda(a) for a in args), **kwargs)
        assert_same(got, fn(*args, **kwargs))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_where_matches_cpu(rng: np.random.Generator, dtype: str) -> None:
    where = resolve("where")
    cond = random_tensor(rng, (7, 1, 33), "bool")
    a = random_tensor(rng, (5, 33), dtype).transpose(0, 1).transpose(0, 1)
    b = random_tensor(rng, (1, 33), dtype)
    assert_same(where(on_cuda(cond), on_cuda(a), on_cuda(b)), where(cond, a, b))


# (shape, dim) for reductions: full, inner, outer, middle, 0-size rows, long rows that split
# across blocks, many short rows.
REDUCE_CASES = [
    ((), None),
    ((7,), 0),
    ((0, 5), 1),
    ((3, 0), 1),
    ((127, 129), 1),
    ((127, 129), 0),
    ((4, 33, 5), 1),
    ((300001,), 0),
    ((2, 70000), 1),
    ((5000, 9), 1),
    ((9, 5000), 0),
]


def reduce_call(fn: Any, x: Any, dim: Any, kwargs: dict) -> Any:
    return fn(x, **kwargs) if dim is None else fn(x, dim=dim, **kwargs)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("entry", REDUCE, ids=binary_id)
@pytest.mark.parametrize("shape, dim", REDUCE_CASES)
def test_reduce_matches_cpu(rng: np.random.Generator, entry: tuple, shape: tuple[int, ...],
                            dim: Any) -> None:
    name, kwargs, table, dtypes = entry
    fn = resolve(name)
    nonempty = table in ("amax_kernel", "amin_kernel", "max_dim_kernel", "min_dim_kernel")
    if nonempty and 0 in shape:
        pytest.skip("empty reductions raise for this op")
    for dtype in dtypes:
        x = random_tensor(rng, shape, dtype, near_one=name == "prod")
        if dim is not None and len(shape) > 1:  # a strided view of the same values
            x = x.transpose(0, 1).contiguous().transpose(0, 1)
        assert_same(reduce_call(fn, on_cuda(x), dim, kwargs), reduce_call(fn, x, dim, kwargs))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("name", ["argmax", "argmin", "max", "min", "amax", "amin", "sum"])
def test_reduce_ties_and_nan_match_cpu(name: str) -> None:
    """First-occurrence indices on ties; NaN wins and propagates, as on the CPU."""
    fn = resolve(name)
    x = np.zeros((3, 600), np.float32)
    x[:, 100] = x[:, 500] = 7.0
    x[:, 200] = x[:, 400] = -7.0
    x[1, 300] = x[1, 550] = np.nan
    t = ember.tensor(x)
    assert_same(fn(on_cuda(t), dim=1), fn(t, dim=1))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("name, table", SCAN)
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
@pytest.mark.parametrize("shape, dim", [((7,), 0), ((127, 129), 1), ((127, 129), 0),
                                        ((3, 5000), 1), ((5000, 3), 1), ((0, 4), 1)])
def test_scan_matches_cpu(rng: np.random.Generator, name: str, table: str, dtype: str,
                          shape: tuple[int, ...], dim: int) -> None:
    fn = resolve(name)
    x = random_tensor(rng, shape, dtype, near_one=name == "cumprod")
    assert_same(fn(on_cuda(x), dim=dim), fn(x, dim=dim))


@pytest.mark.cuda
@gpu
def test_inplace_on_cuda(rng: np.random.Generator) -> None:
    x = random_tensor(rng, (6, 7), "float32")
    c = on_cuda(x)
    c += 1.5
    c *= on_cuda(x)
    assert_close(c, (x.numpy() + 1.5) * x.numpy())


@pytest.mark.cuda
@gpu
def test_large_tensor_uses_caching_allocator(rng: np.random.Generator) -> None:
    x = random_tensor(rng, (1 << 20,), "float32")
    for _ in range(3):  # freed blocks are reused; results must not see stale data
        c = on_cuda(x) * 2
        assert_close(c, x.numpy() * 2)
        del c
