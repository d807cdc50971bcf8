"""Finite-difference checks of analytic gradients (first and second order).

``gradcheck`` builds the Jacobian of ``func`` twice: column by column with central
differences, and row by row with one backward pass per output element; the two must agree
within ``atol + rtol * |numerical|``. Use float64 inputs: float32 differences are too coarse
for the default tolerances.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree."""


def _tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _outputs(func: Callable[..., Any], inputs: tuple[Any, ...]) -> list[Tensor]:
    out = _tuple(func(*inputs))
    return [o for o in out if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _flat(outs: Sequence[Tensor]) -> np.ndarray:
    if not outs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o.detach().double().cpu()).reshape(-1) for o in outs])


def _numerical(func: Callable[..., Any], inputs: tuple[Any, ...], wrt: list[int],
               eps: float) -> list[np.ndarray]:
    """One (n_out, numel(input)) Jacobian per differentiated input."""
    jacs = []
    with no_grad():
        n_out = _flat(_outputs(func, inputs)).size
        for i in wrt:
            x = inputs[i].detach()
            jac = np.zeros((n_out, x.numel()))
            for j, idx in enumerate(itertools.product(*(range(s) for s in x.shape))):
                orig = float(x[idx].item())
                x[idx] = orig + eps
                plus = _flat(_outputs(func, inputs))
                x[idx] = orig - eps
                minus = _flat(_outputs(func, inputs))
                x[idx] = orig
                jac[:, j] = (plus - minus) / (2 * eps)
            jacs.append(jac)
    return jacs


def _analytical(func: Callable[..., Any], inputs: tuple[Any, ...],
                wrt: list[int]) -> list[np.ndarray]:
    from ..creation import zeros_like

    with enable_grad():
        outs = _outputs(func, inputs)
    n_out = sum(o.numel() for o in outs)
    jacs = [np.zeros((n_out, inputs[i].numel())) for i in wrt]
    row = 0
    for o in outs:
        for k in range(o.numel()):
            if not o.requires_grad:
                row += 1
                continue
            go = zeros_like(o)
            go.view(-1)[k] = 1.0
            gs = _grad(o, [inputs[i] for i in wrt], go, retain_graph=True, allow_unused=True)
            for jac, g in zip(jacs, gs, strict=True):
                if g is not None:
                    jac[row, :] = np.asarray(g.detach().double().cpu()).reshape(-1)
            row += 1
    return jacs


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, **_ignored: Any) -> bool:
    """True when the analytic gradients of `func` at `inputs` match central differences;
    otherwise raises GradcheckError naming the input and the worst element (or returns
    False with raise_exception=False). Only inputs with requires_grad are checked."""
    inputs = _tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("[gradcheck] no input requires grad")
    num = _numerical(func, inputs, wrt, eps)
    ana = _analytical(func, inputs, wrt)
    for i, n, a in zip(wrt, num, ana, strict=True):
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (f"[gradcheck] Jacobian mismatch for input {i} (shape "
                   f"{tuple(inputs[i].shape)}): output element {r}, input element {c}: "
                   f"analytical {a[r, c]!r} vs numerical {n[r, c]!r} "
                   f"({int(bad.sum())} of {bad.size} entries differ)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, **_ignored: Any) -> bool:
    """gradcheck of the gradient itself: checks second derivatives (create_graph=True) of
    `func` at `inputs`, with random `grad_outputs` unless given."""
    from ..ops.random import randn

    inputs = _tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(
            randn(*o.shape, dtype=o.dtype).requires_grad_() for o in outs
        )
    grad_outputs = _tuple(grad_outputs)
    n_in = len(inputs)

    def first_grads(*args: Any) -> tuple[Any, ...]:
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():  # the numerical pass calls this under no_grad
            outs = _outputs(func, ins)
            gs = _grad(outs, [ins[i] for i in wrt], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
