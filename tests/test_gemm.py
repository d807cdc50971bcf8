"""The GEMM kernel itself, through the raw `_C._gemm` (c = alpha * a @ b + beta * c in place):
every loop of the blocked driver (tiny forced block sizes), thread grids, edge tiles, strided
and transposed operands and outputs, the bfloat16 kernels (float32 conversion, AVX512_BF16 dot
products, AMX tiles), against NumPy in float64. The user-facing matmul family is tested in
test_linalg.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ember
import numpy as np
import pytest
from ember import _C

BF16_PATHS = ["fp32"] + (["avx512_bf16"] if _C.cpu_has_avx512_bf16() else []) + (
    ["amx"] if _C.cpu_has_amx_bf16() else [])


@pytest.fixture
def blocking() -> Iterator[Any]:
    yield _C.set_gemm_blocking
    _C.set_gemm_blocking(0, 0, 0)


@pytest.fixture(params=BF16_PATHS)
def bf16_path(request: pytest.FixtureRequest) -> Iterator[str]:
    _C.set_gemm_bf16_path(request.param)
    yield request.param
    _C.set_gemm_bf16_path("auto")


def bf16_round(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32)


def run_gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float, beta: float,
             ta: bool = False, tb: bool = False, dtype: Any = None, out_dtype: Any = None,
             threads: int = 0) -> np.ndarray:
    """Runs _gemm on ember copies (transposed views when ta/tb: a and b are then given
    already transposed) and returns c as float64."""
    dtype = dtype or ember.float32
    ea = ember.tensor(np.ascontiguousarray(a)).to(dtype)
    eb = ember.tensor(np.ascontiguousarray(b)).to(dtype)
    ec = ember.tensor(c.copy()).to(out_dtype or dtype)
    _C._gemm(ea.T if ta else ea, eb.T if tb else eb, ec, alpha, beta, threads)
    return ec.float().numpy().astype(np.float64) if ec.dtype is not ember.float64 else \
        ec.numpy()


def reference(a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float, beta: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """alpha * a @ b + beta * c in float64, and the error scale |alpha| |a| @ |b| + |beta c|."""
    a64, b64, c64 = (x.astype(np.float64) for x in (a, b, c))
    want = alpha * (a64 @ b64) + (beta * c64 if beta != 0 else 0)
    scale = abs(alpha) * (np.abs(a64) @ np.abs(b64)) + abs(beta) * np.abs(c64) + 1e-30
    return want, scale


def check(got: np.ndarray, want: np.ndarray, scale: np.ndarray, tol: float) -> None:
    err = np.abs(got - want) / scale
    assert err.max() <= tol, f"max scaled error {err.max():.3g} > {tol:g}"


def operands(rng: np.random.Generator, m: int, n: int, k: int, ta: bool, tb: bool,
             dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """a (m x k) and b (k x n) as they enter the product, plus c; stored transposed when
    ta/tb (the caller passes a.T / b.T storage)."""
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    return a, b, c


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (13, 31, 17), (29, 33, 70), (64, 64, 64),
                                   (100, 45, 300), (3, 200, 5), (150, 7, 129)])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_every_loop_with_small_blocks(rng, blocking, m, n, k, ta, tb) -> None:
    # mc=14/28, kc=8, nc=32: many jc, pc and ic blocks, partial ones at every edge.
    for mc, kc, nc in [(14, 8, 32), (28, 16, 64), (0, 5, 0)]:
        blocking(mc, kc, nc)
        a, b, c = operands(rng, m, n, k, ta, tb)
        got = run_gemm(a.T.copy() if ta else a, b.T.copy() if tb else b, c, 1.5, -0.5, ta, tb)
        want, scale = reference(a, b, c, 1.5, -0.5)
        check(got, want, scale, 1e-6)


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("m,n,k", [(300, 20, 200), (20, 300, 200), (257, 255, 130),
                                   (1000, 64, 64), (64, 1031, 96)])
def test_thread_grids(rng, threads, m, n, k) -> None:
    a, b, c = operands(rng, m, n, k, False, False)
    got = run_gemm(a, b, c, 1.0, 0.0, threads=threads)
    want, scale = reference(a, b, c, 1.0, 0.0)
    check(got, want, scale, 1e-6)


def test_threads_running_ahead_do_not_overwrite_shared_panels(rng, blocking) -> None:
    # Column groups run without barriers; the last K block is shorter than the others, so a
    # thread that reaches it first must not pack into the panel another still reads. Races
    # are intermittent: repeat.
    blocking(0, 64, 0)
    for _ in range(20):
        a, b, c = operands(rng, 40, 48, 1000, False, False)
        got = run_gemm(a, b, c, 1.0, 0.0, threads=2)
        want, scale = reference(a, b, c, 1.0, 0.0)
        check(got, want, scale, 1e-6)


@pytest.mark.parametrize("m,n,k", [(17, 33, 65), (128, 96, 256), (255, 257, 31)])
def test_capabilities(rng, capability, m, n, k) -> None:
    for dtype, tol in ((np.float32, 1e-6), (np.float64, 1e-14)):
        a, b, c = operands(rng, m, n, k, False, True, dtype)
        got = run_gemm(a, b.T.copy(), c, 2.0, 0.5, tb=True,
                       dtype=ember.float32 if dtype == np.float32 else ember.float64)
        want, scale = reference(a, b, c, 2.0, 0.5)
        check(got, want, scale, tol)


def test_beta_zero_ignores_nan_in_c(rng) -> None:
    a, b, c = operands(rng, 40, 50, 30, False, False)
    c[:] = np.nan
    got = run_gemm(a, b, c, 1.0, 0.0)
    want, scale = reference(a, b, np.zeros_like(c), 1.0, 0.0)
    check(got, want, scale, 1e-6)


def test_k_zero_and_alpha_zero_scale_c(rng) -> None:
    c = rng.standard_normal((5, 6)).astype(np.float32)
    got = run_gemm(np.zeros((5, 0), np.float32), np.zeros((0, 6), np.float32), c, 1.0, 2.0)
    np.testing.assert_allclose(got, 2.0 * c, rtol=1e-6)
    a, b, _ = operands(rng, 5, 6, 4, False, False)
    a[0, 0] = np.nan  # alpha == 0: A and B are not read, as in BLAS
    np.testing.assert_allclose(run_gemm(a, b, c, 0.0, -1.0), -c, rtol=1e-6)


def test_strided_output_and_inputs(rng) -> None:
    # c is a transposed view (column stride != 1) and a, b are step-2 slices.
    big_a = rng.standard_normal((2 * 37, 3 * 45)).astype(np.float32)
    big_b = rng.standard_normal((3 * 45, 2 * 29)).astype(np.float32)
    a, b = big_a[::2, ::3], big_b[::3, ::2]
    c_store = rng.standard_normal((29, 37)).astype(np.float32)
    ea = ember.tensor(big_a)[::2, ::3]
    eb = ember.tensor(big_b)[::3, ::2]
    ec = ember.tensor(c_store.copy())
    _C._gemm(ea, eb, ec.T, 1.0, 1.0)
    want, scale = reference(a, b, c_store.T, 1.0, 1.0)
    check(ec.T.numpy().astype(np.float64), want, scale, 1e-6)


def test_bfloat16_paths(rng, bf16_path) -> None:
    for m, n, k in [(1, 1, 1), (7, 9, 3), (33, 65, 31), (64, 64, 64), (100, 130, 257)]:
        for ta, tb in [(False, False), (True, True), (False, True)]:
            a, b, c = (bf16_round(x) for x in operands(rng, m, n, k, ta, tb))
            got = run_gemm(a.T.copy() if ta else a, b.T.copy() if tb else b, c, 1.5, 0.5, ta,
                           tb, dtype=ember.bfloat16, out_dtype=ember.float32)
            want, scale = reference(a, b, c, 1.5, 0.5)
            check(got, want, scale, 1e-6)  # products of bfloat16 are exact in float32
            got16 = run_gemm(a, b, c, 1.0, 1.0, dtype=ember.bfloat16)
            want16, scale16 = reference(a, b, c, 1.0, 1.0)
            check(got16, want16, scale16, 2 ** -8)  # one rounding to bfloat16


def test_bfloat16_big_k_accumulates_in_float32(rng, bf16_path, blocking) -> None:
    blocking(0, 64, 0)  # several k blocks: partial sums must not be rounded to bfloat16
    a, b, c = (bf16_round(x) for x in operands(rng, 40, 48, 1000, False, False))
    got = run_gemm(a, b, c, 1.0, 0.0, dtype=ember.bfloat16)
    want, scale = reference(a, b, c, 1.0, 0.0)
    check(got, want, scale, 2 ** -8)


@pytest.mark.parametrize("dtype", [ember.float16, ember.int32, ember.int64])
def test_other_dtypes(rng, dtype) -> None:
    m, n, k = 19, 35, 40
    if dtype is ember.float16:
        a, b, c = (x.astype(np.float16).astype(np.float32) for x in operands(rng, m, n, k,
                                                                             False, False))
        got = run_gemm(a, b, c, 1.0, 1.0, dtype=dtype)
        want, scale = reference(a, b, c, 1.0, 1.0)
        check(got, want, scale, 2 ** -10)
        return
    a = rng.integers(-50, 50, (m, k))
    b = rng.integers(-50, 50, (k, n))
    c = rng.integers(-50, 50, (m, n))
    got = run_gemm(a, b, c, 2, 3, dtype=dtype).astype(np.int64)
    np.testing.assert_array_equal(got, 2 * (a @ b) + 3 * c)


def test_int32_wraps_on_overflow() -> None:
    a = np.full((2, 3), 2 ** 20, dtype=np.int32)
    b = np.full((3, 2), 2 ** 12, dtype=np.int32)
    got = run_gemm(a, b, np.zeros((2, 2), np.int32), 1, 0, dtype=ember.int32)
    want = (a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32)  # wraps like NumPy
    np.testing.assert_array_equal(got.astype(np.int32), want)


def test_errors() -> None:
    a, b = ember.ones(2, 3), ember.ones(4, 5)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        _C._gemm(a, b, ember.empty(2, 5))
    with pytest.raises(TypeError, match="float32.*float64"):
        _C._gemm(a, ember.ones(3, 5, dtype=ember.float64), ember.empty(2, 5))
    with pytest.raises(TypeError, match="float64.*float32"):
        _C._gemm(a, ember.ones(3, 5), ember.empty(2, 5, dtype=ember.float64))
    c = ember.empty(3, 3)
    with pytest.raises(ValueError, match="overlap"):
        _C._gemm(c, c, c)
    with pytest.raises(ValueError, match="block sizes"):
        _C.set_gemm_blocking(-1, 0, 0)
    with pytest.raises(ValueError, match="expected 'auto'"):
        _C.set_gemm_bf16_path("fast")


def test_blocking_and_cache_queries(blocking) -> None:
    sizes = _C.cpu_cache_sizes()
    assert sizes["l1d"] >= 16 * 1024 and sizes["l2"] >= sizes["l1d"]
    blocking(28, 64, 96)
    assert _C.gemm_blocking() == {"mc": 28, "kc": 64, "nc": 96}
