"""Matrix multiply: GFLOP/s of ember, NumPy (OpenBLAS) and PyTorch (MKL / oneDNN) in one run.

Square float32 products from 32 to 4096 and the shapes of real layers (a Linear on an MNIST
batch, a wide projection, batched attention scores), 1 and 2 threads, each compared with the
FMA probe's peak at the same thread count (the fraction of peak is ember's GFLOP/s over it).
bfloat16 squares run against PyTorch only (NumPy has no bfloat16); ember takes AMX tiles there
when the processor has them, PyTorch goes through oneDNN. float64 squares run on the AVX-512
float64 kernel. A GEMM of m x k by k x n is 2*m*n*k FLOPs; each call allocates its output, as
`a @ b` does for users. The libraries are measured one after another (not interleaved): each
keeps its idle threads spinning for a while after a call, and on two cores those spinners
would slow whichever library ran next. Measured that way, a slow spell of the shared machine
falls on one library only, so each is judged by its best sample (as timeit reports).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import ember
import numpy as np
from common import Case, torch

SQUARES = (32, 64, 128, 256, 512, 1024, 2048, 4096)
QUICK_SQUARES = (64, 256, 1024)
BF16_SQUARES = (256, 512, 1024, 2048, 4096)
# (name, batch, m, k, n): C[b] = A[b] (m x k) @ B[b] (k x n)
LAYERS = (
    ("mlp 128x784 @ 784x512", 1, 128, 784, 512),
    ("proj 4096x4096 @ 4096x1024", 1, 4096, 4096, 1024),
    ("attn 64 x (256x64 @ 64x256)", 64, 256, 64, 256),
)
QUICK_LAYERS = LAYERS[:1] + LAYERS[2:]
THREADS = (1, 2)


def _operands(batch: int, m: int, k: int, n: int, dtype: str, seed: int = 0
              ) -> dict[str, tuple[Any, Any]]:
    rng = np.random.default_rng(seed)
    shape_a = (batch, m, k) if batch > 1 else (m, k)
    shape_b = (batch, k, n) if batch > 1 else (k, n)
    a = rng.standard_normal(shape_a, dtype=np.float32)
    b = rng.standard_normal(shape_b, dtype=np.float32)
    out: dict[str, tuple[Any, Any]] = {}
    if dtype == "float32":
        out["numpy"] = (a, b)
    elif dtype == "float64":
        out["numpy"] = (a.astype(np.float64), b.astype(np.float64))
    edt = getattr(ember, dtype)
    out["ember"] = (ember.tensor(a).to(edt), ember.tensor(b).to(edt))
    if torch is not None:
        tdt = getattr(torch, dtype)
        out["torch"] = (torch.from_numpy(a).to(tdt), torch.from_numpy(b).to(tdt))
    return out


def _matmul(lib: str) -> Callable[[Any, Any], Any]:
    if lib == "numpy":
        return np.matmul
    if lib == "torch":
        return torch.matmul
    if hasattr(ember, "matmul"):
        return ember.matmul

    def raw(a: Any, b: Any) -> Any:  # before ember.matmul existed: the kernel, 2-D only
        c = ember.empty(a.shape[0], b.shape[1], dtype=a.dtype)
        ember._C._gemm(a, b, c)
        return c

    return raw


def _call(fn: Callable[[Any, Any], Any], operands: tuple[Any, Any]) -> Any:
    return fn(*operands)


def _case(op: str, layout: str, size: int, threads: int, batch: int, m: int, k: int, n: int,
          dtype: str) -> Callable[[], Case]:
    def build() -> Case:
        ops = _operands(batch, m, k, n, dtype)
        fns = {lib: partial(_call, _matmul(lib), x) for lib, x in ops.items()}
        notes = {} if "numpy" in ops else {"numpy": f"NumPy has no {dtype}"}
        impl = {"ember": "ember.matmul(a, b)", "numpy": "np.matmul(a, b)",
                "torch": "torch.matmul(a, b)"}
        rtol = 2e-2 if dtype == "bfloat16" else 1e-3
        return Case(suite="gemm", op=op, size=size, layout=layout, threads=threads, fns=fns,
                    flops=2.0 * batch * m * n * k, peak="fma", notes=notes,
                    peak_scale=0.5 if dtype == "float64" else 1.0,
                    impl={lib: impl[lib] for lib in fns}, check=True, rtol=rtol,
                    interleave=False, statistic="min")

    return build


def cases(quick: bool) -> list[Callable[[], Case]]:
    out = []
    for t in THREADS:
        for s in QUICK_SQUARES if quick else SQUARES:
            out.append(_case("matmul f32", "square", s, t, 1, s, s, s, "float32"))
        for name, batch, m, k, n in QUICK_LAYERS if quick else LAYERS:
            out.append(_case("matmul f32", name, m * n, t, batch, m, k, n, "float32"))
        for s in (1024,) if quick else (256, 1024, 2048):
            out.append(_case("matmul f64", "square", s, t, 1, s, s, s, "float64"))
        for s in (1024,) if quick else BF16_SQUARES:
            out.append(_case("matmul bf16", "square", s, t, 1, s, s, s, "bfloat16"))
    return out
