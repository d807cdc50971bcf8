"""ember.nn.functional: the stateless layer functions, with PyTorch's names and signatures.

Activations are built from ember's fused elementwise ops, so they are differentiable by
construction; softmax/log_softmax and cross_entropy are autograd Functions over fused kernels
(see _softmax.py). ``inplace=True`` writes the result into ``input`` when ``input`` takes no
part in autograd; otherwise it returns a new tensor (ember's autograd does not rewrite graphs
for in-place activations), which is the value PyTorch would return."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._dtype import int64
from ..autograd import Function, is_grad_enabled
from ..creation import arange, empty, full, zeros
from ..ops import elementwise as E
from ..ops.indexing import cat
from ..ops.linalg import linear, matmul
from ..ops.reduce import norm
from ..tensor import Tensor
from ._conv import *  # noqa: F403
from ._conv import __all__ as _conv_all
from ._losses import *  # noqa: F403
from ._losses import __all__ as _loss_all
from ._norm import *  # noqa: F403
from ._norm import __all__ as _norm_all
from ._pool import *  # noqa: F403
from ._pool import __all__ as _pool_all
from ._softmax import log_softmax, softmax, softmin

__all__ = [
    "linear", "bilinear", "embedding", "one_hot", "normalize", "pad", "cosine_similarity",
    "pairwise_distance", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "softmax", "log_softmax", "softmin",
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "elu", "elu_", "selu",
    "celu", "gelu", "silu", "mish", "softplus", "sigmoid", "tanh", "hardtanh", "hardtanh_",
    "hardsigmoid", "hardswish", "softsign", "tanhshrink", "logsigmoid", "threshold",
    "hardshrink", "softshrink", "glu", *_conv_all, *_loss_all, *_norm_all, *_pool_all,
]


def _out(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    if inplace and not (input.requires_grad and is_grad_enabled()):
        input.copy_(out)
        return input
    return out


# ---- activations ---------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _out(input, E.relu(input), inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError(f"[hardtanh] min_val {min_val} cannot be greater than max_val {max_val}")
    return _out(input, E.clamp(input, min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _out(input, E.leaky_relu(input, negative_slope), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x); a weight of C values applies per channel (dim 1)."""
    if weight.numel() != 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise ValueError(
                f"[prelu] {weight.numel()} weights need the input's dim 1 to match; "
                f"input shape {tuple(input.shape)}"
            )
        weight = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return E.where(input > 0, input, weight * input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _out(input, E.elu(input, alpha), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _out(input, E.selu(input), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), i.e. alpha * elu(x / alpha)."""
    if alpha == 0:
        raise ValueError("[celu] ZeroDivisionError: alpha cannot be 0 for CELU")
    return _out(input, E.elu(input / alpha, 1.0) * alpha, inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return E.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _out(input, E.silu(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _out(input, input * E.tanh(E.softplus(input)), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return E.softplus(input, beta, threshold)


def sigmoid(input: Tensor) -> Tensor:
    return E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return E.tanh(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _out(input, E.clamp(input / 6 + 0.5, 0.0, 1.0), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _out(input, input * E.clamp(input + 3, 0.0, 6.0) / 6, inplace)


def softsign(input: Tensor) -> Tensor:
    return input / (E.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    return input - E.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for large |x|."""
    return -E.softplus(-input, 1.0, 20.0)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    return _out(input, E.where(input > threshold, input, value), inplace)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return E.where(E.abs(input) > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    if lambd < 0:
        raise ValueError(f"[softshrink] lambda must be >= 0, got {lambd}")
    return E.where(E.abs(input) > lambd, input - E.sign(input) * lambd, 0.0)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``."""
    if input.ndim == 0 or input.shape[dim] % 2:
        raise ValueError(
            f"[glu] halving dimension {dim} needs an even size, input shape {tuple(input.shape)}"
        )
    a, b = input.chunk(2, dim)
    return a * E.sigmoid(b)


# ---- linear layers and embeddings ------------------------------------------------------------
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """y_o = x1 @ W_o @ x2 + b_o over the last dims: x1 (..., in1), x2 (..., in2),
    weight (out, in1, in2)."""
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or input1.shape[:-1] != \
            input2.shape[:-1]:
        raise ValueError(
            f"[bilinear] inputs {tuple(input1.shape)} and {tuple(input2.shape)} don't fit "
            f"weight {tuple(weight.shape)}"
        )
    w = weight.permute(1, 0, 2).reshape(in1, out * in2)
    t = matmul(input1, w).unflatten(-1, (out, in2))
    y = (t * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


class _Embedding(Function):
    """Rows of ``weight``; the backward scatters into a dense gradient, skipping padding_idx
    and dividing by each index's count under scale_grad_by_freq (as PyTorch)."""

    @staticmethod
    def forward(ctx: Any, weight: Tensor, idx: Tensor, padding_idx: int,
                scale_grad_by_freq: bool) -> Tensor:
        flat = idx.reshape(-1)
        ctx.save_for_backward(flat)
        ctx.meta = (tuple(weight.shape), padding_idx, scale_grad_by_freq)
        return weight.index_select(0, flat).reshape(tuple(idx.shape) + (weight.shape[1],))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        (flat,) = ctx.saved_tensors
        (num, dim), padding_idx, by_freq = ctx.meta
        g = grad.reshape(-1, dim)
        if padding_idx >= 0:
            g = g * (flat != padding_idx).to(g.dtype).unsqueeze(1)
        if by_freq:
            ones = full((flat.shape[0],), 1.0, dtype=g.dtype, device=g.device)
            counts = zeros(num, dtype=g.dtype, device=g.device).scatter_add(0, flat, ones)
            g = g / counts.index_select(0, flat).unsqueeze(1)
        rows = flat.unsqueeze(1).expand(flat.shape[0], dim)
        gw = zeros(num, dim, dtype=g.dtype, device=g.device).scatter_add(0, rows, g)
        return gw, None, None, None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: integer indices of any shape -> (*input.shape, embedding_dim).
    max_norm renormalises the looked-up rows of ``weight`` in place first (as PyTorch)."""
    num = weight.shape[0]
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise TypeError(f"[embedding] indices must be an integer tensor, got {input.dtype}")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"[embedding] padding_idx {padding_idx} must be within num_embeddings")
        padding_idx %= num
    if input.numel() and (int(input.min()) < 0 or int(input.max()) >= num):
        raise IndexError(
            f"[embedding] index out of range: indices span [{int(input.min())}, "
            f"{int(input.max())}] for {num} embeddings"
        )
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return _Embedding.apply(weight, input.to(int64),
                            -1 if padding_idx is None else padding_idx, scale_grad_by_freq)


def _embedding_renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    from ..autograd import no_grad

    with no_grad():
        idx = input.reshape(-1).to(int64)
        rows = weight.index_select(0, idx)
        n = norm(rows, norm_type, 1, keepdim=True)
        scale = E.where(n > max_norm, max_norm / (n + 1e-7), 1.0)
        weight[idx] = rows * scale


# ---- dropout -------------------------------------------------------------------------------
def _check_p(p: float, op: str) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"[{op}] dropout probability has to be between 0 and 1, but got {p}")


def _mask(shape: Sequence[int], p: float, like: Tensor) -> Tensor:
    """Bernoulli(1 - p) keep-mask already scaled by 1 / (1 - p), from ember's seeded RNG."""
    m = empty(tuple(shape), dtype=like.dtype, device=like.device).bernoulli_(1.0 - p)
    return m * (1.0 / (1.0 - p))


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) in
    training; identity otherwise."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    out = input * 0.0 if p == 1.0 else input * _mask(input.shape, p, input)
    return _out(input, out, inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, op: str,
                     spatial: int) -> Tensor:
    _check_p(p, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"[{op}] expected a {spatial + 1}-D or {spatial + 2}-D input, "
            f"got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _out(input, input * 0.0, inplace)
    keep = input.ndim - spatial  # whole channels drop together
    shape = tuple(input.shape[:keep]) + (1,) * spatial
    return _out(input, input * _mask(shape, p, input), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout(input, p, training, inplace, "dropout1d", 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout(input, p, training, inplace, "dropout2d", 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout(input, p, training, inplace, "dropout3d", 3)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """SELU-preserving dropout (Klambauer et al. 2017): dropped units take SELU's negative
    saturation, then an affine map restores zero mean and unit variance."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _out(input, input * 0.0, inplace)
    alpha_p = -1.7580993408473766  # -SELU scale * alpha
    a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5
    keep = empty(tuple(input.shape), dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    b = (keep - 1) * (a * alpha_p) + a * alpha_p * p  # a*alpha_p*(p - drop)
    return _out(input, input * (keep * a) + b, inplace)


# ---- misc ------------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (*tensor.shape, num_classes); num_classes=-1 uses max + 1."""
    if tensor.dtype.is_floating_point or tensor.dtype.name == "bool":
        raise TypeError(f"[one_hot] expects an integer (class index) tensor, got {tensor.dtype}")
    if tensor.numel() and int(tensor.min()) < 0:
        raise ValueError("[one_hot] class values must be non-negative")
    top = int(tensor.max()) + 1 if tensor.numel() else 0
    if num_classes == -1:
        if not tensor.numel():
            raise ValueError("[one_hot] can not infer total number of classes from empty tensor")
        num_classes = top
    elif top > num_classes:
        raise ValueError(f"[one_hot] class values must be smaller than num_classes {num_classes}")
    classes = arange(num_classes, dtype=int64, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).to(int64)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p over dim, eps)."""
    return input / E.clamp(norm(input, p, dim, keepdim=True), eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) over ``dim``, inputs broadcast."""
    n1 = E.clamp(norm(x1, 2, dim, keepdim=True), eps)
    n2 = E.clamp(norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (eps keeps the gradient finite at 0)."""
    d = x1 - x2 + eps
    return norm(d, p, -1, keepdim=keepdim) if d.ndim else E.abs(d)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pads the last len(pad)//2 dims: pad = (last_left, last_right, prev_left, ...).
    Negative amounts crop. Modes: constant, reflect, replicate, circular."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"[pad] padding {tuple(pad)} must have an even length of at most 2 * ndim for shape "
            f"{tuple(input.shape)}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"[pad] unsupported mode {mode!r}")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"[pad] padding mode {mode!r} doesn't take in value argument")
    x = input
    for i in range(len(pad) // 2):
        x = _pad_dim(x, x.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1]), mode,
                     0.0 if value is None else value)
    return x


def _pad_dim(x: Tensor, d: int, left: int, right: int, mode: str, value: float) -> Tensor:
    if left < 0:
        x = x.narrow(d, -left, x.shape[d] + left)
    if right < 0:
        x = x.narrow(d, 0, x.shape[d] + right)
    left, right = max(left, 0), max(right, 0)
    if not left and not right:
        return x
    n = x.shape[d]
    limit = n - 1 if mode == "reflect" else n
    if mode in ("reflect", "circular") and max(left, right) > limit:
        raise ValueError(f"[pad] {mode} padding ({left}, {right}) is too large for size {n}")
    parts = [_pad_part(x, d, left, mode, value, True), x,
             _pad_part(x, d, right, mode, value, False)]
    return cat([p for p in parts if p is not None], d)


def _pad_part(x: Tensor, d: int, k: int, mode: str, value: float, left: bool) -> Tensor | None:
    if k == 0:
        return None
    n = x.shape[d]
    if mode == "constant":
        shape = list(x.shape)
        shape[d] = k
        return full(tuple(shape), value, dtype=x.dtype, device=x.device)
    if mode == "replicate":
        edge = x.narrow(d, 0 if left else n - 1, 1)
        shape = list(x.shape)
        shape[d] = k
        return edge.expand(tuple(shape))
    if mode == "circular":
        return x.narrow(d, n - k, k) if left else x.narrow(d, 0, k)
    if x.is_cuda:  # no CUDA gather kernel: one single-row view per padded row instead
        rows = range(k, 0, -1) if left else range(n - 2, n - 2 - k, -1)
        return cat([x.narrow(d, i, 1) for i in rows], d)
    idx = arange(k, 0, -1) if left else arange(n - 2, n - 2 - k, -1)
    return x.index_select(d, idx.to(int64))

