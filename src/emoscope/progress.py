"""Progress bars for long work: counts, rate and time left, on stderr (stdout stays clean)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

__all__ = ["track"]


def track(items: Iterable[T], *, total: int | None = None, description: str = "",
          unit: str = "files", enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` while drawing a progress bar with ``done/total``, rate and ETA on stderr.

    Nothing is drawn when ``enabled`` is false or stderr is not a terminal (logs stay clean).
    """
    if not enabled or not sys.stderr.isatty():
        yield from items
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total, rate="")
        for item in items:
            yield item
            bar.advance(task)
            t = bar.tasks[0]
            if t.speed:
                bar.update(task, rate=f"{t.speed:.0f} {unit}/s")


class EpochProgress:
    """Progress bars for training: one bar per fold over its epochs, showing the live training
    loss and validation UA. Silent when disabled or when stderr is not a terminal.

    >>> with EpochProgress() as bar:                       # doctest: +SKIP
    ...     cb = bar.fold("fold 1/6", total_epochs=40)
    ...     cb(1, {"train_loss": 1.9, "valid_ua": 0.31})
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Progress | None = None

    def __enter__(self) -> EpochProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("epochs"), TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(), console=Console(stderr=True),
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    def fold(self, description: str, total_epochs: int
             ) -> Callable[[int, dict[str, float]], None] | None:
        """A callback ``(epoch, row)`` that advances this fold's bar."""
        if self._progress is None:
            return None
        progress = self._progress
        task = progress.add_task(description, total=total_epochs, stats="")

        def update(epoch: int, row: dict[str, float]) -> None:
            stats = f"loss {row.get('train_loss', float('nan')):.3f}"
            if "valid_ua" in row:
                stats += f"  valid UA {row['valid_ua']:.3f}"
            progress.update(task, completed=epoch, stats=stats)

        return update
