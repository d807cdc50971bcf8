"""Graph nodes and the ``Function`` base class.

A differentiable op is a ``Function`` subclass with static ``forward(ctx, *args)`` and
``backward(ctx, *grad_outputs)``. ``Function.apply`` runs ``forward`` with recording off and,
when grad mode is on and an input requires grad, makes ``ctx`` a node of the graph: the outputs
point to it (``grad_fn``) and it points to the nodes of its inputs (``next_functions``). The
backward formulas are written with ember ops, so running them with recording on
(``create_graph=True``) builds the graph of the gradient itself: higher derivatives come free.

Saved tensors remember their storage's version counter; unpacking one that an in-place op has
changed since raises, as does unpacking after the graph was freed by a backward pass.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from .._dtype import BY_CODE
from ..tensor import Tensor, _fresh
from .grad_mode import _state

__all__ = ["Function", "FunctionCtx", "Node", "AccumulateGrad", "once_differentiable"]


_FLOAT_CODES = frozenset(d.code for d in BY_CODE if d.is_floating_point)


class _SavedOutput:
    """An output saved by its own node: the storage only, so node and output don't form a
    reference cycle (the graph is freed by refcounting, not by the garbage collector)."""

    __slots__ = ("c", "index")

    def __init__(self, c: Any, index: int) -> None:
        self.c = c
        self.index = index


class _HookHandle:
    def __init__(self, hooks: list[Callable[..., Any]], fn: Callable[..., Any]) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class Node:
    """A node of the backward graph. ``next_functions`` holds, per input of the op, the
    ``(node, output_index)`` its gradient flows to, or None for inputs that need none."""

    next_functions: tuple[tuple[Node, int] | None, ...] = ()
    _pre_hooks: dict[int, list[Callable[..., Any]]] | None = None
    _is_acc = False  # an AccumulateGrad (a leaf's sink)
    _saved: tuple[Any, ...] | None = None  # tensors to free after running
    _out_meta: tuple[Any, ...] = ()  # (shape, dtype, device) per output of a multi-output op

    def name(self) -> str:
        return type(self).__name__

    def apply(self, grads: list[Any]) -> tuple[Any, ...]:
        raise NotImplementedError

    def register_prehook(self, index: int, fn: Callable[..., Any]) -> _HookHandle:
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(index, [])
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient to ``variable.grad``."""

    _is_acc = True

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def apply(self, grads: list[Any]) -> tuple[Any, ...]:
        t = self.variable
        g = grads[0]
        for hook in t._hooks or ():
            r = hook(g)
            if r is not None:
                g = r
        if g._rg and not _state.enabled:
            g = g.detach()
        old = t._grad
        t._grad = g if old is None else old + g  # out of place: grads may alias each other
        return ()


