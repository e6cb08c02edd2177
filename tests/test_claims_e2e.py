"""End to end: the example article against the bundled reference figures and a SYNTHETIC warehouse."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import immfacts
from immfacts.claims import compute as cmod
from immfacts.cli import app

ARTICLE = Path(__file__).resolve().parents[1] / "examples" / "article.txt"
AS_OF = "2024-06-04"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    cmod._SHARED.clear()
    d = tmp_path_factory.mktemp("claims_e2e")
    zip_path = d / "sample.zip"
    immfacts.sample(zip_path, scale=0.001, seed=1)
    immfacts.ingest(zip_path, warehouse=d / "wh")
    return d / "wh"


@pytest.fixture(scope="module")
def no_warehouse(tmp_path_factory):
    cmod._SHARED.clear()
    return tmp_path_factory.mktemp("empty_wh")


def _by_text(report):
    return {c["text"]: c for c in report.to_dict()["claims"]}


def test_article_reference_claims_without_a_warehouse(no_warehouse):
    claims = _by_text(immfacts.check(ARTICLE.read_text(encoding="utf-8"), as_of=AS_OF, warehouse=no_warehouse))
    enc = claims["9.5 million"]
    assert enc["metric"] == "cbp.encounters" and enc["verdict"] == "consistent"
    assert enc["scope"]["filters"].get("region") == "nationwide"
    nationwide = next(v for v in enc["computed"] if v["variant"] == "nationwide" and v["primary_reading"])
    assert nationwide["period"]["start"] == "2021-02-01" and nationwide["period"]["end"] == "2024-04-30"
    backlog = claims["3.5 million"]
    assert backlog["verdict"] == "misattributed" and "total immigration-court backlog" in backlog["explanation"]
    got = claims["1.7 million"]
    assert got["metric"] == "cbp.gotaways" and got["verdict"] in ("consistent", "consistent_under_variant")
    fb = claims["51.6 million"]
    assert fb["verdict"] == "consistent_under_variant" and fb["variant"] == "cps_monthly"
    assert {"acs", "cps_asec", "cps_monthly"} <= {v["variant"] for v in fb["computed"]}
    poll = claims["20%"]
    assert poll["verdict"] == "not_checkable" and poll["reason"].startswith("opinion poll")


def test_article_eoir_claims_show_warehouse_variants_and_published_figures(warehouse):
    report = immfacts.check(ARTICLE.read_text(encoding="utf-8"), as_of=AS_OF, warehouse=warehouse)
    d = report.to_dict()
    assert d["synthetic"] is True
    claims = _by_text(report)
    closed = claims["350,000"]
    sources = {v["source"] for v in closed["computed"]}
    assert {"warehouse", "published"} <= sources
    wh_variants = {v["variant"] for v in closed["computed"] if v["source"] == "warehouse"}
    assert len(wh_variants) >= 2  # every variant of the metric
    assert all(v["synthetic"] for v in closed["computed"] if v["source"] == "warehouse")
    assert any(s.get("sql") for s in closed["provenance"]["sources"])
    stay = claims["77 percent"]
    assert any(v["source"] == "warehouse" for v in stay["computed"])


def test_cli_text_view_has_the_synthetic_banner(warehouse):
    res = CliRunner().invoke(app, ["check", str(ARTICLE), "--as-of", AS_OF, "--warehouse", str(warehouse)])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())  # the table wraps long words and lines
    assert "SYNTHETIC" in flat and "belongs to a different statistic" in flat


def test_eval_command_scores_the_dev_set(no_warehouse):
    dev = Path(__file__).resolve().parents[1] / "eval" / "dev.jsonl"
    res = CliRunner().invoke(app, ["eval", str(dev), "--warehouse", str(no_warehouse), "--json"])
    assert res.exit_code == 0, res.output
    scores = json.loads(res.stdout)
    assert scores["extraction_precision"] >= 0.95 and scores["extraction_recall"] >= 0.95
    assert scores["metric_accuracy"] >= 0.9 and scores["period_accuracy"] >= 0.9
