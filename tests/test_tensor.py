"""The tensor core: creation (tensor(), constructors, *_like, default dtype) and dtype
conversion (every pair, float16/bfloat16 round-to-nearest-even, NaN/inf), against NumPy."""

from __future__ import annotations

import itertools

import ember
import numpy as np
import pytest
from conftest import assert_close, to_numpy

DTYPES = [ember.bool, ember.int32, ember.int64, ember.float16, ember.bfloat16, ember.float32,
          ember.float64]
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in cast:RuntimeWarning")
NP_DTYPES = {"bool": np.bool_, "int32": np.int32, "int64": np.int64, "float16": np.float16,
             "float32": np.float32, "float64": np.float64}


@pytest.fixture
def default_float64():
    ember.set_default_dtype(ember.float64)
    try:
        yield
    finally:
        ember.set_default_dtype(ember.float32)


# ---- tensor() -------------------------------------------------------------------------------
@pytest.mark.parametrize("value, dtype", [(3, ember.int64), (-2.5, ember.float32),
                                          (True, ember.bool), (np.float64(1.5), ember.float64),
                                          (np.int32(7), ember.int32)])
def test_tensor_from_scalar_is_0d(value, dtype):
    t = ember.tensor(value)
    assert t.shape == () and t.ndim == 0 and t.numel() == 1
    assert t.dtype is dtype
    assert t.item() == value


@pytest.mark.parametrize("data, dtype", [
    ([[1, 2], [3, 4]], ember.int64),
    ([[1, 2.0], [3, 4]], ember.float32),
    ([True, False], ember.bool),
    ([True, 2], ember.int64),
    ([[False], [1.5]], ember.float32),
    ((1, (2, 3))[1:], ember.int64),
    ([], ember.float32),
])
def test_tensor_infers_dtype_from_nested_lists(data, dtype):
    t = ember.tensor(data)
    assert t.dtype is dtype
    want = np.array(data, dtype=NP_DTYPES[dtype.name])
    assert t.shape == want.shape
    np.testing.assert_array_equal(to_numpy(t), want)


def test_tensor_default_dtype_follows_set_default_dtype(default_float64):
    assert ember.tensor([1.0, 2.0]).dtype is ember.float64
    assert ember.tensor(1.0).dtype is ember.float64
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.zeros(2).dtype is ember.float64
    assert ember.arange(0.0, 1.0, 0.5).dtype is ember.float64
    assert ember.get_default_dtype() is ember.float64


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError, match="set_default_dtype"):
        ember.set_default_dtype(ember.int32)
    assert ember.get_default_dtype() is ember.float32


@pytest.mark.parametrize("np_dtype", list(NP_DTYPES.values()))
def test_tensor_from_numpy_keeps_dtype_and_copies(np_dtype):
    a = (np.arange(-3, 9).reshape(3, 4) % 5).astype(np_dtype)
    t = ember.tensor(a)
    assert t.dtype.name == np.dtype(np_dtype).name
    np.testing.assert_array_equal(t.numpy(), a)
    assert not np.shares_memory(t.numpy(), a)
    before = a[0, 0].item()
    a[0, 0] = not before if np_dtype is np.bool_ else before + 1
    assert t[0, 0].item() == before


@pytest.mark.parametrize("np_dtype, want", [(np.int8, ember.int32), (np.int16, ember.int32),
                                            (np.uint8, ember.int32), (np.uint16, ember.int32),
                                            (np.uint32, ember.int64)])
def test_tensor_widens_small_integer_arrays(np_dtype, want):
    info = np.iinfo(np_dtype)
    a = np.array([info.min, 0, 1, info.max], dtype=np_dtype)
    t = ember.tensor(a)
    assert t.dtype is want
    np.testing.assert_array_equal(t.numpy(), a.astype(np.int64))


@pytest.mark.parametrize("np_dtype", [np.uint64, np.complex64, np.dtype("U3"), object])
def test_tensor_rejects_unsupported_numpy_dtypes(np_dtype):
    with pytest.raises(TypeError, match=r"^\[from_numpy\] unsupported NumPy dtype"):
        ember.tensor(np.zeros(3, dtype=np_dtype))


def test_tensor_from_noncontiguous_numpy():
    a = np.arange(24.0).reshape(4, 6)[::-2, 1::2].T
    assert_close(ember.tensor(a), a)
    assert_close(ember.tensor(a[..., 0]), a[..., 0])


@pytest.mark.parametrize("dtype", [ember.float64, "float16", np.float32, "int", float, bool,
                                   ember.bfloat16])
