"""Datasets with torch.utils.data's names: Dataset, IterableDataset, TensorDataset, Subset,
ConcatDataset, random_split, plus ``train_val_test_split``.

A map-style dataset may define ``_get_batch(indices) -> batch`` returning the *collated* batch
for a list of indices in one go; the DataLoader uses it instead of per-sample ``__getitem__`` +
``default_collate`` when the collate function is the default. TensorDataset implements it with
one ``index_select`` per tensor, which is the whole cost of a batch.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..creation import from_numpy
from ..ops.indexing import index_select
from ..ops.random import Generator, randperm
from ..tensor import Tensor

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
    "train_val_test_split",
]


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``; ``a + b`` concatenates."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: ``__iter__``; read by a single thread (see DataLoader)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> Any:
        raise TypeError("[IterableDataset] + is only defined for map-style datasets")


def _index_tensor(indices: Sequence[int]) -> Tensor:
    if isinstance(indices, Tensor):
        return indices
    # Through NumPy: ember.tensor would inspect every Python int for its dtype.
    return from_numpy(np.asarray(indices, dtype=np.int64).reshape(-1))


class TensorDataset(Dataset):
    """Sample i is ``tuple(t[i] for t in tensors)``; every tensor has the same first dim."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor) or t.ndim == 0:
                what = "a 0-d tensor" if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"[TensorDataset] expects tensors with at least one dim, "
                                f"got {what}")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"[TensorDataset] size mismatch between tensors: first dims "
                             f"{sizes} (shapes {shapes})")
        self.tensors = tuple(tensors)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices: Sequence[int]) -> list[Tensor]:
        # One gather per tensor; a list, like default_collate of tuple samples.
        idx = _index_tensor(indices)
        return [index_select(t, 0, idx) for t in self.tensors]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: int | list[int]) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)



class ConcatDataset(Dataset):
    """Several map-style datasets end to end."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("[ConcatDataset] datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("[ConcatDataset] does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("[ConcatDataset] absolute value of index should not exceed "
                                 f"dataset length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"[ConcatDataset] index {idx} out of range for length {n}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


def _split_lengths(n: int, lengths: Sequence[float], op: str) -> list[int]:
    """PyTorch's rule: lengths summing to 1 are fractions (even ``[1, 0]``), each floor(n * f),
    the remainder dealt one by one round-robin from the first split; else ints summing to n."""
    if math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"[{op}] fraction at index {i} is not between 0 and 1")
        out = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(out)):
            out[i % len(out)] += 1
    elif all(isinstance(x, int) for x in lengths):
        out = list(lengths)
    else:
        raise ValueError(f"[{op}] lengths {list(lengths)} must be ints summing to the dataset "
                         f"length {n} or fractions summing to 1")
    if any(x < 0 for x in out):
        raise ValueError(f"[{op}] negative length in {out}")
    if sum(out) != n:
        raise ValueError(f"[{op}] sum of input lengths {sum(out)} does not equal the length of "
                         f"the input dataset {n}")
    return out


def batch_getter(dataset: Any) -> Any:
    """The dataset's one-call batch fetch (``_get_batch``), seen through Subsets; or None."""
    if isinstance(dataset, Subset):
        base = batch_getter(dataset.dataset)
        if base is None:
            return None
        ix = dataset.indices
        return lambda indices: base([ix[i] for i in indices])
    return getattr(dataset, "_get_batch", None)


def random_split(dataset: Dataset, lengths: Sequence[float],
                 generator: Generator | None = None) -> list[Subset]:
    """Disjoint random Subsets of the given lengths (ints, or fractions summing to 1).
    One ``randperm(len(dataset), generator=...)`` draw, so a seeded generator reproduces it."""
    sizes = _split_lengths(len(dataset), lengths, "random_split")
    perm = randperm(sum(sizes), generator=generator).tolist()
    out, start = [], 0
    for s in sizes:
        out.append(Subset(dataset, perm[start:start + s]))
        start += s
    return out


def _count(x: float, n: int, name: str) -> int:
    if isinstance(x, int):
        c = x
    elif isinstance(x, float) and 0.0 <= x <= 1.0:
        c = int(round(n * x))
    else:
        raise ValueError(f"[train_val_test_split] {name}={x!r} must be a count or a fraction "
                         "in [0, 1]")
    if not 0 <= c <= n:
        raise ValueError(f"[train_val_test_split] {name}={x!r} gives {c} samples, "
                         f"dataset has {n}")
    return c


def train_val_test_split(dataset: Dataset, val: float = 0.1, test: float = 0.1,
                         generator: Generator | None = None) -> tuple[Subset, Subset, Subset]:
    """(train, val, test) random Subsets; `val`/`test` are counts (int) or fractions (float,
    rounded to the nearest count) and train gets the rest."""
    n = len(dataset)
    nv, nt = _count(val, n, "val"), _count(test, n, "test")
    if nv + nt > n:
        raise ValueError(f"[train_val_test_split] val {nv} + test {nt} exceed the dataset "
                         f"length {n}")
    train, v, t = random_split(dataset, [n - nv - nt, nv, nt], generator=generator)
    return train, v, t
