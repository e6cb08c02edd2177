"""`immfacts export`: round trips per format, decoded labels beside codes, provenance attached."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from fixtures.lifecycle.warehouse import build_pair
from immfacts.cli import app
from immfacts.errors import InvalidQueryError, WarehouseError
from immfacts.lifecycle.exporter import export
from immfacts.lifecycle.formats import STATA_NAME_MAX, stata_names


@pytest.fixture
def home(tmp_path):
    build_pair(tmp_path / "wh")
    return tmp_path / "wh"


def warehouse_rows(home, rid, table):
    return duckdb.sql(f"SELECT * FROM '{home}/releases/{rid}/tables/{table}.parquet' ORDER BY 1").fetchall()


def test_parquet_round_trip_keeps_rows_values_and_adds_labels_beside_codes(home, tmp_path):
    r = export("B_TblProceeding", "parquet", release="2026-07", warehouse=home, out=tmp_path / "p.parquet")
    t = pq.read_table(r.path)
    assert t.num_rows == r.rows == 6
    names = t.column_names
    assert names.index("NAT_label") == names.index("NAT") + 1
    assert names.index("DEC_CODE_label") == names.index("DEC_CODE") + 1
    got = {row["IDNPROCEEDING"]: row for row in t.to_pylist()}
    raw = {row[0]: row for row in warehouse_rows(home, "2026-07-08", "B_TblProceeding")}
    assert set(got) == set(raw)
    assert got[21]["BASE_CITY_CODE"] == "SFR" and got[10]["COMP_DATE"] == raw[10][7]
    # OTHER_COMP 'C' is decoded as an O-type code (change of venue); DEC_CODE X as C-type (remove)
    assert got[20]["OTHER_COMP_label"] == "CHANGE OF VENUE" and got[20]["DEC_CODE_label"] is None
    assert got[10]["DEC_CODE_label"] == "REMOVE" and got[10]["NAT_label"] == "MEXICO"
    meta = json.loads(pq.read_schema(r.path).metadata[b"immfacts"])
    assert meta["synthetic"] is True and meta["release"]["id"] == "2026-07-08"


def test_a_code_letter_is_decoded_by_its_field_not_shared_between_dec_code_and_other_comp(home, tmp_path):
    rel = home / "releases" / "2026-08-06" / "tables" / "B_TblProceeding.parquet"
    t = pq.read_table(rel).to_pandas()
    t.loc[t.IDNPROCEEDING == 40, ["DEC_CODE"]] = "C"  # 'C' exists only as an O-type code here
    pq.write_table(__import__("pyarrow").Table.from_pandas(t, preserve_index=False), rel)
    r = export("B_TblProceeding", "parquet", warehouse=home, out=tmp_path / "p.parquet")
    row = [x for x in pq.read_table(r.path).to_pylist() if x["IDNPROCEEDING"] == 40][0]
    assert row["DEC_CODE"] == "C" and row["DEC_CODE_label"] is None


def test_duplicate_lookup_codes_do_not_multiply_rows(home, tmp_path):
    lk = home / "releases" / "2026-08-06" / "lookups" / "tblLookupAlienNat.parquet"
    t = pq.read_table(lk)
    pq.write_table(__import__("pyarrow").concat_tables([t, t]), lk)
    r = export("A_TblCase", "parquet", warehouse=home, out=tmp_path / "c.parquet")
    assert pq.read_table(r.path).num_rows == 5


def test_csv_round_trip_and_sidecar_metadata(home, tmp_path):
    r = export("tbl_Court_Appln", "csv", warehouse=home, out=tmp_path / "a.csv")
    with open(r.path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == r.rows == 4
    assert {row["IDNPROCEEDINGAPPLN"]: row["APPL_DEC"] for row in rows}["400"] == "G"
    assert "APPL_CODE_label" not in rows[0]  # no label column without the release's tblLookUp_Appln
    side = json.loads(Path(r.metadata_path).read_text())
    assert side["synthetic"] is True and side["rows"] == 4 and side["label"].startswith("SYNTHETIC")
    assert any(c["name"] == "APPL_RECD_DATE" and c["description"] for c in side["columns"])


def test_dta_reads_back_with_pandas_with_labels_and_synthetic_data_label(home, tmp_path):
    r = export("B_TblProceeding", "dta", release="2026-07", warehouse=home, out=tmp_path / "p.dta")
    df = pd.read_stata(r.path)
    assert len(df) == r.rows == 6
    assert df.set_index("IDNPROCEEDING").loc[21, "BASE_CITY_CODE"] == "SFR"
    assert df.set_index("IDNPROCEEDING").loc[10, "COMP_DATE"] == pd.Timestamp("2020-03-01")
    with pd.io.stata.StataReader(r.path) as reader:
        assert reader.data_label.startswith("SYNTHETIC")
        labels = reader.variable_labels()
    assert labels["INPUT_DATE"].startswith("Date the proceeding record was created")
    assert all(len(c) <= STATA_NAME_MAX for c in df.columns)


def test_dta_long_text_and_awkward_names_survive(home, tmp_path):
    rel = home / "releases" / "2026-08-06" / "tables" / "A_TblCase.parquet"
    t = pq.read_table(rel)
    long_name = "A_VERY_LONG_COLUMN_NAME_THAT_EXCEEDS_STATA"
    t = t.append_column(long_name, __import__("pyarrow").array(["é" * 3000] * t.num_rows))
    pq.write_table(t, rel)
    r = export("A_TblCase", "dta", warehouse=home, out=tmp_path / "c.dta")
    df = pd.read_stata(r.path)
    exported = {c["name"]: c["exported_name"] for c in r.columns}[long_name]
    assert len(exported) <= 32 and df[exported].iloc[0] == "é" * 3000


@given(st.lists(st.text(min_size=1, max_size=50), min_size=1, max_size=30))
def test_stata_names_are_valid_unique_and_short(names):
    out = stata_names(names)
    values = list(out.values())
    assert len({v.lower() for v in values}) == len(set(out))
    for v in values:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", v), v


def test_stata_names_known_answers():
    long = "A" * 40
    assert stata_names(["1abc", "é x", long, long + "b", "a-b", "A-B", "IDNCASE"]) == {
        "1abc": "_1abc",  # no leading digit
        "é x": "__x",  # ASCII only
        long: "A" * 32,  # cut to 32
        long + "b": "A" * 30 + "_2",  # a clash after the cut gets a suffix, still 32
        "a-b": "a_b",
        "A-B": "A_B_2",  # clashes are case-insensitive in Stata
        "IDNCASE": "IDNCASE",
    }


def test_sqlite_opens_with_sqlite3_and_carries_provenance_and_datasette_metadata(home, tmp_path):
    db = tmp_path / "eoir.db"
    r = export("B_TblProceeding", "sqlite", warehouse=home, out=db)
    export("A_TblCase", "sqlite", warehouse=home, out=db)  # a second table into the same file
    con = sqlite3.connect(db)
    assert con.execute('SELECT count(*) FROM "B_TblProceeding"').fetchone()[0] == r.rows == 5
    assert con.execute('SELECT count(*) FROM "A_TblCase"').fetchone()[0] == 5
    row = con.execute('SELECT COMP_DATE, DEC_CODE_label FROM "B_TblProceeding" WHERE IDNPROCEEDING = 30').fetchone()
    assert row == ("2026-07-20 00:00:00", "REMOVE")
    prov = dict(con.execute("SELECT exported_table, synthetic FROM immfacts_release").fetchall())
    assert prov == {"B_TblProceeding": 1, "A_TblCase": 1}
    indexes = {x[1] for x in con.execute("PRAGMA index_list('B_TblProceeding')").fetchall()}
    assert "ix_B_TblProceeding_IDNCASE" in indexes
    meta = json.loads((tmp_path / "eoir.metadata.json").read_text())
    assert meta["title"].startswith("SYNTHETIC")
    tables = meta["databases"]["eoir"]["tables"]
    assert set(tables) == {"B_TblProceeding", "A_TblCase", "immfacts_release"}
    assert tables["B_TblProceeding"]["columns"]["DEC_CODE_label"].startswith("Decoded label of DEC_CODE")


def test_sqlite_opens_in_datasette_if_installed(home, tmp_path):
    datasette_app = pytest.importorskip("datasette.app")
    import asyncio

    db = tmp_path / "eoir.db"
    export("A_TblCase", "sqlite", warehouse=home, out=db)
    meta = json.loads((tmp_path / "eoir.metadata.json").read_text())
    ds = datasette_app.Datasette([str(db)], metadata=meta)
    resp = asyncio.run(ds.client.get("/eoir/A_TblCase.json?_shape=array"))
    assert resp.status_code == 200 and len(resp.json()) == 5


def test_model_table_export_uses_the_canonical_model(home, tmp_path):
    from immfacts.model import build_model

    build_model(home / "releases" / "2026-08-06")
    r = export("cases", "parquet", warehouse=home, out=tmp_path / "cases.parquet")
    t = pq.read_table(r.path)
    assert r.kind == "model" and t.num_rows == 5
    assert "nationality_name" in t.column_names
    desc = {c["name"]: c["description"] for c in r.columns}
    assert desc["final_outcome"].startswith("Outcome class")


def test_columns_subset_keeps_their_labels(home, tmp_path):
    r = export("A_TblCase", "parquet", warehouse=home, out=tmp_path / "c.parquet", columns=["idncase", "nat"])
    assert pq.read_table(r.path).column_names == ["IDNCASE", "NAT", "NAT_label"]


def test_unknown_names_and_missing_model_are_clear_errors(home, tmp_path):
    with pytest.raises(InvalidQueryError) as e:
        export("casess", warehouse=home, out=tmp_path / "x.parquet")
    assert "cases" in e.value.hint
    with pytest.raises(InvalidQueryError):
        export("cases", "xlsx", warehouse=home)
    with pytest.raises(WarehouseError) as e:
        export("cases", warehouse=home, out=tmp_path / "x.parquet")
    assert "re-ingest" in e.value.hint
    with pytest.raises(InvalidQueryError, match="no column"):
        export("A_TblCase", warehouse=home, out=tmp_path / "x.parquet", columns=["NOPE"])


def test_cli_export_json_and_default_name(home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["export", "a_tblcase", "-f", "csv", "-w", str(home), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["path"].endswith("A_TblCase-2026-08-06.csv") and body["synthetic"] is True
    assert (tmp_path / "A_TblCase-2026-08-06.csv").exists()


def test_lookup_tables_export_as_they_are(home, tmp_path):
    r = export("tbllookupaliennat", "csv", warehouse=home, out=tmp_path / "nat.csv")
    assert r.kind == "lookup" and r.table == "tblLookupAlienNat" and r.rows == 4
    with open(r.path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {row["strCode"]: row["strDescription"] for row in rows}["SV"] == "EL SALVADOR"


def test_dec_code_is_decoded_even_when_case_type_is_not_exported(home, tmp_path):
    r = export("B_TblProceeding", "parquet", warehouse=home, out=tmp_path / "p.parquet", columns=["IDNPROCEEDING", "DEC_CODE"])
    t = pq.read_table(r.path)
    assert t.column_names == ["IDNPROCEEDING", "DEC_CODE", "DEC_CODE_label"]
    assert dict(zip(t["IDNPROCEEDING"].to_pylist(), t["DEC_CODE_label"].to_pylist(), strict=True))[50] == "RELIEF GRANTED"
