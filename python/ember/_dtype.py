"""Element types. The codes mirror ``ember::DType`` in csrc/core/dtype.h."""

from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """A tensor element type, e.g. ``ember.float32``."""

    __slots__ = ("name", "code", "itemsize", "is_floating_point", "is_signed", "_np")

    def __init__(self, name: str, code: int, itemsize: int, is_floating_point: bool, np_name: str):
        self.name = name
        self.code = code
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = name != "bool"
        self._np = np.dtype(np_name) if np_name else None

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name

    @property
    def numpy_dtype(self) -> np.dtype | None:
        """The NumPy dtype with the same layout (None for bfloat16, which NumPy lacks)."""
        return self._np


bool_ = dtype("bool", 0, 1, False, "bool")
int32 = dtype("int32", 1, 4, False, "int32")
int64 = dtype("int64", 2, 8, False, "int64")
float16 = dtype("float16", 3, 2, True, "float16")
bfloat16 = dtype("bfloat16", 4, 2, True, "")
float32 = dtype("float32", 5, 4, True, "float32")
float64 = dtype("float64", 6, 8, True, "float64")

BY_CODE = (bool_, int32, int64, float16, bfloat16, float32, float64)
ALIASES = {
    "bool": bool_,
    "int": int32,
    "long": int64,
    "half": float16,
    "float": float32,
    "double": float64,
}

_FROM_NUMPY = {
    np.dtype("bool"): bool_,
    np.dtype("int32"): int32,
    np.dtype("int64"): int64,
    np.dtype("float16"): float16,
    np.dtype("float32"): float32,
    np.dtype("float64"): float64,
}
# Integer types ember does not store are widened without loss.
_WIDEN = {
    np.dtype("int8"): int32,
    np.dtype("int16"): int32,
    np.dtype("uint8"): int32,
    np.dtype("uint16"): int32,
    np.dtype("uint32"): int64,
}

_default_dtype = float32


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors made from Python floats (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(d: dtype) -> None:
    """Sets the default floating dtype (float32 or float64)."""
    global _default_dtype
    if d not in (float32, float64):
        raise TypeError(f"[set_default_dtype] only float32 and float64 are allowed, got {d}")
    _default_dtype = d


def from_numpy_dtype(nd: np.dtype, *, widen: builtins.bool = False) -> dtype:
    """The ember dtype of a NumPy dtype; with ``widen`` small integer types become int32/64."""
    nd = np.dtype(nd)
    if nd in _FROM_NUMPY:
        return _FROM_NUMPY[nd]
    if widen and nd in _WIDEN:
        return _WIDEN[nd]
    raise TypeError(
        f"[from_numpy] unsupported NumPy dtype {nd}; ember stores bool, int32, int64, float16, "
        "bfloat16, float32 and float64"
    )


def to_dtype(d: object) -> dtype:
    """Accepts an ember dtype, a NumPy dtype or a name such as 'float32'."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str):
        if d in ALIASES:
            return ALIASES[d]
        for t in BY_CODE:
            if t.name == d:
                return t
        if d == "bfloat16":
            return bfloat16
    if d is builtins.float:
        return _default_dtype
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    try:
        return from_numpy_dtype(np.dtype(d))  # type: ignore[call-overload]
    except TypeError:
        pass
    raise TypeError(f"[dtype] cannot interpret {d!r} as an ember dtype")
