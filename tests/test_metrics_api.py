"""The metric API and CLI: errors, periods, variants, grouping, parity, registry and docs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "model"))
import helpers  # noqa: E402

from immfacts.cli import app  # noqa: E402
from immfacts.errors import InvalidQueryError, PeriodError, RegistryError, UnknownMetricError  # noqa: E402
from immfacts.metrics import catalogue, check, headline_metrics, metrics  # noqa: E402
from immfacts.metrics.registry import load  # noqa: E402
from immfacts.warehouse import Warehouse  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Warehouse:
    home = tmp_path_factory.mktemp("all_traps")
    helpers.make_release(home, helpers.all_fixtures(), data_date="2024-12-31")
    return Warehouse(home)


def test_unknown_metric_suggests_the_nearest_ids(wh):
    with pytest.raises(UnknownMetricError) as e:
        wh.metric("eoir.asylum.grant_rte")
    assert "eoir.asylum.grant_rate" in e.value.hint


def test_unsupported_dimension_is_a_clear_error(wh):
    with pytest.raises(InvalidQueryError) as e:
        wh.metric("eoir.receipts", by="planet")
    assert "dimensions" in e.value.hint


def test_invalid_variant_lists_the_valid_ones(wh):
    with pytest.raises(InvalidQueryError) as e:
        wh.metric("eoir.asylum.grant_rate", variant="tarc")
    assert "merits" in e.value.hint and "eoir_official" in e.value.hint


def test_period_outside_the_data_is_an_error_and_a_partial_one_is_clipped_with_a_note(wh):
    with pytest.raises(PeriodError):
        wh.metric("eoir.receipts", period="FY2010")
    with pytest.raises(PeriodError):
        wh.metric("eoir.pending", period="2001-01-01")
    r = wh.metric("eoir.completions", period="FY2025..FY2026")
    assert r.period["end"] == "2024-12-31"
    assert any("clipped" in n for n in r.notes)


def test_no_period_means_latest_complete_fiscal_year_for_flows_and_data_date_for_stocks(wh):
    assert wh.metric("eoir.completions").period["text"] == "FY2024"
    assert wh.metric("eoir.pending").period["end"] == "2024-12-31"


def test_where_filters_and_by_groups_agree_with_the_total(wh):
    total = wh.metric("eoir.completions", period="FY2023").value
    rows = wh.metric("eoir.completions", period="FY2023", by="court").rows
    assert sum(r["value"] for r in rows) == total
    nyc = wh.metric("eoir.completions", period="FY2023", where=["court=nyc"])
    assert nyc.value == next(r["value"] for r in rows if r["court"] == "NYC")
    assert nyc.filters == {"court": "NYC"}
    assert next(r for r in rows if r["court"] == "NYC")["court_name"] == "NEW YORK CITY"


def test_variant_all_returns_every_variant_with_the_default_first_class(wh):
    r = wh.metric("eoir.asylum.allowed_to_stay_rate", period="FY2023", variant="all")
    assert [v["variant"] for v in r.variants] == ["trac742", "strict", "exclude_admin_closed"]
    assert r.value == r.variants[0]["value"] and r.variant == "trac742"
    assert all(v["rationale"] for v in r.variants)


def test_result_carries_provenance_sql_and_synthetic_flag(wh):
    d = wh.metric("eoir.receipts", period="FY2023").to_dict()
    for key in ("metric", "variant", "value", "numerator", "denominator", "components", "period", "release", "synthetic", "sql"):
        assert key in d
    assert d["synthetic"] is True and d["label"].startswith("SYNTHETIC")
    assert d["release"]["id"] == "093024-FOIA-TRAC-FILES"
    assert "receipt_date" in d["sql"] and d["rows_scanned"] > 0


def test_percent_values_are_fractions(wh):
    r = wh.metric("eoir.asylum.grant_rate", period="FY2023")
    assert 0 <= r.value <= 1 and r.unit == "percent"


def test_judge_rates_below_the_minimum_are_suppressed(wh):
    r = wh.metric("eoir.judge.asylum_grant_rate", period="FY2023")
    assert r.groups[0] == "judge" and all(row["suppressed"] and row["value"] is None for row in r.rows)
    assert r.components["groups_suppressed"] == len(r.rows)


def test_stock_by_fiscal_year_is_taken_on_september_30(wh):
    rows = wh.metric("eoir.pending", period="FY2022..FY2023", by="fy").rows
    assert [(r["fy"], r["as_of"]) for r in rows] == [("FY2022", "2022-09-30"), ("FY2023", "2023-09-30")]
    assert rows[1]["value"] == wh.metric("eoir.pending", period="2023-09-30").value


def test_cli_json_equals_python_result(wh):
    args = ["metric", "eoir.asylum.grant_rate", "--period", "FY2023", "--by", "court", "--variant", "all",
            "--warehouse", str(wh.path), "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    py = wh.metric("eoir.asylum.grant_rate", period="FY2023", by="court", variant="all").to_dict()
    for d in (cli, py):
        d.pop("computed_at")
    assert cli == json.loads(json.dumps(py, default=str))


def test_cli_table_shows_the_synthetic_banner_and_definition(wh):
    out = CliRunner().invoke(app, ["metric", "eoir.pending", "--period", "2023-09-30", "--variant", "all",
                                   "--warehouse", str(wh.path)])
    assert out.exit_code == 0, out.output
    assert "SYNTHETIC" in out.output and "including_inactive" in out.output and "backlog" in out.output


def test_cli_user_errors_have_no_traceback(wh):
    out = CliRunner().invoke(app, ["metric", "eoir.pendng", "--warehouse", str(wh.path)])
    assert out.exit_code != 0 and "Traceback" not in out.output and "eoir.pending" in out.output


def test_cli_explain_prints_sql_without_running(wh):
    out = CliRunner().invoke(app, ["metric", "eoir.receipts", "--explain", "--warehouse", str(wh.path)])
    assert out.exit_code == 0 and out.stdout.lstrip().startswith("-- eoir.receipts [input_date]") and "SELECT" in out.stdout


def test_catalogue_lists_every_product_metric_id():
    ids = {m["id"] for m in catalogue()}
    required = {
        "eoir.pending", "eoir.pending_asylum_applications", "eoir.receipts", "eoir.completions",
        "eoir.completions_by_outcome", "eoir.removal_orders", "eoir.in_absentia_orders", "eoir.in_absentia_rate",
        "eoir.asylum.grants", "eoir.asylum.denials", "eoir.asylum.grant_rate", "eoir.asylum.closed_without_merits",
        "eoir.asylum.allowed_to_stay_rate", "eoir.dismissals", "eoir.terminations", "eoir.admin_closures",
        "eoir.representation_rate", "eoir.judge.asylum_grant_rate", "eoir.asylum.decisions",
        "eoir.asylum.applications_received", "eoir.case_age",
    }
    assert required <= ids


def test_registry_is_valid():
    assert check() == []
    out = CliRunner().invoke(app, ["registry", "check"])
    assert out.exit_code == 0


def test_registry_check_lists_every_problem_at_once(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "metrics:\n"
        "  - {id: a.one, title: A, definition: too short, unit: furlongs, counting_unit: case, kind: count,"
        " table: cases, date: no_such_column, variants: [{name: x, default: true}, {name: y, default: true}]}\n"
        "  - {id: a.two, title: B}\n"
    )
    problems = [str(i) for i in load(tmp_path)[1]]
    text = "\n".join(problems)
    assert "furlongs" in text and "no_such_column" in text and "2 variants are marked default" in text
    assert "rationale" in text and "a.two: missing field" in text and "too short" in text
    assert len(problems) >= 6


def test_docs_metrics_page_is_generated_from_the_registry():
    from immfacts.metrics.docs import render

    page = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert page == render(), "docs/metrics.md is out of date: run `immfacts registry docs`"
    for mid in metrics():
        assert f"`{mid}`" in page


def test_headline_metrics_cover_the_latest_full_fiscal_year(wh):
    res = headline_metrics(wh)
    assert [r.metric for r in res] == ["eoir.pending", "eoir.receipts", "eoir.completions", "eoir.asylum.grant_rate",
                                       "eoir.asylum.closed_without_merits", "eoir.asylum.allowed_to_stay_rate"]
    assert res[0].period["end"] == "2024-09-30" and res[2].period["text"] == "FY2024"
    assert res[3].variants and res[5].variants and all(r.synthetic for r in res)


def test_broken_registry_raises_with_a_hint(monkeypatch):
    from immfacts.metrics import registry
    from immfacts.metrics.registry import Issue

    monkeypatch.setattr(registry, "_loaded", lambda: ({}, (Issue("x.yaml", "m", "broken"),)))
    with pytest.raises(RegistryError) as e:
        registry.metrics()
    assert "registry check" in e.value.hint


SHARE_METRICS = ["eoir.outcome_share", "eoir.asylum.allowed_to_stay_rate", "eoir.in_absentia_rate",
                 "eoir.representation_rate", "eoir.asylum.grant_rate"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metric=st.sampled_from(SHARE_METRICS), start=st.integers(2020, 2024), length=st.integers(0, 3),
       by=st.sampled_from([None, "fy", "court", "nationality"]))
def test_shares_lie_in_unit_interval_and_components_sum_to_the_total(wh, metric, start, length, by):
    end = min(start + length, 2025)
    r = wh.metric(metric, period=f"FY{start}..FY{end}", by=by, variant="all")
    for v in r.variants:
        for row in v.get("rows") or [v]:
            if row["value"] is not None:
                assert 0 <= row["value"] <= 1
                assert row["numerator"] <= row["denominator"]
            comps = {k: n for k, n in (row.get("components") or {}).items() if not k.endswith("_share")}
            if metric in ("eoir.outcome_share", "eoir.asylum.allowed_to_stay_rate") and comps:
                assert sum(comps.values()) == row["denominator"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(min_value=__import__("datetime").date(2020, 1, 1), max_value=__import__("datetime").date(2024, 12, 31)))
def test_pending_including_inactive_is_active_plus_inactive_on_any_day(wh, day):
    band = {v["variant"]: v["value"] for v in wh.metric("eoir.pending", period=day.isoformat(), variant="all").variants}
    assert band["including_inactive"] == band["active"] + band["inactive"]
    assert band["all_case_types"] >= band["active"]


def test_headline_table_shows_every_variant_and_is_labelled_synthetic(wh):
    from rich.console import Console

    from immfacts.cli.metrics import headline_table

    console = Console(record=True, width=160)
    console.print(headline_table(headline_metrics(wh)))
    text = console.export_text()
    assert "SYNTHETIC" in text and "eoir_official" in text and "exclude_admin_closed" in text
    assert "eoir.asylum.closed_without_merits" in text
