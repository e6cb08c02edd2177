"""The data-quality view of an ingest report: the invariant is checked, not trusted."""

import json
from pathlib import Path

from immfacts.warehouse import Warehouse
from immfacts.web.quality import quality, summarize_report, table_quality

FIXTURE_WH = Path(__file__).parent / "fixtures" / "web" / "warehouse"


def _report():
    return json.loads((FIXTURE_WH / "releases" / "2024-07-01-sample" / "report.json").read_text())


def test_table_that_does_not_add_up_is_flagged():
    s = summarize_report(_report())
    by_name = {t["name"]: t for t in s["tables"]}
    assert by_name["A_TblCase"]["reconciled"] is True
    assert by_name["B_TblProceeding"]["reconciled"] is False  # 15 read != 14 + 0
    assert s["all_reconciled"] is False


def test_quarantine_reasons_and_repairs_are_totalled_across_tables():
    s = summarize_report(_report())
    assert s["quarantine_reasons"] == {"duplicate_row": 2, "empty_primary_key": 1, "continuation_line": 1}
    assert s["repair_kinds"] == {"nul_stripped": 2, "overflow_merged": 1, "short_row_padded": 1}
    assert (s["rows_read"], s["rows_loaded"], s["rows_quarantined"]) == (32, 27, 4)


def test_count_txt_agreement_states():
    s = {t["name"]: t["count_status"] for t in summarize_report(_report())["tables"]}
    assert s == {"A_TblCase": "agrees", "B_TblProceeding": "differs", "tbl_Court_Appln": "absent"}
    assert summarize_report(_report())["count_txt_disagreements"] == ["B_TblProceeding"]


def test_value_counters_keep_only_columns_with_findings():
    t = table_quality("A_TblCase", _report()["tables"]["A_TblCase"])
    assert list(t["column_values"]) == ["CASE_TYPE"]
    assert t["value_totals"] == {"null_tokens": 1, "trimmed": 3, "invalid_codes": 1, "bad_dates": 0}


def test_missing_fields_read_as_zero_not_crash():
    t = table_quality("X", {"rows_read": 3})
    assert t["rows_loaded"] == 0 and t["reconciled"] is False and t["count_status"] == "absent"


def test_quality_of_release_without_report_says_so():
    q = quality(Warehouse(FIXTURE_WH), "2024-06-01-real")
    assert q["release_id"] == "2024-06-01-real" and q["report"] is None
