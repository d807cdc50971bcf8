"""Batch-level data augmentation on image tensors: random crop with padding, horizontal flip,
rotation and affine warps (translate / scale / shear), random erasing, colour jitter.

Every transform takes a batch ``(N, C, H, W)`` (or one image ``(C, H, W)``) and draws one set
of random parameters per image from a seeded ember ``Generator`` (``generator=``, default the
global one), so ``ember.manual_seed`` makes a run reproducible. Each splits into
``get_params(n, height, width)`` (the random draw) and ``apply(x, params)`` (deterministic),
so a transform can be replayed or tested. The warps sample bilinearly (or nearest) with zeros
(or ``fill``) outside the image; the index arithmetic runs on NumPy in float32, which is data
preparation, not a training kernel, and the result is an ember tensor again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..creation import from_numpy
from ..nn.modules.module import Module
from ..ops.random import Generator, rand
from ..tensor import Tensor

__all__ = [
    "Augment", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation",
    "RandomAffine", "RandomErasing", "ColorJitter", "affine_grid_sample",
]


def _batch(x: Tensor, op: str) -> tuple[np.ndarray, bool]:
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expects an ember Tensor (N, C, H, W) or (C, H, W), got "
                        f"{type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"[{op}] expects an image batch (N, C, H, W) or an image (C, H, W), "
                         f"got shape {tuple(x.shape)}")
    a = np.asarray(x.detach().float() if not x.dtype.is_floating_point else x.detach())
    return (a[None] if x.ndim == 3 else a), x.ndim == 3


def _out(a: np.ndarray, single: bool, like: Tensor) -> Tensor:
    t = from_numpy(np.ascontiguousarray(a[0] if single else a))
    return t if t.dtype == like.dtype else t.to(like.dtype)


def _uniform(n: int, lo: float, hi: float, generator: Generator | None) -> np.ndarray:
    u = np.asarray(rand(n, generator=generator, dtype="float64")) if n else np.zeros(0)
    return lo + (hi - lo) * u


def _pair(v: Any, op: str, name: str) -> tuple[float, float]:
    if isinstance(v, (int, float)):
        if v < 0:
            raise ValueError(f"[{op}] {name} must be non-negative, got {v}")
        return -float(v), float(v)
    lo, hi = (float(u) for u in v)
    if lo > hi:
        raise ValueError(f"[{op}] {name} range ({lo}, {hi}) is reversed")
    return lo, hi


class _Transform:
    def __init__(self, generator: Generator | None) -> None:
        self.generator = generator

    def __call__(self, x: Tensor) -> Tensor:
        a, single = _batch(x, type(self).__name__)
        params = self.get_params(a.shape[0], a.shape[2], a.shape[3])
        return _out(self.apply_np(a, params), single, x)

    def apply(self, x: Tensor, params: Any) -> Tensor:
        """The transform with given parameters (as get_params returns them)."""
        a, single = _batch(x, type(self).__name__)
        return _out(self.apply_np(a, params), single, x)

    def get_params(self, n: int, height: int, width: int) -> Any:
        raise NotImplementedError

    def apply_np(self, a: np.ndarray, params: Any) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


class Augment(Module):
    """The transforms as a layer, like Keras's preprocessing layers: applied in order to the
    batch in training mode, the identity in eval mode (validation, test, ``predict``).

    Put it first in a model (``nn.Sequential(Augment(RandomAffine(...)), ...)``) and the
    augmentation runs on the training thread with the model's random draws. With
    ``generator=None`` in the transforms they draw from the global generator, whose state a
    training checkpoint saves, so a resumed fit augments exactly as an uninterrupted one.
    The input is data: no gradient flows through the transforms."""

    def __init__(self, *transforms: Any) -> None:
        super().__init__()
        for t in transforms:
            if not callable(t):
                raise TypeError(f"[Augment] expects callable transforms, got {t!r}")
        self.transforms = list(transforms)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        for t in self.transforms:
            x = t(x)
        return x

    def extra_repr(self) -> str:
        return ", ".join(repr(t) for t in self.transforms)


class RandomCrop(_Transform):
    """A random ``size`` crop of each image after padding every side by ``padding`` with
    ``fill`` (padding_mode 'constant', 'reflect' or 'edge'); torchvision's RandomCrop."""

    def __init__(self, size: int | Sequence[int], padding: int = 0, fill: float = 0.0,
                 padding_mode: str = "constant", *, generator: Generator | None = None) -> None:
        super().__init__(generator)
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding, self.fill, self.padding_mode = int(padding), float(fill), padding_mode
        if padding_mode not in ("constant", "reflect", "edge"):
            raise ValueError(f"[RandomCrop] padding_mode must be 'constant', 'reflect' or "
                             f"'edge', got {padding_mode!r}")

    def get_params(self, n: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        h, w = self.size
        ph, pw = height + 2 * self.padding, width + 2 * self.padding
        if h > ph or w > pw:
            raise ValueError(f"[RandomCrop] crop {self.size} larger than the padded image "
                             f"({ph}, {pw})")
        top = np.floor(_uniform(n, 0, ph - h + 1, self.generator)).astype(np.int64)
        left = np.floor(_uniform(n, 0, pw - w + 1, self.generator)).astype(np.int64)
        return np.minimum(top, ph - h), np.minimum(left, pw - w)

    def apply_np(self, a: np.ndarray, params: Any) -> np.ndarray:
        top, left = params
        p = self.padding
        if p:
            pads = ((0, 0), (0, 0), (p, p), (p, p))
            a = (np.pad(a, pads, constant_values=self.fill) if self.padding_mode == "constant"
                 else np.pad(a, pads, mode=self.padding_mode))
        h, w = self.size
        rows = top[:, None] + np.arange(h)[None, :]  # (N, h)
        cols = left[:, None] + np.arange(w)[None, :]  # (N, w)
        n = np.arange(a.shape[0])[:, None, None]
        out = a[n, :, rows[:, :, None], cols[:, None, :]]  # (N, h, w, C)
        return out.transpose(0, 3, 1, 2)


class RandomHorizontalFlip(_Transform):
    """Mirrors each image left-right with probability ``p``."""

    axis = 3

    def __init__(self, p: float = 0.5, *, generator: Generator | None = None) -> None:
        super().__init__(generator)
        self.p = float(p)

    def get_params(self, n: int, height: int, width: int) -> np.ndarray:
        return _uniform(n, 0.0, 1.0, self.generator) < self.p

    def apply_np(self, a: np.ndarray, params: Any) -> np.ndarray:
        flipped = np.flip(a, axis=self.axis)
        return np.where(np.asarray(params)[:, None, None, None], flipped, a)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirrors each image top-bottom with probability ``p``."""

    axis = 2


def affine_grid_sample(a: np.ndarray, matrices: np.ndarray, mode: str = "bilinear",
                       fill: float = 0.0) -> np.ndarray:
    """Warps each image of `a` (N, C, H, W): output pixel (x, y), in pixel coordinates about
    the image centre, takes the input at ``matrices[n] @ (x, y, 1)`` (a 2x3 inverse map)."""
    n, c, h, w = a.shape
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float32) - (h - 1) / 2,
                         np.arange(w, dtype=np.float32) - (w - 1) / 2, indexing="ij")
    m = matrices.astype(np.float32)
    sx = m[:, 0, 0, None, None] * xs + m[:, 0, 1, None, None] * ys + m[:, 0, 2, None, None]
    sy = m[:, 1, 0, None, None] * xs + m[:, 1, 1, None, None] * ys + m[:, 1, 2, None, None]
    sx += (w - 1) / 2
    sy += (h - 1) / 2
    flat = a.reshape(n, c, h * w)
    bidx = np.arange(n)[:, None, None]

    def tap(yi: np.ndarray, xi: np.ndarray) -> np.ndarray:
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        idx = np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)  # (N, H, W)
        v = flat[bidx, :, idx]  # (N, H, W, C)
        return np.where(inside[..., None], v, np.float32(fill))

    if mode == "nearest":
        out = tap(np.floor(sy + 0.5).astype(np.int64), np.floor(sx + 0.5).astype(np.int64))
    elif mode == "bilinear":
        x0, y0 = np.floor(sx), np.floor(sy)
        fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        out = ((1 - fy) * ((1 - fx) * tap(y0, x0) + fx * tap(y0, x0 + 1))
               + fy * ((1 - fx) * tap(y0 + 1, x0) + fx * tap(y0 + 1, x0 + 1)))
    else:
        raise ValueError(f"[affine_grid_sample] mode must be 'bilinear' or 'nearest', got "
                         f"{mode!r}")
    return out.transpose(0, 3, 1, 2).astype(a.dtype, copy=False)


def _inverse_affine(angle: np.ndarray, tx: np.ndarray, ty: np.ndarray, scale: np.ndarray,
                    shx: np.ndarray, shy: np.ndarray) -> np.ndarray:
    """Per image, the 2x3 inverse of translate(t) @ rotate(angle) @ shear @ scale (degrees,
    pixels; about the centre, as torchvision's affine)."""
    n = angle.shape[0]
    fwd = np.zeros((n, 3, 3))
    a, sx, sy = np.radians(angle), np.radians(shx), np.radians(shy)
    rot = np.stack([np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)],
                   1)
    shear = np.stack([np.stack([np.ones(n), np.tan(sx)], -1),
                      np.stack([np.tan(sy), np.ones(n)], -1)], 1)
    fwd[:, :2, :2] = rot @ shear * scale[:, None, None]
    fwd[:, 0, 2], fwd[:, 1, 2], fwd[:, 2, 2] = tx, ty, 1.0
    return np.linalg.inv(fwd)[:, :2, :]


class RandomAffine(_Transform):
    """A random affine warp per image: rotation in ``degrees`` (a number d means (-d, d)),
    ``translate=(fx, fy)`` as fractions of the width and height, ``scale=(lo, hi)``,
    ``shear`` in degrees (a number or (lo, hi) along x, or (xlo, xhi, ylo, yhi))."""

    def __init__(self, degrees: Any = 0.0, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: str = "bilinear", fill: float = 0.0, *,
                 generator: Generator | None = None) -> None:
        super().__init__(generator)
        self.degrees = _pair(degrees, "RandomAffine", "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError(f"[RandomAffine] translate fractions must be in [0, 1], got "
                             f"{translate}")
        self.translate = tuple(translate) if translate is not None else None
        if scale is not None and (len(scale) != 2 or min(scale) <= 0):
            raise ValueError(f"[RandomAffine] scale must be (lo, hi) with lo > 0, got {scale}")
        self.scale = tuple(scale) if scale is not None else None
        if shear is None:
            self.shear = None
        elif isinstance(shear, (int, float)) or len(shear) == 2:
            self.shear = (*_pair(shear, "RandomAffine", "shear"), 0.0, 0.0)
        else:
            self.shear = tuple(float(s) for s in shear)
        self.interpolation, self.fill = interpolation, float(fill)

    def get_params(self, n: int, height: int, width: int) -> np.ndarray:
        g = self.generator
        angle = _uniform(n, *self.degrees, g)
        tx = ty = np.zeros(n)
        if self.translate is not None:
            tx = np.round(_uniform(n, -self.translate[0] * width, self.translate[0] * width, g))
            ty = np.round(_uniform(n, -self.translate[1] * height, self.translate[1] * height,
                                   g))
        scale = _uniform(n, *self.scale, g) if self.scale is not None else np.ones(n)
        shx = shy = np.zeros(n)
        if self.shear is not None:
            shx = _uniform(n, self.shear[0], self.shear[1], g)
            shy = _uniform(n, self.shear[2], self.shear[3], g)
        return _inverse_affine(angle, tx, ty, scale, shx, shy)

    def apply_np(self, a: np.ndarray, params: Any) -> np.ndarray:
        return affine_grid_sample(a, np.asarray(params), self.interpolation, self.fill)


class RandomRotation(RandomAffine):
    """Rotates each image by a random angle in ``degrees`` (about the centre)."""

    def __init__(self, degrees: Any, interpolation: str = "bilinear", fill: float = 0.0, *,
                 generator: Generator | None = None) -> None:
        super().__init__(degrees, interpolation=interpolation, fill=fill, generator=generator)


class RandomErasing(_Transform):
    """With probability ``p``, sets a random rectangle of each image (area a fraction in
    ``scale`` of the image, aspect ratio in ``ratio``) to ``value`` (torchvision's)."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: float = 0.0, *,
                 generator: Generator | None = None) -> None:
        super().__init__(generator)
        if not 0 <= p <= 1:
            raise ValueError(f"[RandomErasing] p must be in [0, 1], got {p}")
        self.p, self.scale, self.ratio, self.value = float(p), tuple(scale), tuple(ratio), value

    def get_params(self, n: int, height: int, width: int) -> np.ndarray:
        g = self.generator
        on = _uniform(n, 0, 1, g) < self.p
        area = _uniform(n, *self.scale, g) * height * width
        logr = _uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), g)
        r = np.exp(logr)
        h = np.clip(np.round(np.sqrt(area * r)), 1, height).astype(np.int64)
        w = np.clip(np.round(np.sqrt(area / r)), 1, width).astype(np.int64)
        top = np.floor(_uniform(n, 0, 1, g) * (height - h + 1)).astype(np.int64)
        left = np.floor(_uniform(n, 0, 1, g) * (width - w + 1)).astype(np.int64)
        return np.stack([on.astype(np.int64), top, left, h, w], 1)

    def apply_np(self, a: np.ndarray, params: Any) -> np.ndarray:
        p = np.asarray(params)
        on, top, left, h, w = (p[:, i, None, None] for i in range(5))
        rows = np.arange(a.shape[2])[None, :, None]
        cols = np.arange(a.shape[3])[None, None, :]
        mask = (on > 0) & (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
        return np.where(mask[:, None], np.asarray(self.value, a.dtype), a)


def _gray(a: np.ndarray) -> np.ndarray:
    return (0.299 * a[:, 0] + 0.587 * a[:, 1] + 0.114 * a[:, 2])[:, None]


def _rgb_to_hsv(a: np.ndarray) -> np.ndarray:
    r, g, b = a[:, 0], a[:, 1], a[:, 2]
    mx, mn = a.max(1), a.min(1)
    d = mx - mn
    safe = np.where(d == 0, 1, d)
    h = np.where(mx == r, ((g - b) / safe) % 6,
                 np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)) / 6
    h = np.where(d == 0, 0, h)
    s = np.where(mx == 0, 0, d / np.where(mx == 0, 1, mx))
    return np.stack([h, s, mx], 1)


def _hsv_to_rgb(a: np.ndarray) -> np.ndarray:
    h, s, v = a[:, 0], a[:, 1], a[:, 2]
    i = np.floor(h * 6)
    f = h * 6 - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    i = i.astype(np.int64) % 6
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = [np.choose(i, [c[k] for c in choices]) for k in range(3)]
    return np.stack(out, 1)


class ColorJitter(_Transform):
    """Random brightness, contrast, saturation (factors in [max(0, 1 - x), 1 + x]) and hue
    (a shift in [-hue, hue], hue <= 0.5) per image, applied in that order, for 3-channel
    images in [0, 1] (brightness and contrast also work on 1 channel). torchvision's formulas:
    blends with black, the mean grey level and the grey image; hue rotates in HSV."""

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0,
                 saturation: float = 0.0, hue: float = 0.0, *,
                 generator: Generator | None = None) -> None:
        super().__init__(generator)
        if not 0 <= hue <= 0.5:
            raise ValueError(f"[ColorJitter] hue must be in [0, 0.5], got {hue}")
        self.brightness, self.contrast = float(brightness), float(contrast)
        self.saturation, self.hue = float(saturation), float(hue)

    def get_params(self, n: int, height: int, width: int) -> np.ndarray:
        g = self.generator

        def factor(x: float) -> np.ndarray:
            return _uniform(n, max(0.0, 1 - x), 1 + x, g) if x else np.ones(n)

        hue = _uniform(n, -self.hue, self.hue, g) if self.hue else np.zeros(n)
        return np.stack([factor(self.brightness), factor(self.contrast),
                         factor(self.saturation), hue], 1)

    def apply_np(self, a: np.ndarray, params: Any) -> np.ndarray:
        p = np.asarray(params, dtype=np.float64)
        col = a.shape[1] == 3
        if not col and (self.saturation or self.hue):
            raise ValueError(f"[ColorJitter] saturation and hue need 3-channel images, got "
                             f"{a.shape[1]} channels")
        b, c, s, h = (p[:, i, None, None, None] for i in range(4))
        x = np.clip(a * b, 0, 1)
        grey_mean = (_gray(x) if col else x).mean(axis=(1, 2, 3), keepdims=True)
        x = np.clip(c * x + (1 - c) * grey_mean, 0, 1)
        if col:
            x = np.clip(s * x + (1 - s) * _gray(x), 0, 1)
            if self.hue:
                hsv = _rgb_to_hsv(x)
                hsv[:, 0] = (hsv[:, 0] + h[:, 0]) % 1.0
                x = _hsv_to_rgb(hsv)
        return x.astype(a.dtype)
