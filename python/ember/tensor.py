"""The user-facing Tensor: a thin Python object over ``ember._C.Tensor``.

Operators call straight into ``_C`` (no intermediate Python frames), which keeps the overhead
of ``a + b`` on tiny tensors below a microsecond. Ops with more Python-side logic live in
``ember.ops.*`` and are attached to Tensor as methods there.

Autograd state lives in slots that the C++ wrapper sets to None: ``_rg`` (requires grad),
``_node``/``_oidx`` (the graph node that made this tensor and which of its outputs it is),
``_grad``, ``_acc`` (a weak reference to a leaf's AccumulateGrad node), ``_hooks`` and
``_views`` (weak references to the differentiable views taken of it, which an in-place op on
it moves onto its new place in the graph). An op
records a graph only when grad mode is on and one of its inputs has ``_rg`` set; otherwise it
goes straight to ``_C``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import _C
from ._device import device, to_device
from ._dtype import BY_CODE, bfloat16, bool_, dtype, float16, float32, float64, int32, int64
from ._dtype import to_dtype as _to_dtype

_new = object.__new__


class Size(tuple):
    """A tensor's shape: a tuple of ints (PyTorch's torch.Size)."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"


def _fresh(c: Any, cls: type | None = None) -> Any:
    """A new tensor object (of `cls`, default Tensor) over the _C.Tensor `c`, with no autograd
    state: what the C++ wrapper makes, for Python-side construction."""
    t = _new(cls or Tensor)
    t._c = c
    t._rg = t._node = t._oidx = t._grad = t._acc = t._hooks = t._views = None
    return t


def _wrap(c: Any) -> Tensor:
    """An ember Tensor for a _C result. _C already returns ember Tensors once this module has
    registered the class (see the end of this file); raw _C.Tensor objects are wrapped here."""
    if isinstance(c, Tensor):
        return c
    return _fresh(c)


