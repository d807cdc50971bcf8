"""Indexing and joining: advanced getitem/setitem (NumPy's rules), cat/stack, gather/scatter,
index_select, take, masked ops, nonzero. References are NumPy (and PyTorch where installed)."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from conftest import assert_close

DTYPES = [ember.bool, ember.int32, ember.int64, ember.float16, ember.bfloat16, ember.float32,
          ember.float64]


def _np(x):
    return np.asarray(x.float() if x.dtype is ember.bfloat16 else x)


A = np.arange(60.0).reshape(3, 4, 5)
M = A > 27

GETITEM_CASES = [
    ([0, 2],),
    ([-1, 0, -3],),
    (0, slice(None), [1, 2]),          # separated advanced indices: result dims first
    (slice(None), [0, 1], [1, 2]),     # adjacent: result dims in place
    ([[0], [1]], slice(None), [1, 2]),  # broadcasting index tensors
    (M,),
    (slice(1, None), M[0, :, 0]),
    (M[:, :, 0], slice(None, None, -2)),
    (Ellipsis, [4, 0]),
    (True,),
    (False,),
    (None, [0], None),
    (np.array([1, 1, 0]), slice(None), 3),
    ([],),
    (slice(None), np.array([], dtype=np.int64)),
]


@pytest.mark.parametrize("idx", GETITEM_CASES, ids=range(len(GETITEM_CASES)))
def test_advanced_getitem_matches_numpy(idx, capability):
    got = ember.tensor(A)[idx]
    assert_close(got, A[idx])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_advanced_getitem_every_dtype_noncontiguous(dtype):
    a = np.random.default_rng(1).standard_normal((7, 9)) * 10
    x = ember.tensor(a, dtype=dtype).T[1::2]  # transposed and sliced
    want = _np(ember.tensor(a, dtype=dtype)).T[1::2][[3, 0, -1]]
    assert_close(x[[3, 0, -1]], want)
    assert_close(x[:, [6, 0]], _np(ember.tensor(a, dtype=dtype)).T[1::2][:, [6, 0]])


def test_index_tensor_and_numpy_index_agree():
    x = ember.tensor(A)
    i = np.array([[2, 0], [1, 1]])
    assert_close(x[ember.tensor(i)], A[i])
    assert_close(x[ember.tensor(i, dtype=ember.int32), 1:3], A[i, 1:3])


@pytest.mark.parametrize("idx", [([3],), (0, [5]), (slice(None), slice(None), [-6])])
def test_out_of_range_index_raises_index_error_naming_dim_and_size(idx):
    with pytest.raises(IndexError, match=r"index -?\d+ is out of bounds for dim \d with size \d"):
        ember.tensor(A)[idx]
    with pytest.raises(IndexError, match="out of bounds"):
        ember.tensor(A)[idx] = 1.0


def test_bad_index_kinds_raise():
    x = ember.tensor(A)
    with pytest.raises(IndexError, match="int32, int64 or bool"):
        x[ember.tensor([0.5])]
    with pytest.raises(IndexError, match="does not match"):
        x[M[0]]
    with pytest.raises(IndexError, match="broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="too many"):
        x[[0], [0], [0], [0]]


def test_setitem_advanced_matches_numpy():
    cases = [
        (([0, 2], slice(1, 3)), 7.0),
        (([0, 2], slice(1, 3)), np.arange(10.0).reshape(2, 5)),
        ((M,), -1.0),
        ((slice(None), [3, 0], [4, 4]), np.array([[1.0], [2.0], [3.0]])),
        ((0, slice(None), [1, 2]), np.array([[5.0], [6.0]])),
        ((ember.tensor(M),), ember.tensor(np.arange(float(M.sum())))),
    ]
    for idx, value in cases:
        x, want = ember.tensor(A), A.copy()
        version = x._c.version if hasattr(x._c, "version") else None
        x[idx] = value
        nidx = tuple(np.asarray(i) if isinstance(i, ember.Tensor) else i for i in idx)
        want[nidx] = np.asarray(value)
        assert_close(x, want)
        if version is not None:
            assert x._c.version > version


def test_setitem_duplicates_and_aliasing():
    x = ember.tensor(np.arange(5.0))
    x[[1, 1, 1]] = ember.tensor([1.0, 2.0, 3.0])
    assert x[1].item() in (1.0, 2.0, 3.0)
    y = ember.tensor(np.arange(6.0))
    y[[0, 1, 2]] = y[3:]  # value overlaps the destination's storage
    assert_close(y, [3, 4, 5, 3, 4, 5])


def test_setitem_writes_through_views_and_casts_value():
    base = ember.zeros(4, 6, dtype=ember.int32)
    view = base[:, ::2]
    view[[0, 3], [2, 0]] = 9.7  # float value into an int tensor truncates, as PyTorch
    want = np.zeros((4, 6))
    want[0, 4] = want[3, 0] = 9
    assert_close(base, want)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_matches_numpy(dim, capability):
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal((3, 4)) for _ in range(3)]
    if dim != 0:
        parts[1] = rng.standard_normal((3, 7))
    got = ember.cat([ember.tensor(p) for p in parts], dim)
    assert_close(got, np.concatenate(parts, dim))
    xt = ember.tensor(parts[0]).T  # non-contiguous input
    assert_close(ember.cat([xt, xt], dim), np.concatenate([parts[0].T] * 2, dim))


def test_cat_promotes_and_skips_legacy_empty():
    a = ember.tensor([[1, 2]], dtype=ember.int32)
    b = ember.tensor([[0.5, 1.5]], dtype=ember.float16)
    out = ember.cat([a, ember.zeros(0), b])
    assert out.dtype is ember.float32
    assert_close(out, [[1, 2], [0.5, 1.5]])
    assert ember.cat([ember.zeros(0), ember.zeros(0)]).shape == (0,)
    assert ember.cat([ember.zeros(2, 0), ember.zeros(3, 0)]).shape == (5, 0)


def test_cat_and_stack_errors():
    with pytest.raises(ValueError, match="non-empty"):
        ember.cat([])
    with pytest.raises(ValueError, match="zero-dimensional"):
        ember.cat([ember.tensor(1.0)])
    with pytest.raises(ValueError, match=r"position 1 has shape \(2, 3\)"):
        ember.cat([ember.zeros(2, 2), ember.zeros(2, 3)])
    with pytest.raises(IndexError, match="dim 2"):
        ember.cat([ember.zeros(2, 2)], 2)
    with pytest.raises(ValueError, match="one shape"):
        ember.stack([ember.zeros(2), ember.zeros(3)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_matches_numpy(dim):
    parts = [A[0], A[1] * 2, A[2] - 1]
    assert_close(ember.stack([ember.tensor(p) for p in parts], dim), np.stack(parts, dim))
    assert_close(ember.stack([ember.tensor(1.0), ember.tensor(2.0)]), [1.0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("dim", [0, 1])
def test_gather_matches_numpy(dtype, dim, capability):
    rng = np.random.default_rng(2)
    a = rng.integers(0, 5, (5, 7)).astype(np.float64)
    idx = rng.integers(0, a.shape[dim], (3, 6))
    x = ember.tensor(a, dtype=dtype)
    got = ember.gather(x, dim, ember.tensor(idx))
    assert_close(got, _gather_ref(_np(x), dim, idx))
    assert_close(x.T.gather(1 - dim, ember.tensor(idx.T)), _gather_ref(_np(x).T, 1 - dim, idx.T))


def _gather_ref(a, dim, idx):
    out = np.empty(idx.shape, a.dtype)
    for i, j in np.ndindex(*idx.shape):
        out[i, j] = a[idx[i, j], j] if dim == 0 else a[i, idx[i, j]]
    return out


def test_gather_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dim 0 with size 3"):
        ember.gather(x, 0, ember.tensor([[3]]))
    with pytest.raises(IndexError, match="out of bounds"):
        ember.gather(x, 1, ember.tensor([[-1]]))
    with pytest.raises(ValueError, match="as many dims"):
        ember.gather(x, 0, ember.tensor([0]))
    with pytest.raises(ValueError, match="larger"):
        ember.gather(x, 0, ember.zeros(1, 5, dtype=ember.int64))
    with pytest.raises(IndexError, match="int32, int64"):
        ember.gather(x, 0, ember.zeros(1, 1))


@pytest.mark.parametrize("dtype", [ember.int32, ember.float16, ember.float32, ember.float64],
                         ids=lambda d: d.name)
def test_scatter_and_scatter_add(dtype, capability):
    idx = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
    src = np.arange(1.0, 13.0).reshape(3, 4)
    x = ember.zeros(3, 5, dtype=dtype)
    want = np.zeros((3, 5))
    want_add = np.zeros((3, 5))
    for i, j in np.ndindex(*idx.shape):
        want[idx[i, j], j] = src[i, j]
        want_add[idx[i, j], j] += src[i, j]
    s = ember.tensor(src, dtype=dtype)
    assert_close(ember.scatter(x, 0, ember.tensor(idx), s), want)
    assert_close(ember.scatter_add(x, 0, ember.tensor(idx), s), want_add)
    assert_close(x, np.zeros((3, 5)))  # out-of-place left x alone
    x.scatter_(0, ember.tensor(idx), 2.0, reduce="add")
    assert_close(x, (want_add != 0) * 0 + _counts(idx, (3, 5)) * 2.0)


def _counts(idx, shape):
    c = np.zeros(shape)
    for i, j in np.ndindex(*idx.shape):
        c[idx[i, j], j] += 1
    return c


def test_scatter_multiply_value_and_errors():
    x = ember.full((2, 3), 2.0)
    x.scatter_(1, ember.tensor([[0, 0], [2, 1]]), ember.tensor([[3.0, 5.0], [7.0, 1.0]]),
               reduce="multiply")
    assert_close(x, [[30.0, 2.0, 2.0], [2.0, 2.0, 14.0]])
    y = ember.zeros(2, 2).scatter(1, ember.tensor([[1], [0]]), value=4.0)
    assert_close(y, [[0, 4], [4, 0]])
    with pytest.raises(IndexError, match="index 2 is out of bounds for dim 1 with size 2"):
        ember.zeros(2, 2).scatter_(1, ember.tensor([[2]]), 1.0)
    with pytest.raises(ValueError, match="reduce"):
        ember.zeros(2).scatter(0, ember.tensor([0]), 1.0, reduce="max")


def test_index_select_and_take(capability):
    x = ember.tensor(A)
    assert_close(ember.index_select(x, 1, ember.tensor([3, 0, 3])), A[:, [3, 0, 3]])
    assert_close(x.index_select(-1, ember.tensor(2)), A[:, :, [2]])
    assert_close(x.T.index_select(0, ember.tensor([1])), A.T[[1]])
    with pytest.raises(IndexError, match="index 4 is out of bounds for dim 1 with size 4"):
        x.index_select(1, ember.tensor([4]))
    idx = np.array([[0, 59], [-1, 7]])
    assert_close(ember.take(x, ember.tensor(idx)), np.take(A, idx))
    assert_close(x.T.take(ember.tensor([1])), A.T.reshape(-1)[[1]])
    with pytest.raises(IndexError, match="index 60 is out of bounds"):
        x.take(ember.tensor([60]))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_masked_fill_and_select(dtype, capability):
    a = np.random.default_rng(3).integers(-3, 4, (4, 129)).astype(np.float64)
    x = ember.tensor(a, dtype=dtype)
    ref = _np(x).astype(np.float64)
    mask = ref > 0
    assert_close(x.masked_fill(ember.tensor(mask), 1), np.where(mask, 1, ref))
    row = mask[0]  # broadcast mask
    assert_close(ember.masked_fill(x, ember.tensor(row), 0), np.where(row, 0, ref))
    assert_close(x.masked_select(ember.tensor(mask)), ref[mask])
    assert_close(x.T.masked_select(ember.tensor(mask.T)), ref.T[mask.T])
    y = x.clone()
    y.masked_fill_(ember.tensor(mask), ember.tensor(0))
    assert_close(y, np.where(mask, 0, ref))


def test_masked_fill_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(ember.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        x.masked_fill_(ember.zeros(4, 2, 3, dtype=ember.bool), 1.0)
    with pytest.raises(ValueError, match="0-d"):
        x.masked_fill(ember.zeros(2, 3, dtype=ember.bool), ember.zeros(2))


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 129), (2, 3, 4)])
def test_nonzero_matches_numpy(shape):
    a = np.random.default_rng(4).integers(0, 2, shape).astype(np.float32)
    x = ember.tensor(a) if shape else ember.tensor(np.float32(1.0)).reshape(())
    ref = np.asarray(x)
    assert_close(ember.nonzero(x), np.argwhere(ref))
    for got, want in zip(x.nonzero(as_tuple=True), np.nonzero(np.atleast_1d(ref)), strict=True):
        assert_close(got, want)


def test_torch_parity():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 5))
    idx = rng.integers(0, 4, (3, 5))
    x, t = ember.tensor(a), torch.tensor(a)
    ti = torch.tensor(idx)
    assert_close(x.gather(0, ember.tensor(idx)), t.gather(0, ti).numpy())
    assert_close(ember.scatter_add(x, 0, ember.tensor(idx), x[:3]),
                 torch.scatter_add(t, 0, ti, t[:3]).numpy())
    assert_close(x[ember.tensor(a > 0)], t[torch.tensor(a > 0)].numpy())
    assert_close(ember.cat([x, ember.zeros(0)]), torch.cat([t, torch.zeros(0)]).numpy())
