"""Ingest end to end: a --scale 0.001 SYNTHETIC sample release (and the committed Deflate64
sample) against the generator's ground truth, the published release folder, and the CLI.

Two known generator bugs are corrected for, each from an independent scan of the raw release
(the assertions accept the truth as is, or the truth plus exactly that correction, so they keep
passing once the generator is fixed):

* day-overflow dates (``2021-04-31``, ``2017-02-30``): the truth parses dates with PyArrow's
  lenient ``strptime`` (which rolls them over to the next month) and does not count them as bad;
  they are not dates, and ingest counts them in ``bad_dates``;
* control characters sampled from the calibration frequencies (ESC, ^A, ^F values of
  ``CHG_STATUS``, ``APPEAL_RSVD``, ``DEC`` …): the truth loads them as values; ingest strips
  them (``control_chars_stripped``), as the contract says.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import zipfile_deflate64  # noqa: F401
from typer.testing import CliRunner

from immfacts.cli import app
from immfacts.ingest import ingest
from immfacts.schema import find_table
from immfacts.warehouse import Warehouse

DEFLATE64 = Path(__file__).parent / "fixtures" / "sample" / "deflate64_sample.zip"
DATE = re.compile(rb"(\d{4})-(\d{2})-(\d{2})")
SAMPLED_CTRL = re.compile(rb"[\x01-\x08\x0b-\x0c\x0e-\x19\x1b-\x1f\x7f]")


def corrections(zip_path: Path) -> tuple[Counter, Counter]:
    """(day-overflow dates per (table, column), lines with sampled control characters per table)."""
    days, ctrl = Counter(), Counter()
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            spec = find_table(info.filename)
            if info.is_dir() or "/Lookup/" in info.filename or spec is None or spec.kind != "main":
                continue
            lines = z.read(info).split(b"\r\n")
            header = lines[0].decode("latin-1").split("\t")
            ts = [j for j, h in enumerate(header) if (c := spec.column(h)) is not None and c.type == "TIMESTAMP"]
            seen = set()
            for line in lines[1:]:
                f = line.split(b"\t")
                if len(f) != len(header) or not f[0].isdigit() or f[0] in seen:
                    continue
                seen.add(f[0])
                for j in ts:
                    m = DATE.match(f[j].strip())
                    if m and int(m[1]) >= 1900 and 1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31:
                        try:
                            dt.date(int(m[1]), int(m[2]), int(m[3]))
                        except ValueError:
                            days[(spec.name, header[j])] += 1
                if SAMPLED_CTRL.search(line) and b"\x1a" not in line:
                    ctrl[spec.name] += 1
    return days, ctrl


def nonzero(d: dict) -> dict:
    return {k: v for k, v in d.items() if v}


def assert_matches_truth(report: dict, truth: dict, zip_path: Path) -> None:
    days, ctrl = corrections(zip_path)
    assert set(report["tables"]) <= set(truth["tables"]) and "A_TblCase" in report["tables"]
    for name, t in report["tables"].items():
        tt = truth["tables"][name]
        for key in ("rows_read", "rows_loaded", "rows_quarantined", "orphans", "case_type_conflicts", "count_txt"):
            assert (t[key] or 0) == tt[key], (name, key, t[key], tt[key])
        assert nonzero(t["quarantined"]) == nonzero(tt["quarantined"]), name
        mine, theirs = nonzero(t["rows_repaired"]), nonzero(tt["rows_repaired"])
        fixed = dict(theirs, control_chars_stripped=theirs.get("control_chars_stripped", 0) + ctrl[name])
        assert mine in (theirs, nonzero(fixed)), (name, mine, theirs, ctrl[name])
        cols = set(t["values"]) | set(tt["values"])
        for col in cols:
            got = nonzero(t["values"].get(col, {}))
            want = dict(tt["values"].get(col, {}))
            bumped = nonzero(dict(want, bad_dates=want.get("bad_dates", 0) + days[(name, col)]))
            assert got in (want, bumped), (name, col, got, want, days[(name, col)])


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from immfacts.sample import write_sample

    out = tmp_path_factory.mktemp("sample") / "sample.zip"
    write_sample(out, scale=0.001, seed=11)
    return out, json.loads(out.with_name("sample.truth.json").read_text())


@pytest.fixture(scope="module")
def ingested(sample, tmp_path_factory):
    zip_path, truth = sample
    home = tmp_path_factory.mktemp("wh")
    return ingest(zip_path, warehouse=home), truth, home


def test_report_matches_the_generators_ground_truth_table_by_table(ingested, sample):
    report, truth, _ = ingested
    assert_matches_truth(report.to_dict(), truth, sample[0])


def test_loaded_rows_equal_report_and_true_counts(ingested):
    report, truth, _ = ingested
    con = duckdb.connect()
    for name, t in report.tables.items():
        n = con.execute(f"SELECT count(*), count(DISTINCT {find_table(name).primary_key}) FROM read_parquet('{Path(report.path) / 'tables' / (name + '.parquet')}')").fetchone()
        assert n == (t.rows_loaded, t.rows_loaded) == (truth["tables"][name]["rows_loaded"],) * 2


def test_quarantine_holds_every_quarantined_line_verbatim(ingested, sample):
    report, _, _ = ingested
    with zipfile.ZipFile(sample[0]) as z:
        originals = {find_table(i.filename).name: z.read(i).split(b"\r\n") for i in z.infolist() if i.filename.endswith(".csv") and "/Lookup/" not in i.filename}
    for name, t in report.tables.items():
        q = Path(report.path) / "quarantine" / f"{name}.tsv"
        records = [r.split(b"\t", 2) for r in q.read_bytes().split(b"\n")[1:] if r] if t.rows_quarantined else []
        assert len(records) == t.rows_quarantined
        for line, reason, raw in records:
            assert originals[name][int(line) - 1] == raw, (name, line, reason)


def test_release_is_published_synthetic_dated_and_queryable(ingested):
    report, _, home = ingested
    rel = Warehouse(home).release()
    assert rel.id == report.release_id and rel.synthetic and rel.data_date == "2026-07-08"
    assert rel.meta["tables"] == {n: t.rows_loaded for n, t in report.tables.items()}
    assert json.loads((rel.path / "report.json").read_text())["release"]["synthetic"] is True
    con = duckdb.connect(str(rel.path / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM A_TblCase").fetchone()[0] == report.tables["A_TblCase"].rows_loaded
    assert con.execute("SELECT count(*) FROM tblLookupCourtDecision").fetchone()[0] > 0
    assert report.lookups["tblLookupCourtDecision"]["source"] == "release"
    assert report.model and report.model.get("built") is True
    assert not any((home / "tmp").iterdir())


def test_reingesting_the_same_release_replaces_it_under_the_same_id(ingested, sample):
    report, _, home = ingested
    again = ingest(sample[0], warehouse=home, tables=["tblAppeal"])  # (runs last: it replaces the module's release)
    assert again.release_id == report.release_id
    assert [r.id for r in Warehouse(home).releases()] == [report.release_id]
    assert sorted(p.stem for p in (Path(again.path) / "tables").glob("*.parquet")) == ["tblAppeal"]
    assert not any((home / "tmp").iterdir())


def test_deflate64_release_ingests_and_matches_its_truth(tmp_path):
    with zipfile.ZipFile(DEFLATE64) as z:
        assert {i.compress_type for i in z.infolist() if i.file_size} == {9}  # Deflate64
    truth = json.loads(DEFLATE64.with_name("deflate64_sample.truth.json").read_text())
    tables = [t for t in truth["tables"] if t != "B_TblProceeding"]  # (no canonical model build: faster)
    report = ingest(DEFLATE64, warehouse=tmp_path / "wh", tables=tables)
    assert_matches_truth(report.to_dict(), truth, DEFLATE64)


def test_cli_prints_json_report_and_synthetic_banner(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["ingest", str(DEFLATE64), "--warehouse", str(tmp_path / "wh"), "--json", "--tables", "A_TblCase"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["synthetic"] is True and d["release"]["synthetic"] is True and list(d["tables"]) == ["A_TblCase"]
    r = runner.invoke(app, ["ingest", str(DEFLATE64), "--warehouse", str(tmp_path / "wh"), "-t", "A_TblCase,tblAppeal"])
    assert r.exit_code == 0 and "SYNTHETIC" in r.output and "A_TblCase" in r.output and "tblAppeal" in r.output