def _sizes(args: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """Sizes given as varargs ``f(2, 3)`` or as one sequence ``f((2, 3))``."""
    if len(args) == 1 and not isinstance(args[0], int):
        s = args[0]
        if isinstance(s, Tensor):
            s = s.tolist()
        if not isinstance(s, Sequence):
            raise TypeError(f"[{op}] expected sizes as ints or a sequence of ints, got {s!r}")
        return tuple(s)
    return args


def _c(x: Any) -> Any:
    """The _C.Tensor inside an ember Tensor; anything else unchanged."""
    return x._c if isinstance(x, Tensor) else x


class Tensor:
    """An n-dimensional array on a device, with NumPy broadcasting and PyTorch semantics."""

    __slots__ = ("_c", "_rg", "_node", "_oidx", "_grad", "_acc", "_hooks", "_views",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("[Tensor] use ember.tensor(data), ember.empty(...) or ember.zeros(...)")

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._c.shape)

    @property
    def dtype(self) -> dtype:
        return BY_CODE[self._c.dtype_code]

    @property
    def device(self) -> device:
        return device(self._c.device)

    @property
    def ndim(self) -> int:
        return self._c.ndim

    @property
    def is_cuda(self) -> bool:
        return self._c.is_cuda

    @property
    def is_cpu(self) -> bool:
        return not self._c.is_cuda

    @property
    def T(self) -> Tensor:
        """All dims reversed (the transpose for 2-D)."""
        n = self._c.ndim
        return self.permute(tuple(range(n - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (batched matrix transpose)."""
        if self._c.ndim < 2:
            raise ValueError(f"[mT] needs at least 2 dims, got shape {tuple(self.shape)}")
        return self.transpose(-2, -1)

    def dim(self) -> int:
        return self._c.ndim

    def numel(self) -> int:
        return self._c.numel

    def nelement(self) -> int:
        return self._c.numel

    def element_size(self) -> int:
        return self._c.itemsize

    def size(self, dim: int | None = None) -> Any:
        shape = self._c.shape
        if dim is None:
            return Size(shape)
        return shape[_wrap_dim("size", dim, len(shape), shape)]

    def stride(self, dim: int | None = None) -> Any:
        strides = self._c.strides
        if dim is None:
            return strides
        return strides[_wrap_dim("stride", dim, len(strides), self._c.shape)]

    def storage_offset(self) -> int:
        return self._c.offset

    def data_ptr(self) -> int:
        return self._c.data_ptr

    def is_contiguous(self) -> bool:
        return self._c.is_contiguous()

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def get_device(self) -> int:
        return self.device.index if self._c.is_cuda else -1

    # ---- autograd -------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return bool(self._rg)

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._node is not None:
            if not requires_grad:
                raise RuntimeError(
                    "[requires_grad_] only leaf tensors can stop requiring grad; use "
                    "t.detach() for a tensor outside the graph"
                )
            return self
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"[requires_grad_] only floating-point tensors can require gradients, got "
                f"{self.dtype}"
            )
        self._rg = True if requires_grad else None
        return self

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"[grad] expected a Tensor or None, got {type(value).__name__}")
            if value._c.shape != self._c.shape or value._c.dtype_code != self._c.dtype_code:
                raise RuntimeError(
                    f"[grad] assigned grad of shape {tuple(value.shape)} and dtype "
                    f"{value.dtype} to a tensor of shape {tuple(self.shape)} and dtype "
                    f"{self.dtype}"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def grad_fn(self) -> Any:
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def retains_grad(self) -> bool:
        return bool(self._hooks) and _RETAIN in self._hooks and self._node is not None

    @property
    def data(self) -> Tensor:
        return _fresh(self._c)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._c = value._c

    @property
    def _version(self) -> int:
        return self._c.version

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulates the gradient of this tensor into the ``.grad`` of the leaves."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> Tensor:
        """The same data, outside the graph (shares storage)."""
        return _fresh(self._c)

    def detach_(self) -> Tensor:
        self._node = self._oidx = None
        self._rg = None
        return self

    def register_hook(self, hook: Any) -> Any:
        """``hook(grad)`` runs when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self._rg:
            raise RuntimeError("[register_hook] the tensor does not require grad")
        from .autograd.function import _HookHandle

        if self._node is not None:
            return self._node.register_prehook(self._oidx, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise RuntimeError("[retain_grad] the tensor does not require grad")
        if self._node is None or (self._hooks and _RETAIN in self._hooks):
            return
        import weakref

        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                d = g.detach() if not g._rg else g
                t._grad = d if t._grad is None else t._grad + d

        self._node.register_prehook(self._oidx, keep)
        self._hooks = [*(self._hooks or ()), _RETAIN]

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """A leaf copy with its own storage (requires_grad and .grad copied), as PyTorch."""
        if id(self) in memo:
            return memo[id(self)]
        if self._node is not None:
            raise RuntimeError(
                "[deepcopy] only leaf tensors can be deep-copied (as in PyTorch); detach() "
                "first or copy the leaves the graph was built from"
            )
        import copy

        new = _fresh(self._c.clone()._c, type(self))
        new._rg = self._rg
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = copy.deepcopy(self._grad, memo)
        return new

    # ---- conversion ---------------------------------------------------------------------------
    def item(self) -> Any:
        return self._c.item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A NumPy array sharing memory with this CPU tensor (``force`` copies from a GPU)."""
        if self._c.is_cuda:
            if not force:
                raise TypeError("[numpy] can't convert a cuda tensor to NumPy; call .cpu() first")
            return self.cpu().numpy()
        if self._c.dtype_code == bfloat16.code:
            # NumPy swallows the buffer protocol's error and would make a 0-d object array.
            raise TypeError("[numpy] NumPy has no bfloat16 dtype; convert with .float() first")
        return np.asarray(self._c)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        src = self if self._c.dtype_code != bfloat16.code else self.float()
        a = np.asarray(src.cpu()._c)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy else a

    def tolist(self) -> Any:
        src = self if self._c.dtype_code != bfloat16.code else self.float()
        return np.asarray(src.cpu()._c).tolist()

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: bool | None = None) -> Any:
        return self._c.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device,
                                  copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._c.__dlpack_device__()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)``; ``copy=True``
        always returns a new tensor."""
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        dev = kwargs.pop("device", None)
        dt = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"[to] unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif isinstance(a, (str, device)) and not (isinstance(a, str) and _is_dtype_name(a)):
                dev = a
            else:
                dt = a
        # _C returns a new wrapper even when nothing converts, so compare before calling it:
        # `out is self` must mean "no copy was made" for copy=True (and tensor(t)) to copy.
        code = _to_dtype(dt).code if dt is not None else None
        if code == self._c.dtype_code:
            code = None
        dev_s = str(to_device(dev)) if dev is not None else None
        if dev_s == self._c.device:
            dev_s = None
        if code is None and dev_s is None:
            return self.clone() if copy else self
        if self._rg and _state.enabled:
            return _AG.Cast.apply(self, code, dev_s)
        out = self
        if code is not None:
            out = out._c.to_dtype(code)
        if dev_s is not None:
            out = out._c.to_device(dev_s)
        return out

    def astype(self, dt: Any) -> Tensor:
        return self.to(dt)

    def type(self, dt: Any = None) -> Any:
        if dt is None:
            return f"ember.{self.dtype.name}"
        return self.to(dt)

    def cpu(self) -> Tensor:
        return self if not self._c.is_cuda else self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Tensor:
        d = to_device("cuda" if device is None else device)
        return self.to(d)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def bfloat16(self) -> Tensor:
        return self.to(bfloat16)

    def int(self) -> Tensor:
        return self.to(int32)

    def long(self) -> Tensor:
        return self.to(int64)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def __bool__(self) -> bool:
        if self._c.numel != 1:
            raise ValueError(
                f"[bool] the truth value of a tensor with {self._c.numel} elements is ambiguous;"
                " use .any() or .all()"
            )
        return bool(self._c.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype not in (int32, int64) or self._c.numel != 1:
            raise TypeError("[__index__] only one-element integer tensors can be used as an index")
        return int(self._c.item())

    def __len__(self) -> int:
        if self._c.ndim == 0:
            raise TypeError("[len] len() of a 0-d tensor")
        return self._c.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._c.ndim == 0:
            raise TypeError("[iter] iteration over a 0-d tensor")
        return (self.select(0, i) for i in range(self._c.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return _format(self)

    # ---- views ----------------------------------------------------------------------------------
    def view(self, *shape: Any) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Reshape.apply(self, "view", _sizes(shape, "view"))
        return self._c.view(_sizes(shape, "view"))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other._c.shape)

    def reshape(self, *shape: Any) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Reshape.apply(self, "reshape", _sizes(shape, "reshape"))
        return self._c.reshape(_sizes(shape, "reshape"))

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other._c.shape)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        if self._rg and _state.enabled:
            n = self._c.ndim
            d0 = _wrap_dim("transpose", dim0, n, self._c.shape)
            d1 = _wrap_dim("transpose", dim1, n, self._c.shape)
            dims = list(range(n))
            if n:
                dims[d0], dims[d1] = dims[d1], dims[d0]
            return _AG.Permute.apply(self, dims)
        return self._c.transpose(dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        if self._c.ndim > 2:
            raise ValueError(f"[t] expects a tensor with <= 2 dims, got shape {tuple(self.shape)}")
        return self.T

    def permute(self, *dims: Any) -> Tensor:
        if self._rg and _state.enabled:
            dims = _sizes(dims, "permute")
            self._c.permute(dims)  # validates the order, with _C's message
            return _AG.Permute.apply(self, dims)
        return self._c.permute(_sizes(dims, "permute"))

    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        src = [source] if isinstance(source, int) else list(source)
        dst = [destination] if isinstance(destination, int) else list(destination)
        n = self._c.ndim
        if len(src) != len(dst):
            raise ValueError(f"[movedim] source {src} and destination {dst} differ in length")
        src = [_wrap_dim("movedim", d, n, self._c.shape) for d in src]
        dst = [_wrap_dim("movedim", d, n, self._c.shape) for d in dst]
        order = [-1] * n
        for s, d in zip(src, dst, strict=True):
            order[d] = s
        rest = iter(d for d in range(n) if d not in src)
        return self.permute([o if o >= 0 else next(rest) for o in order])

    def expand(self, *sizes: Any) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Expand.apply(self, "expand", _sizes(sizes, "expand"))
        return self._c.expand(_sizes(sizes, "expand"))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other._c.shape)

    def broadcast_to(self, *shape: Any) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Expand.apply(self, "broadcast_to", _sizes(shape, "broadcast_to"))
        return self._c.broadcast_to(_sizes(shape, "broadcast_to"))

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Reshape.apply(self, "reshape", _fresh(self._c).squeeze(dim)._c.shape)
        if dim is None:
            return self._c.squeeze_all()
        if isinstance(dim, int):
            return self._c.squeeze(dim)
        n = self._c.ndim
        dims = sorted({_wrap_dim("squeeze", d, n, self._c.shape) for d in dim}, reverse=True)
        c = self._c
        for d in dims:
            c = c.squeeze(d)
        return _wrap(c)

    def unsqueeze(self, dim: int) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Reshape.apply(self, "unsqueeze", dim)
        return self._c.unsqueeze(dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        shape = self._c.shape
        n = len(shape)
        if n == 0:
            return self.reshape((1,))
        s = _wrap_dim("flatten", start_dim, n, shape)
        e = _wrap_dim("flatten", end_dim, n, shape)
        if s > e:
            raise ValueError(f"[flatten] start_dim {start_dim} comes after end_dim {end_dim}")
        size = 1
        for d in shape[s : e + 1]:
            size *= d
        return self.reshape(shape[:s] + (size,) + shape[e + 1 :])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        shape = self._c.shape
        d = _wrap_dim("unflatten", dim, len(shape), shape)
        sizes = tuple(sizes)
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != shape[d]) or (
            sizes.count(-1) == 1 and (known == 0 or shape[d] % known)
        ):
            raise ValueError(
                f"[unflatten] sizes {sizes} don't multiply to the size {shape[d]} of dim {dim}"
                f" (shape {shape})"
            )
        return self.view(shape[:d] + sizes + shape[d + 1 :])

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        start, length = int(start), int(length)
        if self._rg and _state.enabled:
            return _view_fn(self, lambda c: c.narrow(dim, start, length))
        return self._c.narrow(dim, start, length)

    def select(self, dim: int, index: int) -> Tensor:
        index = int(index)
        if self._rg and _state.enabled:
            return _view_fn(self, lambda c: c.select(dim, index))
        return self._c.select(dim, index)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        if self._rg and _state.enabled:
            return _view_fn(self, lambda c: c.diagonal(offset, dim1, dim2))
        return self._c.diagonal(offset, dim1, dim2)

    def as_strided(self, size: Sequence[int], stride: Sequence[int],
                   storage_offset: int | None = None) -> Tensor:
        off = self._c.offset if storage_offset is None else storage_offset
        size, stride = tuple(size), tuple(stride)
        if self._rg and _state.enabled:
            if not self._c.is_contiguous() or self._c.offset:
                raise NotImplementedError(
                    "[as_strided] gradients through as_strided need a contiguous input with "
                    "storage offset 0"
                )
            return _view_fn(self, lambda c: c.as_strided(size, stride, off))
        return self._c.as_strided(size, stride, off)

    def split(
        self, split_size_or_sections: int | Sequence[int], dim: int = 0
    ) -> tuple[Tensor, ...]:
        shape = self._c.shape
        d = _wrap_dim("split", dim, len(shape), shape)
        n = shape[d]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step <= 0:
                raise ValueError(f"[split] split_size must be positive, got {step}")
            sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(
                    f"[split] sections {sizes} don't add up to the size {n} of dim {dim}"
                )
        out, start = [], 0
        for s in sizes:
            out.append(self.narrow(d, start, s))
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        if chunks <= 0:
            raise ValueError(f"[chunk] chunks must be positive, got {chunks}")
        shape = self._c.shape
        n = shape[_wrap_dim("chunk", dim, len(shape), shape)]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        shape = self._c.shape
        d = _wrap_dim("unbind", dim, len(shape), shape)
        return tuple(self.select(d, i) for i in range(shape[d]))

    def contiguous(self) -> Tensor:
        return self if self._c.is_contiguous() else self.clone()

    def clone(self, *, memory_format: Any = None) -> Tensor:
        if self._rg and _state.enabled:
            return _AG.Clone.apply(self)
        return self._c.clone()

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        if _state.enabled and (self._rg or (isinstance(src, Tensor) and src._rg)):
            self[...] = src
            return self
        self._c.copy_(_as_c_tensor(src, self))
        return self

    def fill_(self, value: Any) -> Tensor:
        if _state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg)):
            self[...] = value
            return self
        self._c.copy_(_as_c_tensor(value, self))
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    # arithmetic operators (__add__ ...) are attached by ops/elementwise.py, which knows when
    # to record the graph
    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        from .ops import indexing

        return indexing.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        from .ops import indexing

        indexing.setitem(self, index, value)


def with_requires_grad(fn: Any) -> Any:
    """Adds PyTorch's ``requires_grad=`` keyword to a factory function."""
    import functools

    @functools.wraps(fn)
    def factory(*args: Any, requires_grad: bool = False, **kwargs: Any) -> Tensor:
        out = fn(*args, **kwargs)
        return out.requires_grad_() if requires_grad else out

    return factory


def _view_fn(t: Tensor, fn: Any) -> Tensor:
    return _AG.Slice.apply(t, fn)


_RETAIN = object()  # marks a non-leaf tensor whose grad is kept (retain_grad)


def _is_dtype_name(s: str) -> bool:
    try:
        _to_dtype(s)
        return True
    except TypeError:
        return False


def _wrap_dim(op: str, dim: int, ndim: int, shape: Any) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"[{op}] dim {dim} out of range for a tensor of shape {tuple(shape)}")
    return dim % n


def _as_c_tensor(value: Any, like: Tensor) -> _C.Tensor:
    """`value` as a _C.Tensor for copying into `like` (scalars take like's dtype)."""
    if isinstance(value, Tensor):
        return value._c
    from .creation import tensor

    if isinstance(value, (bool, int, float)):
        return tensor(value, dtype=like.dtype)._c
    return tensor(value)._c


def _format(t: Tensor) -> str:
    src = t if t._c.dtype_code != bfloat16.code else t.float()
    a = np.asarray(src.cpu()._c)
    dt = t.dtype
    if dt.is_floating_point:
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec_equal", threshold=1000, edgeitems=3)
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    extras = []
    if t.is_cuda:
        extras.append(f"device='{t.device}'")
    if dt not in (float32, int64, bool_) or a.size == 0:
        extras.append(f"dtype={dt!r}")
    if a.size == 0 and a.ndim != 1:
        extras.append(f"size={tuple(a.shape)}")
        body = "[]"
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return "tensor(" + body + ("" if not extras else ", " + ", ".join(extras)) + ")"


_C._set_tensor_class(Tensor)

# Differentiable views and copies; imported last because they need the Tensor class.
from .autograd import _shape as _AG  # noqa: E402
from .autograd.grad_mode import _state  # noqa: E402
