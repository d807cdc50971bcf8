"""The Trainer: Keras's fit / evaluate / predict over an ember model, with streaming metrics,
callbacks, progress output and resumable training checkpoints (saved with ember.save, so
safetensors: no pickle, nothing executed on load)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .callbacks import Callback, CallbackList
from .history import History
from .metrics import Mean, Metric, get_metric
from .progress import Progress
from .summary import SHAPE_ERRORS, locate_failure

__all__ = ["Trainer"]

_LOSSES = {
    "cross_entropy": "cross_entropy", "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy", "nll": "nll_loss",
    "nll_loss": "nll_loss", "mse": "mse_loss", "mse_loss": "mse_loss",
    "mean_squared_error": "mse_loss", "mae": "l1_loss", "l1": "l1_loss", "l1_loss": "l1_loss",
    "huber": "huber_loss", "huber_loss": "huber_loss", "smooth_l1": "smooth_l1_loss",
    "bce": "binary_cross_entropy", "binary_cross_entropy": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
}


def _io() -> Any:
    try:
        from .. import io
    except ImportError as e:
        raise ImportError("[train] checkpoints need ember.io (ember.save / ember.load)") from e
    return io


def _resolve_loss(loss: Any) -> Callable[[Tensor, Tensor], Tensor]:
    if isinstance(loss, str):
        from ..nn import functional as F

        if loss.lower() not in _LOSSES:
            raise ValueError(f"[Trainer] unknown loss {loss!r}; known: {sorted(_LOSSES)}")
        return getattr(F, _LOSSES[loss.lower()])
    if loss is None or not callable(loss):
        raise TypeError(f"[Trainer] loss must be a callable or a name, got {loss!r}")
    return loss


def _resolve_optimizer(optimizer: Any, model: Any) -> Any:
    from .. import optim

    if isinstance(optimizer, optim.Optimizer):
        return optimizer
    names = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
             "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
    if isinstance(optimizer, str) and optimizer.lower() in names:
        return names[optimizer.lower()](model.parameters())
    raise ValueError(f"[Trainer] optimizer must be an ember.optim.Optimizer or one of "
                     f"{sorted(names)}, got {optimizer!r}")


def _as_tensor(x: Any) -> Tensor:
    from .. import as_tensor, from_numpy

    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return from_numpy(np.ascontiguousarray(x))
    return as_tensor(x)


def _loader(data: Any, batch_size: int, shuffle: bool) -> Any:
    """A DataLoader as is; a Dataset or a (tuple of) tensors / arrays wrapped in one."""
    from ..data import DataLoader, Dataset, IterableDataset, TensorDataset

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, IterableDataset):
        return DataLoader(data, batch_size=batch_size)
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    parts = data if isinstance(data, (tuple, list)) else (data,)
    return DataLoader(TensorDataset(*(_as_tensor(p) for p in parts)), batch_size=batch_size,
                      shuffle=shuffle)


def _split(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _move(x: Any, device: Any) -> Any:
    if isinstance(x, Tensor):
        return x if x.device == device else x.to(device)
    if isinstance(x, (tuple, list)):
        return type(x)(_move(v, device) for v in x)
    return x


def _batch_len(x: Any) -> int:
    return int(x.shape[0]) if isinstance(x, Tensor) else _batch_len(x[0])


class Trainer:
    """``Trainer(model, loss="cross_entropy", optimizer=ember.optim.Adam(...),
    metrics=["accuracy"])``; ``loss(output, target)`` is a callable or a name
    ("cross_entropy", "mse", "mae", "bce", "bce_with_logits", "nll", "huber"), ``metrics``
    names (see ember.train.metrics.get_metric), Metric instances or callables."""

    def __init__(self, model: Any, loss: Any = "cross_entropy", optimizer: Any = "adam",
                 metrics: Sequence[Any] = (), device: Any = None) -> None:
        from .. import device as as_device

        self.model = model
        if device is not None:
            self.device = as_device(device)
            model.to(self.device)
        else:
            first = next(iter(model.parameters()), None)
            self.device = first.device if first is not None else as_device("cpu")
        self.loss_fn = _resolve_loss(loss)
        self.optimizer = _resolve_optimizer(optimizer, model)
        self.metric_specs = list(metrics)
        self.history = History()
        self.schedulers: list[Any] = []
        self.stop_training = False
        self.resumed = False  # this fit continues from a checkpoint
        self.callbacks = CallbackList((), self)
        self._checkpoint_requests: list[Any] = []

    # ---- one forward pass, with the layer-naming error on a shape mismatch ------------------
    def _forward(self, x: Any) -> Any:
        try:
            return self.model(x)
        except SHAPE_ERRORS as e:
            from .. import no_grad

            with no_grad():
                err = locate_failure(self.model, lambda: self.model(x), e)
            if err is None:
                raise
            raise err from e

    def _metrics(self) -> list[Metric]:
        # Fresh state per epoch and per evaluation (a Metric instance given by the user is
        # reset, not shared between train and validation).
        out = []
        for spec in self.metric_specs:
            m = get_metric(spec)
            if m is spec:
                m = spec.__class__.__new__(spec.__class__)
                m.__dict__.update(spec.__dict__)
            m.reset()
            out.append(m)
        return out

    @staticmethod
    def _logs(loss: Mean | None, metrics: list[Metric], prefix: str = "") -> dict[str, Any]:
        logs: dict[str, Any] = {}
        if loss is not None:
            logs[prefix + "loss"] = loss.compute()
        for m in metrics:
            value = m.compute()
            if isinstance(value, np.ndarray):
                if value.ndim == 1:  # per-class values: precision_0, precision_1, ...
                    logs.update({f"{prefix}{m.name}_{i}": float(v) for i, v in enumerate(value)})
                continue  # a confusion matrix is no curve
            logs[prefix + m.name] = float(value)
        return logs

    # ---- fit -------------------------------------------------------------------------------
    def fit(self, train_data: Any, val_data: Any = None, epochs: int = 1, batch_size: int = 32,
            shuffle: bool = True, callbacks: Iterable[Callback] = (), resume_from: Any = None,
            verbose: Any = "auto") -> History:
        """Trains for ``epochs`` epochs (in total, counting those done before a resume) and
        returns the History; ``resume_from`` is a training checkpoint written by
        ``save_checkpoint`` / ``ModelCheckpoint(save_training_state=True)``."""
        loader = _loader(train_data, batch_size, shuffle)
        val_loader = None if val_data is None else _loader(val_data, batch_size, False)
        self.schedulers, self._checkpoint_requests = [], []
        self.callbacks = CallbackList(callbacks, self)
        try:
            steps = len(loader)
        except TypeError:
            steps = None
        progress = Progress(epochs, steps, verbose)
        self.stop_training = False
        self.history = History()
        self.callbacks.on_train_begin({})
        # Resuming after on_train_begin, so that callbacks get their saved state back
        # instead of resetting it.
        start = 0 if resume_from is None else self.load_checkpoint(resume_from) + 1
        self.resumed = resume_from is not None
        self.history.params = {"epochs": epochs, "batch_size": batch_size}
        try:
            for epoch in range(start, epochs):
                logs = self._fit_epoch(epoch, loader, self.callbacks, progress)
                if val_loader is not None and not self.stop_training:
                    logs.update(self.evaluate(val_loader, _prefix="val_"))
                self.callbacks.on_epoch_end(epoch, logs)
                self.history.append(epoch, logs)
                progress.epoch_end(epoch, logs)
                # Written once every callback has seen the epoch, so the checkpoint holds
                # their final state for it (EarlyStopping's counters, the History).
                for path in self._checkpoint_requests:
                    self.save_checkpoint(path, epoch)
                self._checkpoint_requests.clear()
                if self.stop_training:
                    break
        finally:
            progress.close()
        self.callbacks.on_train_end({})
        return self.history

    def _fit_epoch(self, epoch: int, loader: Any, cbs: CallbackList,
                   progress: Progress) -> dict[str, Any]:
        self.model.train()
        loss_mean, metrics = Mean("loss"), self._metrics()
        cbs.on_epoch_begin(epoch, {})
        progress.epoch_begin(epoch)
        for step, batch in enumerate(loader):
            x, y = _split(batch)
            x, y = _move(x, self.device), _move(y, self.device)
            n = _batch_len(x)
            cbs.on_batch_begin(step, {"size": n})
            self.optimizer.zero_grad()
            out = self._forward(x)
            loss = self.loss_fn(out, y)
            loss.backward()
            self.optimizer.step()
            value = float(loss.item())
            loss_mean.update(value, n)
            detached = out.detach()
            for m in metrics:
                m.update(detached, y)
            cbs.on_batch_end(step, {"loss": value, "size": n})
            # Running epoch values on the bar; computing them per batch is only worth it
            # when a bar shows them.
            progress.batch_end(n, self._logs(loss_mean, metrics) if progress.bar is not None
                               else {})
            if self.stop_training:
                break
        return self._logs(loss_mean, metrics)

    # ---- evaluate / predict ----------------------------------------------------------------
    def evaluate(self, data: Any, batch_size: int = 32, _prefix: str = "") -> dict[str, float]:
        """Loss and every metric over ``data`` (eval mode, no gradients), exact per epoch."""
        from .. import no_grad

        loader = _loader(data, batch_size, False)
        was_training = self.model.training
        self.model.eval()
        loss_mean, metrics = Mean("loss"), self._metrics()
        try:
            with no_grad():
                for batch in loader:
                    x, y = _split(batch)
                    x, y = _move(x, self.device), _move(y, self.device)
                    out = self._forward(x)
                    if y is not None:
                        loss_mean.update(self.loss_fn(out, y).item(), _batch_len(x))
                        for m in metrics:
                            m.update(out, y)
        finally:
            self.model.train(was_training)
        return self._logs(loss_mean if loss_mean.count else None, metrics, _prefix)

    def predict(self, x: Any, batch_size: int = 32) -> Tensor:
        """The model's outputs for every sample of ``x`` (a tensor, array, Dataset or
        DataLoader; targets in the batches are ignored), concatenated along dim 0."""
        from .. import cat, no_grad

        loader = _loader(x, batch_size, False)
        was_training = self.model.training
        self.model.eval()
        outs = []
        try:
            with no_grad():
                for batch in loader:
                    inp, _ = _split(batch)
                    outs.append(self._forward(_move(inp, self.device)))
        finally:
            self.model.train(was_training)
        if not outs:
            raise ValueError("[predict] no input samples")
        return cat(outs, 0)

    # ---- training checkpoints --------------------------------------------------------------
    def training_state(self, epoch: int) -> dict[str, Any]:
        from .. import get_rng_state

        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedulers": [s.state_dict() for s in self.schedulers], "epoch": epoch,
                "rng_state": get_rng_state(), "history": self.history.to_dict(),
                "callbacks": [{"type": type(cb).__name__, "state": cb.state_dict()}
                              for cb in self.callbacks.callbacks]}

    def save_checkpoint(self, path: Any, epoch: int) -> None:
        """Writes model, optimizer and scheduler state, ``epoch`` (the last one finished),
        the RNG state and the History as one safetensors file (ember.save, atomic)."""
        tensors: dict[str, Tensor] = {}
        skeleton = _pack(self.training_state(epoch), tensors, "")
        tensors["__trainer_meta__"] = _json_tensor(skeleton)
        _io().save(tensors, path)

    def load_checkpoint(self, path: Any) -> int:
        """Restores a save_checkpoint file into this trainer (and the global RNG); returns
        the epoch it was written after."""
        from .. import set_rng_state

        tensors = dict(_io().load(path))
        if "__trainer_meta__" not in tensors:
            raise ValueError(f"[train] {path} is not a training checkpoint (no trainer meta); "
                             "a model state_dict loads with model.load_state_dict")
        state = _unpack(_json_of(tensors.pop("__trainer_meta__")), tensors)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if len(state["schedulers"]) != len(self.schedulers):
            raise ValueError(f"[train] checkpoint holds {len(state['schedulers'])} scheduler "
                             f"states but this fit has {len(self.schedulers)} schedulers")
        for sched, sd in zip(self.schedulers, state["schedulers"], strict=True):
            sched.load_state_dict(sd)
        set_rng_state(state["rng_state"])
        self.history = History.from_dict(state["history"])
        saved = list(state.get("callbacks", []))
        for cb in self.callbacks.callbacks:
            # Matched by type in order: a callback added on resume (a CSVLogger) starts fresh.
            match = next((e for e in saved if e["type"] == type(cb).__name__), None)
            if match is not None:
                saved.remove(match)
                cb.load_state_dict(match["state"])
        return int(state["epoch"])


# ---- nested state <-> flat {name: tensor} + a JSON skeleton ------------------------------------
def _pack(obj: Any, tensors: dict[str, Tensor], key: str) -> Any:
    if isinstance(obj, Tensor):
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        kind = type(obj).__name__ if type(obj).__name__ == "Counter" else "dict"
        return {"__dict__": kind, "items": [[k, _pack(v, tensors, f"{key}.{k}" if key else
                                                      str(k))] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_pack(v, tensors, f"{key}.{i}") for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"[train] cannot store a {type(obj).__name__} in a checkpoint ({key})")


def _unpack(obj: Any, tensors: dict[str, Tensor]) -> Any:
    from collections import Counter

    if isinstance(obj, list):
        return [_unpack(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__tuple__" in obj:
        return tuple(_unpack(v, tensors) for v in obj["__tuple__"])
    out = {(tuple(k) if isinstance(k, list) else k): _unpack(v, tensors) for k, v in obj["items"]}
    return Counter(out) if obj["__dict__"] == "Counter" else out


def _json_tensor(obj: Any) -> Tensor:
    # ember has no uint8 dtype; the UTF-8 bytes are packed 4 per int32 (zero padded).
    from .. import from_numpy

    raw = json.dumps(obj).encode()
    raw += b"\0" * (-len(raw) % 4)
    return from_numpy(np.frombuffer(raw, dtype="<i4").copy())


def _json_of(t: Tensor) -> Any:
    raw = np.ascontiguousarray(t.cpu().numpy().astype("<i4")).tobytes().rstrip(b"\0")
    return json.loads(raw.decode())
