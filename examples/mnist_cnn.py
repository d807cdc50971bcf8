"""Train a small CNN (conv-bn-relu blocks, max pooling, dropout) with augmentation on MNIST.

    python examples/mnist_cnn.py                        # $EMBER_DATA/mnist, 10 epochs
    python examples/mnist_cnn.py --epochs 10 --threads 2 --out runs/cnn
    python examples/mnist_cnn.py --resume               # continue after Ctrl-C or a kill

Three blocks conv3x3-BatchNorm-ReLU-MaxPool (1->32->64->64 channels, 28->14->7->3), then
Linear(576, 128)-ReLU-Dropout-Linear(128, 10); 131k parameters. The model's first layer
augments training batches with small random rotations, translations and scalings
(ember.data.augment.Augment: active in training mode only, drawing from the global generator
that checkpoints save, so a resumed run is the uninterrupted one). AdamW with a one-cycle
learning rate stepped per batch; early stopping on the validation accuracy with the best
weights restored, which are evaluated on the 10,000 test images. 55,000 training / 5,000
validation images (seeded split). See mnist_common.py for the files written to --out.
"""

from __future__ import annotations

import math

from ember import nn, optim
from ember.data.augment import Augment, RandomAffine
from ember.train import LearningRateScheduler, Trainer, summary
from mnist_common import arguments, fit_and_test, mnist_splits

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel statistics (fitted on its training set)


def block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.MaxPool2d(2)]


def make_model(dropout: float, augment: bool) -> nn.Module:
    # Inputs are standardised, so the background that the warps fill in is -MEAN / STD.
    warp = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), fill=-MEAN / STD)
    return nn.Sequential(
        *([Augment(warp)] if augment else []),
        *block(1, 32), *block(32, 64), *block(64, 64),
        nn.Flatten(), nn.Linear(64 * 3 * 3, 128), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(128, 10),
    )


def main() -> None:
    ap = arguments(__doc__, epochs=10, lr=3e-3, dropout=0.3, out="runs/mnist_cnn", patience=4)
    ap.add_argument("--no-augment", action="store_true")
    args = ap.parse_args()
    data = mnist_splits(args, lambda _: (lambda t: (t - MEAN) / STD))
    model = make_model(args.dropout, not args.no_augment)
    summary(model, (1, 28, 28))
    opt = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = math.ceil(len(data["train"][1]) / args.batch_size)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                          steps_per_epoch=steps)
    trainer = Trainer(model, loss=nn.CrossEntropyLoss(), optimizer=opt, metrics=["accuracy"])
    fit_and_test(trainer, data, args, [LearningRateScheduler(sched, per="step")])


if __name__ == "__main__":
    main()
