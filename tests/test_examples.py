"""The MNIST examples as a user runs them (subprocesses on the real data, a small training
subset): they train, write their checkpoint, log and curves, and an interrupted run (SIGKILL
mid-epoch, or Ctrl-C) resumed with --resume ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ember
import numpy as np
import pytest
from conftest import mnist_data_root

ROOT = Path(__file__).resolve().parent.parent
DATA = mnist_data_root()
pytestmark = pytest.mark.skipif(DATA is None, reason="MNIST files not found ($EMBER_DATA)")


# Training images per example: about a second per epoch here, long enough to interrupt.
TRAIN_SIZE = {"mnist_cnn": "1200", "mnist_mlp": "16000"}


def _cmd(example: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "examples" / f"{example}.py"), "--epochs", "3",
            "--train-size", TRAIN_SIZE[example], "--val-size", "500", "--threads", "2",
            "--out", str(out), *extra]


def _env() -> dict[str, str]:
    env = dict(os.environ, EMBER_DATA=str(DATA))
    # The examples import ember as an installed package would be; in a source checkout the
    # tests run with python/ on the path, so pass that on.
    env["PYTHONPATH"] = os.pathsep.join([str(Path(ember.__file__).parent.parent),
                                         env.get("PYTHONPATH", "")])
    return env


def _logged_epochs(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [row[0] for row in csv.reader(path.open())][1:]


def _interrupt(cmd: list[str], log: Path, sig: int) -> int:
    """Starts cmd, waits until its first epoch is logged, sends sig during the second."""
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not _logged_epochs(log) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(sig)
    proc.communicate(timeout=300)
    return proc.returncode


def _model_state(path: Path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in ember.load(path).items() if k.startswith("model.")}


@pytest.mark.parametrize("example,sig", [("mnist_cnn", signal.SIGKILL),
                                         ("mnist_mlp", signal.SIGINT)])
def test_interrupted_and_resumed_run_matches_uninterrupted(tmp_path: Path, example: str,
                                                           sig: int) -> None:
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    done = subprocess.run(_cmd(example, straight), env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Total params" in done.stdout and "test (best validation epoch" in done.stdout
    names = {p.name for p in straight.iterdir()}
    assert {"last.ckpt", "best.safetensors", "log.csv", "curves.png"} <= names
    assert not [n for n in names if n.endswith(".tmp")]

    code = _interrupt(_cmd(example, broken), broken / "log.csv", sig)
    if code == 0:
        pytest.skip("the run finished before it could be interrupted (machine too fast)")
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    assert len(_logged_epochs(broken / "log.csv")) < 3
    resumed = subprocess.run(_cmd(example, broken, "--resume"), env=_env(),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming from" in resumed.stdout

    a, b = _model_state(straight / "last.ckpt"), _model_state(broken / "last.ckpt")
    assert a.keys() == b.keys() and a
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert _logged_epochs(broken / "log.csv") == ["0", "1", "2"]
    assert (straight / "log.csv").read_text() == (broken / "log.csv").read_text()
