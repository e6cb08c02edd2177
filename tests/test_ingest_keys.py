"""The key counter the pre-pass and the bulk stream share: which keys occur on more than one
line, whatever order the keys arrive in (DuckDB's parallel reader returns batches out of
order), however they are split into batches, and whether they sit in its bitset or are
outliers far above it. Compared with a plain ``Counter`` of the same keys."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from immfacts.ingest.prepass import DENSE_MAX, KeyCounter

# keys near 0 collide often; keys past the bitset's bound (and past 2^31) exercise the outliers
key = st.one_of(st.integers(0, 40), st.integers(0, 5_000), st.integers(DENSE_MAX - 3, DENSE_MAX + 3), st.integers(2**40, 2**40 + 5))
batches = st.lists(st.lists(key, max_size=60), max_size=6)


@settings(max_examples=200, deadline=None)
@given(batches)
def test_contested_keys_are_exactly_those_seen_twice(parts):
    kc = KeyCounter()
    for part in parts:
        kc.add(np.array(part, dtype=np.int64), len(part))
    counts = Counter(k for part in parts for k in part)
    assert kc.contested == {k for k, n in counts.items() if n > 1}
    assert kc.lines == sum(len(p) for p in parts)
    for k in counts:
        assert kc.seen(k)
    for k in (41, 5_001, DENSE_MAX + 4, 2**40 + 6):
        assert kc.seen(k) == (k in counts)


def test_a_repeat_inside_one_unordered_batch_and_across_batches():
    kc = KeyCounter()
    kc.add(np.array([9, 3, 7, 3, 1], dtype=np.int64), 5)
    assert kc.contested == {3}
    kc.add(np.array([2, 9], dtype=np.int64), 2)
    assert kc.contested == {3, 9}
    assert not kc.seen(4) and kc.seen(2)
