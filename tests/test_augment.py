"""Batch augmentation: each transform's deterministic part against a NumPy reference, and the
random draws' ranges and reproducibility."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.data import augment as A


def _batch(n: int = 4, c: int = 3, h: int = 9, w: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


def test_random_crop_matches_slicing_of_the_padded_image() -> None:
    a = _batch()
    t = A.RandomCrop((9, 7), padding=2)
    top, left = np.array([0, 4, 2, 1]), np.array([4, 0, 3, 2])
    out = t.apply(ember.tensor(a), (top, left)).numpy()
    padded = np.pad(a, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(4):
        np.testing.assert_array_equal(out[i], padded[i, :, top[i]:top[i] + 9,
                                                     left[i]:left[i] + 7])


def test_random_crop_draws_every_offset_and_is_seeded() -> None:
    t = A.RandomCrop(5, padding=1, generator=ember.Generator().manual_seed(3))
    top, left = t.get_params(4000, 9, 7)
    assert set(top.tolist()) == set(range(9 + 2 - 5 + 1))
    assert set(left.tolist()) == set(range(7 + 2 - 5 + 1))
    t2 = A.RandomCrop(5, padding=1, generator=ember.Generator().manual_seed(3))
    np.testing.assert_array_equal(t2.get_params(4000, 9, 7)[0], top)


def test_flip_with_p1_and_p0() -> None:
    a = _batch()
    x = ember.tensor(a)
    np.testing.assert_array_equal(A.RandomHorizontalFlip(1.0)(x).numpy(), a[..., ::-1])
    np.testing.assert_array_equal(A.RandomVerticalFlip(1.0)(x).numpy(), a[:, :, ::-1])
    np.testing.assert_array_equal(A.RandomHorizontalFlip(0.0)(x).numpy(), a)
    single = A.RandomHorizontalFlip(1.0)(x[0])
    assert single.shape == (3, 9, 7)


def test_rotation_by_90_degrees_is_rot90() -> None:
    a = _batch(h=7, w=7)
    t = A.RandomRotation((90, 90), interpolation="nearest")
    out = t(ember.tensor(a)).numpy()
    # counter-clockwise in image coordinates (y down): the same turn as rot90 with k=-1
    # or +1 depending on the axis convention; it must be one of them and exact
    cands = [np.rot90(a, k, axes=(2, 3)) for k in (1, -1)]
    assert any(np.array_equal(out, c) for c in cands)


def test_affine_integer_translation_shifts_with_zero_fill() -> None:
    a = _batch(n=1, c=1, h=6, w=5)
    m = A._inverse_affine(np.zeros(1), np.array([2.0]), np.array([-1.0]), np.ones(1),
                          np.zeros(1), np.zeros(1))
    out = A.RandomAffine().apply(ember.tensor(a), m).numpy()
    ref = np.zeros_like(a)
    ref[..., 0:5, 2:5] = a[..., 1:6, 0:3]  # moved right by 2, up by 1
    np.testing.assert_allclose(out, ref, atol=1e-6)


def test_affine_identity_and_bilinear_midpoint() -> None:
    a = _batch(n=2, c=2, h=5, w=6)
    ident = A._inverse_affine(np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2),
                              np.zeros(2))
    np.testing.assert_allclose(A.RandomAffine().apply(ember.tensor(a), ident).numpy(), a,
                               atol=1e-6)
    half = A._inverse_affine(np.zeros(1), np.array([0.5]), np.zeros(1), np.ones(1),
                             np.zeros(1), np.zeros(1))
    out = A.affine_grid_sample(a[:1], half)
    np.testing.assert_allclose(out[..., 1:], 0.5 * (a[:1, ..., :-1] + a[:1, ..., 1:]),
                               atol=1e-6)


def test_affine_parameter_ranges() -> None:
    t = A.RandomAffine(degrees=10, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=5,
                       generator=ember.Generator().manual_seed(0))
    m = t.get_params(500, 28, 28)
    assert m.shape == (500, 2, 3)
    # the translation of the inverse map is bounded by the drawn translation (rotated/scaled)
    assert np.abs(m[:, :, 2]).max() <= 0.2 * 28 / 0.9 * 1.5
    assert not np.allclose(m[0], m[1])


def test_random_erasing_rectangle() -> None:
    a = _batch(n=2, c=3, h=8, w=8)
    params = np.array([[1, 2, 3, 4, 2], [0, 0, 0, 8, 8]])
    out = A.RandomErasing(value=-1.0).apply(ember.tensor(a), params).numpy()
    ref = a.copy()
    ref[0, :, 2:6, 3:5] = -1.0
    np.testing.assert_array_equal(out, ref)
    p = A.RandomErasing(p=1.0, generator=ember.Generator().manual_seed(1)).get_params(300, 8, 8)
    area = p[:, 3] * p[:, 4]
    assert (p[:, 0] == 1).all() and (area >= 1).all() and (p[:, 1] + p[:, 3] <= 8).all()


def test_color_jitter_formulas() -> None:
    a = _batch(n=3)
    t = A.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5)
    b, c, s = 1.2, 0.7, 1.3
    out = t.apply(ember.tensor(a), np.array([[b, c, s, 0.0]] * 3)).numpy()
    x = np.clip(a * b, 0, 1)
    grey = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    x = np.clip(c * x + (1 - c) * grey.mean(axis=(1, 2))[:, None, None, None], 0, 1)
    grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
    x = np.clip(s * x + (1 - s) * grey, 0, 1)
    np.testing.assert_allclose(out, x, atol=1e-5)


def test_hue_shift_round_trip_and_identity() -> None:
    a = _batch(n=2)
    hsv = A._rgb_to_hsv(a.astype(np.float64))
    np.testing.assert_allclose(A._hsv_to_rgb(hsv), a, atol=1e-6)
    t = A.ColorJitter(hue=0.5)
    out = t.apply(ember.tensor(a), np.array([[1, 1, 1, 0.0]] * 2)).numpy()
    np.testing.assert_allclose(out, a, atol=1e-6)
    shifted = t.apply(ember.tensor(a), np.array([[1, 1, 1, 1 / 3]] * 2)).numpy()
    # a hue turn of 1/3 maps pure red to pure green
    red = np.zeros((1, 3, 1, 1), np.float32)
    red[0, 0] = 1.0
    green = t.apply(ember.tensor(red), np.array([[1, 1, 1, 1 / 3]])).numpy()
    np.testing.assert_allclose(green[0, :, 0, 0], [0, 1, 0], atol=1e-6)
    assert not np.allclose(shifted, a)


def test_errors_name_the_transform() -> None:
    with pytest.raises(ValueError, match=r"\[RandomCrop\] crop"):
        A.RandomCrop(20)(ember.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"\[RandomAffine\] expects an image batch"):
        A.RandomAffine(5)(ember.zeros(5, 5))
    with pytest.raises(ValueError, match=r"\[ColorJitter\] saturation"):
        A.ColorJitter(saturation=0.2)(ember.zeros(2, 1, 4, 4))


def test_augment_layer_trains_only_and_follows_the_global_seed() -> None:
    layer = A.Augment(A.RandomAffine(15, translate=(0.1, 0.1)),
                            A.RandomHorizontalFlip())
    x = ember.from_numpy(np.random.default_rng(0).random((4, 1, 12, 12), dtype=np.float32))
    ember.manual_seed(5)
    a = layer(x).numpy()
    ember.manual_seed(5)
    b = layer(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - x.numpy()).max() > 0.05
    # Exactly the transforms applied in order, with the same draws.
    ember.manual_seed(5)
    ref = layer.transforms[1](layer.transforms[0](x)).numpy()
    np.testing.assert_array_equal(a, ref)
    layer.eval()
    assert layer(x) is x
    assert "RandomAffine" in repr(layer) and list(layer.parameters()) == []
    with pytest.raises(TypeError, match="Augment"):
        A.Augment(3)
