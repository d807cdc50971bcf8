"""Matrix products with PyTorch's names and signatures: matmul (and ``@``), mm, bmm, addmm,
baddbmm, mv, dot, outer/ger, linear, tensordot, einsum.

All run one GEMM kernel call on views of their operands (transposes and slices are never
copied; see csrc/python/bind_linalg.cpp). Operands must share a dtype; float16/bfloat16
accumulate in float32; integers wrap on overflow. einsum lowers each pairwise contraction to
permute/reshape plus one batched matmul."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _C
from ..autograd import _linalg as _ag
from ..autograd.grad_mode import _state
from ..tensor import Tensor

__all__ = [
    "matmul", "mm", "bmm", "addmm", "baddbmm", "mv", "dot", "outer", "ger", "linear",
    "tensordot", "einsum",
]


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """NumPy's matmul: 1-D operands are vectors (a dim added, then removed), N-D ones stacks of
    matrices whose batch dims broadcast."""
    if (input._rg or other._rg) and _state.enabled:
        return _ag.Matmul.apply(input, other, "matmul")
    return _C.matmul(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """(n, k) @ (k, m) for 2-D tensors only."""
    if (input._rg or mat2._rg) and _state.enabled:
        return _ag.Matmul.apply(input, mat2, "mm")
    return _C.mm(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """(b, n, k) @ (b, k, m); no broadcasting."""
    if (input._rg or mat2._rg) and _state.enabled:
        return _ag.Matmul.apply(input, mat2, "bmm")
    return _C.bmm(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """(n, k) @ (k,) -> (n,)."""
    if (input._rg or vec._rg) and _state.enabled:
        return _ag.Matmul.apply(input, vec, "mv")
    return _C.mv(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of equal length, as a 0-d tensor."""
    if (input._rg or other._rg) and _state.enabled:
        return _ag.Matmul.apply(input, other, "dot")
    return _C.dot(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """(n,) x (m,) -> (n, m) with out[i, j] = input[i] * vec2[j]."""
    if (input._rg or vec2._rg) and _state.enabled:
        return _ag.Outer.apply(input, vec2)
    return _C.outer(input, vec2)


ger = outer


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * mat1 @ mat2, input broadcast to the (n, m) result; beta = 0
    ignores input (NaN in it does not propagate)."""
    if (_rg(input) or mat1._rg or mat2._rg) and _state.enabled:
        return _ag.AddMM.apply(input, mat1, mat2, beta, alpha, "addmm")
    return _C.addmm(input, mat1, mat2, beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """beta * input + alpha * batch1 @ batch2 over a batch, input broadcast to the result."""
    if (_rg(input) or batch1._rg or batch2._rg) and _state.enabled:
        return _ag.AddMM.apply(input, batch1, batch2, beta, alpha, "baddbmm")
    return _C.baddbmm(input, batch1, batch2, beta, alpha)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias for input (..., in), weight (out, in), bias (out,); the bias is
    fused into the GEMM and weight.T is a stride swap."""
    if (input._rg or weight._rg or _rg(bias)) and _state.enabled:
        return _ag.Linear.apply(input, weight, bias)
    return _C.linear(input, weight, bias)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sums a's last ``dims`` dims against b's first ``dims`` (an int), or the dims listed in
    ``dims = (dims_a, dims_b)``; the result has a's free dims then b's."""
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"[tensordot] dims={dims} out of range for shapes "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise ValueError(f"[tensordot] dims {da} and {db} differ in length")
    la, lb = _letters(a.ndim), _letters(b.ndim, a.ndim)
    try:
        for x, y in zip(da, db, strict=True):
            lb[y] = la[x]
    except IndexError:
        raise IndexError(f"[tensordot] dims {da} and {db} out of range for shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}") from None
    contracted = set(lb) & set(la)
    out = [c for c in la if c not in contracted] + [c for c in lb if c not in contracted]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def _letters(n: int, start: int = 0) -> list[str]:
    return [chr(ord("a") + start + i) if start + i < 26 else chr(ord("A") + start + i - 26)
            for i in range(n)]


# ---- einsum --------------------------------------------------------------------------------
_ELLIPSIS = 0x100  # labels of '...' dims are chr(_ELLIPSIS + j), j counted from the right


def _bad(eq: str, ops: Sequence[Tensor], why: str) -> ValueError:
    shapes = ", ".join(str(tuple(t.shape)) for t in ops)
    return ValueError(f"[einsum] {why} in equation {eq!r} with operand shapes {shapes}")


def _parse_term(eq: str, ops: Sequence[Tensor], term: str, ndim: int | None) -> list[str]:
    """A term's labels, '...' expanded to `ndim - letters` labels (None: the output, which
    takes every ellipsis dim, given later as the count)."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise _bad(eq, ops, f"malformed subscripts {term!r}")
    head, dots, tail = term.partition("...")
    for c in head + tail:
        if not c.isascii() or not c.isalpha():
            raise _bad(eq, ops, f"invalid subscript {c!r} (use letters a-z, A-Z)")
    if not dots:
        if ndim is not None and len(term) != ndim:
            raise _bad(eq, ops, f"subscripts {term!r} give {len(term)} dims for a {ndim}-d "
                                "operand")
        return list(term)
    n = 0 if ndim is None else ndim - len(head) - len(tail)
    if n < 0:
        raise _bad(eq, ops, f"subscripts {term!r} need more dims than the {ndim}-d operand has")
    return list(head) + [chr(_ELLIPSIS + j) for j in range(n - 1, -1, -1)] + list(tail)


