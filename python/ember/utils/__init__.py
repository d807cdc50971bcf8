"""Utilities outside the op set: `benchmark`, the timing harness used by bench/."""

from . import benchmark

__all__ = ["benchmark"]
