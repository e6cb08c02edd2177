"""Ingest benchmark: immfacts vs the floor vs a plain pandas pipeline, alternating, per scale.

For each scale the same cached sample release is ingested by the three pipelines in rounds;
the order rotates every round (immfacts–floor–pandas, floor–pandas–immfacts, …) so a slow
patch of a shared machine does not always hit the same pipeline. Each run is its own process
(:func:`bench.measure.run_child`) writing into a fresh folder that is removed afterwards —
except the last good immfacts warehouse of each scale, kept in ``bench/work/warehouses/`` for
the metric, claim and web benchmarks.

Summaries per scale and pipeline: wall time, peak RSS, MB/s (unpacked bytes of the release /
wall seconds) and rows/s (data lines of the main tables / wall seconds); and the *paired*
ratios immfacts/floor and pandas/immfacts (round by round) with min/median/max, of wall time
(the targets) and of CPU time (user + system; steadier when the machine is shared).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import stats
from bench.measure import ROOT, RunRecord, run_child
from bench.samples import Sample, scale_label

PIPELINES = ("immfacts", "floor", "pandas")
SCRIPTS = {
    "immfacts": ROOT / "bench" / "child_ingest.py",
    "floor": ROOT / "bench" / "baselines" / "floor.py",
    "pandas": ROOT / "bench" / "baselines" / "pandas_pipeline.py",
}
RUN_TIMEOUT_S = 4 * 3600


def rotation(round_no: int, pipelines: tuple[str, ...] = PIPELINES) -> list[str]:
    """The order of the pipelines in round ``round_no`` (rotated left by the round number)."""
    k = round_no % len(pipelines)
    return list(pipelines[k:] + pipelines[:k])


def run_once(pipeline: str, sample: Sample, work: Path, round_no: int, keep_as: Path | None = None) -> dict[str, Any]:
    """One measured run of ``pipeline`` on ``sample``; returns its record as a dict."""
    out = work / "runs" / f"{pipeline}-{scale_label(sample.scale)}-r{round_no}"
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(SCRIPTS[pipeline]), str(sample.path), str(out)]
    rec: RunRecord = run_child(pipeline, cmd, env={"IMMFACTS_HOME": str(out)}, timeout_s=RUN_TIMEOUT_S,
                               meta={"scale": sample.scale, "round": round_no})
    if keep_as is not None and rec.ok and pipeline == "immfacts" and (out / "releases").is_dir():
        keep(out, keep_as)
    shutil.rmtree(out, ignore_errors=True)
    return enrich(rec.to_dict(), sample)


def keep(warehouse: Path, dest: Path) -> None:
    """Move a warehouse to ``dest`` (replacing it) and re-point its catalogs' absolute paths."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    warehouse.rename(dest)
    from immfacts.ingest import write_catalog

    for rel in (dest / "releases").iterdir():
        if (rel / "release.json").exists():
            write_catalog(rel)


def enrich(run: dict[str, Any], sample: Sample) -> dict[str, Any]:
    """Add the throughputs (MB/s over unpacked bytes, rows/s over main-table lines)."""
    ok = run["exit_code"] == 0 and run["wall_s"] > 0
    run["scale"] = sample.scale
    run["round"] = run.get("meta", {}).get("round", run.get("round"))
    run["mb_per_s"] = sample.unpacked_bytes / 1e6 / run["wall_s"] if ok else None
    run["rows_per_s"] = sample.rows / run["wall_s"] if ok else None
    return run


def summarise_scale(runs: list[dict[str, Any]], sample: Sample) -> dict[str, Any]:
    """Per-pipeline summaries and the paired ratios of one scale's runs."""
    out: dict[str, Any] = {"sample": sample.to_dict(), "pipelines": {}, "ratios": {}}
    by_round: dict[str, dict[int, float | None]] = {p: {} for p in PIPELINES}
    cpu_round: dict[str, dict[int, float | None]] = {p: {} for p in PIPELINES}
    for p in PIPELINES:
        mine = [r for r in runs if r["label"] == p]
        good = [r for r in mine if r["exit_code"] == 0]
        out["pipelines"][p] = {
            "runs": len(mine),
            "failures": len(mine) - len(good),
            "wall_s": stats.summary([r["wall_s"] for r in good]),
            "peak_rss_mb": stats.summary([r["peak_rss_mb"] for r in good]),
            "cpu_s": stats.summary([r["user_s"] + r["sys_s"] for r in good]),
            "mb_per_s": stats.summary([r["mb_per_s"] for r in good]),
            "rows_per_s": stats.summary([r["rows_per_s"] for r in good]),
            "first_error": next((r["stderr_tail"][-600:] for r in mine if r["exit_code"] != 0), None),
        }
        for r in mine:
            by_round[p][r["round"]] = r["wall_s"] if r["exit_code"] == 0 else None
            cpu_round[p][r["round"]] = r["user_s"] + r["sys_s"] if r["exit_code"] == 0 else None
    rounds = sorted(set().union(*[set(v) for v in by_round.values()]))

    def col(p: str, table: dict[str, dict[int, float | None]] = by_round) -> list[float | None]:
        return [table[p].get(i) for i in rounds]

    out["ratios"]["immfacts_over_floor"] = stats.summary(stats.paired_ratios(col("immfacts"), col("floor")))
    out["ratios"]["pandas_over_immfacts"] = stats.summary(stats.paired_ratios(col("pandas"), col("immfacts")))
    # CPU seconds (user + system) are far less sensitive to a loaded machine than wall time
    out["ratios"]["immfacts_over_floor_cpu"] = stats.summary(
        stats.paired_ratios(col("immfacts", cpu_round), col("floor", cpu_round)))
    out["ratios"]["pandas_over_immfacts_cpu"] = stats.summary(
        stats.paired_ratios(col("pandas", cpu_round), col("immfacts", cpu_round)))
    return out


