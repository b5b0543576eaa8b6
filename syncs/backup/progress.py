"""How a backup shows its progress: bars made by the caller (tqdm fits)."""

from collections.abc import Callable
from typing import Protocol


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> object: ...


# (description, total) -> a bar; the command passes tqdm, tasks pass nothing.
ProgressFactory = Callable[[str, int | None], ProgressBar]


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_silent(description: str, total: int | None) -> ProgressBar:
    """Return a bar that shows nothing."""
    return _Silent()
