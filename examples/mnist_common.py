"""What the MNIST examples share: finding the data, the seeded train/validation split, and a
``Trainer.fit`` with early stopping, checkpoints, a CSV log, learning curves and resume.

Files written under ``--out`` (all atomically, none with pickle):
    last.ckpt         training state after every epoch (model, optimizer, scheduler, RNG,
                      History, callbacks); ``--resume`` continues from it
    best.safetensors  the model's state_dict at the best validation accuracy so far
    log.csv           one row per epoch
    curves.png        loss and accuracy, train vs validation (needs matplotlib)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import ember
from ember.data.datasets import MNIST
from ember.train import CSVLogger, EarlyStopping, ModelCheckpoint, Trainer, plot_history


def default_data_dir() -> str | None:
    env = os.environ.get("EMBER_DATA")
    if env:
        return str(Path(env) / "mnist")
    here = Path(__file__).resolve().parent
    guess = here.parent.parent / "shared" / "data" / "mnist"  # the project's checkout layout
    return str(guess) if guess.is_dir() else None


def arguments(doc: str, *, epochs: int, lr: float, dropout: float, out: str,
              patience: int) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--data", default=default_data_dir(),
                    help="directory with the four MNIST .gz files (default: $EMBER_DATA/mnist)")
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--dropout", type=float, default=dropout)
    ap.add_argument("--patience", type=int, default=patience,
                    help="early stopping: epochs without a better val_accuracy")
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--train-size", type=int, default=None,
                    help="train on this many images only (quick checks; default: the rest)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=out, help="checkpoints, log and curves go here")
    ap.add_argument("--resume", action="store_true",
                    help="continue from <out>/last.ckpt (after Ctrl-C or a kill)")
    return ap


def mnist_splits(args: Any, standardize: Any) -> dict[str, tuple[ember.Tensor, ember.Tensor]]:
    """Applies --threads and --seed (so the model built next is seeded too), then returns
    {"train", "val", "test"}: (images, labels); 60,000 training images split into train /
    validation by a seeded permutation, pixels mapped by ``standardize(train_images)`` (a
    function returning the transform, fitted on the training part only)."""
    if args.threads:
        ember.set_num_threads(args.threads)
    ember.manual_seed(args.seed)
    x_all, y_all = MNIST(args.data, train=True).as_tensors()
    x_test, y_test = MNIST(args.data, train=False).as_tensors()
    perm = ember.randperm(len(y_all), generator=ember.Generator().manual_seed(args.seed))
    val_idx, train_idx = perm[: args.val_size], perm[args.val_size:]
    if args.train_size is not None:
        train_idx = train_idx[: args.train_size]
    x_train = x_all[train_idx]
    norm = standardize(x_train)
    return {"train": (norm(x_train), y_all[train_idx]), "val": (norm(x_all[val_idx]),
            y_all[val_idx]), "test": (norm(x_test), y_test)}


def fit_and_test(trainer: Trainer, data: dict[str, Any], args: Any,
                 callbacks: list[Any]) -> None:
    """Fits with early stopping on val_accuracy (restoring the best weights), checkpoints
    and a CSV log, plots the curves, then evaluates the best weights on the test set."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last.ckpt"
    resume_from = None
    if args.resume:
        if last.exists():
            resume_from = last
            print(f"resuming from {last}")
        else:
            print(f"no checkpoint at {last}; starting from the beginning")
    n = {k: len(v[1]) for k, v in data.items()}
    print(f"{n['train']} train / {n['val']} validation / {n['test']} test images; "
          f"{ember.get_num_threads()} threads", flush=True)
    callbacks = [
        *callbacks,
        EarlyStopping(monitor="val_accuracy", patience=args.patience,
                      restore_best_weights=True),
        ModelCheckpoint(out / "best.safetensors", monitor="val_accuracy", save_best_only=True),
        ModelCheckpoint(last, save_training_state=True),
        CSVLogger(out / "log.csv", append=resume_from is not None),
    ]
    start = time.perf_counter()
    try:
        history = trainer.fit(data["train"], val_data=data["val"], epochs=args.epochs,
                              batch_size=args.batch_size, callbacks=callbacks,
                              resume_from=resume_from)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the last finished epoch is saved in {last}; run the same "
              "command with --resume to continue", file=sys.stderr)
        raise SystemExit(130) from None
    seconds = time.perf_counter() - start
    try:
        plot_history(history, out / "curves.png")
    except ImportError:
        print("matplotlib is not installed: no curves.png (pip install matplotlib)")
    best = max(history.history["val_accuracy"])
    test = trainer.evaluate(data["test"], batch_size=1000)
    print(f"test (best validation epoch, val_accuracy {best:.4f}): loss {test['loss']:.4f}  "
          f"accuracy {test['accuracy']:.4f}; this run trained for {seconds:.0f}s; "
          f"log, checkpoints and curves in {out}/")
