"""Transforms with torchvision's names: Compose, ToTensor, Normalize, Lambda, plus Standardize
(mean/std fitted on training data, saved with a state_dict).

Each works on one sample (C x H x W) and on a batch (N x C x H x W): per-channel statistics
broadcast over the last dims, so the channel axis is -3 for images (or the only axis of a 1-D
feature vector). Pass them to a dataset's ``transform=`` / ``target_transform=``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._dtype import float32, float64
from ..creation import tensor
from ..ops.elementwise import clamp, sqrt
from ..ops.reduce import mean as _mean
from ..ops.reduce import var as _var
from ..tensor import Tensor
from .collate import default_collate

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "Standardize", "to_tensor"]


class Compose:
    """Applies transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


def to_tensor(pic: Any) -> Tensor:
    """HWC (or HW) array -> CHW float32; uint8 is scaled to [0, 1], floats are kept as is
    (as torchvision). A 4-D array is taken as a batch NHWC -> NCHW. Objects with
    ``__array__`` (a PIL image) are accepted."""
    if isinstance(pic, Tensor):
        raise TypeError("[ToTensor] expects a NumPy array or PIL-like image, got a Tensor "
                        "(it is already one; use Normalize/Lambda on it)")
    a = np.asarray(pic)
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3:
        a = a.transpose(2, 0, 1)
    elif a.ndim == 4:
        a = a.transpose(0, 3, 1, 2)
    else:
        raise ValueError(f"[ToTensor] expects an HxW or HxWxC array, got shape {a.shape}")
    if a.dtype == np.uint8:
        return tensor(a.astype(np.float32) / np.float32(255))
    if a.dtype == np.bool_ or a.dtype.kind in "iu":
        return tensor(a.astype(np.float32))
    if a.dtype.kind != "f":
        raise TypeError(f"[ToTensor] can't convert an array of dtype {a.dtype}")
    return tensor(np.ascontiguousarray(a))


class ToTensor:
    """HWC uint8 array -> CHW float32 in [0, 1] (HxW -> 1xHxW); see `to_tensor`."""

    def __call__(self, pic: Any) -> Tensor:
        return to_tensor(pic)

    def __repr__(self) -> str:
        return "ToTensor()"


def _channel_shape(x: Tensor, c: int, op: str) -> tuple[int, ...]:
    """(C, 1, 1) for images (channel dim -3), (C,) for 1-D samples; checks C."""
    if x.ndim >= 3:
        if x.shape[-3] != c and c != 1:
            raise ValueError(f"[{op}] {c} channel statistics for input of shape "
                             f"{tuple(x.shape)} (channels at dim -3)")
        return (c, 1, 1)
    if x.ndim >= 1 and x.shape[-1] != c and c != 1:
        raise ValueError(f"[{op}] {c} statistics for input of shape {tuple(x.shape)}")
    return (c,)


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel (torchvision's Normalize)."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float,
                 inplace: bool = False) -> None:
        self.mean = [float(m) for m in np.atleast_1d(np.asarray(mean, dtype=np.float64))]
        self.std = [float(s) for s in np.atleast_1d(np.asarray(std, dtype=np.float64))]
        if any(s == 0 for s in self.std):
            raise ValueError(f"[Normalize] std evaluated to zero after conversion to float: "
                             f"{self.std}, leading to division by zero")
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(f"[Normalize] {len(self.mean)} means but {len(self.std)} stds")
        self.inplace = inplace

    def __call__(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or not x.dtype.is_floating_point:
            raise TypeError("[Normalize] expects a floating-point tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        c = max(len(self.mean), len(self.std))
        shape = _channel_shape(x, c, "Normalize")
        m = tensor(np.broadcast_to(self.mean, (c,)), dtype=x.dtype).reshape(shape)
        s = tensor(np.broadcast_to(self.std, (c,)), dtype=x.dtype).reshape(shape)
        if self.inplace:
            x -= m
            x /= s
            return x
        return (x - m) / s

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Wraps a function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"[Lambda] argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x: Any) -> Any:
        return self.lambd(x)

    def __repr__(self) -> str:
        return "Lambda()"


class Standardize:
    """``(x - mean) / std`` with mean/std *fitted* on training data, e.g. per channel:
    ``Standardize().fit(train_images, dim=(0, 2, 3))`` (the dims reduced over; the remaining
    ones, here C, keep their statistics, broadcast against a sample C x H x W or a batch).
    ``dim=None`` reduces over everything but the last dim (features of tabular data).
    std is the population std (ddof=0), clamped below by `eps` so constant features stay
    finite. ``state_dict()`` / ``load_state_dict()`` save it with a model."""

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps
        self.mean: Tensor | None = None
        self.std: Tensor | None = None

    def fit(self, data: Any, dim: int | Sequence[int] | None = None) -> Standardize:
        x = _as_float_tensor(data)
        if dim is None:
            dim = tuple(range(x.ndim - 1)) if x.ndim > 1 else (0,)
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(sorted(d % x.ndim for d in dims))
        # float64 accumulation: 47M MNIST pixels in float32 would lose digits of the mean.
        x64 = x.to(float64)
        mean = _mean(x64, dim=dims, keepdim=True)
        std = sqrt(_var(x64, dim=dims, keepdim=True, correction=0))
        # Drop the leading reduced dims (the batch) so the statistics fit one sample too.
        lead = 0
        while lead < len(dims) and dims[lead] == lead:
            lead += 1
        shape = tuple(mean.shape)[lead:]
        self.mean = mean.reshape(shape).to(float32)
        self.std = clamp(std, min=self.eps).reshape(shape).to(float32)
        return self

    def __call__(self, x: Tensor) -> Tensor:
        if self.mean is None or self.std is None:
            raise RuntimeError("[Standardize] call fit() or load_state_dict() first")
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def inverse(self, y: Tensor) -> Tensor:
        """Maps standardized values back: ``y * std + mean``."""
        if self.mean is None or self.std is None:
            raise RuntimeError("[Standardize] call fit() or load_state_dict() first")
        return y * self.std.to(y.dtype) + self.mean.to(y.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "eps": self.eps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = {"mean", "std"} - set(state)
        if missing:
            raise KeyError(f"[Standardize] state_dict is missing {sorted(missing)}")
        self.mean = _as_float_tensor(state["mean"])
        self.std = _as_float_tensor(state["std"])
        self.eps = float(state.get("eps", self.eps))

    def __repr__(self) -> str:
        shape = None if self.mean is None else tuple(self.mean.shape)
        return f"Standardize(fitted={shape is not None}, shape={shape})"


def _as_float_tensor(data: Any) -> Tensor:
    """A tensor, an array, or a dataset whose samples (or their first field) are stacked."""
    if isinstance(data, Tensor):
        return data if data.dtype.is_floating_point else data.to(float32)
    if isinstance(data, np.ndarray):
        return tensor(data.astype(np.float32) if data.dtype.kind != "f" else data)
    if hasattr(data, "as_tensors"):  # MNIST: the whole split without per-sample getitem
        return data.as_tensors()[0]
    if hasattr(data, "tensors"):  # TensorDataset: its first tensor
        return _as_float_tensor(data.tensors[0])
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        samples = [data[i] for i in range(len(data))]
        if isinstance(samples[0], (tuple, list)):
            samples = [s[0] for s in samples]
        return _as_float_tensor(default_collate(samples))
    raise TypeError(f"[Standardize] can't fit on {type(data).__name__}")
