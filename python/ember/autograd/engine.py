"""The backward engine: runs the graph's nodes in dependency order.

A node runs once every node that feeds it a gradient has run, so a tensor used several times
receives the sum of its gradients before its own backward sees it. Nodes that cannot reach the
requested inputs are skipped. Unless ``retain_graph``, each node drops its saved tensors once
it has run, so memory is returned while the pass goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _C
from ..tensor import Tensor
from .function import Node, _edge
from .grad_mode import _state

__all__ = ["backward", "grad"]


def _as_tuple(x: Any) -> tuple[Any, ...]:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(op: str, outputs: tuple[Tensor, ...], grads: tuple[Any, ...]) -> list[Any]:
    from ..creation import tensor

    if grads and len(grads) != len(outputs):
        raise ValueError(f"[{op}] got {len(outputs)} outputs but {len(grads)} gradients")
    res = []
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"[{op}] outputs must be tensors, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(
                f"[{op}] element {i} of the outputs does not require grad and has no grad_fn"
                " (was it computed under no_grad, or from tensors without requires_grad?)"
            )
        g = grads[i] if grads else None
        if g is None:
            if t._c.numel != 1:
                raise RuntimeError(
                    f"[{op}] grad can be implicitly created only for scalar outputs; output "
                    f"{i} has shape {tuple(t.shape)}: pass gradient= (e.g. ones_like(out))"
                )
            g = _C.full(t._c.shape, 1, t._c.dtype_code, t._c.device)
        elif not isinstance(g, Tensor):
            g = tensor(g, dtype=t.dtype)
        elif tuple(g._c.shape) != tuple(t._c.shape):
            raise RuntimeError(
                f"[{op}] gradient of shape {tuple(g.shape)} given for an output of shape "
                f"{tuple(t.shape)}"
            )
        res.append(g)
    return res


def _needed(roots: list[Node], targets: set[Node] | None) -> set[Node] | None:
    """The nodes from which a target can be reached (all of them when targets is None)."""
    if targets is None:
        return None
    needed: set[Node] = set()
    done: set[Node] = set()
    stack: list[tuple[Node, int]] = [(r, 0) for r in roots]
    while stack:
        node, i = stack.pop()
        if i == 0 and node in done:
            continue
        nxt = node.next_functions
        if i < len(nxt):
            stack.append((node, i + 1))
            e = nxt[i]
            if e is not None and e[0] not in done:
                stack.append((e[0], 0))
            continue
        done.add(node)
        if node in targets or any(e is not None and e[0] in needed for e in nxt):
            needed.add(node)
    return needed


def _dependencies(roots: list[Node], needed: set[Node] | None) -> dict[Node, int]:
    deps: dict[Node, int] = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        if needed is not None and node not in needed:
            continue
        for e in node.next_functions:
            if e is None:
                continue
            m = e[0]
            if needed is not None and m not in needed:
                continue
            deps[m] = deps.get(m, 0) + 1
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return deps


def _n_outputs(node: Node) -> int:
    return len(node._out_meta) or 1


def _run_pre_hooks(node: Node, buf: list[Any]) -> None:
    for i, fns in node._pre_hooks.items():  # type: ignore[union-attr]
        for fn in list(fns):
            if buf[i] is not None:
                r = fn(buf[i])
                if r is not None:
                    buf[i] = r


def run_backward(
    op: str,
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: dict[tuple[Node, int], int] | None = None,
    accumulate: bool = True,
) -> list[Any]:
    """Runs backward from `outputs`. With `capture` ({(node, index): slot}), the gradients
    flowing into those node inputs are returned by slot; AccumulateGrad nodes run only when
    `accumulate`."""
    outputs = tuple(outputs)
    t0 = outputs[0] if len(outputs) == 1 else None
    if t0 is not None and not grad_outputs and type(t0) is Tensor and t0._rg and \
            t0._c.numel == 1:  # loss.backward(): the common case, checked in one line
        c = t0._c
        grads = [_C.full(c.shape, 1, c.dtype_code, c.device)]
    else:
        grads = _root_grads(op, outputs, tuple(grad_outputs))
    captured: list[Any] = [None] * (len(capture) if capture else 0)
    buffers: dict[Node, list[Any]] = {}
    roots: list[Node] = []
    for t, g in zip(outputs, grads, strict=True):
        node, idx = _edge(t)
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _n_outputs(node)
            roots.append(node)
        buf[idx] = g if buf[idx] is None else buf[idx] + g

    targets = None
    if capture is not None:
        targets = {n for n, _ in capture}
    needed = _needed(roots, targets)
    deps = _dependencies(roots, needed)
    ready = [r for r in roots if deps.get(r, 0) == 0 and (needed is None or r in needed)]

    prev = _state.enabled
    _state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node)
            if node._pre_hooks:
                _run_pre_hooks(node, buf)
            if targets is not None and node in targets:
                for i, g in enumerate(buf):
                    slot = capture.get((node, i))  # type: ignore[union-attr]
                    if slot is not None:
                        captured[slot] = g
                if node._is_acc or not any(
                    e is not None and e[0] in needed for e in node.next_functions
                ):
                    continue
            if node._is_acc and not accumulate:
                continue
            in_grads = node.apply(buf)
            if not retain_graph and node._saved is not None:
                node._saved = None
                node._freed = True
            for e, g in zip(node.next_functions, in_grads, strict=False):
                if e is None:
                    continue
                m, i = e
                if needed is not None and m not in needed:
                    continue
                b = buffers.get(m)
                if b is None:
                    b = buffers[m] = [None] * (len(m._out_meta) or 1)
                if g is not None:
                    b[i] = g if b[i] is None else b[i] + g
                d = deps[m] - 1
                deps[m] = d
                if d == 0:
                    ready.append(m)
    finally:
        _state.enabled = prev
    return captured


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulates d(tensors)/d(leaf) into each leaf's ``.grad`` (only into ``inputs`` when
    given)."""
    outs = _as_tuple(tensors)
    gs = _as_tuple(grad_tensors) if grad_tensors is not None else ()
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run_backward("backward", outs, gs, retain, create_graph)
        return
    ins = _as_tuple(inputs)
    capture = _capture_map("backward", ins)
    got = run_backward("backward", outs, gs, retain, create_graph, capture, accumulate=False)
    done: set[int] = set()
    for t in ins:
        slot = capture[_edge(t)]
        g = got[slot]
        if g is not None and slot not in done:
            done.add(slot)
            if not create_graph:
                g = g.detach()
            t._grad = g if t._grad is None else t._grad + g


def _capture_map(op: str, inputs: tuple[Any, ...]) -> dict[tuple[Node, int], int]:
    capture: dict[tuple[Node, int], int] = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError(f"[{op}] input {i} is not a tensor that requires grad")
        capture.setdefault(_edge(t), i)
    return capture


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Any, ...]:
    """The gradients of `outputs` with respect to `inputs`, returned rather than accumulated
    into ``.grad``. ``create_graph=True`` makes them differentiable (Hessian-vector products,
    gradient penalties)."""
    if is_grads_batched:
        raise NotImplementedError("[autograd.grad] is_grads_batched is not supported")
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    gs = _as_tuple(grad_outputs) if grad_outputs is not None else ()
    retain = create_graph if retain_graph is None else retain_graph
    capture = _capture_map("autograd.grad", ins)
    got = run_backward("autograd.grad", outs, gs, retain, create_graph, capture,
                       accumulate=False)
    res = []
    for i, t in enumerate(ins):
        g = got[capture[_edge(t)]]
        if g is None:
            if materialize_grads:
                from ..creation import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"[autograd.grad] input {i} (shape {tuple(t.shape)}) was not used to "
                    "compute the outputs; pass allow_unused=True to get None for it"
                )
        res.append(g)
    return tuple(res)
