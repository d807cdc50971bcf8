"""Callbacks, Keras's names and hooks. A callback sees the running Trainer as
``self.trainer`` (model, optimizer, history, ``stop_training``)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from typing import Any

from .._atomic import atomic_open

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint",
           "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN"]


class Callback:
    """Base class: override any of the hooks; ``logs`` holds the current values."""

    trainer: Any = None

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    def state_dict(self) -> dict[str, Any]:
        """What a training checkpoint keeps of this callback (tensors and JSON values)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...


class CallbackList(Callback):
    def __init__(self, callbacks: Iterable[Callback], trainer: Any) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"[fit] {cb!r} is not an ember.train.Callback")
            cb.set_trainer(trainer)

    def _call(self, name: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, name)(*args)

    def on_train_begin(self, logs: Any = None) -> None: self._call("on_train_begin", logs)
    def on_train_end(self, logs: Any = None) -> None: self._call("on_train_end", logs)
    def on_epoch_begin(self, e: int, logs: Any = None) -> None:
        self._call("on_epoch_begin", e, logs)
    def on_epoch_end(self, e: int, logs: Any = None) -> None: self._call("on_epoch_end", e, logs)
    def on_batch_begin(self, b: int, logs: Any = None) -> None:
        self._call("on_batch_begin", b, logs)
    def on_batch_end(self, b: int, logs: Any = None) -> None: self._call("on_batch_end", b, logs)


class _Monitor:
    """Best-so-far tracking of one logged value; mode "auto" minimises unless the name looks
    like a score (accuracy, f1, r2, precision, recall, auc)."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            scores = ("acc", "f1", "r2", "precision", "recall", "auc")
            mode = "max" if any(s in monitor for s in scores) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict[str, Any] | None) -> float | None:
        if not logs or self.monitor not in logs:
            return None
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


def _missing(cb: Any, monitor: str, logs: Any) -> None:
    raise KeyError(f"[{type(cb).__name__}] monitored value {monitor!r} is not logged; "
                   f"available: {sorted(logs or {})} (pass val_data to fit for val_*)")


def _snapshot(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; ``restore_best_weights`` puts the best epoch's weights back at the end."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        self.tracker = _Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs: Any = None) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.best_weights: dict[str, Any] | None = None
        self.tracker.best = math.inf if self.tracker.mode == "min" else -math.inf

    def state_dict(self) -> dict[str, Any]:
        return {"wait": self.wait, "best": self.tracker.best, "best_epoch": self.best_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait, self.tracker.best = state["wait"], state["best"]
        self.best_epoch, self.best_weights = state["best_epoch"], state["best_weights"]

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        value = self.tracker.value(logs)
        if value is None:
            _missing(self, self.tracker.monitor, logs)
        if epoch < self.start_from_epoch:
            return
        if self.tracker.improved(value):
            self.tracker.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.trainer.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: Any = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model's state_dict with ``ember.save`` (safetensors) to ``path`` (may hold
    ``{epoch}`` (1-based) and any logged value, e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}"``)
    every ``every_n_epochs`` epochs, or only when ``monitor`` improved (``save_best_only``).
    ``save_training_state`` writes a full training checkpoint instead (model, optimizer,
    scheduler, epoch, RNG state, History) that ``fit(resume_from=path)`` continues from."""

    def __init__(self, path: Any, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", every_n_epochs: int = 1,
                 save_training_state: bool = False) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"[ModelCheckpoint] every_n_epochs must be >= 1, got "
                             f"{every_n_epochs}")
        self.path, self.save_best_only = os.fspath(path), save_best_only
        self.tracker = _Monitor(monitor, mode, 0.0)
        self.every_n_epochs, self.save_training_state = every_n_epochs, save_training_state
        self.saved: list[str] = []

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.tracker.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.best = state["best"]

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = self.tracker.value(logs)
            if value is None:
                _missing(self, self.tracker.monitor, logs)
            if not self.tracker.improved(value):
                return
            self.tracker.best = value
        elif (epoch + 1) % self.every_n_epochs:
            return
        path = self.path.format(epoch=epoch + 1, **logs)
        if self.save_training_state:
            self.trainer._checkpoint_requests.append(path)  # written after all callbacks
        else:
            from .trainer import _io

            _io().save(_snapshot(self.trainer.model), path)
        self.saved.append(path)