def test_tensor_dtype_argument(dtype):
    t = ember.tensor([[0, 1], [2, 3]], dtype=dtype)
    names = {"int": "int32", float: "float32", bool: "bool", np.float32: "float32"}
    want = names.get(dtype, getattr(dtype, "name", dtype))
    assert t.dtype.name == want
    assert_close(t, np.array([[0, 1], [2, 3]]).astype(bool if want == "bool" else np.float64))


@pytest.mark.parametrize("device", ["cpu", ember.device("cpu"), None])
def test_tensor_device_argument(device):
    t = ember.tensor([1.0, 2.0], device=device)
    assert t.device == "cpu" and t.is_cpu and not t.is_cuda and t.get_device() == -1


def test_tensor_from_tensor_copies():
    a = ember.tensor([1.0, 2.0])
    b = ember.tensor(a)
    assert b.data_ptr() != a.data_ptr()
    b[0] = 5
    assert a[0].item() == 1.0
    assert ember.tensor(a, dtype=ember.int64).dtype is ember.int64


@pytest.mark.parametrize("data", [[[1, 2], [3]], [1, [2]], [[1, 2], 3]])
def test_tensor_ragged_lists_raise_value_error(data):
    with pytest.raises(ValueError, match=r"^\[tensor\]"):
        ember.tensor(data)


def test_tensor_rejects_non_numeric_elements():
    with pytest.raises(TypeError, match=r"^\[tensor\].*str"):
        ember.tensor([1, "a"])
    with pytest.raises(TypeError, match=r"^\[tensor\]"):
        ember.tensor([None])


# ---- constructors ---------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [(), (0,), (3,), (2, 3), (1, 0, 4)])
@pytest.mark.parametrize("fn, fill", [(ember.zeros, 0.0), (ember.ones, 1.0)])
def test_zeros_ones_varargs_and_tuple(fn, fill, sizes):
    for t in (fn(*sizes), fn(sizes), fn(list(sizes))):
        assert t.shape == sizes and t.dtype is ember.float32 and t.is_contiguous()
        assert_close(t, np.full(sizes, fill))
    assert fn(*sizes, dtype=ember.int32).dtype is ember.int32


@pytest.mark.parametrize("value, dtype", [(2, ember.int64), (2.5, ember.float32),
                                          (True, ember.bool)])
def test_full_dtype_follows_value(value, dtype):
    t = ember.full((2, 3), value)
    assert t.dtype is dtype
    np.testing.assert_array_equal(to_numpy(t), np.full((2, 3), value))
    assert_close(ember.full(4, value, dtype=ember.float64), np.full(4, float(value)))


def test_full_special_values():
    assert np.isnan(ember.full((2,), float("nan")).numpy()).all()
    assert (ember.full((2,), -np.inf, dtype=ember.float16).numpy() == -np.inf).all()


def test_empty_shape_dtype_and_contiguity():
    for t in (ember.empty(2, 3), ember.empty((2, 3)), ember.empty([2, 3], dtype=ember.int64)):
        assert t.shape == (2, 3) and t.is_contiguous() and t.stride() == (3, 1)
    assert ember.empty(0).numel() == 0
    assert ember.empty(()).shape == ()


@pytest.mark.parametrize("args", [(5,), (0,), (2, 9), (1, 10, 3), (10, 0, -3), (0, -5, -1),
                                  (5, 0), (3, 3), (-4, 4, 3), (10, 1, 1)])
def test_arange_int(args):
    t = ember.arange(*args)
    assert t.dtype is ember.int64
    np.testing.assert_array_equal(t.numpy(), np.arange(*args))


@pytest.mark.parametrize("args", [(0.0, 1.0, 0.1), (1.5,), (2, -1.0, -0.25), (0, 1, 0.3),
                                  (1.0, 1.0), (3.0, 1.0)])
def test_arange_float(args):
    t = ember.arange(*args)
    assert t.dtype is ember.float32
    assert_close(t, np.arange(*args))
    assert_close(ember.arange(*args, dtype=ember.float64), np.arange(*args))


def test_arange_with_dtype_and_errors():
    np.testing.assert_array_equal(ember.arange(4, dtype=ember.float32).numpy(),
                                  np.arange(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"^\[arange\] step must be nonzero"):
        ember.arange(0, 5, 0)
    with pytest.raises(ValueError, match=r"^\[arange\].*finite"):
        ember.arange(0, float("inf"))


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-2, 3, 1), (1, 0, 4), (0, 1, 0),
                                               (0.5, 7.25, 129)])
def test_linspace(start, end, steps):
    t = ember.linspace(start, end, steps)
    assert t.dtype is ember.float32
    assert_close(t, np.linspace(start, end, steps))
    assert_close(ember.linspace(start, end, steps, dtype=ember.float64),
                 np.linspace(start, end, steps))


def test_linspace_negative_steps():
    with pytest.raises(ValueError, match=r"^\[linspace\]"):
        ember.linspace(0, 1, -1)


