"""CPU runtime: the caching allocator's statistics and cache."""

from __future__ import annotations

from . import _C


def empty_cache() -> None:
    """Returns every cached (freed, kept for reuse) block to the system."""
    _C.cpu_empty_cache()


def memory_stats() -> dict[str, int]:
    """allocated_bytes, peak_allocated_bytes, cached_bytes, num_allocs, num_cache_hits."""
    return dict(_C.cpu_memory_stats())


def memory_allocated() -> int:
    return int(_C.cpu_memory_stats()["allocated_bytes"])


def reset_peak_memory_stats() -> None:
    _C.cpu_reset_peak_stats()
