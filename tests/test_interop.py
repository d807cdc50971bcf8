"""Interop: NumPy (from_numpy, np.asarray, .numpy(), __array__), DLPack both ways (NumPy and
PyTorch), Python scalars and lists (item, tolist, len, iter, bool/float/int/index), repr."""

from __future__ import annotations

import gc

import ember
import numpy as np
import pytest

NP_DTYPES = [np.bool_, np.int32, np.int64, np.float16, np.float32, np.float64]


# ---- from_numpy -----------------------------------------------------------------------------
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_from_numpy_shares_memory_both_ways(np_dtype):
    a = np.zeros((3, 4), dtype=np_dtype)
    t = ember.from_numpy(a)
    assert t.dtype.name == np.dtype(np_dtype).name and t.shape == (3, 4)
    assert t.data_ptr() == a.ctypes.data
    a[1, 2] = 1
    assert t[1, 2].item() == 1
    t[2, 3] = 1
    assert a[2, 3] == 1
    assert np.shares_memory(t.numpy(), a)


@pytest.mark.parametrize("slicer", [
    lambda a: a[::2],
    lambda a: a[::-1],
    lambda a: a[:, ::-3],
    lambda a: a.T,
    lambda a: a[::-2, 1::2].T,
    lambda a: a[1:1],
    lambda a: a[2, ::-1],
    lambda a: np.broadcast_to(a[:1], (4, 5, 6)),
])
def test_from_numpy_any_strides(slicer):
    base = np.arange(5 * 6, dtype=np.float32).reshape(5, 6)
    a = slicer(base)
    t = ember.from_numpy(a)
    assert t.shape == a.shape
    assert t.stride() == tuple(s // a.itemsize for s in a.strides)
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal((t + 1).numpy(), a + 1)
    np.testing.assert_array_equal(t.contiguous().numpy(), a)
    if a.size:
        assert np.shares_memory(t.numpy(), base)


def test_from_numpy_negative_strides_write_through():
    base = np.zeros((4, 3))
    t = ember.from_numpy(base[::-1, ::-1])
    t[0, 0] = 5
    assert base[3, 2] == 5
    t.fill_(1)
    assert (base == 1).all()


def test_from_numpy_keeps_the_array_alive():
    t = ember.from_numpy(np.arange(1000, dtype=np.int64) * 3)
    gc.collect()
    assert t[999].item() == 2997


def test_from_numpy_of_readonly_array():
    a = np.arange(4.0)
    a.flags.writeable = False
    t = ember.from_numpy(a)
    np.testing.assert_array_equal(t.numpy(), a)


@pytest.mark.parametrize("np_dtype", [np.int8, np.uint8, np.uint16, np.uint64, np.complex128,
                                      np.float128 if hasattr(np, "float128") else np.int16])
def test_from_numpy_unsupported_dtype_raises_type_error(np_dtype):
    with pytest.raises(TypeError, match=r"^\[from_numpy\].*" + np.dtype(np_dtype).name):
        ember.from_numpy(np.zeros(3, dtype=np_dtype))


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError, match=r"^\[from_numpy\].*list"):
        ember.from_numpy([1, 2])


def test_from_numpy_misaligned_stride_raises():
    raw = np.zeros(20, dtype=np.uint8)
    a = raw[1:17].view(np.float32)  # fine: contiguous floats at an odd address
    np.testing.assert_array_equal(ember.from_numpy(a).numpy(), a)
    rec = np.zeros(3, dtype=[("x", np.float32), ("y", np.int16)])  # 6-byte stride
    with pytest.raises((TypeError, ValueError), match=r"^\[from_numpy\]"):
        ember.from_numpy(rec["x"])


# ---- to NumPy -------------------------------------------------------------------------------
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_asarray_and_numpy_are_zero_copy(np_dtype):
    t = ember.ones(2, 3, dtype=np_dtype().dtype.name)
    a = np.asarray(t)
    b = t.numpy()
    assert a.dtype == np_dtype and a.shape == (2, 3)
    assert a.ctypes.data == t.data_ptr() and b.ctypes.data == t.data_ptr()
    a[0, 0] = 0
    assert t[0, 0].item() == 0


def test_numpy_of_views_keeps_strides():
    t = ember.arange(24).reshape(2, 3, 4)
    v = t.permute(2, 0, 1)[::-1, :, 1:]
    a = v.numpy()
    np.testing.assert_array_equal(a, np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1)[::-1, :, 1:])
    assert np.shares_memory(a, t.numpy())
    assert ember.zeros(3).expand(2, 3).numpy().strides == (0, 4)


