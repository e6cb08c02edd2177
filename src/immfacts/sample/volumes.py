"""Yearly volumes of the sample: how many cases arrive and finish in each fiscal year.

FY2016–FY2026 follow EOIR's published receipts and completions (scale × published; the FY2026
row covers two quarters, so later years run at twice its rate, pro-rated to the data date).
Earlier years are not published in the calibration data: receipts are spread evenly so that
the case-type totals match the real release at scale 1.0 (EOIR_DOMAIN.md §1.2), DEP/EXC before
IIRIRA (1997-04-01) and RMV/AOC/WHO after; completions before FY2016 let the pending stock grow
linearly to the level the published FY2016 row implies for the end of FY2015.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from immfacts.sample.calib import REAL_CASES, frequencies, published_annual

EPOCH = dt.date(1970, 1, 1)
FIRST_FY = 1992
IIRIRA = dt.date(1997, 4, 1)
DEFAULT_DATA_DATE = dt.date(2026, 7, 8)
CASE_TYPES = ("RMV", "DEP", "EXC", "AOC", "WHO", "CFR", "RFR", "DDC", "REC", "CSR", "NAC", "CDR")


def day(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def fy_start(fy: int) -> int:
    return day(dt.date(fy - 1, 10, 1))


def fy_end(fy: int) -> int:
    return day(dt.date(fy, 9, 30))


def fy_of(days: np.ndarray) -> np.ndarray:
    """Fiscal year of each day number (``fy(d) = d.year + (d.month >= 10)``)."""
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(int) + 1970
    m = (d.astype("datetime64[M]").astype(int) % 12) + 1
    return y + (m >= 10)


def case_type_counts(scale: float) -> dict[str, float]:
    """Expected cases per case type at this scale (real A_TblCase shares × 12.66M × scale)."""
    freq = dict(frequencies()[("A_TblCase", "CASE_TYPE")])
    n = {t: float(freq.get(t, 0)) for t in CASE_TYPES}
    tot = sum(n.values())
    return {t: REAL_CASES * scale * v / tot for t, v in n.items()}


def _published_rate(fy: int) -> tuple[float, float]:
    """(receipts, completions) per full year for FY ≥ 2016."""
    pub = published_annual()
    last = max(pub)
    if fy < last:
        _, r, c = pub[fy]
        return float(r), float(c)
    _, r, c = pub[last]  # the last row covers two quarters
    return 2.0 * r, 2.0 * c


def _fraction_of_fy(fy: int, until: int) -> float:
    s, e = fy_start(fy), fy_end(fy)
    return max(0.0, min(1.0, (until - s + 1) / (e - s + 1)))


def yearly_targets(scale: float, data_date: dt.date) -> dict[int, tuple[float, float]]:
    """``FY → (expected in-scope receipts, target in-scope completions)`` up to the data date.

    RMV/AOC/WHO receipts only; DEP/EXC receipts (before IIRIRA) are drawn separately.
    """
    counts = case_type_counts(scale)
    rmv_era = counts["RMV"] + counts["AOC"] + counts["WHO"]
    dd = day(data_date)
    default_dd = day(DEFAULT_DATA_DATE)
    pub_first = min(published_annual())
    published_part = sum(_published_rate(fy)[0] * scale * _fraction_of_fy(fy, default_dd) for fy in range(pub_first, 2027))
    filler_days = fy_start(pub_first) - day(IIRIRA)
    filler_per_day = max(0.0, rmv_era - published_part) / filler_days
    pend_2015 = max(0.0, published_annual()[pub_first][0] - published_annual()[pub_first][1] + published_annual()[pub_first][2]) * scale
    out: dict[int, tuple[float, float]] = {}
    last_fy = int(fy_of(np.asarray([dd]))[0])
    dep_exc = counts["DEP"] + counts["EXC"]
    dep_days = day(IIRIRA) - fy_start(FIRST_FY)
    n_pre = pub_first - FIRST_FY
    for fy in range(FIRST_FY, last_fy + 1):
        frac = _fraction_of_fy(fy, dd)
        if fy >= pub_first:
            r, c = _published_rate(fy)
            out[fy] = (r * scale * frac, c * scale * frac)
            continue
        lo, hi = max(fy_start(fy), day(IIRIRA)), fy_end(fy)
        r = filler_per_day * max(0, hi - lo + 1)
        dep = dep_exc * max(0, min(fy_end(fy), day(IIRIRA) - 1) - fy_start(fy) + 1) / dep_days
        # completions let the pending stock grow evenly to the FY2015 level
        c = r + dep - pend_2015 / n_pre
        out[fy] = (r * frac, max(0.0, c) * frac)
    return out
