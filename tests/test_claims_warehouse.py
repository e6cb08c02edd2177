"""EOIR claims against a hand-made warehouse (the model's trap fixtures): every variant, SQL, labels."""

import sys
from pathlib import Path

import pytest

import immfacts
from immfacts.claims import compute as cmod

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "model"))
import helpers  # noqa: E402

TEXT = ("Judges issued 30 removal orders in fiscal 2023. "
        "In fiscal 2023, the asylum grant rate was 50 percent. "
        "The immigration court backlog stood at 40 cases at the end of fiscal 2023.")


def _home(tmp_path_factory, synthetic):
    home = tmp_path_factory.mktemp("claims_traps_synth" if synthetic else "claims_traps_real")
    helpers.make_release(home, helpers.all_fixtures(), data_date="2024-12-31", synthetic=synthetic)
    return home


@pytest.fixture(scope="module")
def synthetic_wh(tmp_path_factory):
    cmod._SHARED.clear()
    return _home(tmp_path_factory, True)


@pytest.fixture(scope="module")
def real_wh(tmp_path_factory):
    cmod._SHARED.clear()
    return _home(tmp_path_factory, False)


def test_eoir_claims_are_computed_under_every_variant_with_sql(synthetic_wh):
    d = immfacts.check(TEXT, as_of="2024-06-04", warehouse=synthetic_wh).to_dict()
    by_metric = {c["metric"]: c for c in d["claims"]}
    backlog = by_metric["eoir.pending"]
    wh_values = [v for v in backlog["computed"] if v["source"] == "warehouse"]
    assert {v["variant"] for v in wh_values} >= {"active", "including_inactive"}
    assert all(v["period"]["end"] == "2023-09-30" for v in wh_values if v.get("period"))
    src = next(s for s in backlog["provenance"]["sources"] if s["metric"] == "eoir.pending")
    assert src["sql"] and src["release"]["id"] == "093024-FOIA-TRAC-FILES"
    # EOIR's published figure for the same date is shown next to the warehouse's
    assert any(v["source"] == "published" and v["metric"] == "eoir.published.pending" for v in backlog["computed"])


def test_synthetic_warehouse_verdicts_are_illustrative(synthetic_wh):
    d = immfacts.check(TEXT, as_of="2024-06-04", warehouse=synthetic_wh).to_dict()
    assert d["synthetic"] is True
    orders = next(c for c in d["claims"] if c["metric"] == "eoir.removal_orders")
    assert orders["illustrative"] is True and orders["verdict"] != "not_checkable"


def test_real_warehouse_values_decide_the_verdict(real_wh):
    d = immfacts.check(TEXT, as_of="2024-06-04", warehouse=real_wh).to_dict()
    orders = next(c for c in d["claims"] if c["metric"] == "eoir.removal_orders")
    assert orders["illustrative"] is False
    default = next(v for v in orders["computed"] if v["default"] and v["primary_reading"])
    assert default["source"] == "warehouse"
    expected = immfacts.Warehouse(real_wh).metric("eoir.removal_orders", period="FY2023").value
    assert default["value"] == expected


def test_no_warehouse_means_data_not_loaded_for_eoir_only(tmp_path):
    cmod._SHARED.clear()
    d = immfacts.check("Judges issued 30 removal orders in fiscal 2023. CBP reported 3,201,144 encounters nationwide in fiscal 2023.",
                       as_of="2024-06-04", warehouse=tmp_path).to_dict()
    orders, enc = d["claims"]
    assert orders["verdict"] == "not_checkable" and orders["reason"].startswith("data not loaded")
    assert enc["verdict"] == "consistent"
