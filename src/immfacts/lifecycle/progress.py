"""Progress bars for the lifecycle's long operations (downloads, exports).

A library call takes ``progress=True`` to show a Rich bar on the terminal (stderr); off a
terminal, or with ``progress=False`` (the CLI's ``--json``), nothing is drawn. The bar is
driven by a plain ``update(done, total)`` callable so the work itself never imports Rich.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

Update = Callable[[int, int | None], None]


def _noop(done: int, total: int | None) -> None:
    return None


@contextlib.contextmanager
def bar(description: str, *, enabled: bool, unit: str = "bytes") -> Iterator[Update]:
    """Yield ``update(done, total)``; draws a bar on stderr when enabled on a terminal."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield _noop
        return
    columns = (
        [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn()]
        if unit == "bytes"
        else [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    )
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as p:
        task = p.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            p.update(task, completed=done, total=total)

        yield update