def test_array_protocol_with_dtype_and_copy():
    t = ember.tensor([1.5, 2.5])
    a = np.array(t, dtype=np.int64)
    np.testing.assert_array_equal(a, [1, 2])
    c = t.__array__(copy=True)
    c[0] = 0
    assert t[0].item() == 1.5
    assert np.asarray(t, dtype=np.float32).ctypes.data == t.data_ptr()


def test_bfloat16_to_numpy():
    t = ember.tensor([1.0, 2.5, -3.0]).bfloat16()
    np.testing.assert_array_equal(np.asarray(t), np.array([1.0, 2.5, -3.0], np.float32))
    with pytest.raises(TypeError, match=r"^\[numpy\].*bfloat16"):
        t.numpy()


def test_numpy_functions_accept_tensors():
    t = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.sum(np.asarray(t)) == 10.0
    assert isinstance(np.array(t) + 1, np.ndarray)
    assert isinstance(np.float64(2.0) * t, ember.Tensor)


# ---- DLPack ---------------------------------------------------------------------------------
@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_dlpack_to_numpy_shares_memory(np_dtype):
    t = ember.zeros(2, 5, dtype=np.dtype(np_dtype).name)[:, 1::2]
    a = np.from_dlpack(t)
    assert a.dtype == np_dtype and a.shape == (2, 2)
    assert a.ctypes.data == t.data_ptr()
    assert a.strides == tuple(s * t.element_size() for s in t.stride())
    t[1, 1] = 1
    assert a[1, 1] == 1
    del t
    gc.collect()
    assert a[1, 1] == 1  # the capsule keeps the storage alive


@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_dlpack_from_numpy_shares_memory(np_dtype):
    base = np.zeros((4, 6), dtype=np_dtype)
    a = base[::2, ::-1]
    t = ember.from_dlpack(a)
    assert t.shape == (2, 6) and t.dtype.name == np.dtype(np_dtype).name
    np.testing.assert_array_equal(t.numpy(), a)
    t[0, 0] = 1
    assert base[0, -1] == 1


def test_dlpack_device_and_versions():
    t = ember.zeros(3)
    assert t.__dlpack_device__() == (1, 0)
    old = t.__dlpack__()
    new = t.__dlpack__(max_version=(1, 0))
    assert "dltensor" in repr(old) and "dltensor_versioned" in repr(new)
    for cap in (old, new):
        u = ember.from_dlpack(cap)
        assert u.data_ptr() == t.data_ptr()


def test_dlpack_capsule_is_consumed_once():
    t = ember.arange(5)
    cap = t.__dlpack__()
    u = ember.from_dlpack(cap)
    assert u.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"^\[from_dlpack\].*unconsumed"):
        ember.from_dlpack(cap)


def test_dlpack_copy_true_copies():
    t = ember.zeros(3)
    u = ember.from_dlpack(t.__dlpack__(copy=True))
    assert u.data_ptr() != t.data_ptr()


def test_unconsumed_capsules_are_freed():
    before = ember.cpu.memory_stats()["allocated_bytes"]
    for _ in range(20):
        ember.zeros(1 << 16).__dlpack__()
        ember.zeros(1 << 16).__dlpack__(max_version=(1, 0))
    gc.collect()
    assert ember.cpu.memory_stats()["allocated_bytes"] == before


def test_from_dlpack_rejects_garbage():
    with pytest.raises((TypeError, ValueError)):
        ember.from_dlpack(object())


def test_dlpack_torch_round_trip():
    torch = pytest.importorskip("torch")
    for td, ed in [(torch.float32, ember.float32), (torch.bfloat16, ember.bfloat16),
                   (torch.int32, ember.int32), (torch.bool, ember.bool),
                   (torch.float16, ember.float16), (torch.int64, ember.int64)]:
        x = torch.arange(12).reshape(3, 4).to(td).t()
        e = ember.from_dlpack(x)
        assert e.dtype is ed and e.shape == (4, 3) and e.stride() == x.stride()
        assert e.data_ptr() == x.data_ptr()
        back = torch.from_dlpack(e)
        assert back.data_ptr() == x.data_ptr() and back.dtype == td
        assert torch.equal(back, x)
    x = torch.zeros(4)
    e = ember.from_dlpack(x)
    e[1] = 3
    assert x[1].item() == 3
    y = torch.from_dlpack(ember.arange(6.0).reshape(2, 3)[:, ::2])
    assert y.tolist() == [[0.0, 2.0], [3.0, 5.0]]


