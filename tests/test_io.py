"""ember.save / ember.load: round trips, safetensors interop, atomic writes, checksums, and
the strict parser's error messages."""

from __future__ import annotations

import ast
import json
import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import ember
import numpy as np
import pytest
from ember.io import load, save
from ember.io import safetensors as st

DTYPES = [ember.float32, ember.float64, ember.float16, ember.bfloat16, ember.int32,
          ember.int64, ember.bool]


def _bits(t: ember.Tensor) -> bytes:
    return bytes(st.tensor_bytes(t)[1])


def _same(a: ember.Tensor, b: ember.Tensor) -> None:
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    assert _bits(a) == _bits(b)  # bit-exact, NaN payloads and -0.0 included


def _rand(shape: tuple[int, ...], dt: ember.dtype, seed: int = 0) -> ember.Tensor:
    rng = np.random.default_rng(seed)
    if dt == ember.bool:
        return ember.tensor(rng.random(shape) < 0.5)
    if dt in (ember.int32, ember.int64):
        return ember.tensor(rng.integers(-2**31, 2**31 - 1, shape), dtype=dt)
    x = ember.tensor(rng.standard_normal(shape) * 100, dtype=ember.float64)
    return x.to(dt)


@pytest.mark.parametrize("dt", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (3, 0, 2), (2, 127), (4, 3, 5)])
def test_round_trip_every_dtype_and_shape(tmp_path: Path, dt: ember.dtype,
                                          shape: tuple[int, ...]) -> None:
    t = _rand(shape, dt)
    save(t, tmp_path / "t.safetensors")
    got = load(tmp_path / "t.safetensors")
    _same(got, t)
    assert got.is_contiguous()


def test_special_floats_bit_exact(tmp_path: Path) -> None:
    x = ember.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-45, 3.4e38])
    for dt in (ember.float32, ember.float64, ember.float16, ember.bfloat16):
        save({"x": x.to(dt)}, tmp_path / "f.st")
        _same(load(tmp_path / "f.st")["x"], x.to(dt))


def test_non_contiguous_written_contiguous(tmp_path: Path) -> None:
    base = _rand((6, 8), ember.float32)
    views = {"t": base.T, "s": base[1:5:2, ::3], "e": ember.ones(3, 1).expand(3, 4)}
    save(views, tmp_path / "v.st")
    got = load(tmp_path / "v.st")
    for k, v in views.items():
        _same(got[k], v.contiguous())
        assert got[k].is_contiguous()


def test_loaded_tensors_own_memory(tmp_path: Path) -> None:
    save({"a": ember.ones(4)}, tmp_path / "a.st")
    a = load(tmp_path / "a.st")["a"]
    os.remove(tmp_path / "a.st")  # no mapping keeps the file alive; the tensor is writable
    a.add_(1)
    assert a.tolist() == [2.0] * 4


def _checkpoint() -> dict[str, Any]:
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    model(ember.randn(5, 3)).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
            "step": 1200, "history": {"loss": [1.5, 0.75, math.nan], "val_loss": [math.inf]},
            "name": "run-1", "done": False, "best": None, "shape": (3, 4), "empty": {},
            "mixed_keys": {1: "a", "1": "b", False: "c", None: "d", 2.5: "e"}}


def _assert_tree_equal(got: Any, want: Any) -> None:
    assert type(got) is type(want) or (isinstance(got, ember.Tensor)
                                         and isinstance(want, ember.Tensor))
    if isinstance(want, ember.Tensor):
        _same(got, want)
    elif isinstance(want, dict):
        assert list(got) == list(want)  # order and key types (1 vs "1" vs True)
        assert [type(k) for k in got] == [type(k) for k in want]
        for k in want:
            _assert_tree_equal(got[k], want[k])
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_tree_equal(g, w)
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want


def test_training_checkpoint_round_trip(tmp_path: Path) -> None:
    ck = _checkpoint()
    save(ck, tmp_path / "ck.st")
    got = load(tmp_path / "ck.st")
    _assert_tree_equal(got, ck)
    assert set(got["optimizer"]["state"]) == {0, 1, 2, 3}  # int keys survive
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    model.load_state_dict(got["model"])
    ember.optim.Adam(model.parameters(), lr=1e-3).load_state_dict(got["optimizer"])


def _train(model: Any, opt: Any, sched: Any, steps: int) -> None:
    for _ in range(steps):
        x = ember.randn(8, 3)  # draws from the global generator: its state must resume too
        opt.zero_grad()
        ((model(x) - x[:, :2]) ** 2).mean().backward()
        opt.step()
        sched.step()


