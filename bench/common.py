"""What a suite hands the runner: Cases, each one piece of work done by several libraries.

A suite module (bench/bench_<family>.py) defines ``cases(quick: bool) -> list[Case]``. Every
callable in a case must do the same work (same inputs, same result up to rounding); the runner
times them interleaved, checks their results agree, and derives GB/s, ratios and fraction of
the machine's measured peak from `bytes` / `flops`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ember
import numpy as np

try:  # PyTorch is optional: its columns are left out when it is missing
    import torch
except ImportError:
    torch = None

try:  # sets the thread count of NumPy's BLAS (OpenBLAS); without it matmul uses every core
    import threadpoolctl
except ImportError:
    threadpoolctl = None

LIBRARIES = ("ember", "numpy", "torch")


@dataclass
class Case:
    """`fns` maps library -> zero-argument callable; a missing library has a note instead."""

    suite: str
    op: str
    size: int  # elements of the (first) input
    layout: str  # "contiguous", "transposed", ...
    threads: int
    fns: dict[str, Callable[[], Any]]
    bytes: float | None = None  # moved per call: every input read once, the output written once
    flops: float | None = None
    peak: str = "triad"  # the probe to compare with: triad/copy/read bandwidth, or fma
    peak_scale: float = 1.0  # of that probe (float64 FMAs: half the float32 lanes, 0.5)
    notes: dict[str, str] = field(default_factory=dict)
    impl: dict[str, str] = field(default_factory=dict)  # how each library is called
    check: bool = True  # compare the libraries' results before timing
    interleave: bool = True  # False: one library at a time (multithreaded, see compare)
    statistic: str = "median"  # the time judged: "median", or "min" (the best sample)
    rtol: float = 1e-4

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.op}/{self.size}/{self.layout}/t{self.threads}"


def square_ish(n: int) -> tuple[int, int]:
    """(rows, cols) with rows * cols == n and rows the largest power of two <= sqrt(n) that
    divides n: 1K -> (32, 32), 64K -> (256, 256), 1M -> (1024, 1024), 16M -> (4096, 4096)."""
    rows = 1 << (int(math.log2(n)) // 2) if n > 1 else 1
    while n % rows:
        rows //= 2
    return rows, n // rows


def inputs(n: int, layout: str, count: int, seed: int = 0) -> dict[str, list[Any]]:
    """`count` float32 inputs of n elements per library, equal values, in `layout`:
    "contiguous" (1-D) or "transposed" (the transpose of a C-contiguous 2-D array)."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[Any]] = {lib: [] for lib in LIBRARIES}
    for _ in range(count):
        if layout == "contiguous":
            base = rng.standard_normal(n, dtype=np.float32)
        elif layout == "transposed":
            rows, cols = square_ish(n)
            base = rng.standard_normal((cols, rows), dtype=np.float32)
        else:
            raise ValueError(f"unknown layout {layout!r}")
        views = {
            "numpy": base.copy(),
            "ember": ember.tensor(base),
            "torch": torch.from_numpy(base.copy()) if torch is not None else None,
        }
        for lib, x in views.items():
            if x is not None and layout == "transposed":
                x = x.T
            out[lib].append(x)
    return out


def ember_attr(*names: str) -> tuple[Callable[..., Any] | None, str]:
    """The first of `names` that ember has ("gelu", "nn.functional.gelu", "Tensor.sum"),
    as (function, name); (None, "") when none exists yet."""
    for name in names:
        obj: Any = ember
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj, name
    return None, ""


def set_threads(n: int) -> None:
    """ember, PyTorch and NumPy's BLAS use `n` threads from now on (NumPy's ufuncs use one
    anyway). NumPy's BLAS is limited only when threadpoolctl is installed (the bench extra)."""
    ember.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(n, user_api="blas")


def to_numpy(x: Any) -> np.ndarray:
    """Results as NumPy arrays; bfloat16 (which NumPy lacks) as float32."""
    if torch is not None and isinstance(x, torch.Tensor):
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    if isinstance(x, ember.Tensor) and x.dtype is ember.bfloat16:
        x = x.float()
    return np.asarray(x)


def fwd_bwd(fwd: Callable[[], Any], leaves: tuple[Any, ...], gy: Any) -> Callable[[], Any]:
    """A timed forward+backward: clears the leaves' gradients, runs ``fwd().backward(gy)``
    and returns the first leaf's gradient (the value the libraries are compared on)."""
    def run() -> Any:
        for t in leaves:
            t.grad = None
        fwd().backward(gy)
        return leaves[0].grad

    return run


def write_atomic(path: Path, text: str) -> None:
    """Writes `text` to `path` through a temporary file and os.replace, so a reader (or an
    interrupted run) never sees a half-written results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def thread_counts() -> list[int]:
    """1, 2, 4, ... up to the CPUs this process may use, and that count itself."""
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ncpu = ncpu or 1
    counts = [1 << k for k in range(ncpu.bit_length()) if 1 << k <= ncpu]
    return counts if counts[-1] == ncpu else counts + [ncpu]
