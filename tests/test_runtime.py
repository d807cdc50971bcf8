"""Runtime: thread count, config(), the CPU capability override, the kernel tables, the CPU
caching allocator's statistics, and the GIL being released while a big kernel runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import ember
import numpy as np
import pytest
from ember import _C

PYTHON_DIR = str(Path(ember.__file__).resolve().parent.parent)


@pytest.fixture
def threads():
    before = ember.get_num_threads()
    yield
    ember.set_num_threads(before)


def _run_python(code: str, **env: str) -> str:
    full = dict(os.environ, PYTHONPATH=PYTHON_DIR, **env)
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


# ---- threads --------------------------------------------------------------------------------
def test_set_get_num_threads(threads):
    assert ember.get_num_threads() >= 1
    for n in (1, 3, 2, 64):
        ember.set_num_threads(n)
        assert ember.get_num_threads() == n


@pytest.mark.parametrize("n", [0, -1, -(2**31)])
def test_set_num_threads_rejects_non_positive(n, threads):
    before = ember.get_num_threads()
    with pytest.raises(ValueError, match=r"^\[set_num_threads\].*" + str(n)):
        ember.set_num_threads(n)
    assert ember.get_num_threads() == before


def test_set_num_threads_rejects_non_int(threads):
    with pytest.raises(TypeError):
        ember.set_num_threads(2.5)


def test_set_num_threads_from_another_thread(threads):
    t = threading.Thread(target=ember.set_num_threads, args=(1,))
    t.start()
    t.join()
    assert ember.get_num_threads() == 1


def test_num_threads_env_var():
    assert _run_python("import ember; print(ember.get_num_threads())",
                       EMBER_NUM_THREADS="3").strip() == "3"


def test_results_identical_at_1_and_2_threads(threads):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(3_000_017).astype(np.float32)
    b = rng.standard_normal(3_000_017).astype(np.float32)
    m = rng.standard_normal((1023, 2049)).astype(np.float32)
    x, y, z = ember.tensor(a), ember.tensor(b), ember.tensor(m)
    results = []
    for n in (1, 2):
        ember.set_num_threads(n)
        results.append([(x + y).numpy(), ember.sum(x).numpy(), z.sum(0).numpy(),
                        z.sum(1).numpy(), z.T.sum(0).numpy(), ember.sum(x.double()).numpy()])
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(results[0][0], a + b)
    np.testing.assert_allclose(results[0][1], a.astype(np.float64).sum(), rtol=1e-5)


# ---- config / capability --------------------------------------------------------------------
def test_config_keys():
    cfg = ember.config()
    for key in ("version", "build_type", "cpu_capability", "detected_cpu_capability",
                "num_threads", "cuda_built", "cuda_device_count"):
        assert key in cfg
    assert cfg["version"] == ember.__version__
    assert cfg["cpu_capability"] in ("default", "avx2", "avx512")
    assert cfg["num_threads"] == ember.get_num_threads()
    assert isinstance(cfg["cuda_built"], bool)
    assert ember.cuda.is_built() == cfg["cuda_built"]
    assert "cpu_capability: " in ember.show_config()


def test_cuda_queries_without_a_device():
    n = ember.cuda.device_count()
    assert ember.cuda.is_available() == (n > 0)
    if n == 0:
        ember.cuda.synchronize()  # a no-op, not an error


def test_capability_env_var_lowers_capability():
    code = "import ember, json; print(json.dumps(ember.config()))"
    low = json.loads(_run_python(code, EMBER_CPU_CAPABILITY="default"))
    assert low["cpu_capability"] == "default"
    assert low["detected_cpu_capability"] == _C.detected_cpu_capability()
    bogus = json.loads(_run_python(code, EMBER_CPU_CAPABILITY="sse9"))
    assert bogus["cpu_capability"] == _C.detected_cpu_capability()


def test_set_cpu_capability_rejects_unknown_and_unsupported():
    before = _C.cpu_capability()
    with pytest.raises(ValueError, match=r"^\[set_cpu_capability\].*'sse9'"):
        _C.set_cpu_capability("sse9")
    caps = ["default", "avx2", "avx512"]
    for cap in caps[caps.index(_C.detected_cpu_capability()) + 1:]:
        with pytest.raises(ValueError, match=r"^\[set_cpu_capability\]"):
            _C.set_cpu_capability(cap)
    assert _C.cpu_capability() == before
    assert _C.available_capabilities() == caps[: caps.index(_C.detected_cpu_capability()) + 1]


def test_every_kernel_table_has_a_default_cpu_slot():
    tables = _C.kernels()
    assert len(tables) > 20 and "copy_kernel" in tables
    missing = [name for name, slots in tables.items() if "default" not in slots]
    assert missing == []
    for name, slots in tables.items():
        assert set(slots) <= {"default", "avx2", "avx512", "cuda"}, name
        if not ember.cuda.is_built():
            assert "cuda" not in slots, name


# ---- caching allocator ----------------------------------------------------------------------
def test_memory_stats_and_cache_reuse():
    stats = ember.cpu.memory_stats()
    assert set(stats) == {"allocated_bytes", "peak_allocated_bytes", "cached_bytes", "num_allocs",
                          "num_cache_hits"}
    n = 16 << 20  # float32: 64 MiB
    x = ember.empty(n)
    ptr = x.data_ptr()
    assert ember.cpu.memory_allocated() >= stats["allocated_bytes"] + (64 << 20)
    del x
    freed = ember.cpu.memory_stats()
    assert freed["cached_bytes"] >= 64 << 20
    y = ember.empty(n)
    after = ember.cpu.memory_stats()
    assert after["num_cache_hits"] == freed["num_cache_hits"] + 1
    assert after["num_allocs"] == freed["num_allocs"] + 1
    assert y.data_ptr() == ptr
    assert after["cached_bytes"] == freed["cached_bytes"] - (64 << 20)
    del y
    ember.cpu.empty_cache()
    assert ember.cpu.memory_stats()["cached_bytes"] == 0


def test_peak_stats():
    ember.cpu.reset_peak_memory_stats()
    base = ember.cpu.memory_stats()["peak_allocated_bytes"]
    assert base == ember.cpu.memory_allocated()
    x = ember.empty(1 << 20, dtype=ember.float64)
    del x
    s = ember.cpu.memory_stats()
    assert s["peak_allocated_bytes"] >= base + (8 << 20)
    ember.cpu.reset_peak_memory_stats()
    assert ember.cpu.memory_stats()["peak_allocated_bytes"] == ember.cpu.memory_allocated()


def test_allocation_is_aligned_and_zero_size_works():
    for n in (0, 1, 7, 1000, 1 << 17):
        assert ember.empty(n).data_ptr() % 64 == 0
    assert ember.empty(0).numel() == 0


# ---- the GIL --------------------------------------------------------------------------------
def _progress_during(op) -> int:
    """How far a busy Python thread counts while `op()` runs in this thread.

    The switch interval is raised far above the op's duration, so the only way the counter can
    move between the two reads is that `op` released the GIL: a held GIL gives exactly 0.
    The counter thread sleeps briefly now and then, letting this thread take the GIL back.
    """
    stop = threading.Event()
    count = [0]

    def spin() -> None:
        while not stop.is_set():
            for _ in range(200):
                count[0] += 1
            time.sleep(1e-5)

    old = sys.getswitchinterval()
    t = threading.Thread(target=spin)
    t.start()
    try:
        sys.setswitchinterval(30.0)
        time.sleep(0.01)  # let the counter start; we get the GIL back at its next sleep
        c0 = count[0]
        op()
        c1 = count[0]
    finally:
        sys.setswitchinterval(old)
        stop.set()
        t.join()
    return c1 - c0


def test_gil_is_held_by_plain_python():
    big = list(range(3_000_000, 0, -1))
    assert _progress_during(lambda: sorted(big)) == 0  # the measurement can see a held GIL


@pytest.mark.parametrize("name", ["add", "sum", "clone", "to", "exp"])
def test_gil_released_during_big_ops(name, threads):
    ember.set_num_threads(1)
    x = ember.ones(1 << 23)
    y = ember.ones(1 << 23)
    ops = {"add": lambda: x + y, "sum": lambda: [x.sum() for _ in range(4)],
           "clone": x.clone, "to": x.double, "exp": lambda: ember.exp(x)}
    assert max(_progress_during(ops[name]) for _ in range(3)) > 0
