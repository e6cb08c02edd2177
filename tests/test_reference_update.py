"""Keeping CBP current: add_cbp adds a month to the user overlay; bad files change nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from immfacts import reference
from immfacts.cli import app
from immfacts.errors import ReferenceDataError
from immfacts.reference.store import bundle_dir

FIX = Path(__file__).parent / "fixtures" / "reference"


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("IMMFACTS_HOME", str(h))
    return h


def _bundle_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(bundle_dir().rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_adding_a_file_with_a_new_month_extends_the_series(home):
    before = reference.compute("cbp.encounters", period="FY2026")
    assert before.value == 60_926
    rep = reference.add_cbp(FIX / "cbp_adds_2025_12.csv", released="2026-01-15")
    assert rep["changed"] is True
    assert rep["added"] == ["2025-12"] and rep["revised"] == [] and rep["unchanged"] == 0
    assert rep["renamed"] == {"UC / Single Minors → UAC": 1}
    after = reference.compute("cbp.encounters", period="FY2026")
    assert after.value == 60_926 + 17_000
    assert after.release["source"] == "bundle + user overlay"
    assert rep["release"]["id"] in [c["id"] for c in after.citation]
    dec = reference.compute("cbp.encounters", period="2025-12", by="demographic")
    assert {r["demographic"]: r["value"] for r in dec.rows}["UAC"] == 150
    assert (home / "reference" / "cbp" / "releases.yaml").exists()


def test_added_release_is_cited_and_passes_the_check(home):
    rep = reference.add_cbp(FIX / "cbp_adds_2025_12.csv", released="2026-01-15")
    check = reference.check()
    assert check["ok"], check["problems"]
    files = {f["release"]: f for f in check["files"]}
    assert files[rep["release"]["id"]]["origin"] == "overlay" and files[rep["release"]["id"]]["ok"]
    cite = next(c for c in reference.sources()[0]["citations"] if c["id"] == rep["release"]["id"])
    assert cite["published"] == "2026-01-15" and "public domain" in cite["license"]


def test_as_of_before_the_added_release_ignores_it(home):
    reference.add_cbp(FIX / "cbp_adds_2025_12.csv", released="2026-01-15")
    assert reference.compute("cbp.encounters", period="FY2026", as_of="2026-01-01").value == 60_926
    assert reference.compute("cbp.encounters", period="FY2026", as_of="2026-02-01").value == 77_926


def test_adding_the_same_file_twice_changes_nothing(home):
    first = reference.add_cbp(FIX / "cbp_adds_2025_12.csv")
    again = reference.add_cbp(FIX / "cbp_adds_2025_12.csv")
    assert again["changed"] is False and again["release"]["id"] == first["release"]["id"]
    assert reference.compute("cbp.encounters", period="FY2026").value == 77_926


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("cbp_malformed.csv", ["line 3", "DEX", "Eastern Land Border", "'12a'"]),
        ("cbp_wrong_header.csv", ["Land Border Region", "not a CBP Nationwide Encounters file"]),
        ("cbp_missing_month.csv", ["2026-01", "truncated"]),
    ],
)
def test_malformed_file_is_a_clear_error_and_changes_nothing(home, fixture, words):
    digest = _bundle_digest()
    with pytest.raises(ReferenceDataError) as e:
        reference.add_cbp(FIX / fixture)
    text = f"{e.value.message} {e.value.hint} {e.value.details}"
    for w in words:
        assert w in text
    assert "nothing was changed" in e.value.hint.lower() or "expected the header" in e.value.hint
    assert not (home / "reference").exists()
    assert _bundle_digest() == digest
    assert reference.compute("cbp.encounters", period="FY2026").value == 60_926


def test_all_problems_of_a_file_are_listed_at_once(home):
    with pytest.raises(ReferenceDataError) as e:
        reference.add_cbp(FIX / "cbp_malformed.csv")
    assert len(e.value.details["problems"]) == 3


def test_a_revision_beyond_five_percent_is_refused_unless_allowed(home):
    with pytest.raises(ReferenceDataError) as e:
        reference.add_cbp(FIX / "cbp_shrinks_2025_11.csv")
    assert "2025-11 (30,375 → 5,000)" in e.value.message
    assert not (home / "reference").exists()
    rep = reference.add_cbp(FIX / "cbp_shrinks_2025_11.csv", max_revision=1.0)
    assert rep["added"] == ["2025-12"]
    (rev,) = rep["revised"]
    assert rev["month"] == "2025-11" and rev["previous"] == 30_375 and rev["new"] == 5_000
    assert rev["previous_release"] == "cbp-nationwide-2025-12"
    assert reference.compute("cbp.encounters", period="2025-11").value == 5_000  # the newest release wins
    diffs = [d for d in reference.check()["release_differences"] if d["month"] == "2025-11"]
    assert diffs and diffs[0]["older_total"] == 30_375 and diffs[0]["newer_total"] == 5_000


def test_a_missing_file_is_a_clear_error(home):
    with pytest.raises(ReferenceDataError):
        reference.add_cbp(home / "nope.csv")


def test_cli_add_cbp_reports_json_and_errors_without_traceback(home, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["reference", "add-cbp", str(FIX / "cbp_adds_2025_12.csv"), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["added"] == ["2025-12"]
    bad = runner.invoke(app, ["reference", "add-cbp", str(FIX / "cbp_wrong_header.csv")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output and "hint:" in bad.output


def test_check_reports_a_tampered_overlay_file_and_the_cli_exits_nonzero(home):
    rep = reference.add_cbp(FIX / "cbp_adds_2025_12.csv")
    path = Path(rep["release"]["file"])
    path.write_bytes(path.read_bytes()[:-5] + b"\x00\x00\x00\x00\x00")
    report = reference.check()
    assert report["ok"] is False
    assert any(p["item"] == rep["release"]["id"] and "SHA-256" in p["detail"] for p in report["problems"])
    r = CliRunner().invoke(app, ["reference", "check"])
    assert r.exit_code == 1 and "SHA-256" in r.output