@pytest.mark.parametrize("n, m", [(3, None), (2, 4), (4, 2), (0, None), (1, 0)])
def test_eye(n, m):
    t = ember.eye(n, m)
    assert t.dtype is ember.float32
    assert_close(t, np.eye(n, m))
    assert ember.eye(n, m, dtype=ember.int32).dtype is ember.int32
    with pytest.raises(ValueError, match=r"^\[eye\]"):
        ember.eye(-1)


@pytest.mark.parametrize("dtype", [ember.int32, ember.float16, ember.bfloat16, ember.float64])
def test_like_constructors_keep_shape_and_dtype(dtype):
    base = ember.zeros(3, 4, dtype=dtype).T  # non-contiguous source
    for fn, want in [(ember.zeros_like, 0), (ember.ones_like, 1), (ember.empty_like, None)]:
        t = fn(base)
        assert t.shape == (4, 3) and t.dtype is dtype and t.is_contiguous()
        if want is not None:
            assert_close(t, np.full((4, 3), want))
    f = ember.full_like(base, 2)
    assert f.dtype is dtype
    assert_close(f, np.full((4, 3), 2.0))
    assert ember.zeros_like(base, dtype=ember.bool).dtype is ember.bool


# ---- dtype conversion -----------------------------------------------------------------------
# Values every dtype holds exactly (bool excepted), so each pair has one right answer.
EXACT = np.array([0, 1, -2, 3, 64, -100, 7, 0], dtype=np.float64)


def _reference(src: ember.dtype, dst: ember.dtype) -> np.ndarray:
    x = EXACT if src is not ember.bool else (EXACT != 0).astype(np.float64)
    if dst is ember.bool:
        return x != 0
    return x


@pytest.mark.parametrize("src, dst", list(itertools.product(DTYPES, DTYPES)))
def test_to_every_dtype_pair(src, dst):
    base = ember.tensor(EXACT if src is not ember.bool else EXACT != 0).to(src)
    for x in (base, base.reshape(2, 4).T):  # contiguous and strided sources
        got = x.to(dst)
        assert got.dtype is dst and got.shape == x.shape
        want = _reference(src, dst)
        want = want if x.ndim == 1 else want.reshape(2, 4).T
        np.testing.assert_array_equal(to_numpy(got), want)


def test_to_same_dtype_returns_self_and_copy_true_copies():
    x = ember.tensor([1.0, 2.0])
    assert x.to(ember.float32) is x
    y = x.to(ember.float32, copy=True)
    assert y is not x and y.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("method, dtype", [("float", ember.float32), ("double", ember.float64),
                                           ("half", ember.float16), ("int", ember.int32),
                                           ("bfloat16", ember.bfloat16), ("long", ember.int64),
                                           ("bool", ember.bool)])
def test_conversion_methods(method, dtype):
    x = ember.tensor([[0.0, 1.0, -3.0]])
    got = getattr(x, method)()
    assert got.dtype is dtype
    np.testing.assert_array_equal(to_numpy(got), np.array([[0.0, 1.0, -3.0]]).astype(
        bool if dtype is ember.bool else np.float64))


@pytest.mark.parametrize("spec", ["float16", np.float16, np.dtype("float16"), "half",
                                  ember.float16])
def test_astype_to_and_type_accept_dtype_spellings(spec):
    x = ember.tensor([1.5, 2.5])
    for got in (x.astype(spec), x.to(spec), x.to(dtype=spec), x.type(spec)):
        assert got.dtype is ember.float16
    assert x.type() == "ember.float32"


def test_to_rejects_unknown_dtype_and_arguments():
    x = ember.tensor([1.0])
    with pytest.raises(TypeError, match=r"^\[dtype\]"):
        x.to(np.complex64)
    with pytest.raises(ValueError, match=r"^\[device\].*'tpu'"):
        x.to("tpu")
    with pytest.raises(TypeError, match=r"^\[to\] unexpected"):
        x.to(ember.float64, memory_format=None)


def test_float_to_int_truncates_toward_zero():
    x = np.array([-3.7, -0.5, 0.5, 2.5, 2.9999, 1000.5, -2047.5])
    for src in (ember.float16, ember.float32, ember.float64):
        t = ember.tensor(x, dtype=ember.float64).to(src)
        want = np.trunc(to_numpy(t).astype(np.float64))
        np.testing.assert_array_equal(t.long().numpy(), want.astype(np.int64))
        np.testing.assert_array_equal(t.int().numpy(), want.astype(np.int32))


def test_float_to_bool_nan_is_true():
    x = ember.tensor([0.0, -0.0, float("nan"), float("inf"), 1e-30])
    np.testing.assert_array_equal(x.bool().numpy(), [False, False, True, True, True])
    np.testing.assert_array_equal(x.half().bool().numpy(), [False, False, True, True, False])


