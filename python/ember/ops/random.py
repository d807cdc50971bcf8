"""Placeholder: filled in by the random family."""

__all__: list[str] = []
