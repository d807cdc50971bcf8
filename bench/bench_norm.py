"""Normalisation layers (float32) against PyTorch, 1 and 2 threads: batch norm in training
mode (batch statistics and running-stat update) forward and forward+backward, batch norm in
eval mode, layer norm and group norm forward+backward.

These are memory-bound: a few FLOPs per element. Bytes are counted as STREAM does, each
array once: forward reads x and writes y (8 B per element); forward+backward also reads the
gradient and writes the input's gradient (16 B per element), though a two-pass kernel reads x
twice. The weight and bias gradients are computed by both libraries. One library at a time,
best sample (see bench_gemm.py for why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
import numpy as np
from common import Case, fwd_bwd, torch

# (op, name, shape, extra): batch norm over (N, C, H, W); layer norm over the last dim;
# group norm with `extra` groups.
SHAPES = (
    ("batch_norm train", "N32 C64 56x56", (32, 64, 56, 56), None),
    ("batch_norm train", "N128 C32 28x28", (128, 32, 28, 28), None),
    ("batch_norm eval", "N32 C64 56x56", (32, 64, 56, 56), None),
    ("layer_norm", "4096x1024", (4096, 1024), None),
    ("group_norm", "N32 C64 28x28 g8", (32, 64, 28, 28), 8),
)
QUICK = SHAPES[1:2]
THREADS = (1, 2)


def _functional(lib: str) -> Any:
    if lib == "torch":
        return torch.nn.functional
    return ember.nn.functional


def _call(lib: str, op: str, x: Any, w: Any, b: Any, stats: tuple[Any, Any], extra: Any
          ) -> Callable[[], Any]:
    F = _functional(lib)
    if op.startswith("batch_norm"):
        training = op.endswith("train")
        return lambda: F.batch_norm(x, stats[0], stats[1], w, b, training=training)
    if op == "layer_norm":
        return lambda: F.layer_norm(x, (x.shape[-1],), w, b)
    return lambda: F.group_norm(x, extra, w, b)


def _case(op: str, name: str, shape: tuple[int, ...], extra: Any, backward: bool,
          threads: int) -> Callable[[], Case]:
    def build() -> Case:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape, dtype=np.float32)
        c = shape[-1] if op == "layer_norm" else shape[1]
        w = rng.uniform(0.5, 1.5, c).astype(np.float32)
        b = rng.standard_normal(c, dtype=np.float32)
        gy = rng.standard_normal(shape, dtype=np.float32)
        fns = {}
        libs = {"ember": ember.tensor}
        if torch is not None:
            libs["torch"] = lambda a: torch.from_numpy(a.copy())
        for lib, make in libs.items():
            xs, ws, bs = (make(a) for a in (x, w, b))
            if backward:
                for t in (xs, ws, bs):
                    t.requires_grad_(True)
            stats = (make(np.zeros(c, np.float32)), make(np.ones(c, np.float32)))
            fwd = _call(lib, op, xs, ws, bs, stats, extra)
            fns[lib] = fwd_bwd(fwd, (xs, ws, bs), make(gy)) if backward else fwd
        call = {"batch_norm train": "batch_norm(x, rm, rv, w, b, training=True)",
                "batch_norm eval": "batch_norm(x, rm, rv, w, b)",
                "layer_norm": "layer_norm(x, (D,), w, b)",
                "group_norm": f"group_norm(x, {extra}, w, b)"}[op]
        call += ".backward(gy)" if backward else ""
        return Case(suite="norm", op=op + (" fwd+bwd" if backward else " fwd"), size=x.size,
                    layout=name, threads=threads, fns=fns,
                    bytes=x.size * 4.0 * (4 if backward else 2), peak="triad",
                    notes={"numpy": "no NumPy normalisation layer"},
                    impl={"ember": "ember.nn.functional." + call, "torch": "F." + call},
                    check=True, rtol=2e-3, interleave=False, statistic="min")

    return build


def cases(quick: bool) -> list[Callable[[], Case]]:
    out = []
    for t in THREADS:
        for op, name, shape, extra in (QUICK if quick else SHAPES):
            passes = (False,) if op == "batch_norm eval" else (False, True)
            out += [_case(op, name, shape, extra, bwd, t) for bwd in passes]
    return out
