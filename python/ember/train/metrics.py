"""Training metrics on ember tensors. Each metric is a small state machine (``reset``,
``update(pred, target)``, ``compute``) that accumulates counts or sums across batches, so an
epoch's value is exact, not an average of batch values. The functions (``accuracy(pred,
target)`` ...) are one-shot wrappers of the same classes.

Classification predictions are logits/probabilities ``(N, C)`` (argmax), a single
probability/logit column ``(N,)`` / ``(N, 1)`` with float targets (thresholded at 0.5 for
probabilities, 0 for logits with ``logits=True``), or integer labels ``(N,)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = [
    "Metric", "Mean", "Accuracy", "TopKAccuracy", "ConfusionMatrix", "Precision", "Recall",
    "F1Score", "MeanAbsoluteError", "RootMeanSquaredError", "R2Score", "FunctionMetric",
    "get_metric", "accuracy", "top_k_accuracy", "confusion_matrix", "precision", "recall",
    "f1_score", "mean_absolute_error", "root_mean_squared_error", "r2_score",
]


def _host(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _labels(pred: Tensor, target: Tensor, threshold: float) -> tuple[Tensor, Tensor]:
    """Predicted and true integer labels, both (N,), computed with ember ops."""
    if pred.dim() >= 2 and pred.shape[-1] > 1:
        return pred.argmax(-1).reshape(-1), target.reshape(-1).long()
    if pred.is_floating_point():
        labels = (pred.reshape(-1) > threshold).long()
    else:
        labels = pred.reshape(-1).long()
    return labels, target.reshape(-1).long()


class Metric:
    """Base class: ``name`` is the History key; subclasses keep their own state."""

    name = "metric"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, pred: Tensor, target: Tensor) -> None:
        raise NotImplementedError

    def compute(self) -> Any:
        raise NotImplementedError

    def __call__(self, pred: Tensor, target: Tensor) -> Any:
        """One-shot value on this batch only (the accumulated state is left alone)."""
        fresh = self.__class__.__new__(self.__class__)
        fresh.__dict__.update(self.__dict__)
        fresh.reset()
        fresh.update(pred, target)
        return fresh.compute()


class Mean(Metric):
    """Sample-weighted running mean of a scalar (the epoch loss)."""

    def __init__(self, name: str = "loss") -> None:
        self.name = name
        super().__init__()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, value: Any, n: Any = 1) -> None:  # type: ignore[override]
        v = float(value.item() if isinstance(value, Tensor) else value)
        self.total += v * int(n)
        self.count += int(n)

    def compute(self) -> float:
        return self.total / self.count if self.count else float("nan")


class Accuracy(Metric):
    name = "accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        super().__init__()

    def reset(self) -> None:
        self.correct, self.count = 0, 0

    def update(self, pred: Tensor, target: Tensor) -> None:
        p, t = _labels(pred, target, self.threshold)
        if p.shape != t.shape:
            raise ValueError(f"[accuracy] {p.shape[0]} predictions but {t.shape[0]} targets")
        self.correct += int((p == t).sum().item())
        self.count += int(t.shape[0])

    def compute(self) -> float:
        return self.correct / self.count if self.count else float("nan")


class TopKAccuracy(Metric):
    """A hit when fewer than k classes score strictly higher than the true one."""

    def __init__(self, k: int = 5) -> None:
        self.k = k
        self.name = "top_k_accuracy" if k == 5 else f"top_{k}_accuracy"
        super().__init__()

    def reset(self) -> None:
        self.correct, self.count = 0, 0

    def update(self, pred: Tensor, target: Tensor) -> None:
        if pred.dim() != 2:
            raise ValueError(f"[top_k_accuracy] expects (N, C) scores, got {tuple(pred.shape)}")
        t = target.reshape(-1, 1).long()
        true_score = pred.gather(1, t)
        rank = (pred > true_score).long().sum(1)
        self.correct += int((rank < self.k).sum().item())
        self.count += int(t.shape[0])

    def compute(self) -> float:
        return self.correct / self.count if self.count else float("nan")


class ConfusionMatrix(Metric):
    """``cm[i, j]`` = samples of true class i predicted as j; grows to the largest label seen
    when ``num_classes`` is None."""

    name = "confusion_matrix"

    def __init__(self, num_classes: int | None = None, threshold: float = 0.5) -> None:
        self.num_classes, self.threshold = num_classes, threshold
        super().__init__()

    def reset(self) -> None:
        self.cm = np.zeros((self.num_classes or 0,) * 2, dtype=np.int64)

    def update(self, pred: Tensor, target: Tensor) -> None:
        if pred.dim() >= 2 and pred.shape[-1] > 1 and self.num_classes is None:
            self.num_classes = int(pred.shape[-1])
        p, t = (_host(v) for v in _labels(pred, target, self.threshold))
        n = max(self.cm.shape[0], int(p.max(initial=-1)) + 1, int(t.max(initial=-1)) + 1)
        if n > self.cm.shape[0]:
            grown = np.zeros((n, n), dtype=np.int64)
            grown[:self.cm.shape[0], :self.cm.shape[0]] = self.cm
            self.cm = grown
        self.cm += np.bincount(t * n + p, minlength=n * n).reshape(n, n)

    def compute(self) -> np.ndarray:
        return self.cm.copy()


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # sklearn's zero_division=0: a class never predicted (or never present) scores 0.
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b != 0)


class _FromConfusion(ConfusionMatrix):
    """Precision / recall / F1 from the accumulated confusion matrix; ``average="macro"``
    gives a float, ``average=None`` a per-class array."""

    def __init__(self, num_classes: int | None = None, average: str | None = "macro",
                 threshold: float = 0.5) -> None:
        if average not in ("macro", None):
            raise ValueError(f"[{self.name}] average must be 'macro' or None, got {average!r}")
        self.average = average
        super().__init__(num_classes, threshold)

    def per_class(self, cm: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute(self) -> Any:
        values = self.per_class(self.cm.astype(np.float64))
        return float(values.mean()) if self.average == "macro" else values


class Precision(_FromConfusion):
    name = "precision"

    def per_class(self, cm: np.ndarray) -> np.ndarray:
        return _safe_div(np.diag(cm), cm.sum(0))


class Recall(_FromConfusion):
    name = "recall"

    def per_class(self, cm: np.ndarray) -> np.ndarray:
        return _safe_div(np.diag(cm), cm.sum(1))


class F1Score(_FromConfusion):
    name = "f1"

    def per_class(self, cm: np.ndarray) -> np.ndarray:
        tp = np.diag(cm)
        return _safe_div(2 * tp, cm.sum(0) + cm.sum(1))


class _Regression(Metric):
    """Sums in float64 on the host of per-batch reductions done by ember."""

    def reset(self) -> None:
        self.n, self.abs_err, self.sq_err, self.y_sum, self.y_sq = 0, 0.0, 0.0, 0.0, 0.0

    def update(self, pred: Tensor, target: Tensor) -> None:
        p, t = pred.reshape(-1).double(), target.reshape(-1).double()
        if p.shape != t.shape:
            raise ValueError(f"[{self.name}] {p.shape[0]} predictions but {t.shape[0]} targets")
        diff = p - t
        self.n += int(t.shape[0])
        self.abs_err += float(diff.abs().sum().item())
        self.sq_err += float((diff * diff).sum().item())
        self.y_sum += float(t.sum().item())
        self.y_sq += float((t * t).sum().item())


class MeanAbsoluteError(_Regression):
    name = "mae"

    def compute(self) -> float:
        return self.abs_err / self.n if self.n else float("nan")


class RootMeanSquaredError(_Regression):
    name = "rmse"

    def compute(self) -> float:
        return float(np.sqrt(self.sq_err / self.n)) if self.n else float("nan")


class R2Score(_Regression):
    name = "r2"

    def compute(self) -> float:
        if self.n == 0:
            return float("nan")
        ss_tot = self.y_sq - self.y_sum * self.y_sum / self.n
        return 1.0 - self.sq_err / ss_tot if ss_tot > 0 else float("nan")


class FunctionMetric(Metric):
    """A user callable ``fn(pred, target) -> scalar``: the sample-weighted mean of its batch
    values (exact only for metrics that are means over samples)."""

    def __init__(self, fn: Callable[[Tensor, Tensor], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "metric")
        super().__init__()

    def reset(self) -> None:
        self.mean = Mean(self.name)

    def update(self, pred: Tensor, target: Tensor) -> None:
        self.mean.update(self.fn(pred, target), n=pred.shape[0] if pred.dim() else 1)

    def compute(self) -> float:
        return self.mean.compute()


_NAMES: dict[str, Callable[[], Metric]] = {
    "accuracy": Accuracy, "acc": Accuracy, "top_k_accuracy": TopKAccuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "r2": R2Score, "r2_score": R2Score, "confusion_matrix": ConfusionMatrix,
}


def get_metric(spec: str | Metric | Callable[..., Any]) -> Metric:
    """A Metric from a name ("accuracy", "top_3_accuracy", "f1", "rmse", ...), an instance
    (used as is) or a callable (wrapped in FunctionMetric)."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key.startswith("top_") and key.endswith("_accuracy") and key[4:-9].isdigit():
            return TopKAccuracy(int(key[4:-9]))
        if key not in _NAMES:
            raise ValueError(f"[metrics] unknown metric {spec!r}; known: {sorted(_NAMES)}")
        return _NAMES[key]()
    if callable(spec):
        return FunctionMetric(spec)
    raise TypeError(f"[metrics] a metric is a name, a Metric or a callable, not {spec!r}")


