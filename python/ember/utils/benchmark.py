"""Timing harness for kernels and any Python callable (ember, NumPy, PyTorch).

A measurement is `repeats` samples; each sample times `number` back-to-back calls and keeps the
time per call, so calls far shorter than the clock's resolution still time well. `number` is
chosen after warm-up so that all samples together last about `min_time`. We report the median
(robust to the outliers a shared machine produces) with the interquartile range as the spread,
and the minimum. `compare` measures several callables with their samples interleaved, so a
slow spell on the machine hits every library alike and their ratios stay meaningful.

CUDA work is asynchronous: pass ``device="cuda"`` (or any ``sync`` callable, such as
``torch.cuda.synchronize``) so the clock only reads after the queued kernels finish.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Measurement", "Timer", "compare", "format_time", "measure"]

Clock = Callable[[], float]


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default percentile method)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class Measurement:
    """Seconds per call, one entry per sample; `bytes`/`flops` are per call when given."""

    times: tuple[float, ...]
    number: int
    label: str = ""
    bytes: float | None = None
    flops: float | None = None
    _sorted: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.times:
            raise ValueError("[Measurement] needs at least one sample")
        object.__setattr__(self, "_sorted", sorted(self.times))

    @property
    def runs(self) -> int:
        """Number of samples."""
        return len(self.times)

    @property
    def calls(self) -> int:
        """Timed calls in all samples (warm-up and calibration excluded)."""
        return self.runs * self.number

    @property
    def median(self) -> float:
        return _quantile(self._sorted, 0.5)

    @property
    def min(self) -> float:
        return self._sorted[0]

    @property
    def max(self) -> float:
        return self._sorted[-1]

    @property
    def mean(self) -> float:
        return sum(self.times) / len(self.times)

    @property
    def q1(self) -> float:
        return _quantile(self._sorted, 0.25)

    @property
    def q3(self) -> float:
        return _quantile(self._sorted, 0.75)

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def spread(self) -> float:
        """IQR relative to the median: 0.05 means the middle half lies within about 5%."""
        return self.iqr / self.median if self.median > 0 else 0.0

    @property
    def gbps(self) -> float | None:
        """Bytes moved per second at the median time, in GB/s (1e9 bytes)."""
        return None if self.bytes is None else self.bytes / self.median / 1e9

    @property
    def gflops(self) -> float | None:
        return None if self.flops is None else self.flops / self.median / 1e9

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "median_s": self.median, "min_s": self.min,
            "q1_s": self.q1, "q3_s": self.q3, "iqr_s": self.iqr, "runs": self.runs,
            "number": self.number, "bytes": self.bytes, "flops": self.flops,
            "gbps": self.gbps, "gflops": self.gflops,
        }

    def __str__(self) -> str:
        rate = ""
        if self.gbps is not None:
            rate = f", {self.gbps:.2f} GB/s"
        if self.gflops is not None:
            rate += f", {self.gflops:.2f} GFLOP/s"
        name = f"{self.label}: " if self.label else ""
        return (f"{name}{format_time(self.median)} median (IQR {format_time(self.iqr)}, "
                f"min {format_time(self.min)}, {self.runs}x{self.number} calls{rate})")


def format_time(seconds: float) -> str:
    """3 significant digits in ns, µs, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _cuda_sync() -> None:
    from .. import cuda

    cuda.synchronize()


def _pick_sync(device: str | None, sync: Callable[[], Any] | None) -> Callable[[], Any] | None:
    if sync is not None:
        return sync
    if device is not None and str(device).startswith("cuda"):
        return _cuda_sync
    return None


class Timer:
    """Times `number` consecutive calls of `fn` (synchronising around them when asked)."""

    def __init__(self, fn: Callable[[], Any], *, device: str | None = None,
                 sync: Callable[[], Any] | None = None, clock: Clock = time.perf_counter,
                 disable_gc: bool = True) -> None:
        self.fn = fn
        self.sync = _pick_sync(device, sync)
        self.clock = clock
        self.disable_gc = disable_gc

    def timeit(self, number: int = 1) -> float:
        """Total seconds for `number` calls. The garbage collector is paused meanwhile, as in
        the standard `timeit`, so a collection triggered by another library cannot land in
        this sample."""
        fn, sync = self.fn, self.sync
        gc_was_on = gc.isenabled()
        if self.disable_gc:
            gc.disable()
        try:
            if sync is not None:
                sync()
            start = self.clock()
            for _ in range(number):
                fn()
            if sync is not None:
                sync()
            return self.clock() - start
        finally:
            if gc_was_on:
                gc.enable()

    def calibrate(self, target: float) -> int:
        """Calls per sample so that one sample lasts at least `target` seconds (>= 1)."""
        number = 1
        while number < 10**9:  # the bound only matters for a clock that never advances
            elapsed = self.timeit(number)
            if elapsed >= target:
                return number
            if elapsed <= 0:
                number *= 10
            else:  # aim 20% past the target so the next try usually ends the search
                number = max(number + 1, math.ceil(number * 1.2 * target / elapsed))
        return number


