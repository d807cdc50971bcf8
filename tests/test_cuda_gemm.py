"""The CUDA GEMM kernel (csrc/cuda/gemm.cu) through the raw `_C._gemm` binding, against NumPy
float64: odd and tile-straddling sizes, transposed / strided / misaligned operands (the vector
and element-by-element load paths), alpha / beta / k == 0 semantics, every dtype, the WMMA and
SIMT paths for float16/bfloat16, and batched products through `ember.matmul` when it exists."""

from __future__ import annotations

from typing import Any

import ember
import numpy as np
import pytest
from conftest import CUDA, to_numpy
from ember import _C

pytestmark = pytest.mark.skipif(not CUDA, reason="no CUDA device")

SIZES = [1, 7, 16, 17, 33, 64, 65, 127, 255, 257, 1000, 1031]
FLOATS = ["float32", "float64", "float16", "bfloat16"]
# Unit roundoff of each dtype; float16/bfloat16 accumulate in float32.
EPS = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
# Operand layouts: n contiguous, t transposed view, s strided (step 2, odd offset),
# o contiguous rows at a one-element offset (no vector loads).
LAYOUTS = ["n", "t", "s", "o"]


def operand(rng: np.random.Generator, rows: int, cols: int, dtype: str,
            layout: str = "n") -> tuple[ember.Tensor, np.ndarray]:
    """A rows x cols CUDA tensor in `layout` and its values as float64 (after rounding)."""
    shape = {"n": (rows, cols), "t": (cols, rows), "s": (rows, 2 * cols + 1),
             "o": (rows, cols + 1)}[layout]
    if dtype in ("int32", "int64"):
        x: Any = rng.integers(-20, 20, size=shape)
    else:
        x = rng.standard_normal(shape)
    t = ember.tensor(x, dtype=getattr(ember, dtype)).to("cuda")
    if layout == "t":
        t = t.T
    elif layout == "s":
        t = t[:, 1::2]
    elif layout == "o":
        t = t[:, 1:]
    assert tuple(t.shape) == (rows, cols)
    return t, to_numpy(t).astype(np.float64)


def run_gemm(rng: np.random.Generator, m: int, n: int, k: int, dtype: str, out: str | None = None,
             la: str = "n", lb: str = "n", alpha: float = 1.0, beta: float = 0.0) -> None:
    out = out or dtype
    a, a64 = operand(rng, m, k, dtype, la)
    b, b64 = operand(rng, k, n, dtype, lb)
    c, c64 = operand(rng, m, n, out)
    _C._gemm(a, b, c, alpha, beta)
    check(c, a64, b64, c64, alpha, beta, dtype, out)


def check(got: ember.Tensor, a: np.ndarray, b: np.ndarray, c0: np.ndarray, alpha: float,
          beta: float, dtype: str, out: str) -> None:
    """Within the rounding error bound: the output's rounding plus k steps of accumulation."""
    g = to_numpy(got).astype(np.float64)
    ref = alpha * (a @ b) + (beta * c0 if beta else 0.0)
    if out in ("int32", "int64"):
        np.testing.assert_array_equal(g, ref)
        return
    scale = abs(alpha) * (np.abs(a) @ np.abs(b)) + (abs(beta) * np.abs(c0) if beta else 0.0)
    acc = EPS["float64" if dtype == "float64" else "float32"]
    tol = (2 * EPS[out] + (a.shape[1] + 2) * acc) * scale + 1e-300
    err = np.abs(g - ref)
    bad = np.argwhere(~(err <= tol))
    assert bad.size == 0, (f"{len(bad)} wrong, first at {tuple(bad[0])}: got {g[tuple(bad[0])]}, "
                           f"want {ref[tuple(bad[0])]}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_square(rng: np.random.Generator, size: int, dtype: str) -> None:
    run_gemm(rng, size, size, size, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", LAYOUTS)
@pytest.mark.parametrize("mkn", [(65, 33, 127), (257, 100, 64)])
def test_layouts(rng: np.random.Generator, dtype: str, la: str, lb: str,
                 mkn: tuple[int, int, int]) -> None:
    m, k, n = mkn
    run_gemm(rng, m, n, k, dtype, la=la, lb=lb)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mkn", [(1, 1031, 7), (1000, 17, 1), (127, 1, 255), (33, 257, 1000),
                                 (1, 1, 1), (7, 64, 16), (129, 31, 130)])
