"""The `immfacts metric` command on reference series: rendering, --explain, editions."""

import json

from typer.testing import CliRunner

from immfacts.cli import app

runner = CliRunner()


def test_reference_figure_with_text_components_renders_without_traceback(tmp_path):
    r = runner.invoke(app, ["metric", "published.pending", "--period", "2024-09-30", "--warehouse", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "qualifier" in r.output


def test_explain_a_reference_series_prints_its_sql(tmp_path):
    r = runner.invoke(app, ["metric", "cbp.encounters", "--period", "biden", "--explain", "--warehouse", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "SELECT" in r.output.upper()


def test_as_of_edition_reads_the_figure_as_first_published(tmp_path):
    args = ["metric", "eoir.published.pending", "--period", "FY2016", "--json", "--warehouse", str(tmp_path)]
    old = json.loads(runner.invoke(app, [*args, "--edition", "as-of", "--as-of", "2021-06-01"]).stdout)
    new = json.loads(runner.invoke(app, args).stdout)
    assert old["value"] == 521517
    assert new["value"] != old["value"]
