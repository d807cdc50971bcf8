"""CUDA device queries. ember imports and runs without a GPU or a driver; then
``is_available()`` is False and ``device_count()`` is 0."""

from __future__ import annotations

from . import _C


def is_built() -> bool:
    """Whether this build of ember contains CUDA kernels."""
    return bool(_C.build_info()["cuda_built"])


def device_count() -> int:
    """Number of usable CUDA devices (0 without a driver, a device or a CUDA build)."""
    return int(_C.cuda_device_count())


def is_available() -> bool:
    return device_count() > 0


def get_device_name(device: int = 0) -> str:
    return str(_C.cuda_device_name(device))


def synchronize(device: int = 0) -> None:
    """Waits for all work queued on `device`."""
    if is_available():
        _C.cuda_synchronize(device)
