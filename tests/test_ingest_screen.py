"""The pre-pass's value screen, property-based: a line it calls *plain* must come out of the
lean SELECT exactly as the full typing SELECT would type it, and never be a line the full
SELECT flags (a type violation or a value quirk to count). Values are drawn to sit on every
edge the screen decides on: spaces at either end or doubled, null-like tokens in any case,
date-shaped text, signs and letters in integer fields, years either side of 1900 and 3000."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts.ingest.layout import build_layout
from immfacts.ingest.prepass import _analyse
from immfacts.ingest.sqlgen import ident, lean_sql, read_csv_sql, typing_sql
from immfacts.ingest.table import screen_of
from immfacts.schema import main_tables

SPEC = main_tables()["tbl_schedule"]
LAYOUT = build_layout(SPEC, [c.name for c in SPEC.columns], "test", lambda lookup: None)

clean_words = st.sampled_from(["", "A", "x", "SP", "WAS", "nul", "??", "NAT", "B66", "0900", "12", "-3", "+4", "1e3", "ñandú", "a b",
                               "12:30", "2019/01/02", "NAN", "(B)(7)"])
odd_words = st.sampled_from(["NA", "na", "Na", "N/A", "n/a", "NULL", "null", "NuLl", "B6", "b6", "(b)(6)", "(B)(6)", "???", "A  B"])
dates_text = st.sampled_from(["2019-03-04", "1899-12-31 00:00:00.000", "2001-02-03 10:00:00", "12/31/1999", "2019-3-4"])


def rarely(draw, odd: st.SearchStrategy[str], usual: st.SearchStrategy[str]) -> str:
    """One value in ~30 drawn from ``odd`` (which may still be clean): a line has ~30 fields, so
    many lines stay plain, and many plain lines hold an odd-looking but clean value."""
    return draw(odd) if draw(st.integers(0, 29)) == 0 else draw(usual)


@st.composite
def text_value(draw):
    odd = st.tuples(st.sampled_from(["", " ", "  "]), st.one_of(odd_words, clean_words, dates_text, st.text(st.sampled_from("ab 1-/"), max_size=12)),
                    st.sampled_from(["", " ", "  "])).map("".join)
    return rarely(draw, odd, clean_words)


@st.composite
def int_value(draw):
    odd = st.sampled_from(["-1", "1.5", " 5", "5 ", "NULL", "x", "1e3", "+4", "1" * 19, "12345678901234567890"])
    return rarely(draw, odd, st.one_of(st.just(""), st.just("007"), st.integers(0, 10**17).map(str)))


@st.composite
def date_value(draw):
    odd = st.sampled_from([1753, 1800, 1899, 3000, 9999]).map(lambda y: f"{y}-01-02 00:00:00.000")
    usual = st.sampled_from([1900, 1999, 2000, 2024, 2999]).map(lambda y: f"{y}-12-31 00:00:00.000")
    return rarely(draw, odd, st.one_of(st.just(""), usual))


def value(col) -> st.SearchStrategy[str]:
    if col.role in ("pk",):
        return st.just("")  # filled with the line number
    if col.role == "key":
        return st.integers(1, 10**6).map(str)
    if col.role == "ts":
        return date_value()
    if col.role == "int":
        return int_value()
    return text_value()


lines = st.lists(st.tuples(*[value(c) for c in LAYOUT.columns]), min_size=1, max_size=30)


def _typed(con: duckdb.DuckDBPyConnection, sql: str) -> dict[int, tuple]:
    names = ", ".join(ident(n) for n, _, _ in LAYOUT.output_columns())
    return {r[0]: r for r in con.execute(f"SELECT __pk, {names}, __viol, __anom FROM ({sql})").fetchall()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines)
def test_plain_lines_type_exactly_as_the_full_select_and_are_never_flagged(rows):
    body = []
    for i, fields in enumerate(rows):
        f = list(fields)
        f[LAYOUT.pk_pos] = str(i + 1)
        body.append("\t".join(f))
    block = ("\r\n".join(body) + "\r\n").encode("latin-1")
    info = _analyse(block, LAYOUT.n, LAYOUT.pk_pos, 1 << 20, True, screen=screen_of(LAYOUT))
    assert not info.bad.any()  # every drawn line is well-formed
    plain = [i for i in range(len(rows)) if not info.full[i]]
    if not plain:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plain"
        path.write_bytes(b"".join(block[info.starts[i] : info.ends[i]] + b"\r\n" for i in plain))
        con = duckdb.connect()
        src = read_csv_sql(str(path), LAYOUT, 1 << 20, "rj_lean")
        lean = _typed(con, lean_sql(LAYOUT, src))
        src = read_csv_sql(str(path), LAYOUT, 1 << 20, "rj_full")
        full = _typed(con, typing_sql(LAYOUT, src, typed=True, per_column=False))
    assert lean.keys() == full.keys()
    for key, row in full.items():
        assert not row[-2] and not row[-1], f"line {key} is flagged by the full SELECT but screened as plain: {rows[key - 1]}"
        assert lean[key] == row, f"line {key} types differently: {rows[key - 1]}"


def test_each_screened_quirk_sends_its_line_to_the_full_select():
    base = {c.pos: ("1" if c.role in ("pk", "key") else "2020-01-02 00:00:00.000" if c.role == "ts" else "7" if c.role == "int" else "X") for c in LAYOUT.columns}
    text = next(c.pos for c in LAYOUT.columns if c.role == "text")
    code = next(c.pos for c in LAYOUT.columns if c.role == "code")
    integer = next(c.pos for c in LAYOUT.columns if c.role == "int")
    date = next(c.pos for c in LAYOUT.columns if c.role == "ts")
    cases = {
        "clean": {},
        "leading space": {text: " X"},
        "trailing space": {code: "X "},
        "double space": {text: "A  B"},
        "null token, lower case": {code: "n/a"},
        "null token (b)(6)": {text: "(b)(6)"},
        "date in a text column": {text: "2019-01-02"},
        "sign in an integer": {integer: "-7"},
        "letter in an integer": {integer: "7a"},
        "lower-case code": {code: "xY"},
        "non-ASCII code": {code: "\u00d1"},
        "year before 1900": {date: "1899-12-31 00:00:00.000"},
        "year 3000": {date: "3000-01-01 00:00:00.000"},
    }
    body = []
    for k, change in enumerate(cases.values()):
        f = dict(base) | change
        f[LAYOUT.pk_pos] = str(k + 1)
        body.append("\t".join(f[i] for i in range(LAYOUT.n)))
    block = ("\r\n".join(body) + "\r\n").encode("latin-1")
    info = _analyse(block, LAYOUT.n, LAYOUT.pk_pos, 1 << 20, True, screen=screen_of(LAYOUT))
    got = dict(zip(cases, info.full.tolist(), strict=True))
    assert got == {name: name != "clean" for name in cases}