def _diagonals(t: Tensor, labels: list[str]) -> tuple[Tensor, list[str]]:
    """Takes the diagonal over every label repeated within one operand."""
    labels = list(labels)
    for c in dict.fromkeys(labels):
        while labels.count(c) > 1:
            i = labels.index(c)
            j = labels.index(c, i + 1)
            t = t.diagonal(0, i, j)
            labels = [x for k, x in enumerate(labels) if k not in (i, j)] + [c]
    return t, labels


def _sum_out(t: Tensor, labels: list[str], keep: set[str]) -> tuple[Tensor, list[str]]:
    dims = [i for i, c in enumerate(labels) if c not in keep]
    if not dims:
        return t, labels
    return t.sum(dims, dtype=t.dtype), [c for c in labels if c in keep]


def _contract(a: Tensor, la: list[str], b: Tensor, lb: list[str],
              keep: set[str]) -> tuple[Tensor, list[str]]:
    """Two operands (no repeated labels within either) to one, keeping the labels in `keep`:
    batch (both, kept), contracted (both, not kept), left-free and right-free labels."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    shared = [c for c in la if c in lb]
    batch = [c for c in shared if c in keep]
    summed = [c for c in shared if c not in keep]
    # A size-1 contracted dim broadcasts against the other side: sum that side first.
    for c in summed:
        sa, sb = a.shape[la.index(c)], b.shape[lb.index(c)]
        if sa != sb and sa == 1:
            b = b.sum(lb.index(c), keepdim=True, dtype=b.dtype)
        elif sa != sb and sb == 1:
            a = a.sum(la.index(c), keepdim=True, dtype=a.dtype)
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    pa = a.permute([la.index(c) for c in batch + left + summed])
    pb = b.permute([lb.index(c) for c in batch + summed + right])
    nb = len(batch)
    size = _prod
    la_sizes = pa.shape[nb:nb + len(left)]
    rb_sizes = pb.shape[nb + len(summed):]
    ma = pa.reshape(*pa.shape[:nb], size(la_sizes), size(pa.shape[nb + len(left):]))
    mb = pb.reshape(*pb.shape[:nb], size(pb.shape[nb:nb + len(summed)]), size(rb_sizes))
    out = matmul(ma, mb)
    out = out.reshape(*out.shape[:nb], *la_sizes, *rb_sizes)
    return out, batch + left + right


def _prod(s: Sequence[int]) -> int:
    n = 1
    for v in s:
        n *= v
    return n


def _parse(eq: str, ops: Sequence[Tensor]) -> tuple[list[list[str]], list[str]]:
    spec = eq.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        raise _bad(eq, ops, f"{len(terms)} input subscripts for {len(ops)} operands")
    inputs = [_parse_term(eq, ops, t, x.ndim) for t, x in zip(terms, ops, strict=True)]
    ell = sorted({c for ls in inputs for c in ls if ord(c) >= _ELLIPSIS}, reverse=True)
    if arrow:
        if "->" in rhs or "," in rhs:
            raise _bad(eq, ops, "malformed output subscripts")
        head, dots, tail = rhs.partition("...")
        output = _parse_term(eq, ops, head + tail, None)
        if dots:
            output = output[:len(head)] + ell + output[len(head):]
        seen = {c for ls in inputs for c in ls}
        for c in output:
            if c not in seen:
                raise _bad(eq, ops, f"output subscript {c!r} appears in no input")
            if output.count(c) > 1:
                raise _bad(eq, ops, f"output subscript {c!r} repeated")
    else:
        counts: dict[str, int] = {}
        for ls in inputs:
            for c in ls:
                counts[c] = counts.get(c, 0) + 1
        output = ell + sorted(c for c, n in counts.items() if n == 1 and ord(c) < _ELLIPSIS)
    return inputs, output


def _check_sizes(eq: str, ops: Sequence[Tensor], inputs: list[list[str]]) -> None:
    """Sizes of one label agree, or are 1 and broadcast (as torch.einsum) across operands;
    a label repeated within one operand (a diagonal) needs equal sizes."""
    sizes: dict[str, int] = {}
    for t, ls in zip(ops, inputs, strict=True):
        own: dict[str, int] = {}
        for c, s in zip(ls, t.shape, strict=True):
            if own.setdefault(c, s) != s:
                raise _bad(eq, ops, f"repeated subscript {c!r} of sizes {own[c]} and {s}")
            have = sizes.setdefault(c, s)
            if have != s and have != 1 and s != 1:
                what = "'...' dims" if ord(c) >= _ELLIPSIS else f"subscript {c!r}"
                raise _bad(eq, ops, f"{what} of sizes {have} and {s} do not broadcast")
            if have == 1:
                sizes[c] = s


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum('bij,bjk->bik', a, b)``. Implicit output (labels seen once,
    sorted) when there is no '->'; '...' broadcasts; a label repeated in one operand takes its
    diagonal. Operands are contracted left to right, each pair as one batched matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"[einsum] the equation must be a str, got {type(equation).__name__}")
    if not operands:
        raise ValueError(f"[einsum] equation {equation!r} needs at least one operand")
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"[einsum] operands must be Tensors, got {type(t).__name__}")
    ops = list(operands)
    inputs, output = _parse(equation, ops)
    _check_sizes(equation, ops, inputs)
    dtypes = {t.dtype for t in ops}
    if len(dtypes) > 1:
        raise TypeError(f"[einsum] operands must share a dtype, got "
                        f"{', '.join(str(t.dtype) for t in ops)} in {equation!r}")
    t, labels = _diagonals(ops[0], inputs[0])
    for i in range(1, len(ops)):
        later = {c for ls in inputs[i + 1:] for c in ls}
        u, lu = _diagonals(ops[i], inputs[i])
        t, labels = _contract(t, labels, u, lu, set(output) | later)
    t, labels = _sum_out(t, labels, set(output))
    return t.permute([labels.index(c) for c in output]) if output else t


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    from ..creation import as_tensor

    return matmul(as_tensor(other), self)


def _matmul_method(self: Tensor, other: Any) -> Tensor:
    if (self._rg or _rg(other)) and _state.enabled:
        return _ag.Matmul.apply(self, other, "matmul")
    return _C.op_matmul(self, other)


def _rg(x: Any) -> Any:
    return isinstance(x, Tensor) and x._rg


Tensor.__matmul__ = _matmul_method
Tensor.__rmatmul__ = _rmatmul
for _f in (matmul, mm, bmm, mv, dot, outer, addmm, baddbmm):
    setattr(Tensor, _f.__name__, _f)
Tensor.ger = outer
del _f
