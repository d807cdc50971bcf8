"""The CUDA NN kernels (csrc/cuda/conv.cu, pool.cu, norm.cu, softmax.cu, loss.cu, optim.cu)
against the CPU ops on the same inputs: forward results and every gradient (a random upstream
gradient through autograd, so the first-order backward kernels run), float32 and float64, odd
sizes, N = 1, empty batches, strides / paddings / dilations / groups including depthwise; the
optimizer steps over a few iterations; then a small CNN trained a few steps on both devices.
Every test needs a CUDA device and is skipped without one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ember
import numpy as np
import pytest
from conftest import CUDA, to_numpy
from ember import nn
from ember.nn import functional as F

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not CUDA, reason="no CUDA device")]

# The listed dispatch tables whose CUDA slots this file compares with the CPU (conv2d's
# CUDA-only tables are not listed in _C.kernels()); tests/test_cuda.py checks that a CUDA build
# fills exactly the tables some file tests.
CUDA_TABLES = {
    "pool2d_kernel", "pool2d_backward_kernel",
    "batch_norm_kernel", "batch_norm_backward_kernel", "row_norm_kernel",
    "row_norm_backward_kernel", "softmax_kernel", "softmax_backward_kernel",
    "cross_entropy_kernel", "cross_entropy_backward_kernel",
    "sgd_step_kernel", "adam_step_kernel", "rmsprop_step_kernel", "adagrad_step_kernel",
}

DTYPES = ["float32", "float64"]
# CPU and CUDA sum in different orders, so an element that is a long sum of terms (a weight
# gradient over a batch) differs by a few ulp of the array's magnitude, not of its own value:
# rtol per element, and atol relative to the largest reference value of the array.
TOL = {"float32": (2e-4, 1e-4), "float64": (1e-10, 1e-11)}


def assert_near(got: np.ndarray, want: np.ndarray, dtype: str, what: str = "") -> None:
    rtol, atol = TOL[dtype]
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0, where=np.isfinite(want))))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=what)


def _run(fn: Callable[..., Any], arrays: Sequence[np.ndarray], dtype: str, device: str,
         grad_seed: int = 1) -> list[np.ndarray]:
    """fn's output and the gradients of sum(out * G) for every input, as NumPy arrays."""
    dt = getattr(ember, dtype)
    xs = [ember.tensor(a, dtype=dt).to(device).requires_grad_() for a in arrays]
    out = fn(*xs)
    if isinstance(out, tuple):
        out = out[0]
    g = np.random.default_rng(grad_seed).standard_normal(tuple(out.shape))
    out.backward(ember.tensor(g, dtype=dt).to(device))
    grads = [to_numpy(x.grad) if x.grad is not None else None for x in xs]
    return [to_numpy(out)] + grads


def check_devices(fn: Callable[..., Any], shapes: Sequence[Sequence[int]], dtype: str,
                  seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(tuple(s)) for s in shapes]
    want = _run(fn, arrays, dtype, "cpu")
    got = _run(fn, arrays, dtype, "cuda")
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        what = "output" if i == 0 else f"grad of input {i - 1}"
        assert (g is None) == (w is None), what
        if w is not None:
            assert g.shape == w.shape, what
            assert_near(g, w, dtype, what)


# ---- conv2d --------------------------------------------------------------------------------

