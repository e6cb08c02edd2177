"""Ingest, property-based: corrupt a well-formed table at random (tabs in free text, NUL bytes,
lone CRs, truncated lines, dropped fields) and check that every line is accounted for and that
every untouched row loads exactly as written."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts.ingest import ingest

HEADER = ["IDNCASE", "ALIEN_CITY", "ALIEN_STATE", "ALIEN_ZIPCODE", "NAT", "CUSTODY", "CASE_TYPE",
          "ATTY_NBR", "LATEST_HEARING", "C_BIRTHDATE", "GENDER", "DETENTION_LOCATION"]
CITIES = ["SAN JOSE", "MIAMI", "LOS ANGELES", "NEW YORK", "EL PASO", "SALT LAKE CITY", "HOUSTON"]

row = st.fixed_dictionaries({
    "ALIEN_CITY": st.sampled_from(CITIES),
    "ALIEN_STATE": st.sampled_from(["CA", "FL", "NY", "TX", "UT"]),
    "ALIEN_ZIPCODE": st.integers(10000, 99999).map(str),
    "NAT": st.sampled_from(["MX", "GT", "HO", "ES"]),
    "CUSTODY": st.sampled_from(["N", "D", "R", ""]),
    "CASE_TYPE": st.sampled_from(["RMV", "DEP", "AOC"]),
    "ATTY_NBR": st.one_of(st.just(""), st.integers(1, 99999).map(str)),
    "LATEST_HEARING": st.one_of(st.just(""), st.dates(dt.date(1990, 1, 1), dt.date(2026, 1, 1)).map(lambda d: f"{d} 00:00:00.000")),
    "C_BIRTHDATE": st.one_of(st.just(""), st.tuples(st.integers(1, 12), st.integers(1930, 2010)).map(lambda t: f"{t[0]}/{t[1]}")),
    "GENDER": st.sampled_from(["M", "F", ""]),
    "DETENTION_LOCATION": st.sampled_from(["", "PORT ISABEL", "OTERO COUNTY"]),
})
CORRUPTIONS = ("tab_in_city", "nul", "lone_cr", "truncate", "drop_field")


@st.composite
def table(draw):
    rows = draw(st.lists(row, min_size=3, max_size=25))
    hits = draw(st.dictionaries(st.integers(0, len(rows) - 1), st.tuples(st.sampled_from(CORRUPTIONS), st.integers(0, 10**6)), max_size=len(rows)))
    return rows, hits


def render(i: int, r: dict) -> list[str]:
    return [str(i + 1)] + [r[h] for h in HEADER[1:]]


def corrupt(fields: list[str], how: str, k: int) -> bytes:
    f = list(fields)
    if how == "tab_in_city":
        f[1] = f[1].replace(" ", "\t", 1) if " " in f[1] else f[1] + "\t" + "X"
    elif how in ("nul", "lone_cr"):
        j = 1 + k % (len(f) - 1)
        pos = k % (len(f[j]) + 1)
        f[j] = f[j][:pos] + ("\x00" if how == "nul" else "\r") + f[j][pos:]
    elif how == "drop_field":
        del f[1 + k % (len(f) - 1)]
    line = "\t".join(f)
    if how == "truncate":
        first_tab = line.index("\t")
        line = line[: first_tab + 1 + k % (len(line) - first_tab)]
    return line.encode("latin-1")


def expected(r: dict) -> dict:
    out = {h: (r[h] or None) for h in HEADER[1:]}
    out["LATEST_HEARING"] = dt.datetime.fromisoformat(r["LATEST_HEARING"][:10]) if r["LATEST_HEARING"] else None
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table())
def test_random_corruption_loses_no_line_and_leaves_untouched_rows_unchanged(data):
    rows, hits = data
    lines = [("\t".join(HEADER)).encode()]
    for i, r in enumerate(rows):
        fields = render(i, r)
        lines.append(corrupt(fields, *hits[i]) if i in hits else "\t".join(fields).encode("latin-1"))
    with tempfile.TemporaryDirectory() as tmp:
        rel = Path(tmp) / "release"
        rel.mkdir()
        (rel / "A_TblCase.csv").write_bytes(b"\r\n".join(lines) + b"\r\n")
        report = ingest(rel, warehouse=Path(tmp) / "wh")
        t = report.tables["A_TblCase"]
        assert t.rows_read == len(rows)
        assert t.rows_read == t.rows_loaded + t.rows_quarantined
        con = duckdb.connect()
        rel_path = Path(report.path) / "tables" / "A_TblCase.parquet"
        got = {r[0]: dict(zip(HEADER, r, strict=True)) for r in con.execute(f"SELECT {', '.join(HEADER)} FROM read_parquet('{rel_path}')").fetchall()}
        assert len(got) == t.rows_loaded  # keys stay unique
        for i, r in enumerate(rows):
            if i in hits:
                continue
            loaded = got.get(i + 1)
            assert loaded is not None, f"untouched row {i + 1} was not loaded"
            assert {h: loaded[h] for h in HEADER[1:]} == expected(r)
        q = Path(report.path) / "quarantine" / "A_TblCase.tsv"
        n_q = len(q.read_bytes().split(b"\n")) - 2 if q.exists() else 0
        assert n_q == t.rows_quarantined
