"""The pre-pass's line numbers, property-based: whatever mix of plain, full and bad lines a
table holds, and wherever the blocks are cut, every line of each data file maps back to its
physical line number in the original file (which quarantine reports and duplicate checks
cite)."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immfacts.ingest import prepass
from immfacts.ingest.layout import build_layout
from immfacts.ingest.prepass import Prepass
from immfacts.ingest.table import screen_of
from immfacts.schema import main_tables

SPEC = main_tables()["tbl_schedule"]
LAYOUT = build_layout(SPEC, [c.name for c in SPEC.columns], "test", lambda lookup: None)
CODE = next(c.pos for c in LAYOUT.columns if c.role == "code")


def _line(number: int, kind: str) -> bytes:
    """A data line whose key is its physical line number: plain, full (a lower-case code) or
    bad (a NUL byte)."""
    f = ["1" if c.role in ("pk", "key") else "2020-01-02 00:00:00.000" if c.role == "ts" else "7" if c.role == "int" else "X"
         for c in LAYOUT.columns]
    f[LAYOUT.pk_pos] = str(number)
    if kind == "full":
        f[CODE] = "xy"
    elif kind == "bad":
        f[CODE] = "X\x00"
    return "\t".join(f).encode("latin-1")


# runs of one kind, as tables hold them: long stretches of plain lines, or of full lines (a
# table whose every line needs the full SELECT), broken by scattered others
runs = st.lists(st.tuples(st.sampled_from(["plain", "full", "bad"]), st.integers(1, 40)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(runs, st.sampled_from([256, 1024, 1 << 16]))
def test_every_line_of_each_data_file_maps_back_to_its_line_number(tmp_path, monkeypatch, kinds, block):
    monkeypatch.setattr(prepass, "BLOCK", block)  # many blocks: runs cut at block edges
    kinds = [k for k, n in kinds for _ in range(n)]
    header = "\t".join(c.name for c in LAYOUT.columns).encode()
    body = [_line(i + 2, k) for i, k in enumerate(kinds)]  # the header is line 1
    pp = Prepass(io.BytesIO(b"\r\n".join([header, *body]) + b"\r\n"))
    pp.read_header()
    res = pp.run(tmp_path / "t", LAYOUT.n, LAYOUT.pk_pos, 1 << 20, 10**6, screen_of(LAYOUT))

    assert [b.line_no for b in res.bad] == [i + 2 for i, k in enumerate(kinds) if k == "bad"]
    for path, numbers, kind in ((res.plain_path, res.plain_line_numbers, "plain"), (res.full_path, res.full_line_numbers, "full")):
        with open(path, "rb") as fh:
            keys = [int(line.split(b"\t")[LAYOUT.pk_pos]) for line in fh.read().splitlines()]
        assert keys == [i + 2 for i, k in enumerate(kinds) if k == kind]
        assert numbers(np.arange(len(keys), dtype=np.int64)).tolist() == keys


def test_a_table_of_full_lines_keeps_a_run_per_block_not_a_number_per_line(tmp_path, monkeypatch):
    monkeypatch.setattr(prepass, "BLOCK", 4096)
    header = "\t".join(c.name for c in LAYOUT.columns).encode()
    body = [_line(i + 2, "full") for i in range(5000)]
    data = b"\r\n".join([header, *body]) + b"\r\n"
    pp = Prepass(io.BytesIO(data))
    pp.read_header()
    res = pp.run(tmp_path / "t", LAYOUT.n, LAYOUT.pk_pos, 1 << 20, 10**6, screen_of(LAYOUT))
    assert res.plain_lines == 0 and res.good == 5000
    assert len(res.full_runs) <= len(data) // 4096 + 2  # one run per block at most
    assert res.full_line_numbers(np.array([0, 4999])).tolist() == [2, 5001]
