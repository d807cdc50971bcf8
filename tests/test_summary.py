"""ember.train.summary: the layer table and the errors that name the layer a shape mismatch
happened in (during summary and during fit)."""

from __future__ import annotations

import ember
import ember.nn as nn
import pytest
from ember.train import LayerShapeError, Trainer, summary


class Net(nn.Module):
    def __init__(self, hidden_in: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(hidden_in, 4), nn.ReLU(), nn.Linear(4, 3))

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.classifier(self.features(x))


class FakeConv(nn.Module):
    """Stands for a Conv2d: rejects inputs whose dim 1 is not ``in_channels``."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        if x.shape[1] != self.in_channels:
            raise RuntimeError(f"[conv2d] expected {self.in_channels} channels, got {x.shape[1]}")
        return x


def test_table_contents() -> None:
    net = Net()
    net.features[0].requires_grad_(False)
    lines: list[str] = []
    table = summary(net, (8,), batch_size=5, print_fn=lines.append)
    assert lines == [table]
    rows = {line.split()[0]: line.split() for line in table.splitlines()}
    assert rows["features.0"][1:] == ["Linear", "(5,", "16)", "144"]
    assert rows["classifier.0"][1] == "Linear" and rows["classifier.0"][-1] == "68"
    assert rows["classifier.2"][-1] == "15"
    assert rows["classifier"][1] == "Sequential" and rows["classifier"][-1] == "0"
    assert "(5, 3)" in " ".join(rows["classifier.2"])
    assert "Total params: 227" in table
    assert "Trainable params: 83" in table
    assert "Non-trainable params: 144" in table
    assert net.training  # summary put the mode back


def test_summary_eval_mode_restored_and_dtype() -> None:
    net = Net().double()
    net.eval()
    table = summary(net, (8,), dtype=ember.float64, print_fn=None)
    assert "Total params: 227" in table and not net.training


def test_linear_mismatch_names_layer_and_fix() -> None:
    net = Net(hidden_in=12)
    with pytest.raises(LayerShapeError) as info:
        summary(net, (8,), print_fn=None)
    msg = str(info.value)
    assert "layer 'classifier.0' (Linear)" in msg
    assert "received input of shape (2, 16)" in msg
    assert "(*, 12) (in_features=12)" in msg
    assert "in_features=16 would fit" in msg
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.path == "classifier.0" and info.value.input_shapes == [(2, 16)]


def test_channel_mismatch_message() -> None:
    net = nn.Sequential(FakeConv(3), nn.Flatten())
    with pytest.raises(LayerShapeError) as info:
        summary(net, (1, 4, 4), print_fn=None)
    msg = str(info.value)
    assert "layer '0' (FakeConv)" in msg and "(2, 1, 4, 4)" in msg
    assert "in_channels=1 would fit" in msg
    assert isinstance(info.value.__cause__, RuntimeError)


def test_mismatch_during_fit_and_predict() -> None:
    net = Net(hidden_in=10)
    trainer = Trainer(net, "cross_entropy", ember.optim.SGD(net.parameters(), lr=0.1))
    x, y = ember.randn(6, 8), ember.zeros(6, dtype=ember.int64)
    with pytest.raises(LayerShapeError, match=r"'classifier.0' \(Linear\).*\(6, 16\)"):
        trainer.fit((x, y), batch_size=6, verbose=0)
    with pytest.raises(LayerShapeError, match="in_features=16 would fit"):
        trainer.predict(x)


def test_error_outside_layers_is_left_alone() -> None:
    class Bad(nn.Module):
        def forward(self, x: ember.Tensor) -> ember.Tensor:
            raise KeyError("not a shape problem")

    with pytest.raises(KeyError):
        summary(Bad(), (3,), print_fn=None)