def _float32_samples() -> np.ndarray:
    """Hard cases for 16-bit rounding: halfway ties (both parities), just above/below ties,
    subnormals of both formats, overflow, signed zeros, inf and NaN, plus random bits."""
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2**32, 4000, dtype=np.uint64).astype(np.uint32)
    upper = rng.integers(0, 2**16, 500, dtype=np.uint64).astype(np.uint32) << 16
    ties = np.concatenate([upper | 0x8000, upper | 0x7FFF, upper | 0x8001])
    r = bits.view(np.float32)
    h = (rng.integers(0, 2**16, 2000, dtype=np.uint64).astype(np.uint16)).view(np.float16)
    h32 = h.astype(np.float32)
    # float16 ties: half-way between neighbours of h, in float32
    with np.errstate(all="ignore"):
        nxt = np.nextafter(h, np.float16(np.inf)).astype(np.float32)
        mids = (h32 + (nxt - h32) / 2).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.99, 65520, 1e-8,
                        5.96e-8, 2.98e-8, 2.9802322e-08, 1e-40, 3.4e38, -3.4e38, 1.0 + 2**-11,
                        1.0 + 3 * 2**-11, 2.0**-24 * 1.5], dtype=np.float32)
    return np.concatenate([r, ties.view(np.float32), h32, mids, special])


def _bf16_reference(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 -> float32 with round-to-nearest-even, from the bits."""
    b = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    out = (rounded << 16).astype(np.uint32).view(np.float32).copy()
    out[np.isnan(x)] = np.nan
    return out


def test_float16_round_to_nearest_even_matches_numpy():
    x = _float32_samples()
    got = ember.tensor(x).half().numpy()
    want = x.astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16)[~np.isnan(want)],
                                  want.view(np.uint16)[~np.isnan(want)])
    assert np.isnan(got[np.isnan(want)]).all()
    back = ember.tensor(want).float().numpy()  # float16 -> float32 is exact
    np.testing.assert_array_equal(back, want.astype(np.float32))


def test_float64_to_float16_matches_numpy_on_float32_values():
    x = _float32_samples().astype(np.float64)
    got = ember.tensor(x).half().numpy()
    want = x.astype(np.float16)
    np.testing.assert_array_equal(got, want)


def test_bfloat16_round_to_nearest_even_matches_bit_reference():
    x = _float32_samples()
    got = ember.tensor(x).bfloat16().float().numpy()
    want = _bf16_reference(x)
    np.testing.assert_array_equal(got, want)
    # sign of zero and of infinities survives
    assert np.array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)]))


def test_bfloat16_from_float64_and_back():
    x = _float32_samples().astype(np.float64)
    np.testing.assert_array_equal(ember.tensor(x).bfloat16().double().numpy(),
                                  _bf16_reference(x.astype(np.float32)).astype(np.float64))


@pytest.mark.parametrize("dst", [ember.float16, ember.bfloat16, ember.float32, ember.float64])
@pytest.mark.parametrize("src", [ember.float16, ember.bfloat16, ember.float32, ember.float64])
def test_nan_and_inf_survive_float_conversions(src, dst):
    x = ember.tensor([np.nan, np.inf, -np.inf, -np.nan, 1.0]).to(src).to(dst)
    got = to_numpy(x)
    assert np.isnan(got[0]) and np.isnan(got[3])
    np.testing.assert_array_equal(got[1:3], [np.inf, -np.inf])
    assert got[4] == 1.0


def test_int_to_float16_rounds_and_overflows():
    x = np.array([2049, 2051, 65504, 65519, 65520, 100000, -70000], dtype=np.int64)
    np.testing.assert_array_equal(ember.tensor(x).half().numpy(), x.astype(np.float16))
    got = ember.tensor(x).bfloat16().float().numpy()
    np.testing.assert_array_equal(got, _bf16_reference(x.astype(np.float32)))


def test_int64_to_int32_wraps_like_numpy():
    x = np.array([2**31, -(2**31) - 1, 2**40 + 5, -1], dtype=np.int64)
    np.testing.assert_array_equal(ember.tensor(x).int().numpy(), x.astype(np.int32))


def test_python_floats_keep_double_precision():
    x = [1 / 3, 0.1, 1e-310, 2.0**60 + 2.0**8]
    np.testing.assert_array_equal(ember.tensor(x, dtype=ember.float64).numpy(), np.array(x))
    assert ember.tensor(1 / 3, dtype="double").item() == 1 / 3
    np.testing.assert_array_equal(ember.tensor(x).numpy(), np.array(x, dtype=np.float32))
