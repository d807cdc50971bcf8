"""ember.data: datasets, splits, samplers, collate, the DataLoader and its prefetch threads,
transforms. PyTorch parity where the semantics are PyTorch's."""

from __future__ import annotations

import collections
import gc
import threading
import time

import ember
import numpy as np
import pytest
from conftest import assert_close
from ember.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
    train_val_test_split,
)
from ember.data.transforms import Compose, Lambda, Normalize, Standardize, ToTensor


class Squares(Dataset):
    """Sample i is (i, i*i as float); per-sample path (no _get_batch)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[int, float]:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, float(i * i)


class Stream(IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def _flat(loader) -> list[int]:
    out = []
    for b in loader:
        first = b[0] if isinstance(b, list) else b
        out.extend(int(v) for v in first.tolist())
    return out


# ---- datasets and splits ----------------------------------------------------------------


def test_tensor_dataset_items_and_size_check():
    x, y = ember.arange(12).reshape(6, 2), ember.arange(6) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8, 9] and b.item() == 40
    with pytest.raises(ValueError, match=r"\[6, 5\]"):
        TensorDataset(x, ember.zeros(5))
    with pytest.raises(TypeError):
        TensorDataset(np.zeros(3))


def test_subset_concat_and_add():
    a, b = Squares(3), Squares(4)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 7
    assert [c[i][0] for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert c[-1] == (3, 9.0)
    with pytest.raises(IndexError):
        c[7]
    s = Subset(b, [3, 1])
    assert len(s) == 2 and s[0] == (3, 9.0) and s[1] == (1, 1.0)
    with pytest.raises(TypeError):
        ConcatDataset([a, Stream(2)])


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5, 0.0], [1, 0]])
def test_random_split_lengths_match_torch(lengths):
    torch = pytest.importorskip("torch")
    ours = [len(s) for s in random_split(Squares(10), lengths)]
    theirs = [len(s) for s in torch.utils.data.random_split(range(10), lengths)]
    assert ours == theirs


def test_random_split_fraction_remainder_round_robin():
    assert [len(s) for s in random_split(Squares(11), [0.3, 0.3, 0.4])] == [4, 3, 4]


def test_random_split_reproducible_and_disjoint():
    g = lambda: ember.Generator().manual_seed(7)  # noqa: E731
    s1 = random_split(Squares(50), [20, 30], generator=g())
    s2 = random_split(Squares(50), [20, 30], generator=g())
    assert s1[0].indices == s2[0].indices and s1[1].indices == s2[1].indices
    assert sorted(s1[0].indices + s1[1].indices) == list(range(50))
    other = random_split(Squares(50), [20, 30], generator=ember.Generator().manual_seed(8))
    assert other[0].indices != s1[0].indices


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError):
        random_split(Squares(10), [0.5, 0.6])


def test_train_val_test_split_fractions_and_counts():
    g = ember.Generator().manual_seed(0)
    tr, va, te = train_val_test_split(Squares(100), val=0.2, test=0.1, generator=g)
    assert (len(tr), len(va), len(te)) == (70, 20, 10)
    assert sorted(tr.indices + va.indices + te.indices) == list(range(100))
    tr, va, te = train_val_test_split(Squares(100), val=5, test=0)
    assert (len(tr), len(va), len(te)) == (95, 5, 0)
    with pytest.raises(ValueError):
        train_val_test_split(Squares(10), val=0.6, test=0.6)
    with pytest.raises(ValueError):
        train_val_test_split(Squares(10), val=-1)


# ---- samplers ---------------------------------------------------------------------------


def test_samplers_basic():
    ds = Squares(10)
    assert list(SequentialSampler(ds)) == list(range(10))
    r = list(RandomSampler(ds, generator=ember.Generator().manual_seed(1)))
    assert sorted(r) == list(range(10)) and r != list(range(10))
    rr = list(RandomSampler(ds, replacement=True, num_samples=25))
    assert len(rr) == 25 and all(0 <= i < 10 for i in rr)
    assert len(list(RandomSampler(ds, num_samples=23))) == 23
    sub = list(SubsetRandomSampler([5, 6, 7]))
    assert sorted(sub) == [5, 6, 7]
    with pytest.raises(ValueError):
        RandomSampler(ds, num_samples=0)


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, True)])
def test_batch_sampler_matches_torch(n, bs, drop):
    torch = pytest.importorskip("torch")
    ours = BatchSampler(range(n), bs, drop)
    theirs = torch.utils.data.BatchSampler(range(n), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


# ---- collate ----------------------------------------------------------------------------


def test_default_collate_types():
    out = default_collate([(1, 1.5, True, "a", np.float32(2)), (2, 2.5, False, "b", np.float32(3))])
    assert isinstance(out, list) and len(out) == 5
    assert out[0].dtype is ember.int64 and out[0].tolist() == [1, 2]
    assert out[1].dtype is ember.float64
    assert out[2].dtype is ember.bool
    assert out[3] == ["a", "b"]
    assert out[4].dtype is ember.float32
    arr = default_collate([np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)])
    assert tuple(arr.shape) == (2, 2, 3) and arr.dtype is ember.float32
    u8 = default_collate([np.full(2, 255, np.uint8)] * 3)
    assert u8.tolist() == [[255, 255]] * 3


def test_default_collate_nested_and_namedtuple():
    Point = collections.namedtuple("Point", "x y")
    batch = [{"img": ember.ones(2), "meta": {"id": i, "p": Point(i, [i, i])}} for i in range(3)]
    out = default_collate(batch)
    assert tuple(out["img"].shape) == (3, 2)
    assert out["meta"]["id"].tolist() == [0, 1, 2]
    p = out["meta"]["p"]
    assert isinstance(p, Point) and p.x.tolist() == [0, 1, 2]
    assert isinstance(p.y, list) and [t.tolist() for t in p.y] == [[0, 1, 2]] * 2
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError):
        default_collate([object(), object()])


def test_default_collate_structure_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as tc
    samples = [(i, float(i), {"a": np.arange(3) + i, "s": "x"}, [i, 2 * i]) for i in range(4)]
    ours, theirs = default_collate(samples), tc(samples)

    def same(a, b):
        assert type(a).__name__ == type(b).__name__ or isinstance(a, ember.Tensor)
        if isinstance(a, ember.Tensor):
            assert isinstance(b, torch.Tensor)
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        elif isinstance(a, dict):
            assert a.keys() == b.keys()
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, list):
            assert len(a) == len(b)
            for u, v in zip(a, b, strict=True):
                same(u, v)
        else:
            assert a == b
    same(ours, theirs)


# ---- DataLoader -------------------------------------------------------------------------


@pytest.mark.parametrize("prefetch", [False, True])
@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, False), (0, 4, False)])
def test_loader_len_and_order(n, bs, drop, prefetch):
    dl = DataLoader(Squares(n), batch_size=bs, drop_last=drop, prefetch=prefetch)
    want = (n // bs) if drop else -(-n // bs)
    assert len(dl) == want
    batches = list(dl)
    assert len(batches) == want
    assert _flat(dl) == list(range(want * bs if drop else n))
    if batches:
        ids, sq = batches[0]
        assert ids.dtype is ember.int64 and sq.dtype is ember.float64


def test_loader_fast_path_is_one_gather(monkeypatch):
    x = ember.arange(20).reshape(10, 2).float()
    y = ember.arange(10)
    ds = TensorDataset(x, y)
    calls = []
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: calls.append(i))
    dl = DataLoader(ds, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(3))
    seen = []
    for xb, yb in dl:
        assert xb.dtype is ember.float32 and xb.shape[1] == 2
        assert_close(xb, np.asarray(x)[yb.numpy()])
        seen += yb.tolist()
    assert calls == [] and sorted(seen) == list(range(10))
    # A Subset of a TensorDataset takes the same path.
    sub = Subset(ds, [9, 0, 5])
    (xb, yb), = list(DataLoader(sub, batch_size=3))
    assert yb.tolist() == [9, 0, 5] and calls == []


def test_loader_fast_path_matches_per_sample_path():
    x = ember.randn(13, 3, generator=ember.Generator().manual_seed(0))
    ds = TensorDataset(x, ember.arange(13))
    fast = list(DataLoader(ds, batch_size=5))
    slow = list(DataLoader(ds, batch_size=5, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for (a, b), (c, d) in zip(fast, slow, strict=True):
        assert_close(a, c.numpy()) and assert_close(b, d.numpy())


def test_shuffle_reproducible_and_differs_per_epoch():
    ds = Squares(40)
    dl = DataLoader(ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(5))
    e1, e2 = _flat(dl), _flat(dl)
    assert sorted(e1) == list(range(40)) and e1 != e2
    dl2 = DataLoader(ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(5))
    assert _flat(dl2) == e1 and _flat(dl2) == e2
    ember.manual_seed(11)
    d1 = _flat(DataLoader(ds, batch_size=8, shuffle=True))
    ember.manual_seed(11)
    assert _flat(DataLoader(ds, batch_size=8, shuffle=True)) == d1


def test_order_same_with_threads_and_workers():
    ds = Squares(57)
    seed = lambda: ember.Generator().manual_seed(2)  # noqa: E731
    ref = _flat(DataLoader(ds, 6, shuffle=True, generator=seed(), prefetch=False))
    assert _flat(DataLoader(ds, 6, shuffle=True, generator=seed(), prefetch=True)) == ref
    assert _flat(DataLoader(ds, 6, shuffle=True, generator=seed(), num_workers=3)) == ref


def test_iterable_dataset_batches():
    dl = DataLoader(Stream(10), batch_size=4)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dl = DataLoader(Stream(10), batch_size=4, drop_last=True, num_workers=2)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3)))
    with pytest.raises(ValueError):
        DataLoader(Stream(3), shuffle=True)


def test_batch_size_none_and_custom_collate_and_batch_sampler():
    dl = DataLoader(Squares(3), batch_size=None)
    assert list(dl) == [[0, 0.0], [1, 1.0], [2, 4.0]]  # tuples -> lists, as default_convert
    dl = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [s[0] for s in b])
    assert list(dl) == [[0, 1], [2, 3], [4]]
    dl = DataLoader(Squares(5), batch_sampler=[[4, 0], [2]])
    assert [b[0].tolist() for b in dl] == [[4, 0], [2]] and len(dl) == 2


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Squares(3), sampler=SequentialSampler(Squares(3)), shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Squares(3), batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError):
        DataLoader(Squares(3), num_workers=-1)
    with pytest.raises(ValueError):
        DataLoader(Squares(3), persistent_workers=True)
    with pytest.raises(ValueError):
        DataLoader(Squares(3), batch_size=None, drop_last=True)


class Boom(Squares):
    def __getitem__(self, i):
        if i == 7:
            raise KeyError("bad sample 7")
        return super().__getitem__(i)


@pytest.mark.parametrize("kw", [{"prefetch": True}, {"num_workers": 2}, {"prefetch": False}])
def test_exception_in_thread_reraised_with_traceback(kw):
    base = threading.active_count()
    it = iter(DataLoader(Boom(20), batch_size=2, **kw))
    assert next(it)[0].tolist() == [0, 1]
    with pytest.raises(KeyError, match="bad sample 7") as info:
        for _ in it:
            pass
    frames = [f.name for f in info.traceback]
    assert "__getitem__" in frames  # the original frame in the dataset survives
    del it, info
    _wait_threads(base)


def _wait_threads(base: int) -> None:
    gc.collect()
    deadline = time.time() + 5
    while threading.active_count() > base and time.time() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == base, [t.name for t in threading.enumerate()]


class Slow(Squares):
    def __getitem__(self, i):
        time.sleep(0.001)
        return super().__getitem__(i)


@pytest.mark.parametrize("kw", [{"prefetch": True}, {"num_workers": 3}])
def test_early_break_does_not_leak_threads(kw):
    base = threading.active_count()
    for _ in range(3):
        for i, _b in enumerate(DataLoader(Slow(200), batch_size=4, **kw)):
            if i == 2:
                break
    _wait_threads(base)


def test_persistent_workers_reuse_pool_and_close():
    base = threading.active_count()
    dl = DataLoader(Squares(20), batch_size=5, num_workers=2, persistent_workers=True)
    assert _flat(dl) == list(range(20)) and _flat(dl) == list(range(20))
    assert dl._pool is not None
    del dl
    _wait_threads(base)


def test_prefetch_runs_ahead_and_worker_init_fn():
    produced = []

    class Logged(Squares):
        def __getitem__(self, i):
            produced.append(i)
            return super().__getitem__(i)

    inits = []
    it = iter(DataLoader(Logged(40), batch_size=4, prefetch=True, prefetch_factor=3,
                         worker_init_fn=inits.append))
    next(it)
    deadline = time.time() + 5
    while len(produced) < 16 and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    # One batch taken + 3 queued + at most one being built: bounded lookahead.
    assert 16 <= len(produced) <= 20 and inits == [0]
    it.close()


def test_timeout_raises():
    class Stuck(Squares):
        def __getitem__(self, i):
            time.sleep(0.5)
            return super().__getitem__(i)

    base = threading.active_count()
    it = iter(DataLoader(Stuck(4), batch_size=1, prefetch=True, timeout=0.05))
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="timed out"):
        next(it)
    assert time.perf_counter() - t0 < 0.4  # did not wait for the stuck sample
    _wait_threads(base)  # the thread ends by itself once the sample returns


def test_loader_parity_with_torch_sequential():
    torch = pytest.importorskip("torch")
    samples = [(np.full(2, i, np.float32), i) for i in range(7)]
    ours = list(DataLoader(samples, batch_size=3))
    theirs = list(torch.utils.data.DataLoader(samples, batch_size=3))
    assert len(ours) == len(theirs)
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        assert b.tolist() == d.tolist() and b.dtype is ember.int64


# ---- transforms -------------------------------------------------------------------------


def test_to_tensor_hwc_and_hw():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    t = ToTensor()(img)
    assert tuple(t.shape) == (3, 5, 7) and t.dtype is ember.float32
    assert_close(t, img.transpose(2, 0, 1) / 255.0)
    g = ToTensor()(img[..., 0])
    assert tuple(g.shape) == (1, 5, 7)
    f = ToTensor()(np.ones((2, 2, 1), np.float64))
    assert f.dtype is ember.float64  # floats kept as they are, as torchvision
    with pytest.raises(ValueError):
        ToTensor()(np.zeros(3, np.uint8))


def test_normalize_per_channel_sample_and_batch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5, 6)).astype(np.float32)
    mean, std = [0.1, 0.2, 0.3], [0.5, 1.5, 2.0]
    want = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    norm = Normalize(mean, std)
    assert_close(norm(ember.tensor(x)), want)
    assert_close(norm(ember.tensor(x[0])), want[0])
    t = ember.tensor(x[0])
    assert norm.__class__(mean, std, inplace=True)(t) is t
    assert_close(t, want[0])
    with pytest.raises(ValueError):
        Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="channel"):
        norm(ember.zeros(2, 4, 4))


def test_compose_lambda_and_dataset_transform():
    tf = Compose([ToTensor(), Normalize((0.5,), (0.5,)), Lambda(lambda t: t * 2)])
    img = np.full((2, 2), 255, np.uint8)
    assert_close(tf(img), np.full((1, 2, 2), 2.0))
    assert "ToTensor" in repr(tf)


def test_standardize_fit_matches_numpy_and_state_dict():
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((50, 3, 4, 4)) * np.array([2, 3, 4])[None, :, None, None] + 5)
    x = x.astype(np.float32)
    x[:, 2] = 7.0  # a constant channel: std clamped, output finite
    s = Standardize().fit(ember.tensor(x), dim=(0, 2, 3))
    assert tuple(s.mean.shape) == (3, 1, 1)
    m = x.astype(np.float64).mean(axis=(0, 2, 3), keepdims=True)
    sd = np.maximum(x.astype(np.float64).std(axis=(0, 2, 3), keepdims=True), 1e-8)
    assert_close(s(ember.tensor(x)), (x - m) / sd, rtol=1e-4, atol=1e-4)
    assert_close(s(ember.tensor(x[0])), ((x - m) / sd)[0], rtol=1e-4, atol=1e-4)
    s2 = Standardize()
    s2.load_state_dict(s.state_dict())
    assert_close(s2(ember.tensor(x[1])), s(ember.tensor(x[1])).numpy())
    assert_close(s.inverse(s(ember.tensor(x))), x, rtol=1e-4, atol=1e-3)
    with pytest.raises(RuntimeError):
        Standardize()(ember.zeros(3))


def test_standardize_tabular_default_dim_and_dataset():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 5)).astype(np.float32) * 3 + 1
    ds = TensorDataset(ember.tensor(x), ember.zeros(40))
    s = Standardize().fit(ds)
    assert tuple(s.mean.shape) == (5,)
    assert_close(s.mean, x.astype(np.float64).mean(0), rtol=1e-5, atol=1e-5)
    s_list = Standardize().fit([(x[i],) for i in range(40)])
    assert_close(s_list.std, s.std.numpy())


def test_prefetch_default_on_and_off():
    ds = TensorDataset(ember.arange(10))
    names = []

    def seen(dl):
        for _ in dl:
            names.append({t.name for t in threading.enumerate()})
    seen(DataLoader(ds, batch_size=4))
    assert any("ember-data-prefetch" in n for n in names)
    names.clear()
    seen(DataLoader(ds, batch_size=4, prefetch=False))
    assert not any("ember-data-prefetch" in n for n in names)
    with pytest.raises(ValueError):
        DataLoader(ds, num_workers=1, prefetch=False)
