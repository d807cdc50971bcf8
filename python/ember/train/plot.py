"""PNG learning curves and confusion matrices with matplotlib, an optional dependency; the
Agg backend is used so plotting works on headless CI machines."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._atomic import atomic_open

__all__ = ["plot_history", "plot_confusion_matrix"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("[plot] plotting needs matplotlib: pip install matplotlib "
                          "(or pip install ember[plot])") from e
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Any) -> None:
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def _series(history: Any) -> dict[str, list[float]]:
    return history.history if hasattr(history, "history") else dict(history)


def plot_history(history: Any, path: Any = None, keys: list[str] | None = None) -> Any:
    """One panel per quantity (loss, each metric), train and ``val_`` curves together.
    ``history`` is a History or its dict; returns the Figure, saved as PNG at ``path``."""
    plt = _pyplot()
    series = _series(history)
    names = keys or [k for k in series if not k.startswith("val_") and k != "lr"]
    names += [k[4:] for k in series if k.startswith("val_") and k[4:] not in names
              and keys is None]
    if not names:
        raise ValueError("[plot_history] the history holds no values to plot")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for key, label in ((name, "train"), ("val_" + name, "validation")):
            if key in series:
                values = series[key]
                ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    if path is not None:
        _save(plt, fig, path)
    return fig


def plot_confusion_matrix(cm: Any, path: Any = None, class_names: list[str] | None = None,
                          normalize: bool = False) -> Any:
    """A heat map of ``cm[true, predicted]`` (an array or ember Tensor) with counts (or
    row-normalised rates) written in the cells."""
    plt = _pyplot()
    m = cm.numpy() if hasattr(cm, "numpy") else np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"[plot_confusion_matrix] expects a square matrix, got {m.shape}")
    if normalize:
        rows = m.sum(1, keepdims=True)
        m = np.divide(m, rows, out=np.zeros(m.shape), where=rows != 0)
    n = m.shape[0]
    names = class_names or [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(1 + 0.6 * n, 1 + 0.6 * n))
    im = ax.imshow(m, cmap="Blues")
    fig.colorbar(im, ax=ax)
    ax.set_xticks(range(n), names, rotation=45)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    high = m.max() / 2 if m.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{m[i, j]:.2f}" if normalize else str(int(m[i, j]))
            ax.text(j, i, text, ha="center", va="center",
                    color="white" if m[i, j] > high else "black", fontsize=8)
    fig.tight_layout()
    if path is not None:
        _save(plt, fig, path)
    return fig
