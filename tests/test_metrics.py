"""ember.train.metrics against NumPy references (no sklearn): exact values, streaming
accumulation over uneven batches equal to the one-shot value, per-class and edge cases."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.train import metrics as M


def _t(a: np.ndarray) -> ember.Tensor:
    return ember.from_numpy(np.ascontiguousarray(a))


def _ref_cm(t: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    for a, b in zip(t, p, strict=True):
        cm[a, b] += 1
    return cm


def _ref_prf(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(cm).astype(float)
    col, row = cm.sum(0), cm.sum(1)
    prec = np.array([tp[i] / col[i] if col[i] else 0.0 for i in range(len(tp))])
    rec = np.array([tp[i] / row[i] if row[i] else 0.0 for i in range(len(tp))])
    f1 = np.array([2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(prec, rec, strict=True)])
    return prec, rec, f1


@pytest.fixture
def cls_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(127, 5)).astype(np.float32)
    target = rng.integers(0, 5, size=127)
    return logits, target


def test_accuracy_and_top_k(cls_data: tuple[np.ndarray, np.ndarray]) -> None:
    logits, target = cls_data
    ref = float((logits.argmax(1) == target).mean())
    assert M.accuracy(_t(logits), _t(target)) == pytest.approx(ref)
    for k in (1, 2, 3, 5):
        topk = np.argsort(-logits, axis=1)[:, :k]
        ref_k = float((topk == target[:, None]).any(1).mean())
        assert M.top_k_accuracy(_t(logits), _t(target), k=k) == pytest.approx(ref_k)
    assert M.get_metric("top_3_accuracy").name == "top_3_accuracy"


def test_binary_accuracy_thresholds() -> None:
    prob = np.array([0.1, 0.6, 0.9, 0.4, 0.5], dtype=np.float32)
    target = np.array([0.0, 1.0, 0.0, 0.0, 1.0], dtype=np.float32)
    # 0.5 is not above the threshold: predicted 0.
    assert M.accuracy(_t(prob), _t(target)) == pytest.approx(3 / 5)
    assert M.accuracy(_t(prob[:, None]), _t(target)) == pytest.approx(3 / 5)
    labels = np.array([0, 1, 1, 0, 1])
    assert M.accuracy(_t(labels), _t(labels)) == 1.0


def test_confusion_precision_recall_f1(cls_data: tuple[np.ndarray, np.ndarray]) -> None:
    logits, target = cls_data
    cm = _ref_cm(target, logits.argmax(1), 5)
    np.testing.assert_array_equal(M.confusion_matrix(_t(logits), _t(target)), cm)
    prec, rec, f1 = _ref_prf(cm)
    for fn, ref in ((M.precision, prec), (M.recall, rec), (M.f1_score, f1)):
        np.testing.assert_allclose(fn(_t(logits), _t(target), average=None), ref)
        assert fn(_t(logits), _t(target)) == pytest.approx(ref.mean())


def test_never_predicted_class_scores_zero() -> None:
    pred = np.array([0, 0, 1, 1])
    target = np.array([0, 2, 1, 2])
    cm = M.confusion_matrix(_t(pred), _t(target))
    assert cm.shape == (3, 3) and cm[2].sum() == 2
    np.testing.assert_allclose(M.precision(_t(pred), _t(target), average=None), [0.5, 0.5, 0])
    np.testing.assert_allclose(M.recall(_t(pred), _t(target), average=None), [1, 1, 0])


def test_regression_metrics() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=129)
    p = y + rng.normal(scale=0.3, size=129)
    mae, rmse = np.abs(p - y).mean(), np.sqrt(((p - y) ** 2).mean())
    r2 = 1 - ((p - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert M.mean_absolute_error(_t(p), _t(y)) == pytest.approx(mae, rel=1e-12)
    assert M.root_mean_squared_error(_t(p), _t(y)) == pytest.approx(rmse, rel=1e-12)
    assert M.r2_score(_t(p), _t(y)) == pytest.approx(r2, rel=1e-9)
    # (N, 1) predictions against (N,) targets: same values.
    assert M.mean_absolute_error(_t(p[:, None]), _t(y)) == pytest.approx(mae, rel=1e-12)


@pytest.mark.parametrize("name", ["accuracy", "top_k_accuracy", "precision", "recall", "f1"])
def test_streaming_equals_one_shot(name: str, cls_data: tuple[np.ndarray, np.ndarray]) -> None:
    logits, target = cls_data
    one = M.get_metric(name)
    one.update(_t(logits), _t(target))
    stream = M.get_metric(name)
    for lo, hi in ((0, 1), (1, 8), (8, 71), (71, 127)):
        stream.update(_t(logits[lo:hi]), _t(target[lo:hi]))
    assert stream.compute() == pytest.approx(one.compute(), rel=1e-12)
    # Averaging batch values would differ for uneven batches: the exact value is not that.
    stream.reset()
    assert np.isnan(stream.compute()) or stream.compute() == 0.0


@pytest.mark.parametrize("cls", [M.MeanAbsoluteError, M.RootMeanSquaredError, M.R2Score])
def test_streaming_regression(cls: type) -> None:
    rng = np.random.default_rng(2)
    y, p = rng.normal(size=100), rng.normal(size=100)
    one, stream = cls(), cls()
    one.update(_t(p), _t(y))
    for lo, hi in ((0, 3), (3, 50), (50, 100)):
        stream.update(_t(p[lo:hi]), _t(y[lo:hi]))
    assert stream.compute() == pytest.approx(one.compute(), rel=1e-9)


def test_function_metric_and_errors() -> None:
    m = M.get_metric(lambda p, t: (p - t).abs().mean())
    m.update(_t(np.array([1.0, 2.0])), _t(np.array([0.0, 0.0])))
    m.update(_t(np.array([4.0])), _t(np.array([0.0])))
    assert m.compute() == pytest.approx((1 + 2 + 4) / 3)  # sample-weighted
    with pytest.raises(ValueError, match="unknown metric"):
        M.get_metric("accurracy")
    with pytest.raises(TypeError):
        M.get_metric(3)
    with pytest.raises(ValueError, match="average"):
        M.Precision(average="micro")
    with pytest.raises(ValueError, match=r"\[accuracy\] 3 predictions but 2 targets"):
        M.accuracy(_t(np.array([1, 0, 1])), _t(np.array([1, 0])))
    assert np.isnan(M.Accuracy().compute())


def test_metric_call_is_one_shot() -> None:
    acc = M.Accuracy()
    acc.update(_t(np.array([1, 1])), _t(np.array([1, 1])))
    assert acc(_t(np.array([0, 1, 1])), _t(np.array([1, 1, 1]))) == pytest.approx(2 / 3)
    assert acc.compute() == 1.0  # the accumulated state is untouched
