"""Profiles for deliverable 3: where the ingest and the slowest metrics spend their time.

    .venv/bin/python bench/hotspots.py ingest bench/work/samples/sample-0.01-seed1.zip
    .venv/bin/python bench/hotspots.py metric bench/work/warehouses/scale-0.1 eoir.outcome_share --variant all

Runs the work under cProfile in this process (for a metric: one warm-up call, then the
profiled warm calls), prints the top functions by cumulative and by own time, and saves the
raw profile to ``bench/work/profiles/<what>.pstats`` (open it with ``python -m pstats`` or
snakeviz). Time spent inside DuckDB's C++ shows up as the Python call that entered it
(``execute``, ``to_arrow_reader``, ``fetch…``), which is how to tell SQL time from Python time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "bench" / "work" / "profiles"


def report(prof: cProfile.Profile, name: str, top: int) -> str:
    """Top ``top`` functions by cumulative and by own time; the profile saved under ``name``."""
    PROFILES.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(PROFILES / f"{name}.pstats")
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf).strip_dirs()
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def profile_ingest(zip_path: Path, top: int) -> str:
    import immfacts

    home = Path(tempfile.mkdtemp(prefix="hotspots-"))
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    try:
        prof.enable()
        rep = immfacts.ingest(zip_path, warehouse=home)
        prof.disable()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    head = f"ingest {zip_path}: {time.perf_counter() - t0:.1f} s wall; model {rep.to_dict().get('model', {}).get('elapsed_s')} s\n"
    return head + report(prof, f"ingest-{zip_path.stem}", top)


def profile_metric(warehouse: Path, metric_id: str, variant: str | None, calls: int, top: int) -> str:
    from immfacts.warehouse import Warehouse

    wh = Warehouse(warehouse)
    wh.metric(metric_id, variant=variant)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(calls):
        wh.metric(metric_id, variant=variant)
    prof.disable()
    per = (time.perf_counter() - t0) / calls
    head = f"{metric_id} variant={variant}: {1000 * per:.0f} ms per warm call (profiled)\n"
    return head + report(prof, f"metric-{metric_id}-{variant or 'default'}", top)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("ingest")
    a.add_argument("zip", type=Path)
    b = sub.add_parser("metric")
    b.add_argument("warehouse", type=Path)
    b.add_argument("metric_id")
    b.add_argument("--variant", default=None)
    b.add_argument("--calls", type=int, default=5)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args(argv)
    if args.what == "ingest":
        print(profile_ingest(args.zip, args.top))
    else:
        print(profile_metric(args.warehouse, args.metric_id, args.variant, args.calls, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
