"""Shared foundations: periods, the schema registry, and CLI error handling."""

import datetime as dt

import pytest
from typer.testing import CliRunner

from immfacts.cli import app
from immfacts.errors import PeriodError
from immfacts.periods import fy, parse_period
from immfacts.schema import find_table, main_tables


@pytest.mark.parametrize(
    ("d", "year"),
    [(dt.date(2023, 9, 30), 2023), (dt.date(2023, 10, 1), 2024), (dt.date(2024, 1, 1), 2024)],
)
def test_fiscal_year_boundary_is_october_first(d, year):
    assert fy(d) == year


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("FY2024", "2023-10-01", "2024-09-30"),
        ("fy23", "2022-10-01", "2023-09-30"),
        ("FY2022..FY2024", "2021-10-01", "2024-09-30"),
        ("2021-02..2024-04", "2021-02-01", "2024-04-30"),
        ("2023", "2023-01-01", "2023-12-31"),
        ("biden", "2021-01-20", "2025-01-19"),
        ("trump1", "2017-01-20", "2021-01-19"),
        ("biden:fy_whole", "2020-10-01", "2024-09-30"),
        ("biden:fy_from_first_full", "2021-10-01", "2024-09-30"),
        ("trump:fy_whole", "2016-10-01", "2020-09-30"),
    ],
)
def test_period_resolution_table(text, start, end):
    p = parse_period(text)
    assert (p.start.isoformat(), p.end.isoformat()) == (start, end)


def test_inauguration_day_belongs_to_incoming_president():
    assert parse_period("biden").start == dt.date(2021, 1, 20)
    assert parse_period("trump1").end == dt.date(2021, 1, 19)


def test_date_period_is_a_stock():
    p = parse_period("2024-04-30")
    assert p.is_date and p.start is None


@pytest.mark.parametrize("bad", ["FY20244", "2024-13", "2024-02-30", "nixon", "FY2024..FY2020"])
def test_bad_period_is_a_clear_error(bad):
    with pytest.raises(PeriodError) as e:
        parse_period(bad)
    assert e.value.hint


def test_registry_has_real_column_order():
    proc = main_tables()["B_TblProceeding"]
    assert proc.column_names[:4] == ["IDNPROCEEDING", "IDNCASE", "OSC_DATE", "INPUT_DATE"]
    assert proc.column_names[-1] == "DATE_RELEASED" and len(proc.columns) == 38
    assert find_table("Lookup/tblLookupCourtDecision.csv").natural_key == (
        "strCaseType", "strDecCode", "strDecType")


def test_cli_version_runs():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip()
