"""ember.train.Trainer: learning on tiny synthetic problems, History keys, callbacks,
predict/evaluate, progress output, plots, and checkpoint/resume determinism. Checkpoints use
ember.io when it exists, else an in-test stand-in (npz) with the same save/load calls."""

from __future__ import annotations

import csv
import io as pyio
import math
import sys
import types
from pathlib import Path
from typing import Any

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember.optim.lr_scheduler import StepLR
from ember.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    plot_confusion_matrix,
    plot_history,
)


@pytest.fixture
def ember_io(monkeypatch: pytest.MonkeyPatch) -> Any:
    try:
        from ember import io
        return io
    except ImportError:
        pass
    fake = types.ModuleType("ember.io")

    def save(obj: dict[str, ember.Tensor], path: Any) -> None:
        with open(path, "wb") as f:
            np.savez(f, **{k: v.numpy() for k, v in obj.items()})

    def load(path: Any) -> dict[str, ember.Tensor]:
        with np.load(path) as z:
            return {k: ember.from_numpy(z[k].copy()) for k in z.files}

    fake.save, fake.load = save, load
    monkeypatch.setitem(sys.modules, "ember.io", fake)
    monkeypatch.setattr(ember, "io", fake, raising=False)
    return fake


def blobs(n: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two separable classes in 4-d (NumPy RNG, so ember's RNG is left to the trainer)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def mlp(dropout: float = 0.0) -> nn.Module:
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 2))


def make(lr: float = 0.05, metrics: Any = ("accuracy",), dropout: float = 0.0) -> Trainer:
    model = mlp(dropout)
    return Trainer(model, "cross_entropy", ember.optim.Adam(model.parameters(), lr=lr),
                   metrics=list(metrics))


class Scripted(Callback):
    """Overwrites a logged value with a scripted sequence (put it first in callbacks)."""

    def __init__(self, key: str, values: list[float]) -> None:
        self.key, self.values = key, values

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs[self.key] = self.values[epoch]


