"""The checking pipeline on hand-made values, the report contract, renderers, HTML escaping, CLI."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

import immfacts
from immfacts.claims import compute as cmod
from immfacts.claims import render_html, render_markdown
from immfacts.claims.compute import Computed, Unavailable
from immfacts.cli import app
from immfacts.provenance import Result

# (metric, period string) -> {variant: value}; the first variant is the default.
FAKE = {
    ("eoir.pending_asylum_applications", "2024-06-04"): {"active": 1_500},
    ("published.pending_asylum_applications", "2024-06-04"): {"eoir": 937_611},
    ("published.pending", "2024-06-04"): {"trac": 3_596_317},
    ("eoir.pending", "2024-06-04"): {"active": 3_650, "including_inactive": 3_900},
    ("eoir.published.pending", "2024-06-04"): {"published": 2_811_648},
    ("census.foreign_born", "2024-03-31"): {"acs": 47_830_000, "cps_asec": 51_260_000, "cps_monthly": 51_600_000},
    ("cbp.encounters", "2021-02-01..2024-04-30"): {"nationwide": 9_538_113, "southwest_land_border": 6_900_000},
}


def fake_compute(self, metric, reading, where, edition, by):
    key = (metric, reading.period_string())
    if key not in FAKE:
        return Unavailable(f"period not covered: no fake value for {key}")
    values = FAKE[key]
    names = list(values)
    synthetic = metric.startswith("eoir.") and not metric.startswith("eoir.published")
    result = Result(metric=metric, value=values[names[0]], variant=names[0], synthetic=synthetic,
                    variants=[{"variant": n, "value": v} for n, v in values.items()],
                    sql="SELECT 1 -- <script>", citation=[{"publisher": "Test & Co", "title": "t", "url": "http://x"}])
    return Computed(metric, reading, cmod._variant_values(result), result, edition)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    cmod._SHARED.clear()  # results shared between checks must not leak fake values
    monkeypatch.setattr(cmod.Computer, "_compute", fake_compute)
    yield tmp_path  # an empty folder: no warehouse
    cmod._SHARED.clear()


AS_OF = "2024-06-04"


def _one(text, fake):
    r = immfacts.check(text, as_of=AS_OF, warehouse=fake)
    [c] = r.to_dict()["claims"]
    return c


def test_asylum_backlog_of_total_court_size_is_misattributed(fake):
    c = _one("The asylum backlog now stands at more than 3.5 million cases.", fake)
    assert c["verdict"] == "misattributed"
    assert c["misattributed_to"]["metric"] == "published.pending"
    assert "different statistic" in c["explanation"]


def test_foreign_born_fits_only_the_monthly_cps(fake):
    c = _one("The foreign-born population reached a record 51.6 million in March.", fake)
    assert c["verdict"] == "consistent_under_variant" and "cps_monthly" in c["variant"]
    shown = {v["variant"] for v in c["computed"]}
    assert {"acs", "cps_asec", "cps_monthly"} <= shown


def test_encounters_under_biden_use_whole_published_months(fake):
    c = _one("Border agents have recorded 9.5 million encounters nationwide under Biden.", fake)
    assert c["verdict"] == "consistent"
    assert c["claimed"] == {"value": 9_500_000, "unit": "count", "comparator": "exact", "kind": "level", "step": 100_000}


def test_report_follows_the_json_contract(fake):
    d = immfacts.check("Under Biden, 77 percent of asylum applicants were allowed to stay.", as_of=AS_OF, warehouse=fake).to_dict()
    assert d["as_of"] == AS_OF
    c = d["claims"][0]
    for key in ("span", "sentence", "claimed", "metric", "scope", "period", "computed", "verdict", "tolerance", "explanation", "provenance"):
        assert key in c
    assert c["claimed"]["value"] == pytest.approx(0.77) and c["claimed"]["unit"] == "percent"
    assert set(c["period"]) >= {"start", "end", "text"}
    assert c["verdict"] == "not_checkable" and "not loaded" in c["reason"] or "not covered" in c["reason"]


def test_poll_share_is_not_checkable_opinion_poll(fake):
    c = _one("A poll found that just 20% of voters believe the U.S. has control over its borders.", fake)
    assert c["verdict"] == "not_checkable" and c["reason"].startswith("opinion poll")


def test_distractor_sentence_yields_no_claims(fake):
    r = immfacts.check("On June 4, 2024, the 17-year-old met 3 lawyers and paid $2,000 under Title 42.", as_of=AS_OF, warehouse=fake)
    assert r.claims == []


def test_synthetic_values_make_the_verdict_illustrative(fake, monkeypatch):
    FAKE[("eoir.removal_orders", "2022-10-01..2023-09-30")] = {"default": 52}
    try:
        c = _one("Judges issued 52 removal orders in fiscal 2023.", fake)
    finally:
        del FAKE[("eoir.removal_orders", "2022-10-01..2023-09-30")]
    assert c["illustrative"] is True and "SYNTHETIC" in c["explanation"]


HOSTILE = 'Over 3.5 million <script>alert("x")</script> asylum backlog & "quotes" <img src=x onerror=alert(1)>.'


def test_html_report_escapes_hostile_article_text(fake):
    r = immfacts.check(HOSTILE, as_of=AS_OF, warehouse=fake)
    page = render_html(r)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "SELECT 1 -- &lt;script&gt;" in page  # data strings too
    frag = render_html(r, standalone=False)
    assert not frag.startswith("<!doctype") and "<mark" in frag


def test_markdown_and_json_render_the_same_claims(fake):
    r = immfacts.check("The asylum backlog now stands at more than 3.5 million cases.", as_of=AS_OF, warehouse=fake)
    md = render_markdown(r)
    assert "misattributed" in md and "3.5 million" in md
    assert immfacts.claims.CheckReport.from_dict(json.loads(immfacts.claims.render_json(r))).to_dict() == r.to_dict()


def test_cli_checks_stdin_as_json(fake):
    res = CliRunner().invoke(app, ["check", "-", "--as-of", AS_OF, "--warehouse", str(fake), "--format", "json"],
                             input="The foreign-born population reached a record 51.6 million in March.")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["claims"][0]["metric"] == "census.foreign_born"


def test_cli_missing_file_is_a_clean_error(fake):
    res = CliRunner().invoke(app, ["check", str(fake / "nope.txt")])
    assert res.exit_code == 2 and "no such file" in res.output and "Traceback" not in res.output


def test_cli_writes_html_report(fake):
    out = fake / "r.html"
    src = fake / "a.txt"
    src.write_text("The asylum backlog now stands at more than 3.5 million cases.", encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(src), "--as-of", AS_OF, "--warehouse", str(fake), "--format", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_bad_as_of_is_a_user_error(fake):
    with pytest.raises(immfacts.ImmfactsError):
        immfacts.check("text", as_of="June 4th", warehouse=fake)


def test_metric_results_are_cached_within_one_check(fake, monkeypatch):
    calls = []
    orig = cmod.Computer._compute

    def counting(self, metric, reading, where, edition, by):
        if by is None:
            calls.append(metric)
        return orig(self, metric, reading, where, edition, by)

    monkeypatch.setattr(cmod.Computer, "_compute", counting)
    immfacts.check("The asylum backlog is 3.5 million. The asylum backlog is 3.5 million.", as_of=dt.date(2024, 6, 4), warehouse=fake)
    assert calls.count("eoir.pending_asylum_applications") == 1
