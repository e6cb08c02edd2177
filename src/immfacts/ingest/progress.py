"""Progress reporting of an ingest: per table, bytes read and rows loaded.

The library never prints. ``ingest(progress=...)`` accepts ``None``/``False`` (quiet), ``True``
(Rich bars on stderr when it is a terminal), a ``rich.progress.Progress`` to add tasks to, or a
callable ``fn(table, stage, done, total)`` where ``stage`` is ``download``, ``read`` (bytes) or
``load`` (rows). The CLI passes ``True`` unless ``--json`` is given.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class Progress:
    """Quiet progress: every hook is a no-op. Subclasses render it."""

    def start_download(self, url: str, total: int | None) -> Any:
        return None

    def advance_download(self, task: Any, n: int) -> None:
        pass

    def start_table(self, table: str, total_bytes: int) -> None:
        pass

    def read(self, table: str, n_bytes: int) -> None:
        pass

    def start_rows(self, table: str, total_rows: int) -> None:
        pass

    def load(self, table: str, n_rows: int) -> None:
        pass

    def end_table(self, table: str) -> None:
        pass

    def close(self) -> None:
        pass


class CallbackProgress(Progress):
    """Forwards to ``fn(table, stage, done, total)``."""

    def __init__(self, fn: Callable[[str, str, int, int | None], Any]) -> None:
        self.fn = fn
        self.done: dict[tuple[str, str], int] = {}
        self.total: dict[tuple[str, str], int | None] = {}

    def _tick(self, table: str, stage: str, n: int) -> None:
        k = (table, stage)
        self.done[k] = self.done.get(k, 0) + n
        self.fn(table, stage, self.done[k], self.total.get(k))

    def start_download(self, url: str, total: int | None) -> Any:
        self.total[(url, "download")] = total
        return url

    def advance_download(self, task: Any, n: int) -> None:
        self._tick(task, "download", n)

    def start_table(self, table: str, total_bytes: int) -> None:
        self.total[(table, "read")] = total_bytes

    def read(self, table: str, n_bytes: int) -> None:
        self._tick(table, "read", n_bytes)

    def start_rows(self, table: str, total_rows: int) -> None:
        self.total[(table, "load")] = total_rows

    def load(self, table: str, n_rows: int) -> None:
        self._tick(table, "load", n_rows)


class RichProgress(Progress):
    """Rich bars: one per table for bytes read, one for rows loaded."""

    def __init__(self, progress: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RP

        self._own = progress is None
        self.p = progress or RP(
            TextColumn("{task.description:<32}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.tasks: dict[tuple[str, str], Any] = {}
        if self._own:
            self.p.start()

    def _add(self, key: tuple[str, str], desc: str, total: int | None) -> Any:
        tid = self.p.add_task(desc, total=total, detail="")
        self.tasks[key] = tid
        return tid

    def _task(self, tid: Any) -> Any:
        return next(x for x in self.p.tasks if x.id == tid)

    def start_download(self, url: str, total: int | None) -> Any:
        return self._add((url, "download"), "download " + url.rsplit("/", 1)[-1][:22], total)

    def advance_download(self, task: Any, n: int) -> None:
        self.p.advance(task, n)

    def start_table(self, table: str, total_bytes: int) -> None:
        self._add((table, "read"), f"{table} · read", total_bytes)

    def read(self, table: str, n_bytes: int) -> None:
        tid = self.tasks.get((table, "read"))
        if tid is not None:
            self.p.advance(tid, n_bytes)
            self.p.update(tid, detail=f"{self._task(tid).completed / 1e6:,.0f} MB")

    def start_rows(self, table: str, total_rows: int) -> None:
        self._add((table, "load"), f"{table} · load", total_rows)

    def load(self, table: str, n_rows: int) -> None:
        tid = self.tasks.get((table, "load"))
        if tid is not None:
            self.p.advance(tid, n_rows)
            self.p.update(tid, detail=f"{int(self._task(tid).completed):,} rows")

    def end_table(self, table: str) -> None:
        for stage in ("read", "load"):
            tid = self.tasks.get((table, stage))
            if tid is not None:
                t = self._task(tid)
                if t.total is not None:
                    self.p.update(tid, completed=t.total)

    def close(self) -> None:
        if self._own:
            self.p.stop()


def make_progress(progress: Any) -> Progress:
    """Normalise the ``progress`` argument of :func:`immfacts.ingest` (see module docstring)."""
    if progress is None or progress is False:
        return Progress()
    if isinstance(progress, Progress):
        return progress
    if progress is True:
        return RichProgress() if sys.stderr.isatty() else Progress()
    if hasattr(progress, "add_task"):
        return RichProgress(progress)
    if callable(progress):
        return CallbackProgress(progress)
    raise TypeError(f"progress must be None, a bool, a rich Progress or a callable, not {type(progress).__name__}")
