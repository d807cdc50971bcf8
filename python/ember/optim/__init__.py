"""Optimizers whose step is one fused multi-tensor C++ kernel call per parameter group, and
learning-rate schedulers; PyTorch's torch.optim API."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
