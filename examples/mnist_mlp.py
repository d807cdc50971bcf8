"""Train a 784-512-256-10 MLP (ReLU, dropout) on MNIST with Adam; about 98% test accuracy.

    python examples/mnist_mlp.py                       # $EMBER_DATA/mnist, 10 epochs
    python examples/mnist_mlp.py --data ../shared/data/mnist --epochs 10 --threads 2

The 60,000 training images are split into 55,000 for training and 5,000 for validation
(seeded). Pixels are standardised with the mean and std fitted on the training part only.
Each epoch prints the training loss and accuracy, the validation loss and accuracy and the
throughput; the weights of the best validation epoch are evaluated on the 10,000 test images
at the end. The script is written as a PyTorch user would write it: swap ``ember`` for
``torch`` in the imports and it runs there too (data loading aside).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import ember
from ember import nn, optim
from ember.data import DataLoader, TensorDataset
from ember.data.datasets import MNIST
from ember.data.transforms import Standardize


def default_data_dir() -> str | None:
    env = os.environ.get("EMBER_DATA")
    if env:
        return str(Path(env) / "mnist")
    here = Path(__file__).resolve().parent
    guess = here.parent.parent / "shared" / "data" / "mnist"  # the project's checkout layout
    return str(guess) if guess.is_dir() else None


def make_model(dropout: float) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(512, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, 10),
    )


@ember.no_grad()
def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over the loader, in eval mode."""
    model.eval()
    total, loss_sum, correct = 0, 0.0, 0
    for x, y in loader:
        out = model(x)
        loss_sum += float(nn.functional.cross_entropy(out, y, reduction="sum"))
        correct += int((out.argmax(1) == y).sum())
        total += y.shape[0]
    return loss_sum / total, correct / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=default_data_dir(),
                    help="directory with the four MNIST .gz files (default: $EMBER_DATA/mnist)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        ember.set_num_threads(args.threads)
    ember.manual_seed(args.seed)

    train_set, test_set = MNIST(args.data, train=True), MNIST(args.data, train=False)
    x_all, y_all = train_set.as_tensors()
    x_test, y_test = test_set.as_tensors()
    perm = ember.randperm(len(y_all), generator=ember.Generator().manual_seed(args.seed))
    val_idx, train_idx = perm[: args.val_size], perm[args.val_size :]
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_val, y_val = x_all[val_idx], y_all[val_idx]
    scaler = Standardize().fit(x_train, dim=(0, 1, 2, 3))  # one mean/std over all pixels
    x_train, x_val, x_test = scaler(x_train), scaler(x_val), scaler(x_test)

    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                              shuffle=True, generator=ember.Generator().manual_seed(args.seed))
    val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=1000)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=1000)

    model = make_model(args.dropout)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(y_train)} train / {len(y_val)} validation / {len(y_test)} test images; "
          f"{ember.get_num_threads()} threads")

    best_acc, best_state = -1.0, None
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        seen, loss_sum, correct = 0, 0.0, 0
        for x, y in train_loader:
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n = y.shape[0]
            seen += n
            loss_sum += float(loss) * n
            correct += int((out.argmax(1) == y).sum())
        dt = time.perf_counter() - t0
        sched.step()
        val_loss, val_acc = evaluate(model, val_loader)
        print(f"epoch {epoch:2d}/{args.epochs}  loss {loss_sum / seen:.4f}  "
              f"acc {correct / seen:.4f}  val_loss {val_loss:.4f}  val_acc {val_acc:.4f}  "
              f"{dt:.1f}s ({seen / dt:,.0f} samples/s)", flush=True)
        if val_acc > best_acc:
            best_acc = val_acc
            best_state = {k: v.clone() for k, v in model.state_dict().items()}

    if best_state is not None:
        model.load_state_dict(best_state)
    test_loss, test_acc = evaluate(model, test_loader)
    print(f"test (best validation epoch, val_acc {best_acc:.4f}): loss {test_loss:.4f}  "
          f"accuracy {test_acc:.4f}")


if __name__ == "__main__":
    main()
