"""The benchmark harness (bench/): statistics, ratios, growth fits, targets, per-process
measurement and result files — on hand-made numbers and tiny child processes, never timing."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import claims_bench, ingest_bench, results, stats  # noqa: E402
from bench import run as bench_run  # noqa: E402
from bench.baselines import floor, pandas_pipeline  # noqa: E402
from bench.measure import last_json_line, parse_result, run_child  # noqa: E402
from bench.samples import Sample  # noqa: E402

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


# --- statistics -----------------------------------------------------------------------------
@given(st.lists(finite, min_size=1, max_size=40), st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy_and_lies_between_min_and_max(xs, q):
    p = stats.percentile(xs, q)
    assert p == pytest.approx(float(np.percentile(xs, q)), rel=1e-9, abs=1e-6)
    assert min(xs) - 1e-6 <= p <= max(xs) + 1e-6


@given(st.lists(finite, min_size=2, max_size=30))
def test_p95_is_never_below_p50(xs):
    assert stats.percentile(xs, 95) >= stats.percentile(xs, 50) - 1e-9


def test_percentile_refuses_no_values_and_out_of_range_q():
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1.0], 101)


def test_latency_summary_reports_milliseconds():
    s = stats.latency_summary([0.1, 0.2, 0.3])
    assert s["p50_ms"] == pytest.approx(200)
    assert s["max_ms"] == pytest.approx(300)
    assert s["n"] == 3


@given(st.lists(finite, min_size=1, max_size=30))
def test_summary_orders_min_median_max(xs):
    s = stats.summary(xs)
    assert s["min"] <= s["median"] <= s["max"]
    assert s["n"] == len(xs)


def test_paired_ratios_pair_round_by_round_and_skip_failed_runs():
    assert stats.paired_ratios([2.0, None, 9.0, 4.0], [1.0, 5.0, 3.0, 0.0]) == [2.0, 3.0]


@settings(max_examples=50)
@given(st.floats(min_value=-1.5, max_value=2.5), st.floats(min_value=0.01, max_value=100))
def test_loglog_slope_recovers_the_exponent_of_a_power_law(k, c):
    xs = [1e3, 1e4, 1e5, 1e6]
    assert stats.loglog_slope(xs, [c * x**k for x in xs]) == pytest.approx(k, abs=1e-9)


def test_loglog_slope_needs_two_distinct_scales():
    assert stats.loglog_slope([10, 10], [1, 2]) is None
    assert stats.loglog_slope([10], [1]) is None


@pytest.mark.parametrize(
    ("slope", "words"),
    [
        (0.02, "flat"),
        (0.5, "sub-linear"),
        (1.05, "~linear"),
        (1.6, "super-linear"),
        (None, "unknown (fewer than two scales)"),
    ],
)
def test_growth_is_described_from_the_slope(slope, words):
    assert stats.describe_growth(slope) == words


# --- targets ----------------------------------------------------------------------------------
def test_upper_bound_target_missed_says_by_how_much():
    t = stats.Target("x", "ingest vs floor", 1.8, "<=", 1.5)
    assert t.met is False
    assert t.miss == pytest.approx(0.2)
    assert t.verdict() == "✗ missed by 20 %"


def test_lower_bound_target_missed_says_how_much_is_lacking():
    t = stats.Target("x", "faster than pandas", 2.0, ">=", 3.0)
    assert t.met is False
    assert t.miss == pytest.approx(1 / 3)
    assert t.verdict() == "✗ missed by 33 %"


def test_met_and_unmeasured_targets():
    assert stats.Target("x", "d", 400.0, "<", 500.0).verdict() == "✓"
    assert stats.Target("x", "d", 500.0, "<", 500.0).met is False
    t = stats.Target("x", "d", None, "<", 500.0)
    assert t.met is None and t.miss is None and t.verdict().startswith("–")


# --- measuring a child process ----------------------------------------------------------------
def test_run_child_measures_the_peak_memory_of_that_child_alone():
    big = run_child(
        "big",
        [
            sys.executable,
            "-c",
            "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])",
        ],
    )
    small = run_child("small", [sys.executable, "-c", "pass"])
    assert big.ok and small.ok
    assert big.peak_rss_mb >= 200
    assert small.peak_rss_mb < 150  # not the running maximum over all children
    assert big.user_s + big.sys_s >= 0


def test_run_child_records_the_exit_code_and_the_json_result():
    rec = run_child(
        "x",
        [
            sys.executable,
            "-c",
            "import json,sys; print('noise'); print(json.dumps({'rows': 3})); sys.exit(4)",
        ],
    )
    assert rec.exit_code == 4 and not rec.ok
    assert rec.result == {"rows": 3}


def test_run_child_kills_a_child_past_its_timeout():
    rec = run_child("slow", [sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    assert rec.exit_code == -9


def test_child_result_is_whole_stdout_json_or_its_last_json_line():
    assert parse_result('{\n  "a": 1\n}\n') == {"a": 1}
    assert parse_result('progress\n{"a": 1}\n{"b": 2}\n') == {"b": 2}
    assert last_json_line("no json here") is None


# --- ingest rounds, ratios and scaling --------------------------------------------------------
def test_rotation_gives_every_pipeline_every_position():
    rounds = [ingest_bench.rotation(r) for r in range(3)]
    for order in rounds:
        assert sorted(order) == sorted(ingest_bench.PIPELINES)
    for pos in range(3):
        assert {order[pos] for order in rounds} == set(ingest_bench.PIPELINES)


def _sample(scale: float, rows: int, mb: float) -> Sample:
    return Sample(
        scale, 1, Path(f"s{scale}.zip"), int(mb * 1e6), int(mb * 1e6), rows, {"A_TblCase": rows}
    )


def _run(label, rnd, wall, rss, scale=0.1, code=0, cpu=None):
    return {
        "label": label,
        "round": rnd,
        "wall_s": wall,
        "peak_rss_mb": rss,
        "exit_code": code,
        "scale": scale,
        "user_s": wall if cpu is None else cpu,
        "sys_s": 0.0,
        "stderr_tail": "boom" if code else "",
        "mb_per_s": None,
        "rows_per_s": None,
        "result": None,
    }


def test_summaries_pair_ratios_by_round_and_count_failures():
    s = _sample(0.1, 1000, 100.0)
    runs = [
        ingest_bench.enrich(r, s)
        for r in [
            _run("immfacts", 0, 12.0, 500),
            _run("floor", 0, 10.0, 300),
            _run("pandas", 0, 60.0, 900),
            _run("immfacts", 1, 30.0, 520),
            _run("floor", 1, 20.0, 310),
            _run("pandas", 1, 90.0, 950),
            _run("immfacts", 2, 14.0, 510),
            _run("floor", 2, 10.0, 305),
            _run("pandas", 2, 1.0, 10, code=1),
        ]
    ]
    out = ingest_bench.summarise_scale(runs, s)
    ratios = out["ratios"]
    assert ratios["immfacts_over_floor"] == {"n": 3, "min": 1.2, "median": 1.4, "max": 1.5}
    assert ratios["pandas_over_immfacts"]["n"] == 2  # the failed pandas round has no pair
    assert ratios["pandas_over_immfacts"]["median"] == pytest.approx((5.0 + 3.0) / 2)
    assert out["pipelines"]["pandas"]["failures"] == 1
    assert out["pipelines"]["immfacts"]["mb_per_s"]["median"] == pytest.approx(100 / 14)
    assert out["pipelines"]["immfacts"]["rows_per_s"]["max"] == pytest.approx(1000 / 12)


def test_scaling_fits_linear_time_and_flat_memory():
    by_scale = {}
    for scale, rows in ((0.001, 1_000), (0.01, 10_000), (0.1, 100_000)):
        s = _sample(scale, rows, rows / 100)
        runs = [
            ingest_bench.enrich(_run(p, 0, rows / 1000 * f, 400 + scale * 100, scale), s)
            for p, f in (("immfacts", 1.0), ("floor", 0.8), ("pandas", 5.0))
        ]
        by_scale[f"{scale:g}"] = ingest_bench.summarise_scale(runs, s)
    sc = ingest_bench.scaling(by_scale)
    assert sc["time_slope"]["immfacts"] == pytest.approx(1.0)
    assert sc["growth"]["immfacts"] == {"time": "~linear", "memory": "flat"}
    assert sc["immfacts_memory_ratio_0.1_over_0.01"] == pytest.approx(410 / 401)
    assert sc["time_slope_top"]["pandas"] == pytest.approx(1.0)
    assert sc["extrapolated_scale_1"]["immfacts"]["wall_s"] == pytest.approx(1000.0)


def test_a_tiny_run_writes_the_result_files(tmp_path, monkeypatch):
    """The whole chain on stand-in pipelines: runs → summaries → scaling → JSON, latest.md, PNG."""
    script = tmp_path / "pipeline.py"
    script.write_text("import json, sys\nprint(json.dumps({'rows': 5, 'out': sys.argv[2]}))\n")
    monkeypatch.setattr(ingest_bench, "SCRIPTS", {p: script for p in ingest_bench.PIPELINES})
    samples = [_sample(0.01, 1_000, 1.0), _sample(0.1, 10_000, 10.0)]
    ing = ingest_bench.run(samples, 1, tmp_path / "work", log=lambda m: None)
    assert len(ing["runs"]) == 2 * 3 and all(r["exit_code"] == 0 for r in ing["runs"])
    assert not (
        tmp_path / "work" / "runs" / "immfacts-0.1-r0"
    ).exists()  # run folders are cleaned up
    res = {
        "started_at": "2026-01-01T00:00:00+00:00",
        "mode": "default",
        "command": "make bench",
        "seed": 1,
        "machine": {
            "cores": 2,
            "load_average_start": [0.1, 0.1, 0.1],
            "load_average_end": [0.2, 0.1, 0.1],
        },
        "ingest": ing,
        "scaling": ingest_bench.scaling(ing["by_scale"]),
        "metrics": {
            "worst_default_p95_ms": 620.0,
            "repeats": 3,
            "release": "r",
            "metrics": {
                "eoir.receipts": {
                    "metric": "eoir.receipts",
                    "mode": "default",
                    "cold_ms": 900.0,
                    "p50_ms": 300.0,
                    "p95_ms": 620.0,
                }
            },
        },
        "claims": {
            "words": 1000,
            "claims_found": 7,
            "cold_s": 2.0,
            "warm_s": stats.summary([0.3, 0.4]),
            "s_per_1000_words_warm": stats.summary([0.3, 0.4]),
            "example_end_to_end": {"wall_s": 3.0},
        },
        "notes": [],
    }
    paths = results.write_all(res, tmp_path / "results", "20260101T000000Z")
    doc = json.loads(paths["json"].read_text())
    by_id = {t["id"]: t for t in doc["targets"]}
    assert by_id["metric_p95"]["met"] is False and by_id["metric_p95"]["miss"] == pytest.approx(
        0.24
    )
    assert by_id["claims_per_1000_words"]["met"] is True
    assert by_id["ingest_vs_floor"]["value"] is not None
    assert len(doc["ingest"]["runs"]) == 6
    md = paths["markdown"].read_text()
    assert "SYNTHETIC" in md and "✗ missed by 24 %" in md and "✓" in md
    assert "[`20260101T000000Z.json`]" in md and "![" in md
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_notes_explain_a_loaded_machine():
    res = {
        "machine": {
            "cores": 2,
            "load_average_start": [9.0, 8.0, 7.0],
            "load_average_end": [3.0, 3.0, 3.0],
        }
    }
    assert any("loaded" in n for n in results.notes(res))
    res["machine"]["load_average_start"] = [0.5, 0.5, 0.5]
    res["machine"]["load_average_end"] = [0.4, 0.5, 0.5]
    assert not any("loaded" in n for n in results.notes(res))


# --- options ----------------------------------------------------------------------------------
def test_bench_scale_one_adds_the_full_size_scale():
    assert bench_run.parse_args([], env={}).scale_list == [0.001, 0.01, 0.1]
    args = bench_run.parse_args([], env={"BENCH_SCALE": "1.0"})
    assert args.full and args.scale_list == [0.001, 0.01, 0.1, 1.0]


def test_scales_and_sections_can_be_narrowed():
    args = bench_run.parse_args(
        ["--only", "ingest,claims"], env={"BENCH_SCALES": "0.01, 0.001", "BENCH_RUNS": "1"}
    )
    assert (
        args.scale_list == [0.001, 0.01]
        and args.runs == 1
        and args.sections == ["ingest", "claims"]
    )
    with pytest.raises(SystemExit):
        bench_run.parse_args(["--only", "ingest,nonsense"], env={})


def test_the_claim_text_is_the_article_plus_filler_to_a_thousand_words():
    article = "Immigration courts completed 700,000 cases in FY2023. " * 10
    text = claims_bench.build_text(1000, article)
    assert text.startswith(article.strip())
    assert 1000 <= claims_bench.words(text) < 1030


# --- baselines --------------------------------------------------------------------------------
def _tiny_zip(path: Path) -> Path:
    case = (
        "IDNCASE\tALIEN_STATE\tNAT\tE_28_DATE\n"
        "1\t ca \tMX\t2019-01-02 00:00:00.000\n"
        "2\tNULL\tgt\t1850-01-01 00:00:00.000\n"
        "2\tTX\tGT\tgarbage\n"
        "1\t ca \tMX\t2019-01-02 00:00:00.000\n"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("070826-FOIA-TRAC-FILES/A_TblCase.csv", case.encode("latin-1"))
        z.writestr(
            "070826-FOIA-TRAC-FILES/Lookup/tblLookupState.csv",
            "strState\tstrDesc\nCA\tCalifornia\n",
        )
    return path


def test_floor_loads_every_csv_member_untyped(tmp_path):
    out = floor.run(_tiny_zip(tmp_path / "r.zip"), tmp_path / "out")
    assert out["rows_by_table"] == {"A_TblCase": 4, "tblLookupState": 1}
    df = pd.read_parquet(tmp_path / "out" / "A_TblCase.parquet")
    assert str(df["IDNCASE"].dtype) in ("object", "str", "string")
    assert not (tmp_path / "out" / "unzipped").exists()


def test_pandas_pipeline_cleans_like_an_analyst_would(tmp_path):
    out = pandas_pipeline.run(_tiny_zip(tmp_path / "r.zip"), tmp_path / "out")
    df = pd.read_parquet(tmp_path / "out" / "A_TblCase.parquet")
    assert (
        out["rows_by_table"]["A_TblCase"] == 2
    )  # the exact repeat and the repeated key are dropped
    assert df["IDNCASE"].tolist() == [1, 2]
    assert df["ALIEN_STATE"].tolist()[0] == "CA" and pd.isna(df["ALIEN_STATE"].tolist()[1])
    assert df["NAT"].tolist() == ["MX", "GT"]
    assert pd.isna(df["E_28_DATE"].iloc[1])  # year < 1900 → missing


def test_extrapolation_follows_the_fitted_growth_from_the_largest_point():
    pts = [
        {"scale": 0.01, "rows": 1_000, "wall_s": 10.0, "peak_rss_mb": 500.0},
        {"scale": 0.1, "rows": 10_000, "wall_s": 100.0, "peak_rss_mb": 520.0},
    ]
    e = ingest_bench.extrapolate(pts, 1.0, 0.02)
    assert e["rows"] == pytest.approx(100_000)
    assert e["wall_s"] == pytest.approx(1000.0)
    assert e["peak_rss_mb"] == pytest.approx(520.0 * 10**0.02)
    assert ingest_bench.extrapolate(pts, None, None) is None


def test_rerender_merges_later_rounds_of_a_scale_into_one_result(tmp_path):
    s = _sample(0.1, 10_000, 10.0)

    def doc(rounds, stamp, command):
        runs = [
            ingest_bench.enrich(_run(p, r, w * (r + 1), 500, 0.1), s)
            for r in range(rounds)
            for p, w in (("immfacts", 2.0), ("floor", 1.0), ("pandas", 4.0))
        ]
        return {
            "started_at": stamp,
            "command": command,
            "machine": {},
            "notes": [],
            "ingest": {"runs": runs, "by_scale": {"0.1": ingest_bench.summarise_scale(runs, s)}},
        }

    main_json, extra_json = tmp_path / "20260101T000000Z.json", tmp_path / "extra.json"
    main_json.write_text(json.dumps(doc(1, "a", "make bench")))
    extra_json.write_text(
        json.dumps(doc(2, "b", "bench/run.py --only ingest --scales 0.1 --runs 2"))
    )
    bench_run.rerender(main_json, tmp_path, [extra_json])
    merged = json.loads(main_json.read_text())
    s01 = merged["ingest"]["by_scale"]["0.1"]
    assert s01["pipelines"]["immfacts"]["runs"] == 3
    assert s01["ratios"]["immfacts_over_floor"] == {"n": 3, "min": 2.0, "median": 2.0, "max": 2.0}
    assert sorted({r["round"] for r in merged["ingest"]["runs"]}) == [0, 1, 2]
    assert any("extra.json" in n for n in merged["notes"])
    assert (tmp_path / "latest.md").exists()
