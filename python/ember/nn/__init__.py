"""ember.nn: Module, Parameter, layers, activations, losses, init and functional (PyTorch's
torch.nn API)."""

from . import functional, init  # noqa: F401
from .modules import *  # noqa: F403
from .modules import Module, RemovableHandle  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401

try:  # nn.utils (clip_grad_norm_ ...) is written separately and may not be there yet
    from . import utils  # noqa: F401
except ImportError:
    pass