def test_rectangular(rng: np.random.Generator, dtype: str, mkn: tuple[int, int, int]) -> None:
    m, k, n = mkn
    run_gemm(rng, m, n, k, dtype, la="t" if m % 2 else "n")


@pytest.mark.parametrize("dtype,out", [("float32", None), ("float64", None), ("float16", None),
                                       ("bfloat16", None), ("float16", "float32"),
                                       ("bfloat16", "float32"), ("int32", None),
                                       ("int64", None)])
def test_alpha_beta(rng: np.random.Generator, dtype: str, out: str | None) -> None:
    integral = dtype.startswith("int")
    alpha, beta = (3.0, -2.0) if integral else (0.5, -1.5)
    run_gemm(rng, 67, 45, 129, dtype, out, la="t", alpha=alpha, beta=beta)
    run_gemm(rng, 130, 131, 40, dtype, out, lb="t", alpha=alpha, beta=1.0)


@pytest.mark.parametrize("dtype,out", [("float16", "float32"), ("bfloat16", "float32"),
                                       ("float16", None), ("bfloat16", None)])
@pytest.mark.parametrize("simt", [False, True])
def test_half_paths(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, dtype: str,
                    out: str | None, simt: bool) -> None:
    """The WMMA kernel and (EMBER_CUDA_GEMM_SIMT=1) the SIMT one for 16-bit inputs."""
    if simt:
        monkeypatch.setenv("EMBER_CUDA_GEMM_SIMT", "1")
    for la, lb in [("n", "n"), ("t", "t"), ("s", "o"), ("o", "t")]:
        run_gemm(rng, 200, 150, 100, dtype, out, la=la, lb=lb, beta=0.5)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("la,lb", [("n", "n"), ("t", "t"), ("s", "o")])
def test_integers_exact(rng: np.random.Generator, dtype: str, la: str, lb: str) -> None:
    run_gemm(rng, 129, 67, 257, dtype, la=la, lb=lb)


def test_int32_wraps_around() -> None:
    big = 2**20 + 3
    a = ember.tensor(np.full((3, 5), big), dtype=ember.int32).to("cuda")
    b = ember.tensor(np.full((5, 2), big), dtype=ember.int32).to("cuda")
    c = ember.zeros(3, 2, dtype=ember.int32).to("cuda")
    _C._gemm(a, b, c)
    want = (5 * big * big) % 2**32
    want = want - 2**32 if want >= 2**31 else want
    np.testing.assert_array_equal(to_numpy(c), np.full((3, 2), want))


@pytest.mark.parametrize("dtype", FLOATS)
def test_beta_zero_does_not_read_c(rng: np.random.Generator, dtype: str) -> None:
    a, a64 = operand(rng, 70, 20, dtype)
    b, b64 = operand(rng, 20, 150, dtype)
    c = ember.tensor(np.full((70, 150), np.nan), dtype=getattr(ember, dtype)).to("cuda")
    _C._gemm(a, b, c, 2.0, 0.0)
    check(c, a64, b64, np.zeros((70, 150)), 2.0, 0.0, dtype, dtype)


