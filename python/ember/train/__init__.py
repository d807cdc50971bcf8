"""Training that people enjoy: ``Trainer.fit`` / ``evaluate`` / ``predict`` with Keras-style
History and callbacks, exact streaming metrics, a progress bar (or plain log lines), learning
curve and confusion-matrix plots, ``summary(model, input_shape)`` and resumable checkpoints."""

from . import metrics
from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .history import History
from .plot import plot_confusion_matrix, plot_history
from .summary import LayerShapeError, summary
from .trainer import Trainer

__all__ = [
    "Trainer", "History", "Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint",
    "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN", "metrics",
    "plot_history", "plot_confusion_matrix", "summary", "LayerShapeError",
]
