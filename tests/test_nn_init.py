"""nn.init and the layers' default initialisation: bounds and moments against PyTorch's
formulas, reproducibility, in-place/no-grad behaviour, errors."""

from __future__ import annotations

import math

import ember
import numpy as np
import pytest
from ember import nn
from ember.nn import init


def _np(t):
    return np.asarray(t.detach())


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(ember.empty(4, 3, 5, 2)) == (30, 40)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(3))


def test_uniform_bounds_and_moments():
    t = init.uniform_(ember.empty(300, 400), -2.0, 3.0)
    a = _np(t)
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.02


@pytest.mark.parametrize("fn, std", [
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2) / math.sqrt(200)),
    (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / 500)),
    (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
])
def test_normal_family_std(fn, std):
    a = _np(fn(ember.empty(200, 300)))
    assert abs(a.std() / std - 1) < 0.02


@pytest.mark.parametrize("fn, bound", [
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(300)),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(6 / 300)),
    (lambda t: init.xavier_uniform_(t), math.sqrt(6 / 500)),
])
def test_uniform_family_bound(fn, bound):
    a = _np(fn(ember.empty(200, 300)))
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    assert abs(a.std() / (bound / math.sqrt(3)) - 1) < 0.02


def test_linear_default_init_matches_torch_formula():
    m = nn.Linear(250, 300)
    w, b = _np(m.weight), _np(m.bias)
    bound = 1 / math.sqrt(250)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.02
    e = nn.Embedding(300, 200)
    assert abs(_np(e.weight).std() - 1) < 0.02
    bl = nn.Bilinear(16, 8, 4)
    assert np.abs(_np(bl.weight)).max() <= 0.25


def test_trunc_normal_bounds_and_moments():
    torch = pytest.importorskip("torch")
    a = _np(init.trunc_normal_(ember.empty(300, 300), mean=0.5, std=2.0, a=-1.0, b=3.0))
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 300, dtype=torch.float64), mean=0.5,
                                      std=2.0, a=-1.0, b=3.0).numpy()
    assert a.min() >= -1 and a.max() <= 3
    assert abs(a.mean() - ref.mean()) < 0.02 and abs(a.std() - ref.std()) < 0.02
    tail = _np(init.trunc_normal_(ember.empty(10000), a=3.0, b=4.0))
    assert tail.min() >= 3 and tail.max() <= 4 and 3.2 < tail.mean() < 3.35


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2)])
def test_orthogonal(shape):
    t = init.orthogonal_(ember.empty(*shape), gain=2.0)
    flat = _np(t).reshape(shape[0], -1)
    gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ember.empty(3))


def test_constant_eye_dirac():
    assert (_np(init.constant_(ember.empty(2, 3), 0.25)) == 0.25).all()
    assert (_np(init.zeros_(ember.empty(2))) == 0).all()
    assert (_np(init.ones_(ember.empty(2))) == 1).all()
    np.testing.assert_array_equal(_np(init.eye_(ember.empty(2, 3))), np.eye(2, 3))
    w = init.dirac_(ember.empty(4, 2, 3))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(_np(w), torch.nn.init.dirac_(torch.empty(4, 2, 3)).numpy())


def test_generator_and_seed_reproducibility():
    g = ember.Generator().manual_seed(3)
    a = _np(init.kaiming_uniform_(ember.empty(5, 5), generator=g))
    g.manual_seed(3)
    b = _np(init.kaiming_uniform_(ember.empty(5, 5), generator=g))
    np.testing.assert_array_equal(a, b)
    ember.manual_seed(11)
    m1 = nn.Linear(4, 4)
    ember.manual_seed(11)
    m2 = nn.Linear(4, 4)
    np.testing.assert_array_equal(_np(m1.weight), _np(m2.weight))


def test_init_on_parameter_stays_a_leaf():
    p = nn.Parameter(ember.empty(3, 4))
    out = init.xavier_uniform_(p)
    assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(ember.empty(0, 3))