def _setup() -> tuple[Any, Any, Any]:
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(3, 8), ember.nn.Tanh(), ember.nn.Linear(8, 2))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    return model, opt, ember.optim.lr_scheduler.OneCycleLR(opt, 0.05, total_steps=20)


def test_resume_from_checkpoint_matches_uninterrupted_run(tmp_path: Path) -> None:
    model, opt, sched = _setup()
    _train(model, opt, sched, 4)
    save({"model": model.state_dict(), "optimizer": opt.state_dict(),
          "scheduler": sched.state_dict(), "rng": ember.get_rng_state(), "step": 4},
         tmp_path / "ck.st")
    _train(model, opt, sched, 5)
    model2, opt2, sched2 = _setup()
    ck = load(tmp_path / "ck.st")
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optimizer"])
    sched2.load_state_dict(ck["scheduler"])
    ember.set_rng_state(ck["rng"])
    _train(model2, opt2, sched2, 5)
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items(),
                              strict=True):
        assert _bits(a) == _bits(b), k


def test_cuda_tensors_are_saved_from_host_copies(tmp_path: Path, device: str) -> None:
    t = _rand((5, 3), ember.float32).to(device)
    save({"t": t}, tmp_path / "c.st")
    got = load(tmp_path / "c.st")["t"]
    assert got.device.type == "cpu"
    _same(got, t.cpu())


def test_interrupted_load_raises_the_interrupt(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    save({"a": ember.ones(10)}, tmp_path / "a.st")

    def interrupted(*shape: int, dtype: Any) -> ember.Tensor:
        raise KeyboardInterrupt

    monkeypatch.setattr(st, "empty", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not mmap's BufferError from a live view
        load(tmp_path / "a.st")


def test_io_package_never_imports_pickle() -> None:
    root = Path(ember.io.__file__).parent
    for f in root.glob("*.py"):
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] in {"pickle", "marshal", "shelve", "dill"}
                               for n in names), f


def test_flattened_names_are_dotted_and_unique(tmp_path: Path) -> None:
    obj = {"a.b": ember.ones(1), "a": {"b": ember.zeros(1)}, "l": [ember.ones(2)]}
    save(obj, tmp_path / "n.st")
    with st.mapped(tmp_path / "n.st") as buf:
        names = {e.name for e in st.parse_header("n", buf)[0]}
    assert names == {"a.b", "a.b#1", "l.0"}
    _assert_tree_equal(load(tmp_path / "n.st"), obj)


def test_header_is_aligned_and_metadata_strings(tmp_path: Path) -> None:
    save({"x": ember.ones(3, dtype=ember.float16), "y": ember.ones(1, dtype=ember.float64)},
         tmp_path / "h.st", metadata={"author": "me"})
    raw = (tmp_path / "h.st").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0 and raw[8:8 + n].rstrip(b" ").endswith(b"}")
    header = json.loads(raw[8:8 + n])
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    assert header["__metadata__"]["author"] == "me"
    assert header["y"]["data_offsets"][0] % 8 == 0  # widest dtype first stays aligned


