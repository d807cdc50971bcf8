"""Placeholder: filled in by the elementwise family."""

__all__: list[str] = []