# ---- Python scalars and sequences -----------------------------------------------------------
@pytest.mark.parametrize("dtype, value", [(ember.bool, True), (ember.int32, -7),
                                          (ember.int64, 2**40), (ember.float16, 0.5),
                                          (ember.bfloat16, -2.0), (ember.float32, 1.25),
                                          (ember.float64, 1 / 3)])
def test_item_returns_python_scalars(dtype, value):
    t = ember.tensor(value, dtype=dtype)
    v = t.item()
    assert type(v) is type(value) and v == value
    assert t.reshape(1, 1).item() == value
    assert ember.full((3,), value, dtype=dtype)[1].item() == value


def test_item_of_many_elements_raises():
    with pytest.raises(ValueError, match=r"^\[item\].*\(2,\)"):
        ember.zeros(2).item()


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float16", "bfloat16",
                                   "float32", "float64"])
def test_tolist(dtype):
    data = [[0, 1, 2], [3, 0, 1]]
    t = ember.tensor(data).to(dtype)
    want = np.array(data).astype(np.float64 if dtype == "bfloat16" else dtype).tolist()
    assert t.tolist() == want
    assert t.T.tolist() == np.array(want).T.tolist()
    assert ember.tensor(2.5).tolist() == 2.5
    assert ember.zeros(0, 3).tolist() == []


def test_len_iter_bool_float_int_index():
    t = ember.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert rows[1].data_ptr() == t.data_ptr() + 2 * 8
    assert bool(ember.tensor([0.5])) and not bool(ember.tensor(0))
    assert float(ember.tensor(2)) == 2.0 and int(ember.tensor([[3.9]])) == 3
    assert [10, 20, 30][ember.tensor(1)] == 20
    assert list(range(5))[ember.tensor(1, dtype=ember.int32):ember.tensor(3)] == [1, 2]
    with pytest.raises(ValueError, match=r"^\[bool\].*ambiguous"):
        bool(t)
    with pytest.raises(TypeError, match=r"^\[len\]"):
        len(ember.tensor(1.0))
    with pytest.raises(TypeError, match=r"^\[iter\]"):
        iter(ember.tensor(1.0))
    with pytest.raises(TypeError, match=r"^\[__index__\]"):
        [1, 2][ember.tensor(1.0)]
    with pytest.raises(ValueError, match=r"^\[item\]"):
        float(t)
    assert len(ember.zeros(0, 2)) == 0 and list(ember.zeros(0, 2)) == []


# ---- repr -----------------------------------------------------------------------------------
def test_repr_0d_and_dtypes():
    # NumPy's formatting; the dtype is named unless it is a default (float32, int64, bool).
    assert repr(ember.tensor(1.5)) == "tensor(1.5)"
    assert repr(ember.tensor(3)) == "tensor(3)"
    assert repr(ember.tensor(True)) == "tensor(True)"
    assert repr(ember.tensor(2, dtype=ember.int32)) == "tensor(2, dtype=ember.int32)"
    assert repr(ember.tensor([1, 2], dtype=ember.int32)) == "tensor([1, 2], dtype=ember.int32)"
    assert repr(ember.tensor([True, False])) == "tensor([ True, False])"
    assert repr(ember.tensor([0.5, 1.0])) == "tensor([0.5, 1.0])"
    assert repr(ember.tensor([0.5, 1.0]).bfloat16()) == "tensor([0.5, 1.0], dtype=ember.bfloat16)"
    assert repr(ember.tensor(-2.0).bfloat16()) == "tensor(-2., dtype=ember.bfloat16)"
    assert repr(ember.tensor([1.0, 2.5], dtype=ember.float64)) == \
        "tensor([1.0, 2.5], dtype=ember.float64)"
    assert repr(ember.tensor([float("nan"), float("inf")])) == "tensor([nan, inf])"


def test_repr_empty():
    assert repr(ember.zeros(0)) == "tensor([], dtype=ember.float32)"
    assert repr(ember.zeros(2, 0, dtype=ember.int64)) == \
        "tensor([], dtype=ember.int64, size=(2, 0))"


def test_repr_large_is_summarised():
    r = repr(ember.arange(100000))
    assert r.startswith("tensor([    0,     1,     2, ...") and "99999])" in r
    assert len(r) < 200
    r2 = repr(ember.zeros(1000, 1000))
    assert "..." in r2 and len(r2) < 2000


def test_repr_of_views_and_str():
    t = ember.arange(6.0).reshape(2, 3).T
    assert repr(t) == "tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]])"
    assert str(ember.tensor([1])) == "tensor([1])"
    assert repr(ember.Size([2, 3])) == "ember.Size([2, 3])"
    assert ember.zeros(2, 3).shape == (2, 3) and ember.zeros(2, 3).shape.numel() == 6
