"""Fuzzing ember.load: mutated, truncated and hand-made files raise ValueError (or load the
original data when a mutation is harmless), never crash, never allocate more than the file."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import ember
import pytest
from ember.io import load, save
from ember.io import safetensors as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Any]:
    model = {"w": ember.arange(12, dtype=ember.float32).reshape(3, 4),
             "b": ember.ones(3, dtype=ember.bfloat16), "m": ember.zeros(2, dtype=ember.bool)}
    obj = {"model": model,
           "optimizer": {"state": {0: {"step": 3, "v": ember.full((2,), 0.5)}},
                         "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0]}]},
           "epoch": 7, "best": math.inf, "tag": None}
    path = tmp_path_factory.mktemp("fuzz") / "valid.st"
    save(obj, path)
    return path.read_bytes(), obj


def _flatten(x: Any) -> Any:
    """A comparable form: tensors as (dtype, shape, bytes), containers with key types."""
    if isinstance(x, ember.Tensor):
        return ("T", x.dtype.name, tuple(x.shape), bytes(st.tensor_bytes(x)[1]))
    if isinstance(x, dict):
        return ("D", [(type(k).__name__, k, _flatten(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_flatten(v) for v in x])
    return (type(x).__name__, repr(x))


_REAL_EMPTY = st.empty


def _load_or_reject(path: Path, data: bytes) -> Any:
    """load() of ``data``: the result, or None for a clear ValueError; every tensor the loader
    allocates must fit in the file."""
    allocated = [0]

    def counting_empty(*shape: int, dtype: Any) -> ember.Tensor:
        allocated[0] += math.prod(shape) * dtype.itemsize
        return _REAL_EMPTY(*shape, dtype=dtype)

    path.write_bytes(data)
    st.empty = counting_empty  # patched per example: hypothesis reuses the test's fixtures
    try:
        got = load(path)
    except ValueError as e:
        assert str(e).startswith("[load] ") and str(path) in str(e)
        got = None
    finally:
        st.empty = _REAL_EMPTY
    assert allocated[0] <= len(data)
    return got


@settings(FUZZ, max_examples=1000)
@given(hs.lists(hs.tuples(hs.integers(0, 10**6), hs.integers(1, 255)), min_size=1, max_size=4))
def test_mutated_files_reject_or_load_identical(tmp_path: Path, valid: tuple[bytes, Any],
                                                flips: list[tuple[int, int]]) -> None:
    raw, obj = valid
    data = bytearray(raw)
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    got = _load_or_reject(tmp_path / "m.st", bytes(data))
    # One corrupted byte is caught or harmless (padding, whitespace, an unchecked metadata
    # entry); several could rename both ember.tree and ember.sha256, making a "foreign" file.
    if got is not None and len(flips) == 1:
        assert _flatten(got) == _flatten(obj)


@FUZZ
@given(hs.data())
def test_truncated_files_are_rejected(tmp_path: Path, valid: tuple[bytes, Any],
                                      data: Any) -> None:
    raw, _ = valid
    cut = data.draw(hs.integers(0, len(raw) - 1))
    assert _load_or_reject(tmp_path / "t.st", raw[:cut]) is None


_DTYPES = hs.sampled_from(["F32", "F64", "F16", "BF16", "I32", "I64", "BOOL", "U8", "x", 3])
_INTS = hs.one_of(hs.integers(-4, 64), hs.integers(-2**70, 2**70), hs.just(2**64 - 1))
_SHAPES = hs.one_of(hs.lists(_INTS, max_size=4), hs.just(None), hs.just("2"),
                    hs.lists(hs.floats(0, 4), max_size=2))
_RECORD = hs.fixed_dictionaries({"dtype": _DTYPES, "shape": _SHAPES,
                                 "data_offsets": hs.lists(_INTS, max_size=3)})
_META = hs.dictionaries(hs.sampled_from(["ember.tree", "ember.sha256", "format", "x"]),
                        hs.one_of(hs.text(max_size=20), hs.integers(), hs.just('{"T": "a"}'),
                                  hs.just('{"D": [[1, {"T": "a"}]]}')), max_size=3)


@FUZZ
@given(hs.dictionaries(hs.sampled_from(["a", "b", "c", "__metadata__"]),
                       hs.one_of(_RECORD, _META), max_size=4),
       hs.integers(0, 300), hs.integers(-16, 16))
def test_random_headers_never_crash(tmp_path: Path, header: dict[str, Any], data_len: int,
                                    length_error: int) -> None:
    h = json.dumps(header).encode()
    n = max(0, len(h) + length_error)
    blob = struct.pack("<Q", n) + h + bytes(range(256)) * 2
    blob = blob[:8 + len(h) + data_len]
    got = _load_or_reject(tmp_path / "h.st", blob)
    if got is not None:  # a consistent header: what loaded is what the header describes
        assert isinstance(got, (dict, ember.Tensor))


@FUZZ
@given(hs.binary(max_size=200), hs.integers(0, 2**64 - 1))
def test_random_bytes_never_crash(tmp_path: Path, body: bytes, n: int) -> None:
    for blob in (body, struct.pack("<Q", n) + body, struct.pack("<Q", len(body)) + body):
        got = _load_or_reject(tmp_path / "r.st", blob)
        assert got is None or got == {}  # b"{}" is a valid empty file


_SCALARS = hs.one_of(hs.none(), hs.booleans(), hs.integers(-2**70, 2**70), hs.text(max_size=8),
                     hs.floats(allow_nan=True, allow_infinity=True))
_KEYS = hs.one_of(hs.none(), hs.booleans(), hs.integers(-5, 5), hs.text(max_size=4),
                  hs.floats(allow_nan=False))
_TENSORS = hs.builds(lambda shape, i: ember.full(shape, i, dtype=ember.float32)
                     if i % 2 else ember.full(shape, i, dtype=ember.int64),
                     hs.lists(hs.integers(0, 3), max_size=3).map(tuple), hs.integers(0, 9))
_TREES = hs.recursive(hs.one_of(_SCALARS, _TENSORS), lambda kids: hs.one_of(
    hs.lists(kids, max_size=3), hs.lists(kids, max_size=3).map(tuple),
    hs.dictionaries(_KEYS, kids, max_size=3)), max_leaves=12)


@settings(FUZZ, max_examples=200)
@given(_TREES)
def test_random_trees_round_trip(tmp_path: Path, obj: Any) -> None:
    save(obj, tmp_path / "tree.st")
    assert _flatten(load(tmp_path / "tree.st")) == _flatten(obj)
