"""The sample generator's fast paths say exactly what the plain, row-by-row rules say.

Columns are kept as dictionaries, integers or byte-built strings, value counters are computed
per distinct value, lines are joined with runs of empty columns collapsed, classes are
decoded per distinct (type, code) pair, and the zip is written on a thread; each is checked
here against the obvious per-row implementation. A release written in many small chunks is
re-scanned against its truth (the 0.001 samples of test_sample.py fit in one chunk).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immfacts.sample import load_truth, write_sample
from immfacts.sample.calib import NULL_TOKENS, classify
from immfacts.sample.columns import as_strings, coded, dates, ints, text, vocabulary
from immfacts.sample.model import classify_all, factorize
from immfacts.sample.validate import column_counters
from immfacts.sample.writer import BackgroundWriter, _join_lines
from immfacts.schema import ColumnSpec, main_tables

CODES = st.sampled_from(["", "RMV", "AOC", "X", "A", "ASYL", "42B", "212h", "É", "PEÑ", "a\x00b", " SP", "N/A"])


@settings(deadline=None)
@given(st.lists(CODES, max_size=40))
def test_text_matches_the_general_conversion(values):
    """Byte-built strings equal PyArrow's own conversion of the NumPy array, "" as null."""
    a = np.asarray(values, dtype=str) if values else np.zeros(0, dtype="<U1")
    general = pa.array(a, pa.string()).to_pylist() if len(a) else []
    assert text(a).to_pylist() == [None if v == "" else v for v in general]
    if "\x00" not in "".join(values):
        assert general == a.tolist()


@settings(deadline=None)
@given(st.lists(CODES, min_size=1, max_size=60))
def test_factorize_gives_distinct_values_and_an_exact_index(values):
    a = np.asarray(values, dtype=str)
    u, inv = factorize(a)
    assert u[inv].tolist() == a.tolist()
    assert len(set(u.tolist())) == len(u)


def test_classify_all_applies_the_rule_to_every_row():
    rng = np.random.default_rng(4)
    types = np.asarray(["RMV", "DEP", "EXC", "AOC", "WHO", "CFR", "", "AB"])
    decs, oths = np.asarray(["", "X", "V", "T", "U", "I", "G", "XY"]), np.asarray(["", "C", "T", "A", "F", "J", "Y"])
    t, d, o = types[rng.integers(0, 8, 3000)], decs[rng.integers(0, 8, 3000)], oths[rng.integers(0, 7, 3000)]

    def rule(t: str, d: str, o: str) -> str:
        code = ("C" + d[:2]) if d else ("O" + o[:2] if o else "")
        key = t[:3] + code[:3]
        return classify(key[:3], key[4:], key[3]) if len(key) > 3 else ""

    assert classify_all(t, d, o).tolist() == [rule(*x) for x in zip(t.tolist(), d.tolist(), o.tolist(), strict=True)]


def _counters_by_row(col: ColumnSpec, values: list[str | None], codes: frozenset[str] | None) -> dict[str, int]:
    """The ingest report's value counters, one value at a time."""
    import re

    out = dict.fromkeys(("null_tokens", "trimmed", "invalid_codes", "bad_dates"), 0)
    tokens = {t.upper() for t in NULL_TOKENS}
    for v in values:
        if v is None:
            continue
        s = v.strip()
        if s == "" or s.upper() in tokens:
            out["null_tokens"] += 1
            continue
        out["trimmed"] += s != v
        if codes is not None and s.upper() not in codes:
            out["invalid_codes"] += 1
        if col.type == "TIMESTAMP":
            ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?)?", s.upper())
            if ok:
                try:
                    import datetime as dt

                    ok = dt.date.fromisoformat(s[:10]).year >= 1900
                except ValueError:
                    ok = False
            out["bad_dates"] += not ok
    return out


VALUES = st.sampled_from(["D", "N", "R", " D", "D  ", "SP", "n/a", "b6", "  ", "(b)(6)", "???", "NULL", "", "Q9",
                          "2020-01-31 00:00:00.000", "2017-02-30 00:00:00.000", "1753-01-01 00:00:00.000", " 2019-05-01", "2019-13-01"])


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([("A_TblCase", "CUSTODY"), ("B_TblProceeding", "HEARING_DATE")]), st.lists(st.one_of(st.none(), VALUES), max_size=50))
def test_value_counters_per_distinct_value_equal_the_row_by_row_count(where, values):
    from immfacts.sample.columns import shipped_codes

    col = main_tables()[where[0]].column(where[1])
    expected = _counters_by_row(col, values, shipped_codes(col.lookup) if col.lookup else None)
    plain = pa.array(values, pa.string())
    assert column_counters(col, plain) == expected
    vocab = sorted({v for v in values if v is not None})
    if vocab:
        idx = np.asarray([vocab.index(v) if v is not None else 0 for v in values], dtype=np.int64)
        dictionary = coded(pa.array(vocab), idx, np.asarray([v is None for v in values]))
        assert column_counters(col, dictionary) == expected


