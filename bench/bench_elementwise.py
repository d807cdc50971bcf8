"""Elementwise ops and full reductions on float32: add, mul, exp, gelu, sum, max.

Each op runs as users write it (``a + b`` allocates a fresh output every call) over 1K, 64K,
1M and 16M elements, contiguous and as a transposed 2-D view, with 1 and 2 threads. All are
memory-bound: binary ops move 3 arrays (two reads, one write), unary ops 2, reductions 1, so
they are compared with the triad / copy / read bandwidth probes. An op ember does not have yet
is listed with a note, and is timed as soon as it exists. The `overhead` cases time ``a + b``
on 1-element tensors: the per-call cost of dispatch, checks and allocation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from common import Case, ember_attr, inputs, torch

SIZES = (1 << 10, 1 << 16, 1 << 20, 1 << 24)
QUICK_SIZES = (1 << 10, 1 << 20)
LAYOUTS = ("contiguous", "transposed")
THREADS = (1, 2)
FLOAT = 4  # bytes per float32


def _numpy_gelu(x: np.ndarray) -> np.ndarray:
    # NumPy has no erf; this is the tanh form a NumPy user writes (several temporaries).
    inner = np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)
    return 0.5 * x * (1.0 + np.tanh(inner))


def _ember_binary(symbol: str) -> tuple[Callable[[Any, Any], Any], str]:
    """`a <symbol> b`, as users write it: a fresh output each call."""
    return (lambda a, b: a + b) if symbol == "+" else (lambda a, b: a * b), f"a {symbol} b"


def _ember_unary(names: tuple[str, ...]) -> tuple[Any, str]:
    fn, name = ember_attr(*names)
    if fn is None:
        return None, ""
    return fn, f"{name}(x)" if not name.startswith("Tensor.") else f"x.{name[7:]}()"


BINARY = {"add": ("+", np.add), "mul": ("*", np.multiply)}
# op -> (ember names in order of preference, NumPy, PyTorch, arrays moved, probe).
# Reductions read one array; their output is a scalar.
UNARY = {
    "exp": (("exp", "Tensor.exp"), np.exp, "exp", 2, "copy"),
    "gelu": (("gelu", "nn.functional.gelu"), _numpy_gelu, "gelu", 2, "copy"),
    "sum": (("sum", "Tensor.sum"), np.sum, "sum", 1, "read"),
    "max": (("max", "Tensor.max"), np.max, "max", 1, "read"),
}


NUMPY_IMPL = {"gelu": "0.5*x*(1 + np.tanh(0.79788456*(x + 0.044715*x*x*x))) (tanh form)"}
TORCH_IMPL = {"gelu": "torch.nn.functional.gelu(x) (exact erf form)"}


def _torch_fn(name: str) -> Any:
    if torch is None:
        return None
    if name == "gelu":
        return torch.nn.functional.gelu
    return getattr(torch, name)


def _binary_case(op: str, n: int, layout: str, threads: int) -> Case:
    symbol, np_fn = BINARY[op]
    x = inputs(n, layout, 2)
    fns: dict[str, Callable[[], Any]] = {}
    case = Case("elementwise", op, n, layout, threads, fns, bytes=3 * n * FLOAT, peak="triad")
    em, how = _ember_binary(symbol)
    if em is not None:
        a, b = x["ember"]
        fns["ember"], case.impl["ember"] = (lambda: em(a, b)), how
    na, nb = x["numpy"]
    fns["numpy"], case.impl["numpy"] = (lambda: np_fn(na, nb)), f"a {symbol} b"
    if torch is not None:
        ta, tb = x["torch"]
        fns["torch"] = (lambda: ta + tb) if symbol == "+" else (lambda: ta * tb)
        case.impl["torch"] = f"a {symbol} b"
    return case


def _unary_case(op: str, n: int, layout: str, threads: int) -> Case:
    names, np_fn, torch_name, arrays, peak = UNARY[op]
    x = inputs(n, layout, 1)
    fns: dict[str, Callable[[], Any]] = {}
    case = Case("elementwise", op, n, layout, threads, fns, bytes=arrays * n * FLOAT, peak=peak)
    if op in ("sum", "max"):
        case.rtol = 1e-3 + 1e-7 * n  # float32 sums of n terms differ with summation order
    if op == "gelu":
        case.rtol = 2e-3  # NumPy's tanh form vs the exact erf form
    em, how = _ember_unary(names)
    if em is None:
        case.notes["ember"] = f"not in ember yet (looked for {', '.join(names)})"
    else:
        (ex,) = x["ember"]
        fns["ember"], case.impl["ember"] = (lambda: em(ex)), how
    (nx,) = x["numpy"]
    fns["numpy"], case.impl["numpy"] = (lambda: np_fn(nx)), NUMPY_IMPL.get(op, f"np.{op}(x)")
    tf = _torch_fn(torch_name)
    if tf is not None:
        (tx,) = x["torch"]
        fns["torch"], case.impl["torch"] = (lambda: tf(tx)), TORCH_IMPL.get(op, f"torch.{op}(x)")
    return case


def _overhead_case() -> Case:
    x = inputs(1, "contiguous", 2)
    fns: dict[str, Callable[[], Any]] = {}
    case = Case("overhead", "add", 1, "1 element", 1, fns, peak="none")
    em, how = _ember_binary("+")
    ea, eb = x["ember"]
    fns["ember"], case.impl["ember"] = (lambda: em(ea, eb)), how
    na, nb = x["numpy"]
    fns["numpy"], case.impl["numpy"] = (lambda: na + nb), "a + b"
    if torch is not None:
        ta, tb = x["torch"]
        fns["torch"], case.impl["torch"] = (lambda: ta + tb), "a + b"
    return case


def cases(quick: bool) -> list[Callable[[], Case]]:
    """Case builders: the largest inputs take 64 MiB per array per library, so each case
    makes its inputs only when the runner reaches it, and they are freed after."""
    sizes = QUICK_SIZES if quick else SIZES
    threads = (max(THREADS),) if quick else THREADS
    out = [partial(_overhead_case)]
    for n in sizes:
        for layout in LAYOUTS:
            for t in threads:
                out += [partial(_binary_case, op, n, layout, t) for op in BINARY]
                out += [partial(_unary_case, op, n, layout, t) for op in UNARY]
    return out
