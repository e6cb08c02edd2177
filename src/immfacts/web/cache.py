"""A small process-wide cache of computed results, safe under concurrent requests.

A release never changes once ingested (a new one gets a new folder), so a metric result
for ``(warehouse, release id, ingest time, metric, arguments)`` can be reused by every
request and every app in the process; reference series can be updated in place
(``immfacts reference add-cbp``), so every entry also expires after :data:`TTL_S`.
Computing is single-flight: when fifty clients ask for the same uncached number at once,
one computes it and the others wait for that answer instead of repeating the work.
Errors are not cached. Results are deep-copied on the way out, so no caller can change
another's copy.

The metric engine is not safe for concurrent calls, so computations also take
:data:`ENGINE_LOCK`; async handlers queue for it in the event loop (:func:`gated`).
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

TTL_S = 300.0
MAX_ENTRIES = 1024


class ResultCache:
    """LRU + TTL cache with one lock per key while a value is being computed."""

    def __init__(self, max_entries: int = MAX_ENTRIES, ttl_s: float = TTL_S) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def _get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return False, None
            stamp, value = item
            if time.monotonic() - stamp > self.ttl_s:
                del self._data[key]
                return False, None
            self._data.move_to_end(key)
            self.hits += 1
            return True, value

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, a copy of the value)`` if cached and fresh, else ``(False, None)``."""
        found, value = self._get(key)
        return found, (copy.deepcopy(value) if found else None)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it once if absent or expired."""
        found, value = self._get(key)
        if found:
            return copy.deepcopy(value)
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            found, value = self._get(key)  # another thread may have computed it meanwhile
            if not found:
                value = compute()
                with self._lock:
                    self.misses += 1
                    self._data[key] = (time.monotonic(), value)
                    self._data.move_to_end(key)
                    while len(self._data) > self.max_entries:
                        self._data.popitem(last=False)
        with self._lock:
            self._computing.pop(key, None)
        return copy.deepcopy(value)

    def clear(self) -> None:
        """Forget everything (tests, or after an operator changes reference data)."""
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


RESULTS = ResultCache()

# The metric engine keeps one DuckDB connection per release and DuckDB refuses concurrent
# calls on a connection ("connection is busy"), so the web app runs library computations
# (metric queries and claim checks, which query metrics too) one at a time. Cached answers
# need no lock, so only cache misses wait for each other.
ENGINE_LOCK = threading.RLock()


class AsyncGate:
    """Lets one computation at a time into the thread pool, per event loop.

    Async API handlers wait here, in the event loop, rather than in worker threads blocked
    on :data:`ENGINE_LOCK`: the thread pool stays free for cached answers and pages.
    """

    def __init__(self) -> None:
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(1)
        return gate


GATE = AsyncGate()


async def gated(key: Hashable, compute: Callable[[], T]) -> T:
    """The cached value for ``key``, or ``compute()`` run in the thread pool behind :data:`GATE`."""
    from starlette.concurrency import run_in_threadpool

    found, value = RESULTS.peek(key)
    if found:
        return value
    async with GATE():
        return await run_in_threadpool(RESULTS.get_or_compute, key, compute)


def freeze(value: Any) -> Hashable:
    """A hashable, order-stable form of query arguments (lists and dicts included)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value