def test_dates_and_integers_count_nothing_and_read_back_as_text():
    col = main_tables()["B_TblProceeding"].column("HEARING_DATE")
    days = np.asarray([0, -1, 20000, 25000], dtype=np.int64)  # 1970-01-01, null, 2024-10-04, 2038-06-13
    d = dates(days)
    assert as_strings(d).to_pylist() == ["1970-01-01 00:00:00.000", None, "2024-10-04 00:00:00.000", "2038-06-13 00:00:00.000"]
    assert column_counters(col, d) == dict.fromkeys(("null_tokens", "trimmed", "invalid_codes", "bad_dates"), 0)
    i = ints(np.asarray([7, 0, -3]), np.asarray([False, True, False]))
    assert as_strings(i).to_pylist() == ["7", None, "-3"]
    with pytest.raises(IndexError):
        dates(np.asarray([40000]))  # 2079: past the table of formatted days


CELLS = st.one_of(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b c", "É", ""])), min_size=3, max_size=3).map(lambda v: pa.array(v, pa.string())),
    st.lists(st.one_of(st.none(), st.integers(-5, 10**9)), min_size=3, max_size=3).map(lambda v: pa.array(v, pa.int64())),
    st.just(pa.nulls(3, pa.string())),
    st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=3, max_size=3).map(
        lambda v: pa.DictionaryArray.from_arrays(pa.array(v, pa.int32()), vocabulary(("x", "yy", "0830")))),
)


@settings(deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=9))
def test_joined_lines_are_the_fields_tab_separated_and_crlf_terminated(cells):
    expected = ["\t".join("" if c[i].as_py() is None else str(c[i].as_py()) for c in cells) + "\r\n" for i in range(3)]
    assert _join_lines(cells).to_pylist() == expected


def test_background_writer_keeps_the_order_and_reports_errors():
    class KeepOpen(io.BytesIO):
        def close(self):  # keep the bytes readable after the writer closes its stream
            pass

    buf = KeepOpen()
    w = BackgroundWriter(buf)
    pieces = [bytes([i % 251]) * (i * 977) for i in range(60)] + [bytearray(b"end"), memoryview(b"!" * (BackgroundWriter.PIECE + 5))]
    with w:
        for p in pieces:
            w.write(p)
    assert buf.getvalue() == b"".join(bytes(p) for p in pieces)

    class Broken(io.RawIOBase):
        def write(self, b):
            raise OSError("disk full")

    w = BackgroundWriter(Broken())
    w.write(b"x")
    with pytest.raises(OSError, match="disk full"):
        w.close()


def test_a_release_written_in_many_small_chunks_matches_its_truth(tmp_path, monkeypatch):
    """Quotas carried between chunks, orphans spread over chunks: the truth stays exact."""
    import test_sample  # the independent re-scan
    from immfacts.sample import writer

    monkeypatch.setattr(writer, "CHUNK_ROWS", 1_000)
    out = tmp_path / "chunked.zip"
    write_sample(out, scale=0.0005, seed=11, quirk_rates={"overflow": 0.002, "orphan": 0.002, "null_token": 0.003, "duplicate_row": 0.001})
    truth = load_truth(out)
    z = zipfile.ZipFile(out)
    for t in test_sample.TABLES:
        read, loaded, repaired, quarantined = test_sample._rescan(z, t)
        d = truth["tables"][t]
        assert d["rows_read"] == read == d["rows_loaded"] + d["rows_quarantined"]
        assert d["rows_loaded"] == len(loaded)
        assert {k: v for k, v in d["rows_repaired"].items() if v} == dict(repaired)
        assert {k: v for k, v in d["quarantined"].items() if v} == dict(quarantined)
    assert truth["tables"]["B_TblProceeding"]["entity_rows"] > 3 * writer.CHUNK_ROWS
    assert truth["tables"]["B_TblProceeding"]["quirks"].get("overflow", 0) == 0  # no free text there
    assert truth["tables"]["A_TblCase"]["quirks"]["overflow"] > 0
    assert sum(d["orphans"] for d in truth["tables"].values()) == sum(d["quirks"].get("orphan", 0) for d in truth["tables"].values()) > 0


def test_calibrated_values_never_carry_control_characters():
    """The real release has ESC/^A values (CHG_STATUS, APPEAL_RSVD, DEC); an ingest strips
    them, so the generator only writes them as counted control_char quirks."""
    import re

    from immfacts.sample.calib import frequencies, valid_frequencies

    raw = [k for k, vals in frequencies().items() if any(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", v) for v, _ in vals)]
    assert ("B_TblProceedCharges", "CHG_STATUS") in raw
    for table, column in raw:
        vals, p = valid_frequencies(table, column)
        assert not any(re.search(r"[\x00-\x08\x0b-\x1f\x7f]", v) for v in vals.tolist())
        assert abs(p.sum() - 1) < 1e-9