def params(model: nn.Module) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_fit_learns_with_validation() -> None:
    ember.manual_seed(0)
    x, y = blobs()
    trainer = make(metrics=["accuracy", "f1"])
    h = trainer.fit((x, y), val_data=blobs(64, seed=1), epochs=6, batch_size=32, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1"}
    assert all(len(v) == 6 for v in h.history.values()) and h.epoch == list(range(6))
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.9
    ev = trainer.evaluate(blobs(64, seed=1))
    assert set(ev) == {"loss", "accuracy", "f1"}
    assert ev["accuracy"] == pytest.approx(h.history["val_accuracy"][-1])


def test_fit_without_validation_inputs_kinds() -> None:
    ember.manual_seed(1)
    x, y = blobs()
    tx, ty = ember.from_numpy(x), ember.from_numpy(y)
    for data in ((x, y), ember.data.TensorDataset(tx, ty),
                 ember.data.DataLoader(ember.data.TensorDataset(tx, ty), batch_size=16)):
        trainer = make()
        h = trainer.fit(data, epochs=3, verbose=0)
        assert set(h.history) == {"loss", "accuracy"}
        assert h.history["loss"][-1] < h.history["loss"][0]
        assert h.history["accuracy"][-1] > 0.85


def test_regression_metrics_and_predict_shapes() -> None:
    ember.manual_seed(2)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    model = nn.Linear(3, 1)
    trainer = Trainer(model, "mse", ember.optim.Adam(model.parameters(), lr=0.1),
                      metrics=["mae", "rmse", "r2"])
    h = trainer.fit((x, y), epochs=15, batch_size=20, verbose=0)
    assert h.history["r2"][-1] > 0.95 and h.history["rmse"][-1] < h.history["rmse"][0]
    pred = trainer.predict(x, batch_size=64)
    assert tuple(pred.shape) == (200, 1)
    assert tuple(trainer.predict((x[:7], y[:7])).shape) == (7, 1)  # targets ignored
    ref = float(np.sqrt(((pred.numpy() - y) ** 2).mean()))
    assert trainer.evaluate((x, y))["rmse"] == pytest.approx(ref, rel=1e-4)


def test_early_stopping_epoch_and_restore(ember_io: Any) -> None:
    ember.manual_seed(3)
    trainer = make()
    seen: dict[int, list[np.ndarray]] = {}

    class Keep(Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            seen[epoch] = params(self.trainer.model)

    stop = EarlyStopping(patience=2, restore_best_weights=True)
    losses = [1.0, 0.5, 0.6, 0.7, 0.1, 0.1]
    h = trainer.fit(blobs(), val_data=blobs(32, 1), epochs=6, verbose=0,
                    callbacks=[Scripted("val_loss", losses), stop, Keep()])
    assert len(h) == 4 and stop.stopped_epoch == 3 and stop.best_epoch == 1
    for got, best, last in zip(params(trainer.model), seen[1], seen[3], strict=True):
        np.testing.assert_array_equal(got, best)
        assert not np.array_equal(best, last) or best.size == 0


def test_early_stopping_mode_auto_max_and_missing_key() -> None:
    stop = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.01)
    h = make().fit(blobs(64), val_data=blobs(32, 1), epochs=5, verbose=0,
                   callbacks=[Scripted("val_accuracy", [0.5, 0.8, 0.805, 0.9, 0.9]), stop])
    assert len(h) == 3  # 0.805 is not 0.01 better than 0.8
    with pytest.raises(KeyError, match="val_loss"):
        make().fit(blobs(64), epochs=1, verbose=0, callbacks=[EarlyStopping()])


def test_model_checkpoint_best_only(tmp_path: Path, ember_io: Any) -> None:
    cb = ModelCheckpoint(tmp_path / "m-{epoch}.safetensors", save_best_only=True)
    trainer = make()
    trainer.fit(blobs(64), val_data=blobs(32, 1), epochs=4, verbose=0,
                callbacks=[Scripted("val_loss", [1.0, 0.5, 0.7, 0.4]), cb])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["m-1.safetensors", "m-2.safetensors", "m-4.safetensors"]
    state = ember_io.load(tmp_path / "m-4.safetensors")
    assert set(state) == set(trainer.model.state_dict())
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(state[k].numpy(), v.numpy())


def test_model_checkpoint_every_n(tmp_path: Path, ember_io: Any) -> None:
    cb = ModelCheckpoint(str(tmp_path / "e{epoch:02d}.st"), every_n_epochs=2)
    make().fit(blobs(64), epochs=5, verbose=0, callbacks=[cb])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e02.st", "e04.st"]


def test_csv_logger(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    make().fit(blobs(64), val_data=blobs(32, 1), epochs=3, verbose=0,
               callbacks=[CSVLogger(path)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert all(math.isfinite(float(v)) for r in rows[1:] for v in r)
    make().fit(blobs(64), val_data=blobs(32, 1), epochs=1, verbose=0,
               callbacks=[CSVLogger(path, append=True)])
    assert len(list(csv.reader(path.open()))) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]  # no temporary file left


class KillAfter(Callback):
    """Raises (as a kill would end the process) at the end of epoch ``epoch``, after the
    callbacks before it logged the epoch but before its checkpoint is written."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_csv_logger_resume_replaces_retrained_epochs(tmp_path: Path, ember_io: Any) -> None:
    path, ckpt = tmp_path / "log.csv", tmp_path / "train.ckpt"
    ember.manual_seed(3)
    with pytest.raises(KeyboardInterrupt):
        make().fit(blobs(64), val_data=blobs(32, 1), epochs=4, verbose=0,
                   callbacks=[ModelCheckpoint(ckpt, save_training_state=True),
                              CSVLogger(path), KillAfter(2)])
    # Epoch 2 was logged, but the last checkpoint is from epoch 1: epoch 2 is trained again.
    assert [r[0] for r in csv.reader(path.open())] == ["epoch", "0", "1", "2"]
    make().fit(blobs(64), val_data=blobs(32, 1), epochs=4, verbose=0, resume_from=ckpt,
               callbacks=[ModelCheckpoint(ckpt, save_training_state=True),
                          CSVLogger(path, append=True)])
    rows = list(csv.reader(path.open()))
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2", "3"]
    assert all(len(r) == len(rows[0]) for r in rows)


def test_terminate_on_nan() -> None:
    calls = {"n": 0}

    def loss(out: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        calls["n"] += 1
        value = nn.functional.cross_entropy(out, y)
        return value * float("nan") if calls["n"] == 3 else value

    model = mlp()
    trainer = Trainer(model, loss, ember.optim.SGD(model.parameters(), lr=0.1))
    h = trainer.fit(blobs(256), epochs=3, batch_size=32, verbose=0,
                    callbacks=[TerminateOnNaN()])
    assert calls["n"] == 3 and len(h) == 1 and math.isnan(h.history["loss"][0])


def test_lr_scheduler_per_step_and_epoch() -> None:
    trainer = make(lr=0.1)
    sched = StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    trainer.fit(blobs(128), epochs=1, batch_size=32, verbose=0,
                callbacks=[LearningRateScheduler(sched, per="step")])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 4)
    trainer = make(lr=0.1)
    sched = StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    h = trainer.fit(blobs(128), epochs=2, batch_size=32, verbose=0,
                    callbacks=[LearningRateScheduler(sched)])
    assert h.history["lr"] == pytest.approx([0.1, 0.05])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)


def test_reduce_lr_on_plateau_callback() -> None:
    trainer = make(lr=0.1)
    cb = ReduceLROnPlateau(factor=0.5, patience=1)
    h = trainer.fit(blobs(64), val_data=blobs(32, 1), epochs=5, verbose=0,
                    callbacks=[Scripted("val_loss", [1.0, 1.0, 1.0, 1.0, 1.0]), cb])
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)


def _run(tmp_path: Path, epochs: int, resume: bool) -> tuple[Trainer, Any]:
    trainer = make(lr=0.02, dropout=0.3)
    sched = StepLR(trainer.optimizer, step_size=3, gamma=0.5)
    # Checkpoint listed before EarlyStopping: it is still written after every callback ran.
    cbs = [LearningRateScheduler(sched, per="step"),
           ModelCheckpoint(tmp_path / "train.ckpt", save_training_state=True),
           EarlyStopping(monitor="val_accuracy", patience=10, restore_best_weights=True)]
    h = trainer.fit(blobs(96), val_data=blobs(32, 1), epochs=epochs, batch_size=16,
                    verbose=0, callbacks=cbs,
                    resume_from=tmp_path / "train.ckpt" if resume else None)
    return trainer, h


def test_resume_matches_uninterrupted(tmp_path: Path, ember_io: Any) -> None:
    ember.manual_seed(7)
    (tmp_path / "a").mkdir()
    straight, h_straight = _run(tmp_path / "a", 4, False)
    ember.manual_seed(7)
    (tmp_path / "b").mkdir()
    _run(tmp_path / "b", 2, False)
    ember.manual_seed(12345)  # the checkpoint's RNG state must win over this
    resumed, h_resumed = _run(tmp_path / "b", 4, True)
    for a, b in zip(params(straight.model), params(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert h_resumed.epoch == [0, 1, 2, 3]
    assert h_resumed.history == h_straight.history
    sa, sb = straight.optimizer.state_dict(), resumed.optimizer.state_dict()
    assert sa["param_groups"][0]["lr"] == sb["param_groups"][0]["lr"]
    stop_a, stop_b = straight.callbacks.callbacks[2], resumed.callbacks.callbacks[2]
    assert (stop_a.wait, stop_a.best_epoch, stop_a.tracker.best) == \
        (stop_b.wait, stop_b.best_epoch, stop_b.tracker.best)


def test_resume_rejects_plain_state_dict(tmp_path: Path, ember_io: Any) -> None:
    trainer = make()
    ember_io.save(trainer.model.state_dict(), tmp_path / "m.st")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        trainer.fit(blobs(32), epochs=1, verbose=0, resume_from=tmp_path / "m.st")


def test_plain_log_lines(capsys: pytest.CaptureFixture[str]) -> None:
    make().fit(blobs(64), val_data=blobs(32, 1), epochs=2, verbose="auto")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2 - ") and "samples/s" in lines[0]
    assert "loss: " in lines[1] and "val_accuracy: " in lines[1]
    make().fit(blobs(64), epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose"):
        make().fit(blobs(64), epochs=1, verbose=3)


def test_tqdm_bar() -> None:
    pytest.importorskip("tqdm")
    from ember.train.progress import Progress

    stream = pyio.StringIO()
    bar = Progress(1, 4, verbose=1, stream=stream)
    bar.epoch_begin(0)
    for _ in range(4):
        bar.batch_end(8, {"loss": 0.5})
    bar.epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    out = stream.getvalue()
    assert "Epoch 1/1" in out and "accuracy: 0.75" in out and "samples/s" in out


def test_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    h = make().fit(blobs(64), val_data=blobs(32, 1), epochs=2, verbose=0)
    h.plot(tmp_path / "h.png")
    plot_history(h.history, tmp_path / "d.png")
    plot_confusion_matrix(np.array([[5, 1], [2, 7]]), tmp_path / "cm.png",
                          class_names=["a", "b"], normalize=True)
    for name in ("h.png", "d.png", "cm.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))


def test_plot_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_history({"loss": [1.0]})


def test_bad_arguments() -> None:
    model = mlp()
    with pytest.raises(ValueError, match="unknown loss"):
        Trainer(model, "crossentropy")
    with pytest.raises(ValueError, match="optimizer"):
        Trainer(model, "mse", optimizer="adamx")
    with pytest.raises(TypeError, match="Callback"):
        Trainer(model).fit(blobs(32), callbacks=[object()], verbose=0)


_KILL_SCRIPT = r"""
import os, sys, types
import numpy as np
import ember, ember.nn as nn
from ember.train import Callback, ModelCheckpoint, Trainer

try:
    from ember import io  # noqa: F401
except ImportError:  # the same npz stand-in as the in-process tests
    fake = types.ModuleType("ember.io")
    def save(obj, path):
        with open(path, "wb") as f:
            np.savez(f, **{k: v.numpy() for k, v in obj.items()})
    def load(path):
        with np.load(path) as z:
            return {k: ember.from_numpy(z[k].copy()) for k in z.files}
    fake.save, fake.load = save, load
    sys.modules["ember.io"] = fake
    ember.io = fake

mode, ckpt, out = sys.argv[1], sys.argv[2], sys.argv[3]
ember.manual_seed(0 if mode != "resume" else 99)
rng = np.random.default_rng(0)
x = rng.normal(size=(96, 4)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
trainer = Trainer(model, "cross_entropy", ember.optim.Adam(model.parameters(), lr=0.02))

class Kill(Callback):
    def on_batch_end(self, batch, logs=None):
        if mode == "kill" and self.trainer.history.epoch == [0, 1] and batch == 2:
            os._exit(137)  # as abrupt as SIGKILL: no cleanup, no flush

trainer.fit((x, y), epochs=4, batch_size=16, verbose=0,
            callbacks=[ModelCheckpoint(ckpt, save_training_state=True), Kill()],
            resume_from=ckpt if mode == "resume" else None)
np.savez(out, *[p.detach().numpy() for p in model.parameters()])
"""


def test_resume_after_killed_process(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(ember.__file__).parents[1])}

    def run(mode: str, ckpt: str, out: str) -> int:
        return subprocess.run([sys.executable, str(script), mode, str(tmp_path / ckpt),
                               str(tmp_path / out)], env=env, timeout=120).returncode

    assert run("straight", "a.ckpt", "a.npz") == 0
    assert run("kill", "b.ckpt", "unused.npz") == 137
    assert not (tmp_path / "unused.npz").exists()
    assert run("resume", "b.ckpt", "b.npz") == 0
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert a.files == b.files
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])
