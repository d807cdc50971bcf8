"""Views share storage with their base: reshape/view, transpose/permute/T/mT, expand,
squeeze/unsqueeze, flatten/unflatten, narrow/split/chunk/unbind, movedim, diagonal,
as_strided and basic indexing (get and set), each checked against the same NumPy view."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def _pair(shape, dtype=np.float64):
    """A NumPy array and an ember tensor that views the same memory."""
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    return a, ember.from_numpy(a)


def _same_view(t: ember.Tensor, base: np.ndarray, want: np.ndarray) -> None:
    """`t` equals `want` and shares memory with `base` (writes through it are visible)."""
    got = t.numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if t.numel():
        assert np.shares_memory(got, base)


# ---- reshape / view -------------------------------------------------------------------------
@pytest.mark.parametrize("shape, new", [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)),
                                        ((2, 3, 4), (4, -1, 2)), ((6,), (1, 6, 1)),
                                        ((0, 3), (3, 0)), ((0, 3), (-1, 3)), ((), (1, 1)),
                                        ((1,), ())])
def test_view_and_reshape_of_contiguous_share_storage(shape, new):
    a, t = _pair(shape)
    for v in (t.view(*new), t.view(new), t.reshape(new), t.reshape(*new)):
        _same_view(v, a, a.reshape(new))
    assert t.view(new).data_ptr() == t.data_ptr()


def test_view_of_compatible_strided_layout_is_a_view():
    a, t = _pair((4, 6))
    s = t[:, ::2]  # (4, 3) with strides (6, 2): splitting and merging dim 1 stay strided
    _same_view(s.view(4, 3, 1), a, a[:, ::2].reshape(4, 3, 1))
    _same_view(t.T.view(3, 2, 4), a, a.T.reshape(3, 2, 4))  # splitting a transposed dim


def test_view_of_non_viewable_layout_raises_and_reshape_copies():
    a, t = _pair((3, 4))
    with pytest.raises(ValueError, match=r"^\[view\].*\(4, 3\).*\(12,\)"):
        t.T.view(12)
    r = t.T.reshape(12)
    np.testing.assert_array_equal(r.numpy(), a.T.reshape(12))
    assert not np.shares_memory(r.numpy(), a)
    assert r.is_contiguous()


def test_view_as_reshape_as():
    a, t = _pair((2, 6))
    other = ember.zeros(3, 4)
    _same_view(t.view_as(other), a, a.reshape(3, 4))
    _same_view(t.reshape_as(other), a, a.reshape(3, 4))


# ---- dim permutations ----------------------------------------------------------------------
def test_transpose_permute_T_mT():
    a, t = _pair((2, 3, 4))
    _same_view(t.transpose(0, 2), a, a.transpose(2, 1, 0))
    _same_view(t.transpose(-1, -2), a, np.swapaxes(a, -1, -2))
    _same_view(t.swapaxes(0, 1), a, np.swapaxes(a, 0, 1))
    _same_view(t.permute(1, 2, 0), a, a.transpose(1, 2, 0))
    _same_view(t.permute((2, 0, 1)), a, a.transpose(2, 0, 1))
    _same_view(t.permute([-1, 0, 1]), a, a.transpose(2, 0, 1))
    _same_view(t.T, a, a.T)
    _same_view(t.mT, a, np.swapaxes(a, -1, -2))
    b, u = _pair((3, 5))
    _same_view(u.t(), b, b.T)
    assert t.T.stride() == (1, 4, 12)
    with pytest.raises(ValueError, match=r"^\[mT\]"):
        _ = ember.zeros(3).mT
    with pytest.raises(ValueError, match=r"^\[t\].*\(2, 3, 4\)"):
        t.t()
    with pytest.raises(ValueError, match=r"^\[permute\]"):
        t.permute(0, 0, 1)


@pytest.mark.parametrize("src, dst", [(0, 2), (-1, 0), ([0, 1], [2, 0]), ((2,), (1,))])
def test_movedim(src, dst):
    a, t = _pair((2, 3, 4))
    _same_view(t.movedim(src, dst), a, np.moveaxis(a, src, dst))


# ---- expand / broadcast_to ------------------------------------------------------------------
@pytest.mark.parametrize("shape, new", [((3, 1), (3, 4)), ((1,), (2, 5)), ((), (2, 3)),
                                        ((2, 1, 3), (4, 2, 0, 3)), ((3,), (3,))])
def test_expand_and_broadcast_to(shape, new):
    a, t = _pair(shape)
    want = np.broadcast_to(a, new)
    for v in (t.expand(*new), t.expand(new), t.broadcast_to(new), t.broadcast_to(*new),
              t.expand_as(ember.zeros(new))):
        _same_view(v, a, want)
    if 0 not in new and new != shape:
        assert 0 in t.expand(new).stride()


def test_expand_minus_one_keeps_size():
    a, t = _pair((3, 1))
    _same_view(t.expand(-1, 4), a, np.broadcast_to(a, (3, 4)))
    _same_view(t.expand(2, -1, 4), a, np.broadcast_to(a, (2, 3, 4)))


# ---- squeeze / unsqueeze / flatten / unflatten ----------------------------------------------
def test_squeeze_unsqueeze():
    a, t = _pair((1, 3, 1, 2))
    _same_view(t.squeeze(), a, a.squeeze())
    _same_view(t.squeeze(0), a, a.squeeze(0))
    _same_view(t.squeeze(-2), a, a.squeeze(-2))
    _same_view(t.squeeze(1), a, a)  # a dim of size != 1 stays, as in PyTorch
    _same_view(t.squeeze((0, 2)), a, a.squeeze((0, 2)))
    for d in range(-5, 5):
        _same_view(t.unsqueeze(d), a, np.expand_dims(a, d))
    z, u = _pair(())
    _same_view(u.unsqueeze(0), z, z.reshape(1))
    _same_view(u.squeeze(), z, z)


def test_unsqueeze_keeps_views_of_strided_tensors():
    a, t = _pair((4, 6))
    s = t[::2, ::-3]
    for d in range(3):
        _same_view(s.unsqueeze(d), a, np.expand_dims(a[::2, ::-3], d))


@pytest.mark.parametrize("start, end", [(0, -1), (1, 2), (0, 0), (-2, -1), (2, 2)])
def test_flatten(start, end):
    a, t = _pair((2, 3, 4))
    s = a.shape
    e = end % 3
    st_ = start % 3
    want = a.reshape(s[:st_] + (int(np.prod(s[st_:e + 1])),) + s[e + 1:])
    _same_view(t.flatten(start, end), a, want)


def test_flatten_0d_and_non_contiguous():
    z, u = _pair(())
    assert u.flatten().shape == (1,)
    a, t = _pair((3, 4))
    f = t.T.flatten()
    np.testing.assert_array_equal(f.numpy(), a.T.flatten())


def test_unflatten():
    a, t = _pair((2, 12))
    _same_view(t.unflatten(1, (3, 4)), a, a.reshape(2, 3, 4))
    _same_view(t.unflatten(-1, (2, -1, 3)), a, a.reshape(2, 2, 2, 3))
    with pytest.raises(ValueError, match=r"^\[unflatten\].*\(5, 2\)"):
        t.unflatten(1, (5, 2))


# ---- narrow / split / chunk / unbind / select / diagonal ------------------------------------
def test_narrow_select():
    a, t = _pair((5, 4))
    _same_view(t.narrow(0, 1, 3), a, a[1:4])
    _same_view(t.narrow(1, -2, 2), a, a[:, 2:4])
    _same_view(t.narrow(0, 5, 0), a, a[5:5])
    _same_view(t.select(1, -1), a, a[:, -1])
    with pytest.raises(IndexError, match=r"^\[narrow\]"):
        t.narrow(0, 3, 3)


@pytest.mark.parametrize("n, size, dim", [(7, 3, 0), (6, 2, 1), (5, 5, 0), (5, 9, 1),
                                          (0, 2, 0)])
def test_split_int(n, size, dim):
    shape = (n, 5) if dim == 0 else (5, n)
    a, t = _pair(shape)
    parts = t.split(size, dim)
    want = np.array_split(a, range(size, n, size), axis=dim)
    assert len(parts) == len(want)
    for p, w in zip(parts, want, strict=True):
        _same_view(p, a, w)


def test_split_sections_and_errors():
    a, t = _pair((3, 7))
    parts = t.split([2, 0, 5], dim=1)
    for p, w in zip(parts, np.split(a, [2, 2], axis=1), strict=True):
        _same_view(p, a, w)
    with pytest.raises(ValueError, match=r"^\[split\].*\[2, 4\].*7"):
        t.split([2, 4], dim=1)
    with pytest.raises(ValueError, match=r"^\[split\]"):
        t.split(0)


@pytest.mark.parametrize("n, chunks", [(7, 3), (6, 3), (2, 5), (10, 4), (1, 1)])
def test_chunk_matches_torch_rule(n, chunks):
    a, t = _pair((n,))
    size = -(-n // chunks)
    parts = t.chunk(chunks)
    want = [a[i:i + size] for i in range(0, n, size)]
    assert len(parts) == len(want) and len(parts) <= chunks
    for p, w in zip(parts, want, strict=True):
        _same_view(p, a, w)


def test_unbind():
    a, t = _pair((2, 3, 4))
    for d in range(-3, 3):
        parts = t.unbind(d)
        assert len(parts) == a.shape[d]
        for i, p in enumerate(parts):
            _same_view(p, a, np.take(a, i, axis=d))


@pytest.mark.parametrize("offset, d1, d2", [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (2, 1, 2),
                                            (0, 2, 0), (-3, 1, 2), (9, 0, 1)])
def test_diagonal(offset, d1, d2):
    a, t = _pair((3, 4, 5))
    _same_view(t.diagonal(offset, d1, d2), a, np.diagonal(a, offset, d1, d2))


# ---- as_strided -----------------------------------------------------------------------------
def test_as_strided():
    a, t = _pair((12,))
    v = t.as_strided((3, 3), (2, 1), 1)
    _same_view(v, a, np.lib.stride_tricks.as_strided(a[1:], (3, 3), (16, 8)))
    _same_view(t.as_strided((2, 2), (0, 3)), a, np.array([[0, 3], [0, 3]], np.float64))
    with pytest.raises(ValueError, match=r"^\[as_strided\].*outside"):
        t.as_strided((4, 4), (4, 1))
    with pytest.raises(ValueError, match=r"^\[as_strided\]"):
        t.as_strided((2,), (1, 1))


# ---- contiguous / clone ---------------------------------------------------------------------
def test_contiguous_and_clone():
    a, t = _pair((3, 4))
    assert t.contiguous() is t
    c = t.T.contiguous()
    assert c.is_contiguous() and not np.shares_memory(c.numpy(), a)
    np.testing.assert_array_equal(c.numpy(), a.T)
    k = t.clone()
    assert k.data_ptr() != t.data_ptr()
    k[0, 0] = -1
    assert a[0, 0] == 0
    e = t[:, ::-1].clone()
    np.testing.assert_array_equal(e.numpy(), a[:, ::-1])
    assert e.stride() == (4, 1)


def test_writes_through_views_reach_the_base():
    a, t = _pair((3, 4))
    t.T[1].fill_(7)
    t.diagonal().zero_()
    t.unsqueeze(0)[0, 2, ::-2] = 9
    w = np.arange(12.0).reshape(3, 4)
    w.T[1] = 7
    np.fill_diagonal(w, 0)
    w[2, ::-2] = 9
    np.testing.assert_array_equal(a, w)


# ---- basic indexing vs NumPy over generated index tuples ------------------------------------
def _index_strategy(shape):
    """Basic index tuples (ints, slices with any step, None, one Ellipsis) valid for shape."""

    def one(n):
        ints = st.integers(-n, n - 1) if n else st.nothing()
        bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
        step = st.one_of(st.none(), st.integers(-3, 3).filter(bool))
        return st.one_of(ints, st.builds(slice, bound, bound, step))

    @st.composite
    def build(draw):
        ndim = len(shape)
        k = draw(st.integers(0, ndim))
        items = [draw(one(n)) for n in shape[:k]]
        for _ in range(draw(st.integers(0, 2))):
            items.insert(draw(st.integers(0, len(items))), None)
        if draw(st.booleans()):
            items.insert(draw(st.integers(0, len(items))), Ellipsis)
        return tuple(items)

    return build()


@st.composite
def _array_and_index(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    return shape, draw(_index_strategy(shape))


@settings(max_examples=250, deadline=None, derandomize=True)
@given(_array_and_index(), st.sampled_from(["contig", "T", "rev"]))
def test_basic_getitem_matches_numpy(case, layout):
    shape, index = case
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if layout == "T":
        a = np.ascontiguousarray(a.T).T
    elif layout == "rev" and a.ndim:
        a = np.ascontiguousarray(a[::-1])[::-1]
    t = ember.from_numpy(a)
    try:
        want = a[index]
    except IndexError:
        with pytest.raises(IndexError, match=r"^\[\w+\]"):
            t[index]
        return
    got = t[index]
    assert isinstance(got, ember.Tensor)
    g = got.numpy()
    assert g.shape == np.shape(want)
    np.testing.assert_array_equal(g, want)
    if got.numel():
        assert np.shares_memory(g, a)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_array_and_index(), st.sampled_from(["scalar", "tensor", "numpy", "row"]))
def test_basic_setitem_matches_numpy(case, kind):
    shape, index = case
    a = np.zeros(shape)
    w = np.zeros(shape)
    t = ember.from_numpy(a)
    try:
        target = w[index]
    except IndexError:
        with pytest.raises(IndexError, match=r"^\[\w+\]"):
            t[index] = 1
        return
    tshape = np.shape(target)
    if kind == "scalar":
        v = 3
        nv = 3.0
    else:
        # a value that broadcasts: the trailing dim only (or a 0-d one)
        vshape = tshape[-1:] if kind == "row" else tshape
        nv = np.arange(1, int(np.prod(vshape)) + 1, dtype=np.float64).reshape(vshape)
        v = ember.tensor(nv) if kind in ("tensor", "row") else nv
    w[index] = nv
    t[index] = v
    np.testing.assert_array_equal(a, w)


def test_setitem_converts_value_dtype_and_broadcasts():
    t = ember.zeros(3, 4, dtype=ember.int32)
    t[1:, ::2] = ember.tensor([[2.9, -1.5]])  # float into int: truncated, broadcast over rows
    t[0] = np.arange(4, dtype=np.int64)
    t[..., -1] = True
    w = np.zeros((3, 4), np.int32)
    w[1:, ::2] = np.trunc([[2.9, -1.5]])
    w[0] = np.arange(4)
    w[..., -1] = 1
    np.testing.assert_array_equal(t.numpy(), w)


def test_setitem_rejects_values_that_do_not_broadcast():
    t = ember.zeros(3, 4)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)|\(4,\).*\(3,\)"):
        t[0] = ember.zeros(3)
    with pytest.raises(ValueError):
        t[:, 0] = np.zeros((2, 3))


def test_setitem_from_overlapping_view_of_itself():
    a = np.arange(10.0)
    t = ember.tensor(a)
    t[1:] = t[:-1].clone()
    a[1:] = a[:-1].copy()
    np.testing.assert_array_equal(t.numpy(), a)
    b = np.arange(10.0)
    u = ember.tensor(b)
    u[::-1] = u  # NumPy semantics: the right side is read as if copied first
    b[::-1] = b.copy()
    np.testing.assert_array_equal(u.numpy(), b)


@pytest.mark.parametrize("src", [lambda t: t.T, lambda t: t[0], lambda t: t[:, ::-1],
                                 lambda t: t.diagonal()[:, None]])
def test_copy_from_overlapping_view_with_same_start(src):
    # Same data pointer as the destination but another layout: must read as if copied first.
    a = np.arange(16.0).reshape(4, 4)
    t = ember.tensor(a)
    t[:] = src(t)
    a[:] = src(a).copy()
    np.testing.assert_array_equal(t.numpy(), a)
    u = ember.tensor(np.arange(16.0).reshape(4, 4))
    u.copy_(src(u))
    np.testing.assert_array_equal(u.numpy(), a)


def test_index_of_0d():
    z = ember.tensor(5.0)
    assert z[()].shape == () and z[...].shape == ()
    assert z[None].shape == (1,)
    with pytest.raises(IndexError):
        z[0]
    z[()] = 2
    assert z.item() == 2.0
    assert_close(z[None, ..., None], np.full((1, 1), 2.0))
