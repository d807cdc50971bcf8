"""ember: a deep-learning framework with C++/CUDA kernels under a small Python layer."""

from __future__ import annotations

from typing import Any

from . import _C, autograd, cpu, cuda, data, io, nn, optim, train
from ._device import device
from ._dtype import (
    bfloat16,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from ._dtype import bool_ as bool  # noqa: A001  (ember.bool, as torch.bool)
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .io import load, save
from .ops.elementwise import *  # noqa: F403
from .ops.indexing import *  # noqa: F403
from .ops.linalg import *  # noqa: F403
from .ops.random import *  # noqa: F403
from .ops.reduce import *  # noqa: F403
from .tensor import Size, Tensor

half = float16
float = float32  # noqa: A001
double = float64
int = int32  # noqa: A001
long = int64

__version__: str = _C.build_info()["version"]


def get_num_threads() -> int:
    """Threads the CPU kernels use (all cores unless set; EMBER_NUM_THREADS at start-up)."""
    return _C.get_num_threads()


def set_num_threads(n: int) -> None:
    """Sets the thread count for every later CPU kernel, from any Python thread."""
    _C.set_num_threads(n)


def config() -> dict[str, Any]:
    """Version, build type, CPU capability in use (and the best detected), threads, CUDA."""
    info = dict(_C.build_info())
    info["cpu_capability"] = _C.cpu_capability()
    info["detected_cpu_capability"] = _C.detected_cpu_capability()
    info["num_threads"] = _C.get_num_threads()
    info["cuda_device_count"] = _C.cuda_device_count()
    return info


def show_config() -> str:
    """config() as text, one `key: value` per line."""
    return "\n".join(f"{k}: {v}" for k, v in config().items())
