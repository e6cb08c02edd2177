"""``make bench``: the benchmark suite of immfacts, written to ``bench/results/``.

    make bench                        # default: a few minutes once the samples are cached
    BENCH_SCALE=1.0 make bench        # adds the full-size scale 1.0 (as long as it takes)
    .venv/bin/python bench/run.py --scales 0.001 --runs 1 --only ingest   # a quick look

Sections (each is a module of ``bench/``):

* ``ingest`` — immfacts vs the floor vs pandas, alternating, at scales 0.001, 0.01, 0.1
  (+ 1.0), each run a separate measured process; ratios pair by pair; the scaling fit.
* ``metrics`` — warm p50/p95 of every catalogue metric (default and ``--variant all``) on
  the scale-0.1 warehouse (and 1.0), DuckDB, in this process.
* ``spark`` — a few metrics on local Spark, compared with DuckDB (skipped without PySpark/Java).
* ``claims`` — warm seconds per 1,000 words; the example article end to end.
* ``web`` — ``bench/load_web.py`` (short bounded load by default, 50 clients × 30 s in full mode).

Results: ``bench/results/<UTC timestamp>.json``, ``latest.md`` and ``scaling.png``;
``bench/run.py --rerender bench/results/<stamp>.json [--merge MORE.json …]`` rewrites the last
two from a JSON, optionally adding the ingest rounds of later runs as further rounds.
Environment: ``BENCH_SCALE`` (``1.0`` adds scale 1.0 and the full web load), ``BENCH_RUNS``
(rounds per scale, default 3), ``BENCH_LARGE_RUNS`` (rounds at scales ≥ 0.1 when they must be
fewer, e.g. on a busy machine; recorded), ``BENCH_SCALES`` (replace the scale list), ``BENCH_ONLY``
(comma-separated sections), ``BENCH_REPEATS`` (warm calls per metric, default 12),
``BENCH_OUT`` and ``BENCH_WORK`` (folders). Sample releases are generated once and cached in
``bench/work/samples/`` (git-ignored); nothing here is part of ``make test``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/ first, not the checkout
    sys.path.insert(0, str(ROOT))

from bench import claims_bench, ingest_bench, machine, metrics_bench, results, web_bench  # noqa: E402
from bench.measure import run_child  # noqa: E402
from bench.samples import DEFAULT_SEED, ensure_sample, scale_label  # noqa: E402

SECTIONS = ("ingest", "metrics", "spark", "claims", "web")
DEFAULT_SCALES = (0.001, 0.01, 0.1)
FULL_SCALE = 1.0
METRIC_SCALE = 0.1


def log(msg: str) -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None = None, env: dict[str, str] | None = None) -> argparse.Namespace:
    """Options from the command line, defaulting to the ``BENCH_*`` environment variables."""
    env = dict(os.environ if env is None else env)
    ap = argparse.ArgumentParser(description="immfacts benchmarks (make bench)")
    full = env.get("BENCH_SCALE", "").strip()
    ap.add_argument("--full", action="store_true", default=bool(full) and float(full) >= FULL_SCALE,
                    help="add scale 1.0 and the full web load (= BENCH_SCALE=1.0)")
    ap.add_argument("--scales", default=env.get("BENCH_SCALES", ""), help="comma-separated scales (replaces the default list)")
    ap.add_argument("--runs", type=int, default=int(env.get("BENCH_RUNS", "3")), help="rounds per scale (default 3)")
    ap.add_argument("--large-runs", type=int, default=int(env.get("BENCH_LARGE_RUNS", "0")) or None,
                    help="rounds at scales ≥ 0.1 (default: --runs)")
    ap.add_argument("--only", default=env.get("BENCH_ONLY", ""), help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--repeats", type=int, default=int(env.get("BENCH_REPEATS", "12")), help="warm calls per metric")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=Path(env.get("BENCH_OUT", ROOT / "bench" / "results")))
    ap.add_argument("--work", type=Path, default=Path(env.get("BENCH_WORK", ROOT / "bench" / "work")))
    args = ap.parse_args(argv)
    if args.scales:
        args.scale_list = sorted({float(s) for s in args.scales.replace(" ", "").split(",") if s})
    else:
        args.scale_list = sorted(set(DEFAULT_SCALES) | ({FULL_SCALE} if args.full else set()))
    args.sections = [s for s in (args.only.replace(" ", "").split(",") if args.only else SECTIONS) if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


def pick_warehouse(work: Path, scales: list[float], want: float) -> tuple[float, Path] | None:
    """The kept immfacts warehouse of the scale nearest ``want`` among those benchmarked."""
    have = [(s, work / "warehouses" / f"scale-{scale_label(s)}") for s in scales]
    have = [(s, p) for s, p in have if (p / "releases").is_dir()]
    if not have:
        return None
    return min(have, key=lambda sp: abs(sp[0] - want))


def _section(res: dict[str, Any], name: str, fn) -> None:
    t0 = time.perf_counter()
    try:
        res[name] = fn()
    except Exception as e:  # a broken section must not lose the others' results
        res[name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}
        log(f"  {name}: FAILED — {type(e).__name__}: {e}")
    if isinstance(res.get(name), dict):
        res[name]["section_s"] = time.perf_counter() - t0


def spark_section(warehouse: Path) -> dict[str, Any]:
    """The Spark correctness check in its own process (JVM memory stays out of this one)."""
    rec = run_child("spark", [sys.executable, str(ROOT / "bench" / "child_spark.py"), str(warehouse)],
                    env={"IMMFACTS_HOME": str(warehouse)}, timeout_s=1800)
    out = dict(rec.result or {})
    out.update({"wall_s": rec.wall_s, "peak_rss_mb": rec.peak_rss_mb, "exit_code": rec.exit_code})
    if rec.exit_code and not out.get("skipped"):
        out["error"] = (rec.stderr_tail.strip().splitlines() or ["?"])[-1]
    log(f"  spark: {out.get('skipped') or out.get('error') or ('equal to DuckDB' if out.get('all_equal') else 'DIFFERENT from DuckDB')}"
        f" ({rec.wall_s:.0f} s)")
    return out


def rerender(json_path: Path, out_dir: Path, merge: list[Path] | None = None) -> dict[str, Path]:
    """Rewrite ``latest.md``, the plot and the JSON's derived parts from a results JSON (no runs).

    ``merge``: results files of further ingest rounds (e.g. ``--only ingest --scales 0.1``
    run right after) whose runs are added as later rounds of the same scales; noted in the file.
    """
    import json

    from bench.samples import Sample

    res = json.loads(json_path.read_text())
    res.pop("targets", None)
    res["notes"] = [n for n in res.get("notes", []) if n not in results.notes({**res, "notes": []})]
    for extra_path in merge or []:
        extra = json.loads(Path(extra_path).read_text())
        runs = res["ingest"]["runs"]
        for label in (extra.get("ingest") or {}).get("by_scale", {}):
            have = [r for r in runs if scale_label(r["scale"]) == label]
            offset = 1 + max((r["round"] for r in have), default=-1)
            added = [{**r, "round": r["round"] + offset, "meta": {**r.get("meta", {}), "round": r["round"] + offset,
                                                                  "from": Path(extra_path).name}}
                     for r in extra["ingest"]["runs"] if scale_label(r["scale"]) == label]
            runs.extend(added)
            sd = extra["ingest"]["by_scale"][label]["sample"]
            sample = Sample(sd["scale"], sd["seed"], Path(sd["path"]), sd["unpacked_bytes"], sd["table_bytes"],
                            sd["rows"], sd["rows_by_table"])
            res["ingest"]["by_scale"][label] = ingest_bench.summarise_scale(
                [r for r in runs if scale_label(r["scale"]) == label], sample)
            note = (f"Scale {label}: rounds {offset + 1}–{offset + len(added) // 3} come from {Path(extra_path).name} "
                    f"(`{extra.get('command')}`, started {extra.get('started_at')}, same machine and source), "
                    "merged here with `bench/run.py --rerender … --merge …`.")
            res["notes"] = [n for n in res["notes"] if not n.startswith("Scales ≥ 0.1 ran")] + [note]
    if (res.get("ingest") or {}).get("by_scale"):
        res["scaling"] = ingest_bench.scaling(res["ingest"]["by_scale"])
    return results.write_all(res, out_dir, json_path.stem)


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) >= 3 and sys.argv[1] == "--rerender":
        merge = [Path(p) for p in sys.argv[4:]] if len(sys.argv) > 4 and sys.argv[3] == "--merge" else []
        paths = rerender(Path(sys.argv[2]), Path(sys.argv[2]).parent, merge)
        log("rewrote " + ", ".join(map(str, paths.values())))
        return 0
    args = parse_args(argv)
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    args.work.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "mode": "full" if args.full else "default",
        "command": ("BENCH_SCALE=1.0 make bench" if args.full else "make bench") if argv is None and len(sys.argv) == 1
        else "bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "synthetic": True,
        "seed": args.seed,
        "config": {"scales": args.scale_list, "runs": args.runs, "large_runs": args.large_runs,
                   "pythonpath": os.environ.get("PYTHONPATH"),
                   "source_commit": os.environ.get("BENCH_SOURCE_COMMIT") or None, "sections": args.sections, "repeats": args.repeats},
        "machine": machine.info(),
        "notes": [],
    }
    log(f"immfacts bench ({res['mode']}): scales {', '.join(map(scale_label, args.scale_list))}, {args.runs} round(s); "
        f"sections {', '.join(args.sections)}; SYNTHETIC sample releases")
    if "ingest" in args.sections:
        def ingest() -> dict[str, Any]:
            samples = [ensure_sample(args.work, s, args.seed, log=log) for s in args.scale_list]
            out = ingest_bench.run(samples, args.runs, args.work, log=log, large_rounds=args.large_runs)
            res["scaling"] = ingest_bench.scaling(out["by_scale"])
            return out
        _section(res, "ingest", ingest)
        if args.large_runs and args.large_runs < 3:
            res["notes"].append(f"Scales ≥ 0.1 ran {args.large_runs} round(s) (BENCH_LARGE_RUNS), fewer than the 3 "
                                "of the default: their ratios are indicative.")
        results.write_all(res, args.out, stamp)  # partial results survive an interrupted run
    target = pick_warehouse(args.work, args.scale_list, METRIC_SCALE)
    def checkpoint() -> None:
        results.write_all(res, args.out, stamp)

    if target is None and set(args.sections) & {"metrics", "spark", "claims", "web"}:
        res["notes"].append("No immfacts warehouse was built (ingest failed or was not run): the metric, Spark, "
                            "claim and web sections were skipped.")
        log("  no warehouse: metrics, spark, claims and web skipped")
    elif target is not None:
        scale, wh = target
        if scale != METRIC_SCALE:
            res["notes"].append(f"Metrics, claims and web ran on the scale-{scale_label(scale)} warehouse "
                                f"(scale {scale_label(METRIC_SCALE)} was not benchmarked).")
        res["warehouse_scale"] = scale
        if "metrics" in args.sections:
            _section(res, "metrics", lambda: metrics_bench.run(wh, args.repeats, log=log))
            checkpoint()
            if args.full and (big := pick_warehouse(args.work, [FULL_SCALE], FULL_SCALE)):
                _section(res, "metrics_full_scale", lambda: metrics_bench.run(big[1], args.repeats, log=log))
        if "spark" in args.sections:
            _section(res, "spark", lambda: spark_section(wh))
            checkpoint()
        if "claims" in args.sections:
            _section(res, "claims", lambda: claims_bench.run(wh, max(3, args.repeats // 2), log=log))
            checkpoint()
        if "web" in args.sections:
            _section(res, "web", lambda: web_bench.run(wh, "full" if args.full else "short", log=log))
    res["machine"]["load_average_end"] = machine.load_average()
    res["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    res["elapsed_s"] = time.perf_counter() - t0
    paths = results.write_all(res, args.out, stamp)
    log("")
    for t in results.targets(res):
        log(f"  {t.verdict():18s} {t.description}: {results._fmt(t.value)} {t.unit}")
    log("wrote " + ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
