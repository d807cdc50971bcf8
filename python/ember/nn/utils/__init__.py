"""Helpers for training modules: gradient clipping and penalties."""

from .clip_grad import clip_grad_norm_, clip_grad_value_, l1_penalty

__all__ = ["clip_grad_norm_", "clip_grad_value_", "l1_penalty"]