class FunctionCtx(Node):
    """The ``ctx`` a Function's forward and backward receive; it is the graph node too."""

    needs_input_grad: tuple[bool, ...] = ()
    materialize_grads = True
    _versions: tuple[int, ...] = ()
    _freed = False
    _non_diff: tuple[Tensor, ...] = ()
    _dirty: tuple[Tensor, ...] = ()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"[save_for_backward] expects tensors or None, got {type(t).__name__}; "
                    "keep other values as attributes of ctx"
                )
        self._saved = tensors
        self._versions = tuple(0 if t is None else t._c.version for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(
                    f"[backward] trying to backward through the graph a second time (or to "
                    f"read the saved tensors of {self.name()} after they were freed); pass "
                    "retain_graph=True to the first backward() or autograd.grad() call"
                )
            return ()
        out = []
        for s, v in zip(saved, self._versions, strict=True):
            if s is None:
                out.append(None)
                continue
            if type(s) is _SavedOutput:
                c = s.c
                t = _fresh(c)
                t._rg, t._node, t._oidx = True, self, s.index
            else:
                t, c = s, s._c
            if c.version != v:
                raise RuntimeError(
                    f"[backward] one of the tensors needed by {self.name()} (shape "
                    f"{tuple(c.shape)}) was modified by an in-place operation: its version is "
                    f"{c.version}, expected {v}. Use an out-of-place op (x = x + 1, not x += 1) "
                    "or clone() the tensor first"
                )
            out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        self._non_diff = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def apply(self, grads: list[Any]) -> tuple[Any, ...]:
        if len(grads) > 1 and self.materialize_grads and any(g is None for g in grads):
            from ..creation import zeros

            grads = [
                zeros(*m, dtype=d, device=dev) if g is None else g
                for g, (m, d, dev) in zip(grads, self._out_meta, strict=True)
            ]
        out = self._forward_cls.backward(self, *grads)
        if type(out) is not tuple:
            out = (out,)
        n = len(self.next_functions)
        if len(out) == n:
            return out
        if len(out) < n:
            raise RuntimeError(
                f"[backward] {self._forward_cls.__name__}.backward returned {len(out)} "
                f"gradients, expected {n} (one per forward input; None for non-tensors)"
            )
        return out[:n]

    _forward_cls: type[Function]


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> None:
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {"_forward_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of differentiable ops, with PyTorch's interface::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        y = Exp.apply(x)
    """

    _backward_cls: type[FunctionCtx]

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses implement backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = cls._backward_cls()
        needs = tuple([isinstance(a, Tensor) and bool(a._rg) for a in args])
        prev = _state.enabled
        record = prev and True in needs
        ctx.needs_input_grad = needs
        _state.enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.enabled = prev
        if not record:
            return out
        ctx.next_functions = tuple([_edge(a) if r else None for a, r in zip(args, needs,
                                                                             strict=True)])
        if isinstance(out, tuple):
            outs = tuple(_attach(o, ctx, i, args) for i, o in enumerate(out))
            ctx._out_meta = tuple(
                (tuple(o._c.shape), o.dtype, o.device) if isinstance(o, Tensor) else ((), None,
                                                                                        None)
                for o in outs
            )
            _unalias_saved(ctx, outs)
            return outs
        out = _attach(out, ctx, 0, args)
        _unalias_saved(ctx, (out,))
        return out


def _edge(t: Tensor) -> tuple[Node, int]:
    node = t._node
    if node is not None:
        return node, t._oidx
    acc = t._acc() if t._acc is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._acc = weakref.ref(acc)
    return acc, 0


def _attach(o: Any, ctx: FunctionCtx, i: int, args: tuple[Any, ...]) -> Any:
    if not isinstance(o, Tensor) or o._c.dtype_code not in _FLOAT_CODES or _among(
            o, ctx._non_diff):
        return o
    # forward returned an input unchanged: the output is a new tensor object, unless the
    # Function marked it dirty (an in-place op, whose input becomes its output)
    if _among(o, args) and not _among(o, ctx._dirty):
        o = _fresh(o._c)
    o._rg, o._node, o._oidx = True, ctx, i
    return o


def _among(o: Any, items: tuple[Any, ...]) -> bool:
    for x in items:
        if o is x:
            return True
    return False


def _unalias_saved(ctx: FunctionCtx, outs: tuple[Any, ...]) -> None:
    saved = ctx._saved
    if not saved:
        return
    hit = False
    for s in saved:
        for o in outs:
            if s is o:
                hit = True
    if hit:
        ctx._saved = tuple(_saved_output(s, outs) for s in saved)


def _saved_output(s: Any, outs: tuple[Any, ...]) -> Any:
    for i, o in enumerate(outs):
        if s is o:
            return _SavedOutput(s._c, i)
    return s


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For a backward that calls kernels directly: it runs with recording off. Under
    create_graph=True its results carry a node that raises if a second derivative reaches
    it, instead of silently being zero."""

    def wrapper(ctx: Any, *grads: Any) -> Any:
        prev = _state.enabled
        _state.enabled = False
        try:
            out = fn(ctx, *grads)
        finally:
            _state.enabled = prev
        if not prev or not any(isinstance(g, Tensor) and g._rg for g in grads):
            return out
        name = type(ctx).__name__
        if isinstance(out, tuple):
            return tuple(None if o is None else _DelayedError.apply(o, name) for o in out)
        return None if out is None else _DelayedError.apply(out, name)

    wrapper.__name__ = fn.__name__
    return wrapper


class _DelayedError(Function):
    @staticmethod
    def forward(ctx: Any, g: Tensor, name: str) -> Tensor:
        ctx.fn_name = name
        return _fresh(g._c)

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> Any:
        raise RuntimeError(
            f"[backward] {ctx.fn_name} is differentiable only once: its backward calls a "
            "kernel directly, so a second derivative through it is not available"
        )


def check_inplace(t: Tensor, op: str) -> None:
    """Raises for in-place writes the graph cannot represent."""
    if t._node is None:
        if t._rg:
            raise RuntimeError(
                f"[{op}] a leaf tensor that requires grad is used in an in-place operation; "
                "update parameters under `with ember.no_grad():`"
            )
    elif getattr(t._node, "_is_view", False):
        raise RuntimeError(
            f"[{op}] in-place operation on a view ({t._node.name()}) of a tensor that requires "
            "grad: the base's graph would not see it. Write into the base with indexing "
            "(base[idx] = value) or use an out-of-place op"
        )


def rebase_inplace(t: Tensor, op: str, result: Tensor) -> Tensor:
    """Makes the in-place op on `t` look like the out-of-place `result` to the graph: the
    values are copied into t's storage (bumping its version, which makes any node that saved
    the old values refuse to run) and t takes result's place in the graph."""
    check_inplace(t, op)
    node = result._node
    if isinstance(node, FunctionCtx) and node._saved and any(s is t for s in node._saved):
        # the op saved its input, whose values the copy below overwrites: save the old
        # values instead, under t's old place in the graph (create_graph differentiates them)
        old = t._c.clone()  # _C returns a fresh ember Tensor
        old._rg, old._node, old._oidx = t._rg, t._node, t._oidx
        node._saved = tuple(old if s is t else s for s in node._saved)
        node._versions = tuple(old._c.version if s is old else v
                               for s, v in zip(node._saved, node._versions, strict=True))
    t._c.copy_(result._c)
    t._rg, t._node, t._oidx = result._rg, result._node, result._oidx
    if t._views:
        from ._shape import rebase_views

        rebase_views(t)
    return t
