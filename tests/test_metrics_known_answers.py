"""Known answers: on SYNTHETIC sample releases every metric the generator's truth covers is exact.

The generator computes its truth sidecar from its own entities with the default rules of
docs/definitions.md (NumPy/pandas, not the engine); here each release is ingested and every
covered metric is compared with it for every fiscal year, for several scales and seeds.
"""

from __future__ import annotations

import json

import pytest

import immfacts
from immfacts.warehouse import Warehouse

# Two seeds at the smallest scale, and a ten times larger release (the slowest: sample + ingest);
# then a small release whose model is built in buckets of 1,500 cases, as a large one's is.
CASES = [
    pytest.param((0.001, 1, None), id="scale0.001-seed1"),
    pytest.param((0.001, 2, None), id="scale0.001-seed2"),
    pytest.param((0.01, 3, None), id="scale0.01-seed3", marks=pytest.mark.slow),
    pytest.param((0.001, 4, 1500), id="scale0.001-seed4-buckets"),
]


@pytest.fixture(scope="module", params=CASES)
def release(request, tmp_path_factory):
    scale, seed, per_bucket = request.param
    d = tmp_path_factory.mktemp(f"sample_{scale}_{seed}")
    immfacts.sample(d / "s.zip", scale=scale, seed=seed)
    mp = pytest.MonkeyPatch()
    if per_bucket:
        mp.setenv("IMMFACTS_MODEL_BUCKET_CASES", str(per_bucket))
    try:
        report = immfacts.ingest(d / "s.zip", warehouse=d / "wh")
    finally:
        mp.undo()
    assert (report.model["buckets"]["count"] > 1) == bool(per_bucket)
    truth = json.loads((d / "s.truth.json").read_text())
    return Warehouse(d / "wh"), truth["metrics"]


def _by_fy(wh: Warehouse, metric: str, variant: str | None, years: list[str]) -> dict[str, dict]:
    """One query per metric: grouped by fiscal year (stocks are taken on each September 30)."""
    r = wh.metric(metric, variant=variant, by="fy", period=f"{min(years)}..{max(years)}")
    return {row["fy"]: row for row in r.rows}


def _expected_and_actual(wh: Warehouse, key: str, per_fy: dict) -> list[tuple[str, object, object]]:
    metric, _, variant = key.partition(":")
    rows = _by_fy(wh, metric, variant or None, sorted(per_fy))
    out = []
    for fy, want in per_fy.items():
        row = rows.get(fy)
        if row is None:
            got: object = None
        elif metric == "eoir.completions_by_outcome":
            got = {k: v for k, v in row["components"].items() if not k.endswith("_share") and v}
            want = {k: v for k, v in want.items() if v}
        elif metric == "eoir.asylum.closed_without_merits":
            got = {"total": row["value"], **{k: row["components"][k] for k in want if k != "total"}}
        elif metric == "eoir.asylum.allowed_to_stay_rate":
            got = {"numerator": row["numerator"], "denominator": row["denominator"]}
        else:
            got = row["value"]
        out.append((fy, want, got))
    return out


def test_every_metric_in_the_truth_equals_it_for_every_fiscal_year(release):
    wh, truth = release
    assert len(truth) >= 10
    mismatches = []
    for key, per_fy in truth.items():
        for fy, want, got in _expected_and_actual(wh, key, per_fy):
            if want != got:
                mismatches.append(f"{key} {fy}: truth {want} != engine {got}")
    assert not mismatches, "\n".join(mismatches)


def test_results_from_a_sample_release_are_labelled_synthetic(release):
    wh, _ = release
    d = wh.metric("eoir.completions").to_dict()
    assert d["synthetic"] is True and "SYNTHETIC" in d["label"]