def test_overwrite_relative_path_and_permissions(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        save({"a": ember.ones(1)}, "ck.st")
        save({"a": ember.zeros(1)}, "ck.st")
    finally:
        os.umask(old)
    assert load("ck.st")["a"].tolist() == [0.0]
    assert os.stat("ck.st").st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert os.listdir(".") == ["ck.st"]


def test_save_rejects_unsupported_values(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"\[save\] opt.x: can't store a ndarray"):
        save({"opt": {"x": np.zeros(2)}}, tmp_path / "bad.st")
    with pytest.raises(TypeError, match="key"):
        save({(1, 2): ember.ones(1)}, tmp_path / "bad.st")
    with pytest.raises(ValueError, match="reserved"):
        save({}, tmp_path / "bad.st", metadata={"ember.tree": "x"})
    assert not list(tmp_path.iterdir())  # nothing written, no temporary left behind


# ---- interop with the safetensors package (and torch's loader) ---------------------------

def test_safetensors_numpy_reads_ember_files(tmp_path: Path) -> None:
    stnp = pytest.importorskip("safetensors.numpy")
    sd = {f"layer.{i}.{dt.name}": _rand((3, i + 1), dt, i)
          for i, dt in enumerate(DTYPES) if dt != ember.bfloat16}  # NumPy has no bfloat16
    save(sd, tmp_path / "e.safetensors")
    got = stnp.load_file(str(tmp_path / "e.safetensors"))
    assert got.keys() == sd.keys()
    for k, v in sd.items():
        np.testing.assert_array_equal(got[k], v.numpy())


def test_ember_reads_safetensors_numpy_files(tmp_path: Path) -> None:
    stnp = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(1)
    arrays = {"w": rng.standard_normal((5, 3)).astype(np.float32), "i": np.arange(7),
              "h": np.ones((2, 2), np.float16), "b": np.array([True, False]),
              "d": np.zeros((0, 4)), "s": np.array(2.5)}
    stnp.save_file(arrays, str(tmp_path / "n.safetensors"), metadata={"k": "v"})
    got = load(tmp_path / "n.safetensors")
    assert got.keys() == arrays.keys()
    for k, a in arrays.items():
        np.testing.assert_array_equal(got[k].numpy(), a)
        assert got[k].numpy().dtype == a.dtype


def test_torch_interop_both_ways(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    stt = pytest.importorskip("safetensors.torch")
    sd = {f"p.{dt.name}": _rand((4, 3), dt, 2) for dt in DTYPES}
    save(sd, tmp_path / "e.st")
    got = stt.load_file(str(tmp_path / "e.st"))
    for k, v in sd.items():
        g = got[k].view(torch.int16) if v.dtype == ember.bfloat16 else got[k]
        assert g.numpy().tobytes() == _bits(v)
    stt.save_file({k: v.clone() for k, v in got.items()}, str(tmp_path / "t.st"))
    back = load(tmp_path / "t.st")
    for k, v in sd.items():
        _same(back[k], v)


# ---- atomic writes ------------------------------------------------------------------------

def test_failed_write_keeps_previous_checkpoint(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ck.st"
    save({"w": ember.ones(1000)}, path)
    real = st._byte_view
    calls = [0]

    def flaky(t: ember.Tensor) -> Any:
        calls[0] += 1
        if calls[0] > 3:  # past the checksum pass, halfway through the tensor data
            raise OSError("disk full")
        return real(t)

    monkeypatch.setattr(st, "_byte_view", flaky)
    with pytest.raises(OSError, match="disk full"):
        save({"w": ember.zeros(1000), "v": ember.zeros(10), "u": ember.zeros(5)}, path)
    monkeypatch.undo()
    assert load(path)["w"].tolist() == [1.0] * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["ck.st"]  # temporary removed


_WRITER = textwrap.dedent("""
    import sys, ember
    from ember.io import save
    big = {f"w{i}": ember.full((1024, 1024), float(i)) for i in range(32)}  # 128 MB
    print("ready", flush=True)
    while True:
        save(big, sys.argv[1])
""")


def _growing_temporary(directory: Path) -> Path | None:
    for p in directory.iterdir():
        try:
            if p.suffix == ".tmp" and p.stat().st_size > 1 << 20:
                return p
        except FileNotFoundError:  # renamed between listing and stat
            pass
    return None


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_writer_keeps_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "ck.st"
    save({"w": ember.arange(10)}, path)
    env = dict(os.environ, PYTHONPATH=str(Path(ember.__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], env=env,
                            stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 30
        tmp = None
        while tmp is None and proc.poll() is None and time.monotonic() < deadline:
            tmp = _growing_temporary(tmp_path)  # the writer is mid-way through a file
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert tmp is not None, "never saw the writer half-way through a temporary file"
    got = load(path)  # either the old checkpoint or a complete new one, never a torn file
    assert set(got) in ({"w"}, {f"w{i}" for i in range(32)})
    if set(got) == {"w"}:
        assert got["w"].tolist() == list(range(10))
    else:
        assert got["w31"][-1, -1].item() == 31.0


# ---- integrity and the strict parser -------------------------------------------------------

def _data_start(path: Path) -> int:
    raw = path.read_bytes()
    return 8 + struct.unpack("<Q", raw[:8])[0]


def test_bit_flip_names_the_tensor(tmp_path: Path) -> None:
    path = tmp_path / "ck.st"
    save({"model": {"a": ember.ones(100), "b": ember.zeros(100, dtype=ember.float64)}}, path)
    raw = bytearray(path.read_bytes())
    with st.mapped(path) as buf:
        entries, _, start = st.parse_header(str(path), buf)
    a = next(e for e in entries if e.name == "model.a")
    raw[start + a.begin + 37] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"ck.st: tensor 'model.a' fails its SHA-256"):
        load(path)
    assert load(path, verify=False)["model"]["a"].sum().item() != 100.0


def test_tampered_tree_or_dtype_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ck.st"
    save({"epoch": 3, "w": ember.ones(2, 3)}, path)
    raw = path.read_bytes()
    for old, new, msg in [(b'\\"epoch\\", 3]', b'\\"epoch\\", 4]', "ember.tree metadata fails"),
                          (b'"F32"', b'"I32"', "tensor 'w' fails"),
                          (b'"shape":[2,3]', b'"shape":[3,2]', "tensor 'w' fails"),
                          (b'"ember.sha256"', b'"ember.sha257"', "without ember.sha256")]:
        assert raw.count(old) == 1
        path.write_bytes(raw.replace(old, new))
        with pytest.raises(ValueError, match=msg):
            load(path)


def _with_header(path: Path, header: Any, data: bytes = b"", raw: bytes | None = None) -> Path:
    h = raw if raw is not None else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return path


def _rec(dtype: str = "F32", shape: Any = (2,), offsets: Any = (0, 8)) -> dict[str, Any]:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


@pytest.mark.parametrize("header,data,raw,msg", [
    ({"x": _rec("U8", (2,), (0, 2))}, b"\0" * 2, None, "unsupported dtype 'U8'"),
    ({"x": _rec(offsets=(0, 16))}, b"\0" * 8, None, r"out of range"),
    ({"x": _rec(shape=(3,))}, b"\0" * 8, None, "needs 12 bytes, data_offsets span 8"),
    ({"x": _rec(shape=(-1, -8))}, b"\0" * 8, None, "invalid shape"),
    ({"x": _rec(shape=(2**30, 2**30), offsets=(0, 8))}, b"\0" * 8, None, "needs 4611686018427"),
    ({"x": _rec(shape=(2.0,))}, b"\0" * 8, None, "invalid shape"),
    ({"x": _rec(shape=(0, 2**62, 2**62), offsets=(0, 0))}, b"", None, "does not fit in int64"),
    ({"x": _rec(shape=(2**70, 0), offsets=(0, 0))}, b"", None, "does not fit in int64"),
    ({"x": _rec(), "y": _rec(offsets=(4, 12))}, b"\0" * 12, None, "overlaps"),
    ({"x": _rec(offsets=(4, 12))}, b"\0" * 12, None, "gap at 0"),
    ({"x": _rec()}, b"\0" * 9, None, "1 bytes of trailing data"),
    ({"x": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, None, "expected keys"),
    (None, b"", b'{"x": ', "invalid JSON"),
    (None, b"", b'[1, 2]', "must start with"),
    (None, b"", b'{"a": NaN}', "invalid JSON"),
    (None, b"", b'{"a": {}, "a": {}}', "duplicate key 'a'"),
    (None, b"", b'{"x": 1}\xff', "invalid JSON"),
    (None, b"", b'{"a": ' + b"[" * 100000, "invalid JSON"),
    ({"__metadata__": {"a": 1}}, b"", None, "__metadata__ must map"),
    ({"__metadata__": {"ember.tree": '{"T": "nope"}'}}, b"", None, "missing tensor 'nope'"),
    ({"__metadata__": {"ember.tree": '{"Q": 1}'}}, b"", None, "unknown node"),
    ({"__metadata__": {"ember.tree": '{"D": [[{"L": []}, 1]]}'}}, b"", None, "unhashable"),
    ({"__metadata__": {"ember.tree": "[" * 100000}}, b"", None, "invalid ember.tree"),
    ({"__metadata__": {"ember.sha256": "{}"}, "x": _rec()}, b"\0" * 8, None,
     "does not list exactly"),
    ({"__metadata__": {"ember.tree": "1", "ember.sha256": "[]"}}, b"", None, "does not list"),
    ({"__metadata__": {"ember.tree": "1", "ember.sha256": "{"}}, b"", None, "invalid ember.sha"),
])
def test_malformed_files_raise_clear_errors(tmp_path: Path, header: Any, data: bytes,
                                            raw: bytes | None, msg: str) -> None:
    path = _with_header(tmp_path / "bad.st", header, data, raw)
    with pytest.raises(ValueError, match=rf"\[load\] .*bad.st: .*{msg}"):
        load(path, verify="ember.sha256" in str(header))  # the tree errors without checksums


def test_truncated_and_lying_lengths(tmp_path: Path) -> None:
    path = tmp_path / "ck.st"
    save({"w": ember.ones(64)}, path)
    raw = path.read_bytes()
    for cut, msg in [(0, "truncated file"), (5, "truncated file"), (20, "exceeds the file"),
                     (len(raw) - 1, "out of range")]:
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match=msg):
            load(path)
    path.write_bytes(struct.pack("<Q", 2**63) + raw[8:])
    with pytest.raises(ValueError, match="exceeds the 104857600-byte limit"):
        load(path)
    path.write_bytes(raw + b"garbage!")
    with pytest.raises(ValueError, match="8 bytes of trailing data"):
        load(path)
