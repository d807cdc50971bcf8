"""Devices: ``ember.device("cpu")``, ``ember.device("cuda:0")``."""

from __future__ import annotations


class device:
    """Where a tensor's memory lives. Compares equal to its string form."""

    __slots__ = ("type", "index")

    def __init__(self, spec: str | device, index: int | None = None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"[device] expected a string such as 'cpu' or 'cuda:0', got {spec!r}")
        kind, colon, idx = spec.partition(":")
        if kind not in ("cpu", "cuda") or (colon and not idx.isdigit()):
            raise ValueError(
                f"[device] unsupported device {spec!r} (expected 'cpu', 'cuda' or 'cuda:N')"
            )
        self.type = kind
        self.index = int(idx) if idx else (index if index is not None else 0)

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.type == "cpu" else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def to_device(d: object) -> device:
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)  # type: ignore[arg-type]
