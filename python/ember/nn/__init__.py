"""ember.nn: Module, Parameter, layers, activations, losses, init and functional (PyTorch's
torch.nn API)."""

from . import (  # noqa: F401
    functional,
    init,
    utils,  # noqa: F401  (clip_grad_norm_, clip_grad_value_, l1_penalty)
)
from .modules import *  # noqa: F403
from .modules import Module, RemovableHandle  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
