"""Train a 784-512-256-10 MLP (ReLU, dropout) on MNIST with Adam; about 98.5% test accuracy.

    python examples/mnist_mlp.py                       # $EMBER_DATA/mnist, 10 epochs
    python examples/mnist_mlp.py --data ../shared/data/mnist --epochs 10 --threads 2
    python examples/mnist_mlp.py --resume              # continue after Ctrl-C or a kill

The 60,000 training images are split into 55,000 for training and 5,000 for validation
(seeded). Pixels are standardised with the mean and std fitted on the training part only.
``ember.train.Trainer`` runs the loop: one log line (or a progress bar on a terminal) per
epoch, a cosine learning-rate decay, early stopping on the validation accuracy with the best
weights restored, a checkpoint after every epoch, learning curves; the best weights are then
evaluated on the 10,000 test images. See mnist_common.py for the files written to --out.
"""

from __future__ import annotations

from ember import nn, optim
from ember.data.transforms import Standardize
from ember.train import LearningRateScheduler, Trainer, summary
from mnist_common import arguments, fit_and_test, mnist_splits


def make_model(dropout: float) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(512, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, 10),
    )


def main() -> None:
    args = arguments(__doc__, epochs=10, lr=1e-3, dropout=0.2, out="runs/mnist_mlp",
                     patience=3).parse_args()
    # One mean / std over all training pixels.
    data = mnist_splits(args, lambda x: Standardize().fit(x, dim=(0, 1, 2, 3)))
    model = make_model(args.dropout)
    summary(model, (1, 28, 28))
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    trainer = Trainer(model, loss=nn.CrossEntropyLoss(), optimizer=opt, metrics=["accuracy"])
    fit_and_test(trainer, data, args, [LearningRateScheduler(sched)])


if __name__ == "__main__":
    main()
