"""Decoding proceeding outcomes: (case type, code, decision type) → outcome class.

EOIR re-uses letters: ``T`` in ``DEC_CODE`` (a C-type code) is *Terminated*, ``T`` in
``OTHER_COMP`` (an O-type code) is *Transfer*; ``V`` is voluntary departure for RMV but
*Vacate* for CFR. So decoding never looks at a letter alone:

* O-type codes (``OTHER_COMP``) are classified by code: admin closure codes (``A, B, K, M,
  Y``; ``P`` under ``tps_as_admin_closure``), ``C`` change of venue, ``T`` transfer, ``F``
  failure to prosecute, anything else ``other``. ``C``, ``T`` and ``J`` (jurisdiction
  transferred to the BIA) are not terminal.
* C-type codes (``DEC_CODE``) are classified by the description of the release's own
  ``tblLookupCourtDecision`` row for ``(proceeding CASE_TYPE, code, 'C')``, first matching rule
  of ``ModelRules.description_rules`` (``pd_termination`` before ``termination``); a code with
  no such row decodes to ``other`` with the raw code kept.

If a release ships no lookup, the bundled EOIR lookup (:mod:`immfacts.data`) is used.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis import _

from immfacts.model.rules import ModelRules
from immfacts.model.staged import COURT_DECISION_LOOKUP, find_column, lookup_path

_LOOKUP_COLUMNS = ("strCaseType", "strDecCode", "strDecType", "strDecDescription")


def bundled_court_decisions() -> ir.Table:
    """The bundled EOIR tblLookupCourtDecision (immfacts/data/lookups) as an in-memory table."""
    from immfacts.data import bundled_lookup_path, read_lookup

    rows = read_lookup(bundled_lookup_path(COURT_DECISION_LOOKUP))
    return ibis.memtable(pa.table({c: [r.get(c) for r in rows] for c in _LOOKUP_COLUMNS},
                                  schema=pa.schema([(c, pa.string()) for c in _LOOKUP_COLUMNS])))


def court_decision_lookup(con, release_dir: Path | None) -> tuple[ir.Table, str]:
    """The release's tblLookupCourtDecision (or the bundled one) and where it came from."""
    path = lookup_path(release_dir, COURT_DECISION_LOOKUP) if release_dir else None
    if path is None:
        return bundled_court_decisions(), "bundled"
    t = con.read_parquet(str(path), table_name="lookup_court_decision")
    cols = {n: find_column(t, n) for n in _LOOKUP_COLUMNS}
    if any(v is None for v in cols.values()):
        return bundled_court_decisions(), "bundled (release lookup lacks columns)"
    return t.select(**{n: t[c].cast("string") for n, c in cols.items()}), "release"


def _norm(col: ir.StringValue) -> ir.StringValue:
    return col.strip().upper()


def other_completion_class(code: ir.StringValue, rules: ModelRules) -> ir.StringValue:
    """Outcome class of an O-type (OTHER_COMP) code."""
    admin = list(rules.admin_closure_codes) + (["P"] if rules.tps_as_admin_closure else [])
    return ibis.cases(
        (code.isin(admin), "admin_closure"),
        (code == rules.change_of_venue_code, "change_of_venue"),
        (code == rules.transfer_code, "transfer"),
        (code == rules.failure_to_prosecute_code, "failure_to_prosecute"),
        else_="other",
    )


def classify(lookup: ir.Table, rules: ModelRules) -> ir.Table:
    """One row per (case_type, code, decision_kind) of the lookup with its description and,
    for C-type rows, the outcome class its description gives (O-type rows: by code).

    Duplicate natural keys (lookups carry them) keep the first description alphabetically,
    so the result does not depend on file order.
    """
    t = lookup.select(
        case_type=_norm(_.strCaseType),
        code=_norm(_.strDecCode),
        decision_kind=_norm(_.strDecType),
        description=_.strDecDescription.strip(),
    ).filter(_.case_type.notnull(), _.code.notnull(), _.decision_kind.isin(["C", "O"]))
    t = t.group_by(["case_type", "code", "decision_kind"]).aggregate(description=_.description.min())
    desc = t.description.lower().fill_null("")
    branches = []
    for cls, all_of, any_of in rules.description_rules:
        cond = ibis.literal(True)
        for s in all_of:
            cond = cond & desc.contains(s)
        if any_of:
            any_cond = ibis.literal(False)
            for s in any_of:
                any_cond = any_cond | desc.contains(s)
            cond = cond & any_cond
        branches.append((cond, cls))
    c_class = ibis.cases(*branches, else_="other")
    return t.mutate(
        outcome_class=ibis.cases((t.decision_kind == "O", other_completion_class(t.code, rules)), else_=c_class)
    )