LARGE_SCALE = 0.1


def run(samples: list[Sample], rounds: int, work: Path, log: Callable[[str], None] = print,
        pipelines: tuple[str, ...] = PIPELINES, large_rounds: int | None = None) -> dict[str, Any]:
    """All rounds at every scale; returns ``{"runs": [...], "by_scale": {label: summary}}``.

    ``large_rounds`` (default ``rounds``) applies to scales of 0.1 and above.
    """
    all_runs: list[dict[str, Any]] = []
    by_scale: dict[str, Any] = {}
    for sample in samples:
        label = scale_label(sample.scale)
        n_rounds = rounds if large_rounds is None or sample.scale < LARGE_SCALE else large_rounds
        keep = work / "warehouses" / f"scale-{label}"
        mine: list[dict[str, Any]] = []
        for r in range(n_rounds):
            for p in rotation(r, pipelines):
                rec = run_once(p, sample, work, r, keep_as=keep)
                status = "ok" if rec["exit_code"] == 0 else f"FAILED (exit {rec['exit_code']})"
                log(f"  ingest scale {label} round {r + 1}/{n_rounds} {p:8s} {rec['wall_s']:8.1f} s "
                    f"{rec['peak_rss_mb']:7.0f} MB  {status}")
                mine.append(rec)
        all_runs.extend(mine)
        by_scale[label] = summarise_scale(mine, sample)
    return {"runs": all_runs, "by_scale": by_scale}


def extrapolate(points: list[dict[str, Any]], time_slope: float | None, memory_slope: float | None,
                scale: float = 1.0) -> dict[str, Any] | None:
    """Wall time and peak RSS predicted at ``scale`` from the largest measured point and the fitted
    slopes (rows grow in proportion to the scale)."""
    if not points or time_slope is None:
        return None
    big = max(points, key=lambda q: q["scale"])
    factor = scale / big["scale"]
    return {"scale": scale, "rows": big["rows"] * factor, "wall_s": big["wall_s"] * factor**time_slope,
            "peak_rss_mb": big["peak_rss_mb"] * factor ** max(memory_slope or 0.0, 0.0)}


def scaling(by_scale: dict[str, Any]) -> dict[str, Any]:
    """Time and peak memory against rows, per pipeline, with the fitted log-log slopes."""
    out: dict[str, Any] = {"points": {}, "time_slope": {}, "memory_slope": {}, "growth": {}}
    labels = sorted(by_scale, key=float)
    for p in PIPELINES:
        pts = []
        for label in labels:
            s = by_scale[label]
            pp = s["pipelines"].get(p, {})
            if pp.get("wall_s", {}).get("n"):
                pts.append({"scale": float(label), "rows": s["sample"]["rows"], "bytes": s["sample"]["unpacked_bytes"],
                            "wall_s": pp["wall_s"]["median"], "peak_rss_mb": pp["peak_rss_mb"]["median"]})
        out["points"][p] = pts
        ts = stats.loglog_slope([q["rows"] for q in pts], [q["wall_s"] for q in pts])
        ms = stats.loglog_slope([q["rows"] for q in pts], [q["peak_rss_mb"] for q in pts])
        out["time_slope"][p] = ts
        out["memory_slope"][p] = ms
        # the two largest scales: fixed costs (start-up, imports, compiling the model) weigh on the
        # small scales, so this local slope is the better guide to growth beyond them
        top = pts[-2:]
        out.setdefault("time_slope_top", {})[p] = stats.loglog_slope([q["rows"] for q in top], [q["wall_s"] for q in top])
        out.setdefault("memory_slope_top", {})[p] = stats.loglog_slope([q["rows"] for q in top],
                                                                       [q["peak_rss_mb"] for q in top])
        out["growth"][p] = {"time": stats.describe_growth(ts), "memory": stats.describe_growth(ms)}
    out["extrapolated_scale_1"] = {p: extrapolate(out["points"][p], out["time_slope_top"][p], out["memory_slope_top"][p])
                                   for p in PIPELINES if out["points"][p] and 1.0 not in {q["scale"] for q in out["points"][p]}}
    imm = {q["scale"]: q for q in out["points"]["immfacts"]}
    if 0.1 in imm and 0.01 in imm:
        out["immfacts_memory_ratio_0.1_over_0.01"] = imm[0.1]["peak_rss_mb"] / imm[0.01]["peak_rss_mb"]
    if 1.0 in imm and 0.1 in imm:
        out["immfacts_memory_ratio_1_over_0.1"] = imm[1.0]["peak_rss_mb"] / imm[0.1]["peak_rss_mb"]
    return out
