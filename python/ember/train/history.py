"""History: what ``Trainer.fit`` returns, Keras's layout (``history.history["val_loss"]`` is
the list of per-epoch validation losses)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["History"]


class History:
    """``history`` maps each logged name to its per-epoch values; ``epoch`` lists the epoch
    indices (0-based) they belong to, ``params`` the fit arguments."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        # A key first seen late (a metric added on resume) is padded with NaN so every list
        # stays aligned with ``epoch``.
        for key, value in logs.items():
            values = self.history.setdefault(key, [math.nan] * len(self.epoch))
            values.append(float(value))
        for key, values in self.history.items():
            if key not in logs:
                values.append(math.nan)
        self.epoch.append(int(epoch))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (for training checkpoints)."""
        return {"history": self.history, "epoch": self.epoch, "params": self.params}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> History:
        h = cls()
        h.history = {k: [float(v) for v in vs] for k, vs in state["history"].items()}
        h.epoch = [int(e) for e in state["epoch"]]
        h.params = dict(state.get("params", {}))
        return h

    def plot(self, path: Any = None, keys: list[str] | None = None) -> Any:
        """Learning curves (train vs validation per quantity) as a matplotlib Figure; written
        as PNG when ``path`` is given. Needs matplotlib (``pip install ember[plot]``)."""
        from .plot import plot_history

        return plot_history(self, path, keys=keys)
