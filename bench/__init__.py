"""The benchmark suite behind ``make bench`` (``bench/run.py``); importable for its tests."""
