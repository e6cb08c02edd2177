"""Ingest: one tiny hand-made release per quirk class (tests/fixtures/ingest/<class>/), each
proving the repair or quarantine, the loaded values and the accounting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from immfacts.errors import SchemaError, StrictModeError
from immfacts.ingest import ingest

FIX = Path(__file__).parent / "fixtures" / "ingest"


def run(name: str, tmp_path: Path, **kw):
    report = ingest(FIX / name, warehouse=tmp_path / "wh", **kw)
    d = report.to_dict()
    for t in d["tables"].values():
        assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"]
    return report, d


def rows(report, table: str = "A_TblCase") -> dict[int, dict]:
    path = Path(report.path) / "tables" / f"{table}.parquet"
    rel = duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')")
    cols = rel.columns
    key = cols[0]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in rel.fetchall() if r[cols.index(key)] is not None}


def quarantine(report, table: str = "A_TblCase") -> list[tuple[str, str, bytes]]:
    data = (Path(report.path) / "quarantine" / f"{table}.tsv").read_bytes().split(b"\n")
    assert data[0] == b"line\treason\traw"
    out = []
    for rec in data[1:]:
        if rec:
            line, reason, raw = rec.split(b"\t", 2)
            out.append((line.decode(), reason.decode(), raw))
    return out


def nonzero(d: dict) -> dict:
    return {k: v for k, v in d.items() if v}


def test_nul_bytes_are_stripped_even_inside_the_key(tmp_path):
    report, d = run("nul_bytes", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["rows_read"], t["rows_loaded"]) == (3, 3)
    assert nonzero(t["rows_repaired"]) == {"nul_stripped": 2}
    r = rows(report)
    assert sorted(r) == [1, 2, 31]
    assert r[2]["ALIEN_CITY"] == "MIAMI"


def test_control_characters_are_stripped_and_a_lone_cr_does_not_split_the_line(tmp_path):
    report, d = run("control_chars", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["rows_read"], t["rows_loaded"]) == (3, 3)
    assert nonzero(t["rows_repaired"]) == {"control_chars_stripped": 2}
    r = rows(report)
    assert (r[2]["ALIEN_CITY"], r[3]["ALIEN_CITY"]) == ("HOUSTON", "ELPASO")


def test_latin1_text_with_crlf_becomes_utf8_strings(tmp_path):
    report, d = run("crlf_latin1", tmp_path)
    r = rows(report)
    assert (r[1]["ALIEN_CITY"], r[2]["ALIEN_CITY"]) == ("MAYAGÜEZ", "PEÑUELAS")
    assert r[1]["ALIEN_ZIPCODE"] == "00680"  # codes stay strings: leading zeros kept
    assert d["tables"]["A_TblCase"]["rows_repaired"] == dict.fromkeys(d["tables"]["A_TblCase"]["rows_repaired"], 0)


def test_overflow_row_is_merged_back_into_the_free_text_column(tmp_path):
    report, d = run("overflow_row", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert nonzero(t["rows_repaired"]) == {"overflow_merged": 1}
    r = rows(report)[2]
    assert (r["ALIEN_CITY"], r["ALIEN_STATE"], r["ATTY_NBR"], r["LATEST_HEARING"]) == ("SAN JOSE", "CA", "123", dt.datetime(2019, 5, 6))


def test_hidden_shift_is_found_by_type_violations_and_shifted_back(tmp_path):
    report, d = run("hidden_shift", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert nonzero(t["rows_repaired"]) == {"shift_fixed": 1}
    r = rows(report)[2]
    assert (r["ALIEN_CITY"], r["ALIEN_STATE"], r["ALIEN_ZIPCODE"]) == ("LONG ISLAND CITY", "NY", "11101")
    assert (r["ATTY_NBR"], r["LATEST_HEARING"], r["GENDER"]) == ("123", dt.datetime(2019, 5, 6), "M")


def test_short_row_is_padded_with_nulls(tmp_path):
    report, d = run("short_row", tmp_path)
    assert nonzero(d["tables"]["A_TblCase"]["rows_repaired"]) == {"short_row_padded": 1}
    r = rows(report)[2]
    assert (r["CASE_TYPE"], r["ATTY_NBR"], r["LATEST_HEARING"]) == ("RMV", None, None)


def test_row_with_no_consistent_repair_is_quarantined_verbatim_as_unrepairable(tmp_path):
    report, d = run("unrepairable", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["rows_loaded"], nonzero(t["quarantined"])) == (1, {"unrepairable": 1})
    assert t["rows_repaired"]["overflow_merged"] == 0
    [(line, reason, raw)] = quarantine(report)
    assert (line, reason) == ("3", "unrepairable")
    assert raw.startswith(b"2\tSAN\tJOSE\t") and b"\t9O1\t" in raw


def test_fragment_of_a_split_record_is_quarantined_as_continuation_line(tmp_path):
    report, d = run("continuation_line", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["rows_read"], t["rows_loaded"], nonzero(t["quarantined"])) == (3, 2, {"continuation_line": 1})
    assert quarantine(report) == [("3", "continuation_line", b"APT 4\tSAN JOSE\tCA")]


def test_empty_key_and_empty_line_are_quarantined_as_empty_primary_key(tmp_path):
    report, d = run("empty_primary_key", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["rows_read"], t["rows_loaded"], nonzero(t["quarantined"])) == (4, 2, {"empty_primary_key": 2})
    assert [(q[0], q[1]) for q in quarantine(report)] == [("3", "empty_primary_key"), ("4", "empty_primary_key")]


def test_first_of_duplicates_is_loaded_and_later_ones_quarantined_by_kind(tmp_path):
    report, d = run("duplicates", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["rows_loaded"], nonzero(t["quarantined"])) == (2, {"duplicate_row": 1, "duplicate_key": 1})
    assert rows(report)[2]["LATEST_HEARING"] == dt.datetime(2020, 1, 1)
    assert [(q[0], q[1]) for q in quarantine(report)] == [("4", "duplicate_row"), ("5", "duplicate_key")]


def test_null_tokens_become_null_and_padding_is_trimmed_and_counted(tmp_path):
    report, d = run("null_tokens_and_trimming", tmp_path)
    v = d["tables"]["A_TblCase"]["values"]
    assert {c: nonzero(x) for c, x in v.items()} == {
        "DETENTION_LOCATION": {"null_tokens": 1},
        "CUSTODY": {"null_tokens": 1},
        "ALIEN_CITY": {"null_tokens": 1},
        "GENDER": {"null_tokens": 1},
        "ALIEN_STATE": {"trimmed": 1},
    }
    r = rows(report)
    assert (r[1]["DETENTION_LOCATION"], r[2]["CUSTODY"], r[2]["ALIEN_CITY"], r[2]["GENDER"]) == (None, None, None, None)
    assert (r[3]["ALIEN_STATE"], r[3]["NAT"], r[3]["ALIEN_CITY"]) == ("CA", "MX", "SAN JOSE")


def test_sentinel_and_impossible_dates_are_null_and_counted_as_bad(tmp_path):
    report, d = run("dates", tmp_path)
    assert d["tables"]["A_TblCase"]["values"] == {"LATEST_HEARING": {"null_tokens": 0, "trimmed": 0, "bad_dates": 2, "invalid_codes": 0}}
    r = rows(report)
    assert [r[i]["LATEST_HEARING"] for i in (1, 2, 3, 4)] == [None, None, dt.datetime(2019, 5, 6), dt.datetime(2019, 5, 6)]
    assert d["tables"]["A_TblCase"]["rows_quarantined"] == 0


def test_invalid_codes_are_kept_raw_and_counted(tmp_path):
    report, d = run("invalid_codes", tmp_path)
    v = {c: nonzero(x) for c, x in d["tables"]["A_TblCase"]["values"].items()}
    assert v == {"CUSTODY": {"invalid_codes": 1}, "ALIEN_ZIPCODE": {"invalid_codes": 1}}
    r = rows(report)
    assert (r[1]["CUSTODY"], r[2]["ALIEN_ZIPCODE"]) == ("SP", "ABCDE")


def test_orphans_and_case_type_conflicts_are_counted_and_loaded(tmp_path):
    report, d = run("relations", tmp_path)
    p = d["tables"]["B_TblProceeding"]
    assert (p["rows_loaded"], p["orphans"], p["case_type_conflicts"]) == (3, 1, 1)
    assert d["tables"]["A_TblCase"]["orphans"] == 0
    assert sorted(rows(report, "B_TblProceeding")) == [10, 11, 12]


def test_header_drives_parsing_alias_extra_and_missing_columns(tmp_path):
    report, d = run("header_drift", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert t["columns_extra"] == ["NEW_FIELD"]
    assert "DETENTION_LOCATION" in t["columns_missing"] and "GENDER" not in t["columns_missing"]
    r = rows(report)[1]
    assert (r["GENDER"], r["NEW_FIELD"], r["DETENTION_LOCATION"]) == ("F", "something new", None)


def test_missing_required_column_names_table_column_and_release(tmp_path):
    with pytest.raises(SchemaError) as e:
        ingest(FIX / "missing_required_column", warehouse=tmp_path / "wh")
    msg = str(e.value)
    assert "A_TblCase" in msg and "NAT" in msg and "missing_required_column" in msg
    assert not (tmp_path / "wh" / "releases").exists() or not any((tmp_path / "wh" / "releases").iterdir())


def test_count_txt_is_compared_and_data_date_comes_from_the_folder_name(tmp_path):
    report, d = run("count_txt", tmp_path)
    t = d["tables"]["A_TblCase"]
    assert (t["count_txt"], t["rows_loaded"], t["count_txt_diff"]) == (2, 1, -1)
    assert d["release"]["data_date"] == "2026-07-08" and report.release_id.startswith("2026-07-08-")


@pytest.mark.parametrize("name", ["nul_bytes", "duplicates", "hidden_shift"])
def test_strict_mode_stops_at_the_first_row_needing_repair(tmp_path, name):
    with pytest.raises(StrictModeError) as e:
        ingest(FIX / name, warehouse=tmp_path / "wh", strict=True)
    assert "A_TblCase" in str(e.value) and e.value.hint
    assert not (tmp_path / "wh" / "releases").exists() or not any((tmp_path / "wh" / "releases").iterdir())


def test_strict_mode_accepts_a_clean_release(tmp_path):
    report = ingest(FIX / "invalid_codes", warehouse=tmp_path / "wh", strict=True)
    assert report.tables["A_TblCase"].rows_loaded == 3


def test_value_counters_are_the_same_when_counted_in_small_batches(tmp_path, monkeypatch):
    import immfacts.ingest.table as table_mod

    _, whole = run("null_tokens_and_trimming", tmp_path / "a")
    monkeypatch.setattr(table_mod, "BATCH_ROWS", 1)
    _, batched = run("null_tokens_and_trimming", tmp_path / "b")
    assert batched["tables"]["A_TblCase"]["values"] == whole["tables"]["A_TblCase"]["values"]
    assert batched["tables"]["A_TblCase"]["rows_loaded"] == 3
