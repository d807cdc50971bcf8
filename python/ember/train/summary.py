"""``summary(model, input_shape)``: a Keras-like layer table from one forward pass of a dummy
batch, and the layer locator that turns a shape mismatch deep inside a model into an error
naming the layer path, its type, the shape it got, what it expected and the likely fix."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..tensor import Tensor

__all__ = ["summary", "LayerShapeError", "locate_failure"]

# What a kernel raises for a bad shape; other errors (KeyError, TypeError ...) pass untouched.
SHAPE_ERRORS = (ValueError, RuntimeError, IndexError)


class LayerShapeError(ValueError):
    """A layer rejected its input's shape; ``path``, ``layer`` and ``input_shapes`` say
    where. The original exception is chained as ``__cause__``."""

    def __init__(self, message: str, path: str, layer: Any, input_shapes: list[Any]) -> None:
        super().__init__(message)
        self.path, self.layer, self.input_shapes = path, layer, input_shapes


def _shape(x: Any) -> Any:
    if isinstance(x, Tensor):
        return tuple(x.shape)
    if isinstance(x, (tuple, list)):
        return [_shape(v) for v in x]
    return None


def _tensor_shapes(args: Sequence[Any]) -> list[Any]:
    return [_shape(a) for a in args if _shape(a) is not None]


def _hook_all(model: Any, pre: Callable[..., Any], post: Callable[..., Any]) -> list[Any]:
    handles = []
    for path, mod in model.named_modules():
        handles.append(mod.register_forward_pre_hook(
            lambda m, args, p=path: pre(p, m, args)))
        handles.append(mod.register_forward_hook(
            lambda m, args, out, p=path: post(p, m, args, out), always_call=True))
    return handles


def _explain(path: str, layer: Any, shapes: list[Any], cause: BaseException) -> str:
    kind = type(layer).__name__
    got = shapes[0] if len(shapes) == 1 else shapes
    where = f"layer '{path}' ({kind})" if path else f"the model ({kind})"
    lines = [f"[shape] {where} received input of shape {got}: {cause}"]
    first = shapes[0] if shapes and isinstance(shapes[0], tuple) else None
    if hasattr(layer, "in_features") and first:
        lines.append(f"  expected: (*, {layer.in_features}) (in_features={layer.in_features})")
        lines.append(f"  likely fix: in_features={first[-1]} would fit this input, e.g. "
                     f"{kind}({first[-1]}, {getattr(layer, 'out_features', '...')}), or "
                     "reshape/flatten the input before this layer")
    elif hasattr(layer, "in_channels") and first and len(first) >= 2:
        lines.append(f"  expected: {layer.in_channels} input channels (N, "
                     f"{layer.in_channels}, ...) (in_channels={layer.in_channels})")
        lines.append(f"  likely fix: in_channels={first[1]} would fit this input (channels "
                     "come first after the batch: N, C, H, W)")
    elif hasattr(layer, "num_features") and first and len(first) >= 2:
        lines.append(f"  expected: {layer.num_features} features/channels at dim 1")
        lines.append(f"  likely fix: num_features={first[1]} would fit this input")
    return "\n".join(lines)


def locate_failure(model: Any, run: Callable[[], Any], cause: BaseException) -> Any:
    """Re-runs ``run()`` (a forward pass that raised ``cause``) with hooks on every module and
    returns a LayerShapeError for the innermost module that raised, or None when the error
    does not reproduce or happens outside any module's forward."""
    stack: list[tuple[str, Any, list[Any]]] = []
    outer = sys.exc_info()[1]  # the caller may be handling ``cause`` right now
    failed: list[tuple[str, Any, list[Any]]] = []

    def pre(path: str, mod: Any, args: Any) -> None:
        stack.append((path, mod, _tensor_shapes(args)))

    def post(path: str, mod: Any, args: Any, out: Any) -> None:
        entry = stack.pop() if stack else None
        # An always_call hook sees the exception in flight; the first one to see it is the
        # innermost module, the one that rejected its input.
        if entry is not None and sys.exc_info()[1] not in (None, outer) and not failed:
            failed.append(entry)

    handles = _hook_all(model, pre, post)
    try:
        run()
    except Exception:  # noqa: BLE001 - the original error is re-raised by the caller
        pass
    else:
        return None
    finally:
        for h in handles:
            h.remove()
    if not failed:
        return None
    path, mod, shapes = failed[0]
    return LayerShapeError(_explain(path, mod, shapes, cause), path, mod, shapes)


def _count(model: Any, trainable: bool) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad == trainable)


def _fmt_table(rows: list[tuple[str, str, str, int]], total: int, trainable: int,
               non_trainable: int, title: str) -> str:
    head = ("Layer (path)", "Type", "Output shape", "Param #")
    widths = [max(len(head[i]), *(len(str(r[i])) for r in rows)) if rows else len(head[i])
              for i in range(4)]
    rule = "=" * (sum(widths) + 6)

    def line(cells: Sequence[Any]) -> str:
        return (f"{cells[0]!s:<{widths[0]}}  {cells[1]!s:<{widths[1]}}  "
                f"{cells[2]!s:<{widths[2]}}  {cells[3]!s:>{widths[3]}}")

    out = [f'Model: "{title}"', rule, line(head), rule]
    out += [line((r[0], r[1], r[2], f"{r[3]:,}")) for r in rows]
    out += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {non_trainable:,}", rule]
    return "\n".join(out)


def summary(model: Any, input_shape: Sequence[int], dtype: Any = None, device: Any = None,
            batch_size: int = 2, print_fn: Callable[[str], Any] | None = print) -> str:
    """Runs ``model`` in eval mode under no_grad on zeros of ``(batch_size, *input_shape)``
    and returns (and prints, unless ``print_fn`` is None) the table of every submodule: path,
    type, output shape, its own parameter count; then the totals. A layer rejecting its input
    raises LayerShapeError naming it."""
    from .. import no_grad, zeros

    x = zeros((batch_size, *input_shape), dtype=dtype, device=device)
    rows: list[tuple[str, str, str, int]] = []
    order: dict[int, int] = {}

    def pre(path: str, mod: Any, args: Any) -> None:
        if path:  # the root's row would repeat the totals
            order[id(mod)] = len(rows)
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            rows.append((path, type(mod).__name__, "?", own))

    def post(path: str, mod: Any, args: Any, out: Any) -> None:
        i = order.pop(id(mod), None)
        if i is not None and out is not None:
            shape = _shape(out)
            rows[i] = (rows[i][0], rows[i][1], str(shape), rows[i][3])

    was_training = model.training
    model.eval()
    handles = _hook_all(model, pre, post)
    try:
        with no_grad():
            try:
                model(x)
            except SHAPE_ERRORS as e:
                for h in handles:
                    h.remove()
                handles = []
                err = locate_failure(model, lambda: model(x), e)
                if err is None:
                    raise
                raise err from e
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    trainable, frozen = _count(model, True), _count(model, False)
    table = _fmt_table(rows, trainable + frozen, trainable, frozen, type(model).__name__)
    if print_fn is not None:
        print_fn(table)
    return table
