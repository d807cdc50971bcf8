"""Train a small CNN (conv-bn-relu blocks, max pooling, dropout) with augmentation on MNIST.

    python examples/mnist_cnn.py                        # $EMBER_DATA/mnist, 10 epochs
    python examples/mnist_cnn.py --epochs 10 --threads 2 --out runs/cnn

Three blocks conv3x3-BatchNorm-ReLU-MaxPool (1->32->64->64 channels, 28->14->7->3), then
Linear(576, 128)-ReLU-Dropout-Linear(128, 10); 131k parameters. Training batches are
augmented with small random rotations, translations and scalings (ember.data.augment). AdamW
with a one-cycle learning rate. 55,000 training / 5,000 validation images (seeded split); the
best validation epoch's weights are evaluated on the 10,000 test images. Learning curves are
written to <out>/curves.csv and, when matplotlib is installed, <out>/curves.png.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import ember
from ember import nn, optim
from ember.data import DataLoader, TensorDataset
from ember.data.augment import RandomAffine
from ember.data.datasets import MNIST


def default_data_dir() -> str | None:
    env = os.environ.get("EMBER_DATA")
    if env:
        return str(Path(env) / "mnist")
    guess = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mnist"
    return str(guess) if guess.is_dir() else None


def block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.MaxPool2d(2)]


def make_model(dropout: float) -> nn.Module:
    return nn.Sequential(
        *block(1, 32), *block(32, 64), *block(64, 64),
        nn.Flatten(), nn.Linear(64 * 3 * 3, 128), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(128, 10),
    )


@ember.no_grad()
def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    model.eval()
    total, loss_sum, correct = 0, 0.0, 0
    for x, y in loader:
        out = model(x)
        loss_sum += float(nn.functional.cross_entropy(out, y, reduction="sum"))
        correct += int((out.argmax(1) == y).sum())
        total += y.shape[0]
    return loss_sum / total, correct / total


def save_curves(rows: list[dict[str, float]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "curves.csv.tmp"
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out / "curves.csv")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    ep = [r["epoch"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(ep, [r["loss"] for r in rows], "o-", label="train")
    a1.plot(ep, [r["val_loss"] for r in rows], "o-", label="validation")
    a1.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    a2.plot(ep, [r["accuracy"] for r in rows], "o-", label="train")
    a2.plot(ep, [r["val_accuracy"] for r in rows], "o-", label="validation")
    a2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for a in (a1, a2):
        a.grid(alpha=0.3)
        a.legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png.tmp.png", dpi=100)
    os.replace(out / "curves.png.tmp.png", out / "curves.png")
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=default_data_dir(),
                    help="directory with the four MNIST .gz files (default: $EMBER_DATA/mnist)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/mnist_cnn", help="where the learning curves go")
    args = ap.parse_args()
    if args.threads:
        ember.set_num_threads(args.threads)
    ember.manual_seed(args.seed)

    x_all, y_all = MNIST(args.data, train=True).as_tensors()
    x_test, y_test = MNIST(args.data, train=False).as_tensors()
    perm = ember.randperm(len(y_all), generator=ember.Generator().manual_seed(args.seed))
    val_idx, train_idx = perm[: args.val_size], perm[args.val_size:]
    mean, std = 0.1307, 0.3081  # MNIST's pixel statistics (fitted on its training set)
    norm = (lambda t: (t - mean) / std)  # noqa: E731
    train_loader = DataLoader(TensorDataset(x_all[train_idx], y_all[train_idx]),
                              batch_size=args.batch_size, shuffle=True, drop_last=True,
                              generator=ember.Generator().manual_seed(args.seed))
    val_loader = DataLoader(TensorDataset(norm(x_all[val_idx]), y_all[val_idx]),
                            batch_size=1000)
    test_loader = DataLoader(TensorDataset(norm(x_test), y_test), batch_size=1000)
    augment = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1),
                           generator=ember.Generator().manual_seed(args.seed + 1))

    model = make_model(args.dropout)
    opt = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                          steps_per_epoch=len(train_loader))
    loss_fn = nn.CrossEntropyLoss()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_idx)} train / {len(val_idx)} validation / {len(y_test)} test images; "
          f"{ember.get_num_threads()} threads")

    rows: list[dict[str, float]] = []
    best_acc, best_state = -1.0, None
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        seen, loss_sum, correct = 0, 0.0, 0
        for x, y in train_loader:
            x = norm(x if args.no_augment else augment(x))
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            n = y.shape[0]
            seen += n
            loss_sum += float(loss) * n
            correct += int((out.argmax(1) == y).sum())
        dt = time.perf_counter() - t0
        val_loss, val_acc = evaluate(model, val_loader)
        rows.append({"epoch": epoch, "loss": loss_sum / seen, "accuracy": correct / seen,
                     "val_loss": val_loss, "val_accuracy": val_acc, "seconds": dt})
        save_curves(rows, Path(args.out))
        print(f"epoch {epoch:2d}/{args.epochs}  loss {loss_sum / seen:.4f}  "
              f"acc {correct / seen:.4f}  val_loss {val_loss:.4f}  val_acc {val_acc:.4f}  "
              f"{dt:.0f}s ({seen / dt:,.0f} samples/s)", flush=True)
        if val_acc >= best_acc:
            best_acc = val_acc
            best_state = {k: v.clone() for k, v in model.state_dict().items()}

    if best_state is not None:
        model.load_state_dict(best_state)
    test_loss, test_acc = evaluate(model, test_loader)
    print(f"test (best validation epoch, val_acc {best_acc:.4f}): loss {test_loss:.4f}  "
          f"accuracy {test_acc:.4f}; training took {time.perf_counter() - start:.0f}s; "
          f"curves in {args.out}/")


if __name__ == "__main__":
    main()
