"""Gradient modes: no_grad, enable_grad, set_grad_enabled (context managers and decorators).

The flag is thread-local, as in PyTorch: a DataLoader thread or an evaluation thread running
under ``no_grad`` does not switch recording off for the training thread. Every differentiable
op reads ``_state.enabled`` once, so the check costs one attribute load.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    enabled = True  # class attribute: the default every new thread sees


_state = _State()


def is_grad_enabled() -> bool:
    """Whether ops on tensors that require grad record the graph (thread-local)."""
    return _state.enabled


class _Mode:
    """A context manager that is also a decorator, restoring the previous mode on exit."""

    _mode: bool

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self._prev

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_Mode):  # noqa: N801  (PyTorch's name)
    """Ops run without recording the graph: for evaluation, and for updating parameters."""

    _mode = False


class enable_grad(_Mode):  # noqa: N801
    """Recording on again inside a ``no_grad`` region."""

    _mode = True


class inference_mode(_Mode):  # noqa: N801
    """PyTorch's inference_mode; here the same as ``no_grad`` (``mode=False`` records)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = not mode


class set_grad_enabled(_Mode):  # noqa: N801
    """``set_grad_enabled(False)`` as a context manager or decorator, or called on its own to
    switch the mode for the current thread from then on (as in PyTorch)."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __enter__(self) -> None:
        _state.enabled = self._mode

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self._prev

    def __call__(self, fn: F) -> F:
        _state.enabled = self._prev  # as a decorator it changes nothing until fn runs
        return super().__call__(fn)
