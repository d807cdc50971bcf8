"""ember.nn: Module, Parameter, layers, activations, losses, init and functional (PyTorch's
torch.nn API)."""

from . import functional, init
from .modules import *  # noqa: F403
from .modules import Module, RemovableHandle
from .parameter import Buffer, Parameter

try:  # nn.utils (clip_grad_norm_ ...) is written separately and may not be there yet
    from . import utils
except ImportError:
    pass
