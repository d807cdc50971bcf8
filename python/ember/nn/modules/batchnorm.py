"""BatchNorm1d / 2d / 3d (PyTorch's, with its buffers, momentum rule and initialisation)."""

from __future__ import annotations

from typing import Any

from ..._dtype import int64
from ...autograd.grad_mode import no_grad
from ...creation import empty, ones, tensor, zeros
from ...tensor import Tensor
from .. import init
from .._norm import batch_norm
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


def add_affine(m: Module, shape: tuple[int, ...], affine: bool, bias: bool, device: Any,
               dtype: Any) -> None:
    """Registers a norm layer's `weight` and `bias` of `shape` (None when not affine / no
    bias), as PyTorch's norm layers do."""
    weight = Parameter(empty(*shape, device=device, dtype=dtype)) if affine else None
    m.register_parameter("weight", weight)
    m.register_parameter("bias", Parameter(empty(*shape, device=device, dtype=dtype))
                         if affine and bias else None)


def reset_affine(m: Module) -> None:
    """weight = 1, bias = 0 (PyTorch's initialisation of norm layers)."""
    if m.weight is not None:
        init.ones_(m.weight)
    if m.bias is not None:
        init.zeros_(m.bias)


class _NormBase(Module):
    """Affine parameters (weight 1, bias 0) and running statistics (mean 0, var 1, and the
    int64 count of training batches) shared by the batch and instance norms."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        add_affine(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device,
                                                       dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"[{type(self).__name__}] expected {want} input (got "
                             f"{input.ndim}D input)")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _dims: tuple[int, ...] = ()

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            # momentum None: a cumulative moving average, each batch weighted equally
            factor = 1.0 / int(self.num_batches_tracked) if self.momentum is None else factor
        # eval without running statistics normalises by the batch's own statistics
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of an (N, C) or (N, C, L) input over all but the channel dim."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of an (N, C, H, W) input over all but the channel dim."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of an (N, C, D, H, W) input over all but the channel dim."""

    _dims = (5,)
