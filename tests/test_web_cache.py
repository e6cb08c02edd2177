"""The web result cache: one computation per key under concurrency, copies out, expiry, no errors kept."""

import threading
import time

import pytest

from immfacts.web.cache import ResultCache, freeze


def test_concurrent_requests_for_one_key_compute_once():
    cache = ResultCache()
    calls = []
    start = threading.Barrier(10)

    def compute():
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while it runs
        return {"value": 42}

    results = []

    def worker():
        start.wait()
        results.append(cache.get_or_compute("k", compute))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert results == [{"value": 42}] * 10


def test_callers_get_copies_they_cannot_corrupt():
    cache = ResultCache()
    first = cache.get_or_compute("k", lambda: {"rows": [1, 2]})
    first["rows"].append(3)
    assert cache.get_or_compute("k", lambda: {"rows": []}) == {"rows": [1, 2]}
    assert cache.peek("k") == (True, {"rows": [1, 2]})


def test_entries_expire():
    cache = ResultCache(ttl_s=0.0)
    cache.get_or_compute("k", lambda: 1)
    time.sleep(0.001)
    assert cache.peek("k") == (False, None)
    assert cache.get_or_compute("k", lambda: 2) == 2


def test_errors_are_not_cached():
    cache = ResultCache()

    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get_or_compute("k", boom)
    assert cache.get_or_compute("k", lambda: "ok") == "ok"


def test_least_recently_used_entry_is_dropped_first():
    cache = ResultCache(max_entries=2)
    cache.get_or_compute("a", lambda: 1)
    cache.get_or_compute("b", lambda: 2)
    cache.get_or_compute("a", lambda: 0)  # touch a
    cache.get_or_compute("c", lambda: 3)
    assert cache.peek("b") == (False, None)
    assert cache.peek("a") == (True, 1)


def test_freeze_makes_query_arguments_hashable_and_order_free():
    assert freeze({"where": ["court=NYC"], "by": "fy"}) == freeze({"by": "fy", "where": ("court=NYC",)})
    hash(freeze({"a": {"b": [1, {"c": 2}]}}))