def _check(warmup: int, repeats: int, min_time: float) -> None:
    if warmup < 0 or repeats < 1 or min_time < 0:
        raise ValueError(f"[measure] need warmup >= 0, repeats >= 1, min_time >= 0; got "
                         f"warmup={warmup}, repeats={repeats}, min_time={min_time}")


def measure(fn: Callable[[], Any], *, warmup: int = 3, repeats: int = 11,
            min_time: float = 0.2, max_time: float | None = None, number: int | None = None,
            bytes: float | None = None, flops: float | None = None, label: str = "",
            device: str | None = None,
            sync: Callable[[], Any] | None = None,
            clock: Clock = time.perf_counter) -> Measurement:
    """Times `fn()` (no arguments: bind them with a lambda or functools.partial).

    Runs `warmup` untimed calls, picks `number` calls per sample (unless given) so the
    `repeats` samples together take about `min_time` seconds, then takes the samples.
    `max_time` caps the timed seconds: a call too slow for `repeats` samples in it gets fewer
    (at least 3). `bytes`/`flops` (per call) give the result GB/s and GFLOP/s.
    """
    return compare({label: fn}, warmup=warmup, repeats=repeats, min_time=min_time,
                   max_time=max_time, number=number, bytes=bytes, flops=flops, device=device,
                   sync=sync,
                   clock=clock)[label]


def compare(fns: Mapping[str, Callable[[], Any]], *, warmup: int = 3, repeats: int = 11,
            min_time: float = 0.2, max_time: float | None = None, number: int | None = None,
            bytes: float | None = None, flops: float | None = None, device: str | None = None,
            sync: Callable[[], Any] | None = None, interleave: bool = True,
            switch_time: float = 0.0, rounds: int = 1,
            clock: Clock = time.perf_counter) -> dict[str, Measurement]:
    """Measures several callables doing the same work. Each gets its own `number`,
    `min_time` and `max_time` budget.

    Interleaved (the default): sample i of each is taken before sample i + 1 of any, so
    machine-wide slow spells shift all of them together.

    `interleave=False` measures one callable at a time, each after `warmup` calls that go on
    for at least `switch_time` seconds. This is for multithreaded libraries on a machine with
    few cores: after a call their idle threads keep spinning for a while (OpenBLAS's for about
    0.1 s), and interleaved, those spinners would take a core from whichever library runs next.
    With `rounds` > 1 the callables take turns in that many blocks of samples (each block after
    `switch_time` of warm-up calls), so a slow spell of the machine does not fall on one only.
    """
    _check(warmup, repeats, min_time)
    timers = {name: Timer(fn, device=device, sync=sync, clock=clock) for name, fn in fns.items()}
    numbers: dict[str, int] = {}
    samples: dict[str, list[float]] = {name: [] for name in timers}

    def switch(name: str) -> None:
        start = clock()
        while clock() - start < switch_time:
            timers[name].fn()

    def prepare(name: str) -> None:
        timer = timers[name]
        for _ in range(warmup):
            timer.fn()
        if switch_time > 0:
            switch(name)
        numbers[name] = number if number is not None else timer.calibrate(min_time / repeats)

    def sample(name: str, i: int) -> None:
        spent = sum(samples[name]) * numbers[name]
        if i >= 3 and max_time is not None and spent >= max_time:
            return
        samples[name].append(timers[name].timeit(numbers[name]) / numbers[name])

    if interleave:
        for name in timers:
            prepare(name)
        for i in range(repeats):
            for name in timers:
                sample(name, i)
    else:
        if rounds < 1:
            raise ValueError(f"[compare] rounds must be >= 1, got {rounds}")
        per_round = -(-repeats // rounds)
        for r in range(rounds):
            for name in timers:
                if r == 0:
                    prepare(name)
                elif switch_time > 0:
                    switch(name)
                for i in range(r * per_round, min(repeats, (r + 1) * per_round)):
                    sample(name, i)
    return {name: Measurement(tuple(samples[name]), numbers[name], label=name, bytes=bytes,
                              flops=flops) for name in timers}
