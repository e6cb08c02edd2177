"""`immfacts releases`: every release with its date, rows, size and ingest status."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fixtures.lifecycle.warehouse import build_pair
from immfacts.cli import app
from immfacts.lifecycle.listing import releases


def test_releases_are_listed_newest_first_with_the_default_marked(tmp_path):
    build_pair(tmp_path)
    rows = releases(tmp_path)
    assert [r["id"] for r in rows] == ["2026-08-06", "2026-07-08"]
    assert [r["default"] for r in rows] == [True, False]
    assert rows[0]["rows"] == {"cases": 5, "proceedings": 5, "applications": 4}
    assert rows[1]["rows_total"] == 16 and rows[0]["synthetic"] is True
    assert rows[0]["size_bytes"] > 1000


def test_ingest_status_names_what_is_wrong(tmp_path):
    build_pair(tmp_path)
    rel = tmp_path / "releases" / "2026-08-06"
    (rel / "model").mkdir()
    (rel / "model" / "cases.parquet").write_bytes(b"x")
    report = json.loads((rel / "report.json").read_text())
    report["tables"]["A_TblCase"].update(rows_read=7, rows_quarantined=2, count_txt_diff=1)
    (rel / "report.json").write_text(json.dumps(report))
    new, old = releases(tmp_path)
    assert new["ingest"]["status"] == "ok"
    assert new["ingest"]["summary"] == "ok (2 rows quarantined; Count.txt differs for A_TblCase)"
    assert old["ingest"]["status"] == "problem" and "model missing" in old["ingest"]["summary"]
    report["tables"]["A_TblCase"]["rows_read"] = 99
    (rel / "report.json").write_text(json.dumps(report))
    assert "rows unaccounted for in A_TblCase" in releases(tmp_path)[0]["ingest"]["summary"]


def test_unfinished_builds_are_reported_but_never_default(tmp_path):
    build_pair(tmp_path)
    (tmp_path / "tmp" / "build-123" / "tables").mkdir(parents=True)
    rows = releases(tmp_path)
    assert rows[-1]["id"] == "build-123" and rows[-1]["ingest"]["status"] == "incomplete"
    assert not rows[-1]["default"]


def test_empty_warehouse_lists_nothing_and_the_cli_says_what_to_do(tmp_path):
    assert releases(tmp_path) == []
    r = CliRunner().invoke(app, ["releases", "-w", str(tmp_path)])
    assert r.exit_code == 0 and "immfacts update" in r.output


def test_cli_releases_json_and_table(tmp_path):
    build_pair(tmp_path)
    r = CliRunner().invoke(app, ["releases", "-w", str(tmp_path), "--json"])
    assert r.exit_code == 0 and [x["id"] for x in json.loads(r.stdout)] == ["2026-08-06", "2026-07-08"]
    r = CliRunner().invoke(app, ["releases", "-w", str(tmp_path)])
    assert "SYNTHETIC" in r.output and "* 2026-08-06" in r.output
