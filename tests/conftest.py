"""Shared fixtures: `device` (cpu; cuda when available, else skipped), `capability` (each CPU
instruction set this machine has), and `assert_close` with one tolerance table."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ember
import numpy as np
import pytest
from ember import _C

# rtol/atol per result dtype, against a float64 NumPy reference.
TOLERANCES = {
    "float64": (1e-12, 1e-12),
    "float32": (2e-6, 1e-6),
    "float16": (2e-3, 1e-3),
    "bfloat16": (1.6e-2, 1e-2),
    "int32": (0, 0),
    "int64": (0, 0),
    "bool": (0, 0),
}

CUDA = ember.cuda.is_available()

MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def mnist_data_root() -> Path | None:
    """The data folder holding mnist/ with the four original files: $EMBER_DATA, the
    project's checkout layout (../shared/data beside the repository), or None."""
    here = Path(__file__).resolve().parent.parent
    for cand in (os.environ.get("EMBER_DATA"), here.parent / "shared" / "data",
                 "/work/shared/data"):
        if cand and all((Path(cand) / "mnist" / f).is_file() for f in MNIST_FILES):
            return Path(cand)
    return None


def to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, ember.Tensor):
        if x.dtype is ember.bfloat16:
            x = x.float()
        return np.asarray(x.cpu())
    return np.asarray(x)


def assert_close(got: Any, want: Any, dtype: Any = None, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = True) -> None:
    """Compares an ember result with a (float64) NumPy reference, shapes included."""
    g = to_numpy(got)
    w = np.asarray(want)
    name = (dtype or (got.dtype if isinstance(got, ember.Tensor) else None))
    name = getattr(name, "name", name) or str(g.dtype)
    r, a = TOLERANCES.get(name, (1e-6, 1e-6))
    r = r if rtol is None else rtol
    a = a if atol is None else atol
    assert g.shape == w.shape, f"shape {g.shape} != expected {w.shape}"
    if g.dtype == np.bool_ or w.dtype == np.bool_:
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=r, atol=a,
                                   equal_nan=equal_nan)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> str:
    if request.param == "cuda" and not CUDA:
        pytest.skip("no CUDA device")
    return request.param


@pytest.fixture(params=_C.available_capabilities())
def capability(request: pytest.FixtureRequest) -> Any:
    """Runs the test with the CPU kernels of one instruction set, then restores the best."""
    before = _C.cpu_capability()
    _C.set_cpu_capability(request.param)
    yield request.param
    _C.set_cpu_capability(before)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
