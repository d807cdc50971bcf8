"""GPU GEMM throughput: ember's CUDA kernels against cuBLAS (through PyTorch), in GFLOP/s.

    PYTHONPATH=python python bench/bench_gemm_cuda.py [--quick] [--repeat 5]

Shapes: square 256..8192, 128x784 @ 784x512 (an MNIST Linear), 4096x4096 @ 4096x1024 and a
batch of 64 (256x64 @ 64x256) products (attention-like; through ember.matmul when it exists).
Dtypes: float32 (ember's SIMT kernel; torch with TF32 off, the same arithmetic, and with TF32 on
as the tensor-core ceiling), float16 and bfloat16 (tensor cores on both sides). ember runs
in place through `_C._gemm` (or `ember.matmul` for batches); torch through `torch.matmul(out=)`.
Each call is timed as the median of `repeat` batches of back-to-back calls between device
synchronisations. Writes bench/results/gemm_cuda.json and .md. Exits 0 with a message when no
GPU is present.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ember
import numpy as np
from ember import _C

try:
    import torch
except ImportError:
    torch = None

RESULTS = Path(__file__).resolve().parent / "results"
SQUARE = (256, 512, 1024, 2048, 4096, 8192)
# (name, batch, m, k, n)
SHAPES = [("128x784 @ 784x512", 1, 128, 784, 512),
          ("4096x4096 @ 4096x1024", 1, 4096, 4096, 1024),
          ("64 x (256x64 @ 64x256)", 64, 256, 64, 256)]
# (label, dtype, torch TF32 allowed)
CONFIGS = [("float32", "float32", False), ("float32 (torch TF32)", "float32", True),
           ("float16", "float16", False), ("bfloat16", "bfloat16", False)]


def cases(quick: bool) -> list[Any]:
    """bench/run.py's hook: its harness times CPU work by thread count, so this GPU suite adds
    nothing there and runs standalone (main below)."""
    return []


def seconds_per_call(fn: Callable[[], Any], sync: Callable[[], None], repeat: int) -> float:
    """Median over `repeat` batches; a batch is sized to take about 50 ms after a warm-up."""
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    once = max(time.perf_counter() - t0, 1e-6)
    calls = max(1, min(1000, int(0.05 / once)))
    times = []
    for _ in range(repeat):
        sync()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / calls)
    return statistics.median(times)


def ember_case(x: np.ndarray, y: np.ndarray, dtype: str) -> tuple[Callable[[], Any], Any]:
    """A zero-argument call computing x @ y on the GPU, and a getter of its last result."""
    dt = getattr(ember, dtype)
    a = ember.tensor(x, dtype=dt).to("cuda")
    b = ember.tensor(y, dtype=dt).to("cuda")
    if x.ndim == 2:
        c = ember.zeros(x.shape[0], y.shape[1], dtype=dt).to("cuda")
        return (lambda: _C._gemm(a, b, c)), (lambda: c)
    if not hasattr(ember, "matmul"):
        return None, None
    box: dict[str, Any] = {}

    def call() -> None:
        box["c"] = ember.matmul(a, b)
    return call, (lambda: box["c"])


def torch_case(x: np.ndarray, y: np.ndarray, dtype: str) -> tuple[Callable[[], Any], Any]:
    dt = getattr(torch, dtype)
    a = torch.from_numpy(x).to(device="cuda", dtype=dt)
    b = torch.from_numpy(y).to(device="cuda", dtype=dt)
    c = torch.matmul(a, b)
    return (lambda: torch.matmul(a, b, out=c)), (lambda: c)


def as_numpy(t: Any) -> np.ndarray:
    if torch is not None and isinstance(t, torch.Tensor):
        return t.float().cpu().numpy()
    return np.asarray((t.float() if t.dtype is ember.bfloat16 else t).cpu()).astype(np.float32)


def run_case(name: str, batch: int, m: int, k: int, n: int, label: str, dtype: str,
             tf32: bool, repeat: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    lead = (batch,) if batch > 1 else ()
    x = rng.standard_normal((*lead, m, k), dtype=np.float32)
    y = rng.standard_normal((*lead, k, n), dtype=np.float32)
    flops = 2.0 * batch * m * n * k
    row: dict[str, Any] = {"shape": name, "dtype": label, "batch": batch, "m": m, "k": k, "n": n}
    sync = ember.cuda.synchronize
    if not tf32:  # ember has no TF32 path: the TF32 row is torch only
        fn, result = ember_case(x, y, dtype)
        if fn is None:
            row["ember_note"] = "no ember.matmul yet"
        else:
            row["ember_gflops"] = flops / seconds_per_call(fn, sync, repeat) / 1e9
            ember_out = as_numpy(result())
    if torch is not None and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = tf32
        fn, result = torch_case(x, y, dtype)
        row["torch_gflops"] = flops / seconds_per_call(fn, torch.cuda.synchronize, repeat) / 1e9
        if "ember_gflops" in row:
            ref = as_numpy(result())
            scale = float(np.abs(ref).max()) or 1.0
            row["max_rel_diff"] = float(np.abs(ember_out - ref).max()) / scale
    if "ember_gflops" in row and "torch_gflops" in row:
        row["ratio"] = row["ember_gflops"] / row["torch_gflops"]
    return row


def fmt(v: Any, spec: str) -> str:
    return format(v, spec) if isinstance(v, float) else "-"


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| shape | dtype | ember GFLOP/s | cuBLAS GFLOP/s | ember / cuBLAS | max rel diff |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        ember_cell = fmt(r.get("ember_gflops"), ".0f") if "ember_note" not in r else r["ember_note"]
        lines.append(f"| {r['shape']} | {r['dtype']} | {ember_cell} | "
                     f"{fmt(r.get('torch_gflops'), '.0f')} | {fmt(r.get('ratio'), '.2f')} | "
                     f"{fmt(r.get('max_rel_diff'), '.1e')} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="square sizes up to 2048 only")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not ember.cuda.is_available():
        print("bench_gemm_cuda: no CUDA device (or a CPU-only ember build); nothing to do")
        return 0
    if torch is None or not torch.cuda.is_available():
        print("bench_gemm_cuda: PyTorch with CUDA not found; timing ember alone")
    sizes = [s for s in SQUARE if not args.quick or s <= 2048]
    cases = [(f"{s}^3", 1, s, s, s) for s in sizes] + SHAPES
    rows = []
    for label, dtype, tf32 in CONFIGS:
        for name, batch, m, k, n in cases:
            row = run_case(name, batch, m, k, n, label, dtype, tf32, args.repeat)
            rows.append(row)
            print(f"{name:>24} {label:>22}  ember {fmt(row.get('ember_gflops'), '9.0f')}  "
                  f"cuBLAS {fmt(row.get('torch_gflops'), '9.0f')}  "
                  f"ratio {fmt(row.get('ratio'), '.2f')}", flush=True)
    device = ember.cuda.get_device_name(0)
    meta = {"device": device, "torch": getattr(torch, "__version__", None),
            "ember_tf32": False, "quick": args.quick, "repeat": args.repeat}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gemm_cuda.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    md = (f"# CUDA GEMM, ember vs cuBLAS (PyTorch {meta['torch']})\n\n{device}. GFLOP/s = "
          f"2*batch*m*n*k / time; 'float32 (torch TF32)' is cuBLAS with TF32 tensor cores, "
          f"the ceiling for ember's float32 SIMT kernel.\n\n{table(rows)}\n")
    (RESULTS / "gemm_cuda.md").write_text(md)
    print("\n" + table(rows))
    print(f"\nwrote {RESULTS / 'gemm_cuda.json'} and {RESULTS / 'gemm_cuda.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
