"""Where an ingest's peak memory happens: RSS sampled per table and stage.

    .venv/bin/python bench/memtrace.py bench/work/samples/sample-0.01-seed1.zip

Runs ``immfacts.ingest`` in this process with a sampling thread (``/proc/self/status`` VmRSS
every 50 ms) and the ingest's progress callback naming the current table and stage (``read``:
the byte pre-pass, ``load``: the DuckDB typing stream and Parquet writing; the canonical model
build is its own phase). Prints the peak RSS of each
phase, largest first. Linux only (reads ``/proc``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def trace(zip_path: str, interval: float = 0.05) -> dict[str, float]:
    """Peak RSS (MB) per phase of one ingest of ``zip_path`` into a temporary warehouse."""
    import immfacts

    phase = ["start"]
    peaks: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            p = phase[0]
            peaks[p] = max(peaks.get(p, 0.0), rss_mb())
            time.sleep(interval)

    def on_progress(table: str, stage: str, n: int, total: int | None) -> None:
        phase[0] = f"{table} {stage}"

    home = Path(tempfile.mkdtemp(prefix="memtrace-"))
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    import immfacts.model

    orig = immfacts.model.build_model

    def build_model(*a, **k):
        phase[0] = "canonical model"
        try:
            return orig(*a, **k)
        finally:
            phase[0] = "report, publish, catalog"

    immfacts.model.build_model = build_model
    try:
        immfacts.ingest(zip_path, warehouse=home, progress=on_progress)
    finally:
        immfacts.model.build_model = orig
        done.set()
        t.join()
        shutil.rmtree(home, ignore_errors=True)
    return peaks


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    peaks = trace(argv[0])
    for k, v in sorted(peaks.items(), key=lambda kv: -kv[1]):
        print(f"{v:9.0f} MB  {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