class LearningRateScheduler(Callback):
    """Steps an ``ember.optim.lr_scheduler`` scheduler after every epoch or every optimizer
    step (``per="step"``, e.g. OneCycleLR); ReduceLROnPlateau is given the monitored value.
    The lr in effect is logged as "lr"."""

    def __init__(self, scheduler: Any, per: str = "epoch", monitor: str = "val_loss") -> None:
        if per not in ("epoch", "step"):
            raise ValueError(f"[LearningRateScheduler] per must be 'epoch' or 'step', got {per!r}")
        self.scheduler, self.per, self.monitor = scheduler, per, monitor
        self.plateau = type(scheduler).__name__ == "ReduceLROnPlateau"
        if self.plateau and per == "step":
            raise ValueError("[LearningRateScheduler] ReduceLROnPlateau steps per epoch")

    def set_trainer(self, trainer: Any) -> None:
        super().set_trainer(trainer)
        trainer.schedulers.append(self.scheduler)

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.per == "step":
            self.scheduler.step()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs is not None:
            logs["lr"] = float(self.scheduler.optimizer.param_groups[0]["lr"])
        if self.per != "epoch":
            return
        if self.plateau:
            value = (logs or {}).get(self.monitor)
            if value is None:
                _missing(self, self.monitor, logs)
            self.scheduler.step(value)
        else:
            self.scheduler.step()


class ReduceLROnPlateau(LearningRateScheduler):
    """Keras's callback: wraps ``ember.optim.lr_scheduler.ReduceLROnPlateau`` on the
    trainer's optimizer (created when training begins)."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0,
                 min_lr: float = 0.0) -> None:
        self.monitor, self.per, self.plateau = monitor, "epoch", True
        self.mode = _Monitor(monitor, mode, min_delta).mode
        self.kwargs = dict(factor=factor, patience=patience, threshold=min_delta,
                           threshold_mode="abs", cooldown=cooldown, min_lr=min_lr)

    def set_trainer(self, trainer: Any) -> None:
        from ..optim.lr_scheduler import ReduceLROnPlateau as Plateau

        self.scheduler = Plateau(trainer.optimizer, mode=self.mode, **self.kwargs)
        super().set_trainer(trainer)


class CSVLogger(Callback):
    """One CSV row per epoch (epoch + every logged value). The whole file is rewritten
    atomically after each epoch, so a kill never leaves a torn row. ``append`` continues an
    existing file. When the fit resumes from a checkpoint, rows of the epochs it trains again
    (those a killed run logged after its last checkpoint) are replaced, not duplicated."""

    def __init__(self, path: Any, separator: str = ",", append: bool = False) -> None:
        self.path, self.sep, self.append = os.fspath(path), separator, append
        self.keys: list[str] = []
        self.rows: list[dict[str, str]] = []

    def on_train_begin(self, logs: Any = None) -> None:
        self.keys, self.rows = [], []
        if self.append and os.path.exists(self.path):
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f, delimiter=self.sep)
                self.rows = [row for row in reader if row.get("epoch", "").isdigit()]
                self.keys = [k for k in reader.fieldnames or [] if k != "epoch"]

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if self.trainer.resumed:
            self.rows = [r for r in self.rows if int(r["epoch"]) < epoch]

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs = logs or {}
        self.keys += [k for k in logs if k not in self.keys]
        self.rows.append({"epoch": str(epoch), **{k: str(v) for k, v in logs.items()}})
        with atomic_open(self.path, "w", newline="") as f:
            writer = csv.writer(f, delimiter=self.sep)
            writer.writerow(["epoch", *self.keys])
            for row in self.rows:
                writer.writerow([row["epoch"], *(row.get(k, "") for k in self.keys)])


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is NaN or infinite."""

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: invalid loss {loss}, terminating training", flush=True)
            self.trainer.stop_training = True
