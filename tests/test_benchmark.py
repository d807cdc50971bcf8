"""The timing harness (ember.utils.benchmark) on a fake clock, and the machine-limit probes.
Behaviour only: call counts, statistics, synchronisation order; never how fast anything is."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import ember
import numpy as np
import pytest
from ember import _C
from ember.tensor import _c
from ember.utils import benchmark as bm


class FakeClock:
    """A clock that only moves when a fake workload says so; logs reads into `events`."""

    def __init__(self, events: list[str]) -> None:
        self.now = 0.0
        self.events = events

    def __call__(self) -> float:
        self.events.append("clock")
        return self.now


def workload(clock: FakeClock, costs: Iterable[float], name: str = "fn"):
    """A callable that advances `clock` by the next cost on each call (cycling)."""
    costs = list(costs)
    count = {"calls": 0}

    def fn() -> None:
        clock.now += costs[count["calls"] % len(costs)]
        count["calls"] += 1
        clock.events.append(name)

    return fn, count


def test_measure_counts_warmup_and_timed_calls():
    clock = FakeClock([])
    fn, count = workload(clock, [1e-3])
    m = bm.measure(fn, warmup=2, repeats=5, number=3, clock=clock)
    assert count["calls"] == 2 + 5 * 3
    assert (m.runs, m.number, m.calls) == (5, 3, 15)
    assert m.median == pytest.approx(1e-3)


def test_calibration_makes_samples_last_min_time_over_repeats():
    clock = FakeClock([])
    fn, _ = workload(clock, [1e-3])
    m = bm.measure(fn, warmup=0, repeats=10, min_time=0.1, clock=clock)
    assert 10 <= m.number <= 13  # 10 calls reach the 10 ms per-sample target
    assert m.number * m.median >= 0.1 / 10


def test_slow_calls_get_one_call_per_sample():
    clock = FakeClock([])
    fn, count = workload(clock, [1.0])
    m = bm.measure(fn, warmup=1, repeats=3, min_time=0.5, clock=clock)
    assert m.number == 1
    assert count["calls"] == 1 + 1 + 3  # warm-up, one calibration call, the samples


@pytest.mark.parametrize("cost, runs", [(1.0, 3), (0.5, 5), (0.01, 10)])
def test_max_time_caps_samples_but_keeps_three(cost, runs):
    clock = FakeClock([])
    fn, _ = workload(clock, [cost])
    m = bm.measure(fn, warmup=0, repeats=10, number=1, max_time=2.5, clock=clock)
    assert m.runs == runs


def test_statistics_on_known_samples():
    clock = FakeClock([])
    fn, _ = workload(clock, [5e-3, 1e-3, 3e-3, 2e-3, 4e-3])
    m = bm.measure(fn, warmup=0, repeats=5, number=1, clock=clock)
    assert m.times == pytest.approx((5e-3, 1e-3, 3e-3, 2e-3, 4e-3))
    assert m.median == pytest.approx(3e-3)
    assert (m.min, m.max) == pytest.approx((1e-3, 5e-3))
    assert (m.q1, m.q3, m.iqr) == pytest.approx((2e-3, 4e-3, 2e-3))
    assert m.mean == pytest.approx(3e-3)
    assert m.spread == pytest.approx(2 / 3)


@pytest.mark.parametrize("n", [1, 2, 4, 7, 10])
def test_quantiles_match_numpy(n, rng):
    times = tuple(rng.uniform(1e-6, 1e-3, n))
    m = bm.Measurement(times, number=1)
    want = np.percentile(times, [25, 50, 75])
    assert (m.q1, m.median, m.q3) == pytest.approx(tuple(want))


def test_rates_from_bytes_and_flops():
    m = bm.Measurement((0.5, 0.5, 0.5), number=1, bytes=1e9, flops=4e9)
    assert m.gbps == pytest.approx(2.0)
    assert m.gflops == pytest.approx(8.0)
    assert bm.Measurement((0.5,), number=1).gbps is None
    d = m.to_dict()
    assert d["gbps"] == pytest.approx(2.0) and d["runs"] == 3


def test_sync_wraps_every_sample_inside_the_clock_reads():
    events: list[str] = []
    clock = FakeClock(events)
    fn, _ = workload(clock, [1e-3])
    bm.measure(fn, warmup=0, repeats=2, number=2, clock=clock,
               sync=lambda: events.append("sync"))
    sample = ["sync", "clock", "fn", "fn", "sync", "clock"]
    assert events == sample * 2


def test_cuda_device_uses_ember_cuda_synchronize(monkeypatch):
    calls = []
    monkeypatch.setattr(ember.cuda, "synchronize", lambda device=0: calls.append(device))
    clock = FakeClock([])
    fn, _ = workload(clock, [1e-3])
    bm.measure(fn, warmup=0, repeats=3, number=1, clock=clock, device="cuda")
    assert len(calls) == 2 * 3
    bm.measure(fn, warmup=0, repeats=3, number=1, clock=clock, device="cpu")
    assert len(calls) == 2 * 3


def test_compare_interleaves_samples():
    events: list[str] = []
    clock = FakeClock(events)
    fa, _ = workload(clock, [1e-3], "a")
    fb, _ = workload(clock, [4e-3], "b")
    out = bm.compare({"a": fa, "b": fb}, warmup=0, repeats=3, number=1, clock=clock)
    calls = [e for e in events if e in ("a", "b")]
    assert calls == ["a", "b"] * 3
    assert out["b"].median / out["a"].median == pytest.approx(4.0)
    assert out["a"].label == "a"


def test_compare_blocked_measures_one_callable_at_a_time():
    events: list[str] = []
    clock = FakeClock(events)
    fa, _ = workload(clock, [1e-3], "a")
    fb, _ = workload(clock, [4e-3], "b")
    out = bm.compare({"a": fa, "b": fb}, warmup=1, repeats=3, number=1, interleave=False,
                     switch_time=2.5e-3, clock=clock)
    calls = [e for e in events if e in ("a", "b")]
    # a: one warm-up call, then more until 2.5 ms have passed (3 of 1 ms), then 3 samples;
    # b: one warm-up call, then one more that lasts past switch_time, then 3 samples.
    assert calls == ["a"] * 7 + ["b"] * 5
    assert out["b"].median / out["a"].median == pytest.approx(4.0)


def test_compare_blocked_rounds_take_turns():
    events: list[str] = []
    clock = FakeClock(events)
    fa, _ = workload(clock, [1e-3], "a")
    fb, _ = workload(clock, [1e-3], "b")
    out = bm.compare({"a": fa, "b": fb}, warmup=0, repeats=4, number=1, interleave=False,
                     rounds=2, clock=clock)
    calls = [e for e in events if e in ("a", "b")]
    assert calls == ["a", "a", "b", "b", "a", "a", "b", "b"]  # two samples each, twice
    assert out["a"].runs == out["b"].runs == 4
    with pytest.raises(ValueError, match="rounds"):
        bm.compare({"a": fa}, repeats=2, number=1, interleave=False, rounds=0, clock=clock)


def test_gc_is_paused_while_timing_and_restored():
    seen = []
    bm.measure(lambda: seen.append(gc.isenabled()), warmup=0, repeats=2, number=1)
    assert seen == [False, False]
    assert gc.isenabled()


def test_exception_in_fn_propagates_and_restores_gc():
    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        bm.Timer(boom).timeit(1)
    assert gc.isenabled()


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}, {"min_time": -1.0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError, match=r"^\[measure\]"):
        bm.measure(lambda: None, **kwargs)


def test_measurement_needs_a_sample():
    with pytest.raises(ValueError, match="Measurement"):
        bm.Measurement((), number=1)


def test_real_clock_with_numpy_and_ember():
    x = np.ones(1000, np.float32)
    m = bm.measure(lambda: np.add(x, x), warmup=1, repeats=3, min_time=0.003, bytes=12e3)
    assert m.runs == 3 and m.median > 0 and m.gbps is not None and m.gbps > 0
    t = ember.ones(1000)
    m = bm.measure(lambda: _C.exp(_c(t)), warmup=1, repeats=3, min_time=0.003)
    assert m.median > 0


def test_real_clock_with_torch():
    torch = pytest.importorskip("torch")
    x = torch.ones(1000)
    m = bm.measure(lambda: x + x, warmup=1, repeats=3, min_time=0.003)
    assert m.runs == 3 and m.median > 0


@pytest.mark.parametrize("seconds, want", [(2.5, "2.5 s"), (1.5e-3, "1.5 ms"),
                                           (2e-6, "2 µs"), (3e-8, "30 ns")])
def test_format_time(seconds, want):
    assert bm.format_time(seconds) == want


def test_probe_tables_are_filled_for_every_capability():
    kernels = _C.kernels()
    for table in ("probe_fma_kernel", "probe_stream_kernel"):
        assert set(_C.available_capabilities()) <= set(kernels[table])


def test_probe_fma(capability):
    r = _C.probe_fma_gflops(1, 0.01)
    assert r["gflops"] > 0 and r["threads"] == 1 and r["capability"] == capability
    assert r["seconds"] >= 0.01
    assert _C.probe_fma_gflops(2, 0.01)["threads"] == 2


@pytest.mark.parametrize("kind, arrays", [("copy", 2), ("triad", 3), ("read", 1)])
def test_probe_bandwidth(kind, arrays, capability):
    nbytes = 1 << 20
    r = _C.probe_bandwidth(kind, nbytes, 2, repeats=3)
    assert r["bytes_per_pass"] == arrays * nbytes
    assert r["best_gbps"] >= r["median_gbps"] > 0
    assert (r["kind"], r["threads"], r["repeats"], r["capability"]) == (kind, 2, 3, capability)


def test_probe_bandwidth_odd_length_and_more_threads_than_lines():
    r = _C.probe_bandwidth("triad", 4 * 37, 3, repeats=1)
    assert r["nbytes"] == 4 * 37 and r["best_gbps"] > 0


@pytest.mark.parametrize("call, match", [
    (lambda: _C.probe_bandwidth("bogus", 1 << 20, 1), "kind must be"),
    (lambda: _C.probe_bandwidth("copy", 2, 1), "nbytes"),
    (lambda: _C.probe_bandwidth("copy", 1 << 20, 0), "threads"),
    (lambda: _C.probe_bandwidth("copy", 1 << 20, 1, repeats=0), "repeats"),
    (lambda: _C.probe_fma_gflops(0, 0.01), "threads"),
    (lambda: _C.probe_fma_gflops(1, 0.0), "seconds"),
])
def test_probe_bad_arguments(call, match):
    with pytest.raises(ValueError, match=r"^\[probe_"):
        call()
    with pytest.raises(ValueError, match=match):
        call()


# ---- bench/: the runner's pieces (the suites themselves are run by bench/run.py) -----------
BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bench_modules():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_elementwise
        import common
        import run

        yield common, run, bench_elementwise
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize("n, want", [(1, (1, 1)), (1 << 10, (32, 32)), (1 << 16, (256, 256)),
                                     (1 << 20, (1024, 1024)), (1 << 24, (4096, 4096)),
                                     (96, (8, 12)), (7, (1, 7))])
def test_square_ish(n, want, bench_modules):
    common, _, _ = bench_modules
    assert common.square_ish(n) == want


def test_inputs_have_equal_values_in_every_library(bench_modules):
    common, _, _ = bench_modules
    x = common.inputs(1 << 10, "transposed", 2)
    for arrays in x.values():
        if arrays[0] is None:
            continue
        assert tuple(arrays[0].shape) == (32, 32)
        np.testing.assert_array_equal(common.to_numpy(arrays[1]), x["numpy"][1])
    assert not x["ember"][0].is_contiguous()


def test_ember_attr_finds_the_first_existing_name(bench_modules):
    common, _, _ = bench_modules
    fn, name = common.ember_attr("no_such_op", "Tensor.clone", "exp")
    assert name == "Tensor.clone" and fn is ember.Tensor.clone
    assert common.ember_attr("no_such_op", "nn.no_such") == (None, "")


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path, bench_modules):
    common, _, _ = bench_modules
    path = tmp_path / "sub" / "r.json"
    common.write_atomic(path, "one")
    common.write_atomic(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]


def test_thread_counts_are_powers_of_two_then_all(bench_modules):
    common, _, _ = bench_modules
    counts = common.thread_counts()
    assert counts[0] == 1 and counts == sorted(set(counts))
    assert counts[-1] == len(os.sched_getaffinity(0))


def _fake_case(common, fns):
    return common.Case("t", "add", 4, "contiguous", 1, fns, bytes=48.0, peak="triad")


def test_run_case_ratios_peak_and_mismatch_note(bench_modules):
    common, run, _ = bench_modules
    a = np.arange(4.0)
    case = _fake_case(common, {"ember": lambda: a + 1, "numpy": lambda: a + 1,
                               "torch": lambda: a + 2})
    args = argparse.Namespace(warmup=1, repeats=3, min_time=0.001, max_time=None)
    row = run.run_case(case, {"triad": {"1": 2.0}}, args)
    t = {lib: m["median_s"] for lib, m in row["times"].items()}
    assert row["speedup"] == pytest.approx({"numpy": t["numpy"] / t["ember"],
                                            "torch": t["torch"] / t["ember"]})
    assert row["peak"] == 2.0
    assert row["fraction_of_peak"] == pytest.approx(48.0 / t["ember"] / 1e9 / 2.0)
    assert "differs from NumPy" in row["notes"]["torch"] and "ember" not in row["notes"]
    md = run.markdown({"command": "c", "date": "d", "machine": run.machine_info(),
                       "probes": {"capability": "x", "array_mib": 1, "fma": {"1": 1.0},
                                  "copy": {"1": 1.0}, "triad": {"1": 2.0}, "read": {"1": 3.0}},
                       "results": [row]})
    assert "## t" in md and "| add | 4 | contiguous | 1 |" in md and "differs from NumPy" in md


def test_run_case_without_ember_reports_no_ratio(bench_modules):
    common, run, _ = bench_modules
    case = _fake_case(common, {"numpy": lambda: np.zeros(4)})
    case.notes["ember"] = "not in ember yet"
    args = argparse.Namespace(warmup=0, repeats=1, min_time=0.0, max_time=None)
    row = run.run_case(case, {}, args)
    assert row["speedup"] == {} and row["fraction_of_peak"] is None
    assert "-" in run.table_row(row)


def test_quick_elementwise_cases_agree_with_numpy(bench_modules):
    _, run, suite = bench_modules
    seen = set()
    for build in suite.cases(quick=True):
        case = build()
        if case.size > 1 << 16:
            continue
        run.check_results(case)
        assert not any("differs" in n for n in case.notes.values()), (case.key, case.notes)
        assert "numpy" in case.fns and ("ember" in case.fns or "ember" in case.notes)
        seen.add(case.op)
    assert seen == {"add", "mul", "exp", "gelu", "sum", "max"}


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    env = dict(os.environ)  # the ember under test: installed, or PYTHONPATH=python in a dev tree
    subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--op", "add",
                    "--name", "q", "--out", str(tmp_path), "--probe-mib", "8"],
                   check=True, env=env)
    report = json.loads((tmp_path / "q.json").read_text())
    assert "| add |" in (tmp_path / "q.md").read_text()
    assert {r["op"] for r in report["results"]} == {"add"}
    assert report["probes"]["triad"]


def test_train_benchmark_quick(tmp_path):
    env = dict(os.environ)
    subprocess.run([sys.executable, str(BENCH / "train.py"), "--quick", "--only", "linear",
                    "mlp-tensors", "--name", "t", "--out", str(tmp_path)], check=True, env=env)
    rows = json.loads((tmp_path / "t.json").read_text())["rows"]
    ember_rows = {r["workload"]: r for r in rows if r["library"] == "ember"}
    assert set(ember_rows) == {"linear", "mlp-tensors"}
    assert ember_rows["mlp-tensors"]["samples_per_s"] > 0 and ember_rows["linear"]["us"] > 0
    assert "| linear |" in (tmp_path / "t.md").read_text()
