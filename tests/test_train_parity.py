"""End-to-end parity with PyTorch: the same model, the same initial weights and the same data,
trained for 20 steps with each optimizer, ends with the same parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest
from ember import nn, optim

torch = pytest.importorskip("torch")

OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"lr": 0.05}),
    "sgd-momentum-nesterov-wd": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                                         "weight_decay": 1e-3}),
    "sgd-dampening": ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    "adam": ("Adam", {"lr": 1e-2}),
    "adam-amsgrad-wd": ("Adam", {"lr": 1e-2, "amsgrad": True, "weight_decay": 1e-2}),
    "adamw": ("AdamW", {"lr": 1e-2, "weight_decay": 0.1}),
    "adamw-amsgrad": ("AdamW", {"lr": 1e-2, "amsgrad": True}),
    "rmsprop": ("RMSprop", {"lr": 1e-3}),
    "rmsprop-centered-momentum": ("RMSprop", {"lr": 1e-3, "centered": True, "momentum": 0.9}),
    "adagrad": ("Adagrad", {"lr": 5e-2, "lr_decay": 1e-3, "weight_decay": 1e-3}),
}


def _mlp(lib: Any, dropout: bool) -> Any:
    layers = [lib.nn.Linear(12, 16), lib.nn.Tanh(), lib.nn.Linear(16, 16), lib.nn.ReLU()]
    if dropout:
        layers.append(lib.nn.Dropout(0.0))  # the train-mode path, deterministic at p=0
    layers.append(lib.nn.Linear(16, 5))
    return lib.nn.Sequential(*layers)


def _train(lib: Any, model: Any, opt: Any, xs: list[Any], ys: list[Any],
           loss_fn: Callable[[Any, Any], Any]) -> None:
    model.train()
    for x, y in zip(xs, ys, strict=True):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mlp_twenty_steps_matches_torch(name: str) -> None:
    cls_name, kw = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    e_model, t_model = _mlp(ember, True), _mlp(torch, True).double()
    e_model = e_model.double()
    with torch.no_grad():
        for (ek, ep), (tk, tp) in zip(e_model.state_dict().items(),
                                      t_model.state_dict().items(), strict=True):
            assert ek == tk
            tp.copy_(torch.from_numpy(ep.numpy().copy()))
    before = e_model[0].weight.detach().numpy().copy()
    xs = [rng.standard_normal((8, 12)) for _ in range(20)]
    ys = [rng.integers(0, 5, 8) for _ in range(20)]
    e_opt = getattr(optim, cls_name)(e_model.parameters(), **kw)
    t_opt = getattr(torch.optim, cls_name)(t_model.parameters(), **kw)
    _train(ember, e_model, e_opt, [ember.tensor(x) for x in xs], [ember.tensor(y) for y in ys],
           nn.functional.cross_entropy)
    _train(torch, t_model, t_opt, [torch.from_numpy(x) for x in xs],
           [torch.from_numpy(y) for y in ys], torch.nn.functional.cross_entropy)
    for (k, ep), tp in zip(e_model.state_dict().items(), t_model.state_dict().values(),
                           strict=True):
        np.testing.assert_allclose(ep.numpy(), tp.numpy(), rtol=1e-9, atol=1e-10, err_msg=k)
    # and the parameters did move (the comparison above would not see a no-op step)
    assert np.abs(e_model[0].weight.detach().numpy() - before).max() > 1e-4


def test_mlp_with_scheduler_and_clipping_matches_torch() -> None:
    rng = np.random.default_rng(1)
    e_model, t_model = _mlp(ember, False).double(), _mlp(torch, False).double()
    with torch.no_grad():
        for ep, tp in zip(e_model.parameters(), t_model.parameters(), strict=True):
            tp.copy_(torch.from_numpy(ep.detach().numpy().copy()))
    e_opt = optim.Adam(e_model.parameters(), lr=1e-2)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-2)
    e_s = optim.lr_scheduler.OneCycleLR(e_opt, max_lr=0.05, total_steps=20)
    t_s = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.05, total_steps=20)
    for _ in range(20):
        x = rng.standard_normal((8, 12))
        y = rng.standard_normal((8, 5))
        for lib, model, opt, sch in ((ember, e_model, e_opt, e_s), (torch, t_model, t_opt, t_s)):
            conv = ember.tensor if lib is ember else torch.from_numpy
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(model(conv(x)), conv(y))
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            sch.step()
    for ep, tp in zip(e_model.parameters(), t_model.parameters(), strict=True):
        np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-9,
                                   atol=1e-10)