@pytest.mark.parametrize("dtype", [*FLOATS, "int32", "int64"])
def test_k_zero_scales_c(rng: np.random.Generator, dtype: str) -> None:
    a = ember.zeros(130, 0, dtype=getattr(ember, dtype)).to("cuda")
    b = ember.zeros(0, 9, dtype=getattr(ember, dtype)).to("cuda")
    c, c64 = operand(rng, 130, 9, dtype)
    _C._gemm(a, b, c, 1.0, 2.0)
    check(c, np.zeros((130, 0)), np.zeros((0, 9)), c64, 1.0, 2.0, dtype, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_alpha_zero_does_not_read_a_or_b(rng: np.random.Generator, dtype: str) -> None:
    a = ember.tensor(np.full((40, 30), np.nan), dtype=getattr(ember, dtype)).to("cuda")
    b = ember.tensor(np.full((30, 50), np.inf), dtype=getattr(ember, dtype)).to("cuda")
    c, c64 = operand(rng, 40, 50, dtype)
    _C._gemm(a, b, c, 0.0, -1.0)
    check(c, np.zeros((40, 30)), np.zeros((30, 50)), c64, 0.0, -1.0, dtype, dtype)


def test_empty_output_is_a_no_op(rng: np.random.Generator) -> None:
    a, _ = operand(rng, 0, 5, "float32")
    b, _ = operand(rng, 5, 3, "float32")
    c = ember.zeros(0, 3).to("cuda")
    _C._gemm(a, b, c)
    assert tuple(c.shape) == (0, 3)


def test_unsupported_output_dtype_raises(rng: np.random.Generator) -> None:
    a, _ = operand(rng, 4, 4, "float32")
    b, _ = operand(rng, 4, 4, "float32")
    c = ember.zeros(4, 4, dtype=ember.float64).to("cuda")
    with pytest.raises(TypeError, match=r"^\[gemm\] unsupported dtypes on CUDA"):
        _C._gemm(a, b, c)


def test_matches_cpu_kernel(rng: np.random.Generator) -> None:
    a, _ = operand(rng, 300, 211, "float32", "t")
    b, _ = operand(rng, 211, 170, "float32", "s")
    c = ember.zeros(300, 170).to("cuda")
    c_cpu = ember.zeros(300, 170)
    _C._gemm(a, b, c)
    _C._gemm(a.cpu(), b.cpu(), c_cpu)
    np.testing.assert_allclose(to_numpy(c), to_numpy(c_cpu), rtol=1e-4, atol=1e-4)


needs_matmul = pytest.mark.skipif(not hasattr(ember, "matmul"), reason="no ember.matmul yet")


@needs_matmul
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((4, 33, 17), (4, 17, 65)), ((64, 256, 64), (64, 64, 256)),
                                    ((3, 1, 7, 9), (5, 9, 130)), ((2, 130, 5), (5, 3))])
def test_batched_matmul(rng: np.random.Generator, dtype: str,
                        shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    x = rng.standard_normal(shapes[0])
    y = rng.standard_normal(shapes[1])
    a = ember.tensor(x, dtype=getattr(ember, dtype)).to("cuda")
    b = ember.tensor(y, dtype=getattr(ember, dtype)).to("cuda")
    got = to_numpy(ember.matmul(a, b)).astype(np.float64)
    a64, b64 = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    ref = a64 @ b64
    scale = np.abs(a64) @ np.abs(b64)
    acc = EPS["float64" if dtype == "float64" else "float32"]
    tol = (2 * EPS[dtype] + (shapes[0][-1] + 2) * acc) * scale + 1e-300
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= tol)


@needs_matmul
def test_batched_matmul_transposed_views(rng: np.random.Generator) -> None:
    a = ember.tensor(rng.standard_normal((6, 40, 70)), dtype=ember.float32).to("cuda")
    b = ember.tensor(rng.standard_normal((6, 50, 40)), dtype=ember.float32).to("cuda")
    got = to_numpy(ember.matmul(a.transpose(1, 2), b.transpose(1, 2)))
    ref = np.swapaxes(to_numpy(a), 1, 2) @ np.swapaxes(to_numpy(b), 1, 2)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
