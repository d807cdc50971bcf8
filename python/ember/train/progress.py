"""Per-epoch progress: a tqdm bar (loss, metrics, samples/s, ETA) on a terminal when tqdm is
installed, otherwise one plain line per epoch so CI logs stay readable."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress", "format_logs"]


def format_logs(logs: dict[str, Any]) -> str:
    return " - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}"
                      for k, v in logs.items())


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """``verbose``: 0 silent, 1 bar (falls back to lines without tqdm), 2 lines only,
    "auto" a bar when ``stream`` is a terminal, else lines."""

    def __init__(self, epochs: int, steps: int | None, verbose: Any = "auto",
                 stream: TextIO | None = None) -> None:
        self.epochs, self.steps = epochs, steps
        self.stream = stream if stream is not None else sys.stdout
        if verbose not in (0, 1, 2, "auto", True, False):
            raise ValueError(f"[fit] verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        if verbose == "auto":
            isatty = getattr(self.stream, "isatty", None)
            verbose = 1 if isatty is not None and isatty() else 2
        self.mode = int(verbose)
        self.tqdm = _tqdm() if self.mode == 1 else None
        if self.mode == 1 and self.tqdm is None:
            self.mode = 2
        self.bar: Any = None

    def epoch_begin(self, epoch: int) -> None:
        self.t0, self.samples = time.perf_counter(), 0
        self.t_train = self.t0  # end of the last training batch: validation is not counted
        if self.tqdm is not None:
            self.bar = self.tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                                 unit="batch", file=self.stream, leave=True,
                                 dynamic_ncols=True)

    def batch_end(self, n: int, logs: dict[str, Any]) -> None:
        self.samples += n
        self.t_train = time.perf_counter()
        if self.bar is not None:
            rate = self.samples / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.set_postfix_str(format_logs({**logs, "samples/s": f"{rate:.0f}"}),
                                     refresh=False)
            self.bar.update(1)

    def epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        dt = time.perf_counter() - self.t0
        rate = self.samples / max(self.t_train - self.t0, 1e-9)  # training throughput
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs({**logs, "samples/s": f"{rate:.0f}"}))
            self.bar.close()
            self.bar = None
        elif self.mode == 2:
            line = (f"Epoch {epoch + 1}/{self.epochs} - {dt:.1f}s - {rate:.0f} samples/s - "
                    + format_logs(logs))
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
