"""Plain-English descriptions of exported columns (raw EOIR columns, decoded labels, model).

Raw columns are described from EOIR's own field definitions (bundled
``data/column_definitions.json``, see ``data/PROVENANCE.md``), corrected for the columns
whose name several tables share; decoded-label columns say which lookup they come from; the
canonical model's columns are described here, after docs/definitions.md.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

# Table-specific wording where the shared, name-keyed definitions describe another table's
# column (EOIR_DOMAIN.md §1.4, from the deportationdata codebook).
OVERRIDES: dict[tuple[str, str], str] = {
    ("B_TblProceeding", "INPUT_DATE"): "Date the proceeding record was created (not necessarily the filing date)",
    ("B_TblProceeding", "COMP_DATE"): "Date of the decision (DEC_CODE) or other completion (OTHER_COMP) of the proceeding",
    ("B_TblProceeding", "OSC_DATE"): "Date the charging document (NTA, or OSC before 1997) was issued",
    ("B_TblProceeding", "DEC_CODE"): "Merits decision; decode by (CASE_TYPE, DEC_CODE) in tblLookupCourtDecision rows with strDecType 'C'",
    ("B_TblProceeding", "OTHER_COMP"): "Other (administrative) completion; decode by (CASE_TYPE, OTHER_COMP) in tblLookupCourtDecision rows with strDecType 'O'",
    ("B_TblProceeding", "ABSENTIA"): "Y = the decision was an in-absentia order",
    ("B_TblProceeding", "CUSTODY"): "Custody status at completion: N never detained, R released, D detained",
    ("A_TblCase", "GENDER"): "Sex of the respondent (column named Sex in newer releases)",
    ("A_TblCase", "E_28_DATE"): "Date a representative filed an EOIR-28 (overwritten; non-null = represented at some point)",
    ("tbl_Court_Appln", "APPL_RECD_DATE"): "Date the application for relief was received",
    ("tbl_Court_Appln", "APPL_CODE"): "Type of application for relief (ASYL asylum, ASYW withholding, WCAT CAT, 42B cancellation …)",
    ("tbl_Court_Appln", "APPL_DEC"): "Decision on the application (G/F/C/I/P grants, D deny, A abandoned, W withdrawn …)",
}

MODEL: dict[str, str] = {
    "idncase": "Case id (IDNCASE): one charging document",
    "idnproceeding": "Proceeding id (IDNPROCEEDING): a part of a case, ended by a decision or other completion",
    "idnproceedingappln": "Application id (IDNPROCEEDINGAPPLN)",
    "case_type": "Case type code (RMV removal, DEP, EXC, AOC, WHO, CFR …)",
    "case_case_type": "CASE_TYPE of the proceeding's case (A_TblCase); decides scope",
    "in_scope": "Case type is one EOIR counts in headline statistics (RMV, DEP, EXC, AOC, WHO)",
    "orphan": "The parent record (case, or proceeding) is missing from the release",
    "type_conflict": "The proceeding's CASE_TYPE differs from its case's",
    "input_date": "Date the proceeding record was created (INPUT_DATE)",
    "osc_date": "Date the charging document was issued (OSC_DATE)",
    "comp_date": "Completion date of the proceeding (COMP_DATE)",
    "dec_code": "Raw merits decision code (DEC_CODE)",
    "other_comp": "Raw other-completion code (OTHER_COMP)",
    "completed": "Completed: a completion date with exactly one of DEC_CODE / OTHER_COMP (cases: a terminal final completion)",
    "data_error": "A completion date with both or neither of DEC_CODE and OTHER_COMP",
    "decision_kind": "C = merits decision (DEC_CODE), O = other completion (OTHER_COMP)",
    "code": "The completion code (DEC_CODE or OTHER_COMP)",
    "description": "Description of the completion code in the release's tblLookupCourtDecision",
    "in_lookup": "The completion code is in the release's tblLookupCourtDecision",
    "outcome_class": "Outcome class of the completion (removal, voluntary_departure, relief, termination, pd_termination, dismissal, admin_closure, change_of_venue, transfer, failure_to_prosecute, other)",
    "terminal": "The completion ends the case (not a change of venue, transfer or jurisdiction to the BIA)",
    "absentia": "In-absentia order (ABSENTIA = Y)",
    "court": "Immigration court code (BASE_CITY_CODE)",
    "court_name": "Immigration court name (tblLookupBaseCity)",
    "hearing_location": "Hearing location code (HEARING_LOC_CODE)",
    "hearing_location_name": "Hearing location name (tblLookupHloc)",
    "judge": "Immigration judge code (IJ_CODE)",
    "judge_name": "Immigration judge name (tblLookupJudge)",
    "custody": "Custody status code (N never detained, R released, D detained)",
    "nationality": "Nationality code (NAT)",
    "nationality_name": "Nationality name (tblLookupNationality / tblLookupAlienNat)",
    "language": "Language code (LANG)",
    "language_name": "Language name (tblLanguage)",
    "represented": "represented if an EOIR-28 was ever filed (E_28_DATE set), else unrepresented",
    "asylum_type": "affirmative (C_ASY_TYPE I), defensive (E) or unknown",
    "receipt_date": "Receipt date: the earliest INPUT_DATE of the case's proceedings",
    "receipt_date_osc": "The earliest OSC_DATE of the case's proceedings (osc_date variant)",
    "n_proceedings": "Number of proceedings of the case",
    "final_idnproceeding": "The case's final proceeding (last by COMP_DATE nulls last, IDNPROCEEDING)",
    "final_outcome": "Outcome class of the final proceeding, when the case is completed",
    "final_comp_date": "Completion date of the final proceeding, when the case is completed",
    "final_absentia": "The final completion was an in-absentia order",
    "final_code": "Raw code of the final completion",
    "final_decision_kind": "C (merits decision) or O (other completion) of the final completion",
    "admin_closed_now": "The case's final outcome is an administrative closure (inactive pending)",
    "initial_comp_date": "Date of the case's first terminal completion (EOIR's initial completion)",
    "initial_outcome": "Outcome class of the case's first terminal completion",
    "appl_code": "Application type code (APPL_CODE)",
    "appl_dec": "Application decision code (APPL_DEC)",
    "recd_date": "Date the application was received (APPL_RECD_DATE)",
    "decision": "grant (G, F, C, I, P), deny (D) or non_merits",
    "eoir_other": "A decision EOIR's official rate counts as 'other' (A, M, O, W)",
    "priority": "Rank of the decision in the tie-break F > G > D > C > I > L > P > S > A > R > O > T > W > M",
    "decision_date": "Decision date: the completion date of the application's proceeding",
    "proceeding_input_date": "INPUT_DATE of the application's proceeding",
    "first_record": "First record of this case, application type and received date (later ones are re-recordings)",
    "family": "Asylum family: asyl (ASYL applications) or i589 (ASYL, ASYW, WCAT)",
    "official_category": "EOIR official category: grant, deny, other or none",
    "decision_code": "APPL_DEC of the case's deciding application",
    "decision_idnproceedingappln": "The case's deciding application (the last by received date, priority, id)",
    "decision_idnproceeding": "Proceeding of the deciding application",
    "decision_court": "Court of the deciding proceeding",
    "decision_hearing_location": "Hearing location of the deciding proceeding",
    "decision_judge": "Judge of the deciding proceeding",
    "n_applications": "Number of applications of the family in the case",
    "first_appl_recd_date": "Earliest received date of the case's applications of the family",
    "spell_start": "Start of the interval",
    "spell_end": "End of the interval (exclusive; empty = still open)",
    "status": "Status of the case during the interval (active, inactive, completed)",
    "proceeding_open": "The interval lies within an open proceeding",
}


@functools.cache
def _definitions() -> dict[str, str]:
    text = resources.files("immfacts.lifecycle").joinpath("data", "column_definitions.json").read_text()
    return json.loads(text)


def _raw(column: str) -> str | None:
    d = _definitions()
    text = d.get(column)
    if text is None:
        lower = {k.lower(): v for k, v in d.items()}
        text = lower.get(column.lower())
    if text is None:
        return None
    # "…, type: varchar(3)" — the SQL type is the source database's, not the export's.
    return re.sub(r",\s*type:\s*[\w() ,]+$", "", " ".join(text.split())).strip()


def raw_column(table: str, column: str) -> str:
    """Description of a raw column of ``table`` ('' when unknown)."""
    return OVERRIDES.get((table, column)) or _raw(column) or ""


def label_column(column: str, lookup: str) -> str:
    """Description of the decoded label added beside ``column``."""
    return f"Decoded label of {column} from the release's {lookup} lookup (empty when the code is not in it)"


def model_column(column: str) -> str:
    """Description of a canonical-model column ('' when unknown)."""
    return MODEL.get(column) or _raw(column) or ""