def _once(metric: Metric, pred: Tensor, target: Tensor) -> Any:
    metric.update(pred, target)
    return metric.compute()


def accuracy(pred: Tensor, target: Tensor, threshold: float = 0.5) -> float:
    return _once(Accuracy(threshold), pred, target)


def top_k_accuracy(pred: Tensor, target: Tensor, k: int = 5) -> float:
    return _once(TopKAccuracy(k), pred, target)


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int | None = None) -> np.ndarray:
    return _once(ConfusionMatrix(num_classes), pred, target)


def precision(pred: Tensor, target: Tensor, num_classes: int | None = None,
              average: str | None = "macro") -> Any:
    return _once(Precision(num_classes, average), pred, target)


def recall(pred: Tensor, target: Tensor, num_classes: int | None = None,
           average: str | None = "macro") -> Any:
    return _once(Recall(num_classes, average), pred, target)


def f1_score(pred: Tensor, target: Tensor, num_classes: int | None = None,
             average: str | None = "macro") -> Any:
    return _once(F1Score(num_classes, average), pred, target)


def mean_absolute_error(pred: Tensor, target: Tensor) -> float:
    return _once(MeanAbsoluteError(), pred, target)


def root_mean_squared_error(pred: Tensor, target: Tensor) -> float:
    return _once(RootMeanSquaredError(), pred, target)


def r2_score(pred: Tensor, target: Tensor) -> float:
    return _once(R2Score(), pred, target)
