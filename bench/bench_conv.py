"""conv2d forward and forward+backward (float32, NCHW) against PyTorch, 1 and 2 threads.

The shapes of the issue: an MNIST first and second layer, a ResNet 3x3 stage, the 7x7 stem,
a depthwise 3x3 and a 1x1 expansion. FLOPs are 2*N*O*Ho*Wo*(C/g)*kh*kw for the forward and
three times that for forward+backward (input and weight gradients are one GEMM each; the bias
gradient is a reduction). Bytes: input, weight and output once (forward). Forward+backward
returns the input's gradient after a backward of a fixed grad_output; both libraries compute
every gradient (input, weight, bias). Measured one library at a time, best sample (see
bench_gemm.py for why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
import numpy as np
from common import Case, fwd_bwd, torch

# (name, N, C, O, H, W, k, stride, padding, groups)
SHAPES = (
    ("N32 1->32 28x28 k3", 32, 1, 32, 28, 28, 3, 1, 0, 1),
    ("N32 32->64 14x14 k3", 32, 32, 64, 14, 14, 3, 1, 0, 1),
    ("N32 64->64 56x56 k3p1", 32, 64, 64, 56, 56, 3, 1, 1, 1),
    ("N8 3->64 224x224 k7s2p3", 8, 3, 64, 224, 224, 7, 2, 3, 1),
    ("N32 64 dw 56x56 k3p1", 32, 64, 64, 56, 56, 3, 1, 1, 64),
    ("N32 64->256 56x56 k1", 32, 64, 256, 56, 56, 1, 1, 0, 1),
)
QUICK = SHAPES[:2]
THREADS = (1, 2)
# The 3x3 stride-1 shapes that ember runs through Winograd again with ember held to im2col, so
# one run shows both algorithms against PyTorch (EMBER_CONV_ALGORITHM sets it for a whole run).
IM2COL = tuple((name + " im2col", *shape) for name, *shape in SHAPES
               if shape[5] == 3 and shape[6] == 1 and shape[1] >= 16 and shape[8] == 1)


def _conv(lib: str) -> Callable[..., Any]:
    if lib == "torch":
        return torch.nn.functional.conv2d
    from ember.nn._conv import conv2d

    return conv2d


def _held(f: Callable[[], Any], algorithm: str | None) -> Callable[[], Any]:
    if algorithm is None:
        return f
    from ember import _C

    def run() -> Any:
        before = _C.get_conv_algorithm()
        _C.set_conv_algorithm(algorithm)
        try:
            return f()
        finally:
            _C.set_conv_algorithm(before)

    return run


def _fwd(f: Callable[..., Any], x: Any, w: Any, b: Any, kw: dict) -> Callable[[], Any]:
    return lambda: f(x, w, b, **kw)


def _case(name: str, backward: bool, threads: int, n: int, c: int, o: int, h: int, w: int,
          k: int, s: int, p: int, g: int, algorithm: str | None = None) -> Callable[[], Case]:
    def build() -> Case:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        wt = rng.standard_normal((o, c // g, k, k)) / np.sqrt(c // g * k * k)
        wt = wt.astype(np.float32)
        b = rng.standard_normal(o, dtype=np.float32)
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        gy = rng.standard_normal((n, o, ho, wo), dtype=np.float32)
        kw = dict(stride=s, padding=p, groups=g)
        fns = {}
        libs = {"ember": (ember.tensor, lambda a: ember.tensor(a).requires_grad_(backward))}
        if torch is not None:
            libs["torch"] = (torch.from_numpy,
                             lambda a: torch.from_numpy(a.copy()).requires_grad_(backward))
        for lib, (plain, param) in libs.items():
            f = _conv(lib)
            xs, ws, bs = param(x), param(wt), param(b)
            fwd = _fwd(f, xs, ws, bs, kw)
            fns[lib] = fwd_bwd(fwd, (xs, ws, bs), plain(gy)) if backward else fwd
        fns["ember"] = _held(fns["ember"], algorithm)
        flops = 2.0 * n * o * ho * wo * (c // g) * k * k * (3 if backward else 1)
        call = "conv2d(x, w, b, stride, padding, groups)" + (
            ".backward(gy)" if backward else "")
        return Case(suite="conv", op="conv2d fwd+bwd" if backward else "conv2d fwd",
                    size=n * c * h * w, layout=name, threads=threads, fns=fns,
                    bytes=4.0 * (x.size + wt.size + n * o * ho * wo), flops=flops,
                    peak="fma", notes={"numpy": "no NumPy convolution"},
                    impl={"ember": "ember.nn._conv." + call, "torch": "F." + call},
                    check=True, rtol=2e-3, interleave=False, statistic="min")

    return build


def cases(quick: bool) -> list[Callable[[], Case]]:
    shapes = [(s, None) for s in (QUICK if quick else SHAPES)]
    shapes += [] if quick else [(s, "im2col") for s in IM2COL]
    return [_case(name, bwd, t, *shape, algorithm=algorithm)
            for t in THREADS for bwd in (False, True)
            for (name, *shape), algorithm in shapes]
