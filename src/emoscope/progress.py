"""Progress bars for long work: counts, rate and time left, on stderr (stdout stays clean)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
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