# (N, C, H, W), (O, C/g, kh, kw), stride, padding, dilation, groups
CONV_CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, 1, 1),
    ((1, 3, 7, 9), (5, 3, 3, 2), 2, 0, 1, 1),
    ((3, 4, 11, 10), (6, 2, 3, 3), (2, 1), (1, 2), (1, 2), 2),
    ((2, 6, 9, 9), (6, 1, 3, 3), 1, 1, 1, 6),        # depthwise
    ((2, 4, 13, 7), (8, 1, 5, 3), 2, 2, 2, 4),       # depthwise, multiplier 2
    ((2, 8, 5, 5), (16, 8, 1, 1), 1, 0, 1, 1),       # 1x1
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, 1),
    ((0, 3, 6, 6), (4, 3, 3, 3), 1, 1, 1, 1),        # empty batch
    ((2, 3, 33, 35), (7, 3, 7, 7), 3, 3, 1, 1),      # stem-like, odd sizes
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d(case: tuple[Any, ...], bias: bool, dtype: str) -> None:
    xs, ws, s, p, d, g = case
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])

    def fn(x: Any, w: Any, b: Any = None) -> Any:
        return F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)

    check_devices(fn, shapes, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("budget", ["1", "100000"])
def test_conv2d_chunks(budget: str, dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A col budget of one image (or a few) per chunk: the chunk loop, its offsets and the
    accumulation of the weight gradient over chunks."""
    monkeypatch.setenv("EMBER_CUDA_CONV_BUDGET", budget)
    check_devices(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
                  [(7, 6, 9, 9), (4, 3, 3, 3), (4,)], dtype)


def test_conv2d_large_batch() -> None:
    check_devices(lambda x, w: F.conv2d(x, w, padding=1), [(64, 16, 32, 32), (8, 16, 3, 3)],
                  "float32")


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv1d_and_transpose(dtype: str) -> None:
    check_devices(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
                  [(2, 3, 19), (4, 3, 3), (4,)], dtype)
    check_devices(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                     output_padding=1, groups=2),
                  [(2, 4, 5, 6), (4, 3, 3, 3), (6,)], dtype)


def test_conv2d_mixed_devices_error() -> None:
    x = ember.zeros(1, 1, 3, 3).to("cuda")
    w = ember.zeros(1, 1, 1, 1)
    with pytest.raises(ValueError, match="same device"):
        F.conv2d(x, w)


# ---- pooling and resampling ----------------------------------------------------------------

POOLS: list[tuple[str, tuple[int, ...], Callable[[Any], Any]]] = [
    ("max 2x2", (2, 3, 8, 9), lambda x: F.max_pool2d(x, 2)),
    ("max 3x3 s2 p1", (1, 4, 11, 10), lambda x: F.max_pool2d(x, 3, 2, 1)),
    ("max dilated ceil", (2, 2, 13, 12), lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2,
                                                               ceil_mode=True)),
    ("avg 2x2", (2, 3, 8, 9), lambda x: F.avg_pool2d(x, 2)),
    ("avg pad excl", (2, 3, 9, 7), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("avg ceil divisor", (1, 2, 10, 11), lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                               divisor_override=5)),
    ("adaptive avg", (2, 3, 10, 7), lambda x: F.adaptive_avg_pool2d(x, (3, 4))),
    ("adaptive avg 1x1", (2, 5, 7, 7), lambda x: F.adaptive_avg_pool2d(x, 1)),
    ("adaptive max", (2, 3, 10, 7), lambda x: F.adaptive_max_pool2d(x, (4, 3))),
    ("max1d", (2, 3, 17), lambda x: F.max_pool1d(x, 3, 2, 1)),
    ("avg1d", (2, 3, 17), lambda x: F.avg_pool1d(x, 4, 3, 1)),
    ("adaptive avg1d", (2, 3, 17), lambda x: F.adaptive_avg_pool1d(x, 5)),
    ("adaptive max1d", (2, 3, 17), lambda x: F.adaptive_max_pool1d(x, 5)),
    ("nearest x2", (2, 3, 5, 7), lambda x: F.interpolate(x, scale_factor=2, mode="nearest")),
    ("nearest size", (1, 2, 5, 7), lambda x: F.interpolate(x, size=(8, 3), mode="nearest")),
    ("bilinear", (2, 3, 5, 7), lambda x: F.interpolate(x, size=(9, 12), mode="bilinear",
                                                       align_corners=False)),
    ("bilinear align", (2, 3, 5, 7), lambda x: F.interpolate(x, scale_factor=1.7,
                                                             mode="bilinear",
                                                             align_corners=True)),
    ("3-d input", (3, 8, 8), lambda x: F.max_pool2d(x, 2)),
    ("empty batch max", (0, 2, 6, 6), lambda x: F.max_pool2d(x, 2)),
    ("empty batch avg", (0, 2, 6, 6), lambda x: F.avg_pool2d(x, 3, 1, 1)),
    ("pad constant", (2, 3, 5, 6), lambda x: F.pad(x, (1, 2, 0, 3), value=0.5)),
    ("pad reflect", (2, 3, 5, 6), lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,shape,fn", POOLS, ids=[p[0] for p in POOLS])
def test_pool(name: str, shape: tuple[int, ...], fn: Callable[[Any], Any], dtype: str) -> None:
    check_devices(fn, [shape], dtype)


def test_max_pool_indices_match() -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 9))
    got = F.max_pool2d(ember.tensor(x).to("cuda"), 3, 2, 1, return_indices=True)[1]
    want = F.max_pool2d(ember.tensor(x), 3, 2, 1, return_indices=True)[1]
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def test_max_pool_nan_propagates() -> None:
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    y = to_numpy(F.max_pool2d(ember.tensor(x).to("cuda"), 2))
    assert np.isnan(y[0, 0, 0, 0]) and not np.isnan(y[0, 0, 1, 1])


# ---- normalisation -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (7, 5), (2, 3, 17), (1, 4, 3, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_train(shape: tuple[int, ...], affine: bool, dtype: str) -> None:
    c = shape[1]
    dt = getattr(ember, dtype)
    stats = {dev: (ember.tensor(np.full(c, 0.3), dtype=dt).to(dev),
                   ember.tensor(np.full(c, 1.5), dtype=dt).to(dev)) for dev in ("cpu", "cuda")}

    def make(dev: str) -> Callable[..., Any]:
        def fn(x: Any, w: Any = None, b: Any = None) -> Any:
            rm, rv = stats[dev]
            return F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-4)
        return fn

    shapes = [shape] + ([(c,), (c,)] if affine else [])
    arrays = [np.random.default_rng(0).standard_normal(s) for s in shapes]
    want = _run(make("cpu"), arrays, dtype, "cpu")
    got = _run(make("cuda"), arrays, dtype, "cuda")
    for g, w in zip(got, want, strict=True):
        assert_near(g, w, dtype)
    for a, b in zip(stats["cuda"], stats["cpu"], strict=True):
        assert_near(to_numpy(a), to_numpy(b), dtype, "running statistics")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_eval(dtype: str) -> None:
    rm = np.random.default_rng(1).standard_normal(3)
    rv = np.abs(np.random.default_rng(2).standard_normal(3)) + 0.5

    def fn(x: Any, w: Any, b: Any) -> Any:
        return F.batch_norm(x, ember.tensor(rm).to(x.device).to(x.dtype),
                            ember.tensor(rv).to(x.device).to(x.dtype), w, b, training=False)

    check_devices(fn, [(4, 3, 5, 5), (3,), (3,)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,norm", [((4, 7), (7,)), ((2, 3, 33), (33,)), ((0, 7), (7,)),
                                        ((2, 3, 4, 5), (4, 5)), ((1, 1029), (1029,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape: tuple[int, ...], norm: tuple[int, ...], affine: bool,
                    dtype: str) -> None:
    shapes = [shape] + ([norm, norm] if affine else [])
    check_devices(lambda x, w=None, b=None: F.layer_norm(x, norm, w, b, eps=1e-5), shapes, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((2, 6, 5, 5), 3), ((3, 4, 7), 2), ((1, 8, 3, 3), 8),
                                          ((2, 4), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(shape: tuple[int, ...], groups: int, affine: bool, dtype: str) -> None:
    c = shape[1]
    shapes = [shape] + ([(c,), (c,)] if affine else [])
    check_devices(lambda x, w=None, b=None: F.group_norm(x, groups, w, b), shapes, dtype)


# ---- softmax and cross-entropy -------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((5, 7), 1), ((3, 1029), -1), ((2, 5, 3, 4), 1),
                                       ((4, 3), 0), ((1, 1), 1), ((0, 4), 1)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(shape: tuple[int, ...], dim: int, log: bool, dtype: str) -> None:
    f = F.log_softmax if log else F.softmax
    check_devices(lambda x: f(x, dim), [shape], dtype)


def test_softmax_special_rows() -> None:
    x = np.array([[-np.inf, -np.inf], [np.inf, 0.0], [np.nan, 1.0], [1e30, -1e30]])
    for f in (F.softmax, F.log_softmax):
        got = to_numpy(f(ember.tensor(x).to("cuda"), 1))
        np.testing.assert_array_equal(got, to_numpy(f(ember.tensor(x), 1)))


CE_CASES = [
    dict(),
    dict(label_smoothing=0.1),
    dict(weight=True),
    dict(weight=True, label_smoothing=0.2, reduction="sum"),
    dict(reduction="none", ignore_index=2),
    dict(probs=True),
    dict(probs=True, weight=True, label_smoothing=0.1, reduction="none"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 5), (2, 4, 3, 3), (3, 1029)])
@pytest.mark.parametrize("case", CE_CASES, ids=[str(c) for c in CE_CASES])
def test_cross_entropy(case: dict[str, Any], shape: tuple[int, ...], dtype: str) -> None:
    c = shape[1]
    rng = np.random.default_rng(7)
    rows = (shape[0],) + shape[2:]
    labels = rng.integers(0, c, size=rows)
    weight = rng.random(c) + 0.5
    kw = {k: v for k, v in case.items() if k not in ("weight", "probs")}

    def fn(x: Any, q: Any = None) -> Any:
        dev, dt = x.device, x.dtype
        target = F.softmax(q, 1) if q is not None else ember.tensor(labels).to(dev)
        w = ember.tensor(weight, dtype=dt).to(dev) if case.get("weight") else None
        return F.cross_entropy(x, target, weight=w, **kw)

    shapes = [shape, shape] if case.get("probs") else [shape]
    check_devices(fn, shapes, dtype)


def test_cross_entropy_bad_target_raises() -> None:
    x = ember.zeros(2, 3).to("cuda")
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, ember.tensor([0, 3]).to("cuda"))


# ---- fused optimizer steps -----------------------------------------------------------------

OPTIMS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", OPTIMS, ids=[f"{n}-{k}" for n, k in OPTIMS])
def test_optimizer_steps(name: str, kw: dict[str, Any], dtype: str) -> None:
    rng = np.random.default_rng(11)
    shapes = [(3, 4), (7,), (0,), (2, 3, 5)]
    values = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    dt = getattr(ember, dtype)
    result = {}
    for dev in ("cpu", "cuda"):
        params = [nn.Parameter(ember.tensor(v, dtype=dt).to(dev)) for v in values]
        opt = getattr(ember.optim, name)(params, **kw)
        for step in grads:
            for p, g in zip(params, step, strict=True):
                p.grad = ember.tensor(g, dtype=dt).to(dev)
            opt.step()
        result[dev] = [to_numpy(p) for p in params]
    for g, w in zip(result["cuda"], result["cpu"], strict=True):
        assert_near(g, w, dtype)


# ---- a small CNN ---------------------------------------------------------------------------

class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x: Any) -> Any:
        y = self.pool(F.relu(self.bn(self.conv(x))))
        return self.fc(y.reshape(y.shape[0], -1))


def _train(device: str, steps: int = 5) -> list[np.ndarray]:
    ember.manual_seed(0)
    model = SmallCNN().to(device)
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((6, 3, 8, 8)), dtype=ember.float32).to(device)
    t = ember.tensor(rng.integers(0, 5, size=6)).to(device)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
    state = [to_numpy(p) for p in model.parameters()]
    return state + [to_numpy(model.bn.running_mean), to_numpy(model.bn.running_var)]


def test_small_cnn_trains_like_cpu() -> None:
    want = _train("cpu")
    got = _train("cuda")
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)
