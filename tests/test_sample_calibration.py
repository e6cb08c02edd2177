"""Code distributions of a 0.01-scale sample are close to the real release's frequencies.

Stated tolerance, as total variation distance between the sample's value shares and the
calibration shares (valid values only; junk values are injected separately as quirks):
* columns drawn directly from the calibration: at most 0.03;
* CASE_TYPE (drawn per case, then truncated at the data date): at most 0.03;
* DEC_CODE and OTHER_COMP (outcomes of the case model, shaped by year): at most 0.15.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from immfacts.sample.calib import valid_frequencies
from immfacts.sample.model import build_entities
from immfacts.sample.tables import sources


@pytest.fixture(scope="module")
def built():
    ent = build_entities(0, 0.01, dt.date(2026, 7, 8))
    srcs = {s.name: s for s in sources(ent)}
    out = {}
    for name in ("A_TblCase", "B_TblProceeding", "tbl_schedule", "B_TblProceedCharges", "tbl_RepsAssigned"):
        s = srcs[name]
        out[name] = s.build(0, min(s.n, 200_000), np.random.default_rng([0, 1, 2]))
    return ent, out


def _tv(sample: list[str], table: str, column: str) -> float:
    vals, p = valid_frequencies(table, column)
    ref = dict(zip(vals.tolist(), p.tolist(), strict=True))
    got = Counter(v for v in sample if v in ref)
    n = sum(got.values())
    assert n > 500
    return 0.5 * sum(abs(got.get(k, 0) / n - ref[k]) for k in ref)


@pytest.mark.parametrize(("table", "column", "tol"), [
    ("A_TblCase", "CUSTODY", 0.03), ("A_TblCase", "CASE_TYPE", 0.03), ("A_TblCase", "GENDER", 0.03),
    ("A_TblCase", "LATEST_CAL_TYPE", 0.03), ("B_TblProceeding", "CRIM_IND", 0.03),
    ("tbl_schedule", "CAL_TYPE", 0.03), ("tbl_schedule", "ADJ_MEDIUM", 0.03), ("B_TblProceedCharges", "CHG_STATUS", 0.03),
    ("tbl_RepsAssigned", "STRATTYLEVEL", 0.03), ("B_TblProceeding", "DEC_CODE", 0.15), ("B_TblProceeding", "OTHER_COMP", 0.15),
])
def test_code_distribution_is_within_tolerance_of_the_calibration(built, table, column, tol):
    _, cols = built
    values = [v for v in cols[table][column].to_pylist() if v is not None]
    assert _tv(values, table, column) <= tol


def test_missingness_follows_the_calibration(built):
    _, cols = built
    a = cols["A_TblCase"]
    n = len(a["IDNCASE"])
    assert abs(a["C_BIRTHDATE"].null_count / n - 0.467) < 0.03
    assert abs(a["DATE_OF_ENTRY"].null_count / n - 0.365) < 0.03


def test_about_a_quarter_of_cases_are_pending(built):
    ent, _ = built
    share = float((ent.cases["comp"] < 0).mean())
    assert 0.22 <= share <= 0.32
