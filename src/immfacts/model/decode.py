"""Decoding proceeding outcomes: (case type, code, decision type) → outcome class.

EOIR re-uses letters: ``T`` in ``DEC_CODE`` (a C-type code) is *Terminated*, ``T`` in
``OTHER_COMP`` (an O-type code) is *Transfer*; ``V`` is voluntary departure for RMV but
*Vacate* for CFR. So decoding always joins the release's own ``tblLookupCourtDecision`` on
the triple ``(strCaseType, strDecCode, strDecType)`` and classifies the *row*:

* O-type rows by code: admin closure codes (``A, B, K, M, Y``; ``P`` under
  ``tps_as_admin_closure``), ``C`` change of venue, ``T`` transfer, ``F`` failure to
  prosecute, anything else ``other``;
* C-type rows by their description, first matching rule of ``ModelRules.description_rules``
  (``pd_termination`` before ``termination``), else ``other``.

Rows whose code is in ``non_terminal_codes`` (``J``, jurisdiction transferred to the BIA) are
not terminal, whatever their class. A code missing from the lookup decodes to ``other``
(terminal) with the raw code kept. If a release ships no lookup, the bundled copy in
``model/data/`` (with its provenance) is used.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow.csv as pacsv
from ibis import _

from immfacts.model.rules import ModelRules
from immfacts.model.staged import COURT_DECISION_LOOKUP, find_column, lookup_path

BUNDLED_LOOKUP = Path(__file__).parent / "data" / "tblLookupCourtDecision.tsv"


def bundled_court_decisions() -> ir.Table:
    """The bundled fallback lookup (see model/data/PROVENANCE.md) as an in-memory table."""
    tbl = pacsv.read_csv(
        BUNDLED_LOOKUP,
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(
            ["strCaseType", "strDecCode", "strDecType", "strDecDescription", "source"], "string")),
    )
    return ibis.memtable(tbl)


def court_decision_lookup(con, release_dir: Path | None) -> tuple[ir.Table, str]:
    """The release's tblLookupCourtDecision (or the bundled one) and where it came from."""
    path = lookup_path(release_dir, COURT_DECISION_LOOKUP) if release_dir else None
    if path is None:
        return bundled_court_decisions(), "bundled"
    t = con.read_parquet(str(path), table_name="lookup_court_decision")
    needed = ("strCaseType", "strDecCode", "strDecType", "strDecDescription")
    cols = {n: find_column(t, n) for n in needed}
    if any(v is None for v in cols.values()):
        return bundled_court_decisions(), "bundled (release lookup lacks columns)"
    return t.select(**{n: t[c].cast("string") for n, c in cols.items()}), "release"


def _norm(col: ir.StringValue) -> ir.StringValue:
    return col.strip().upper()


def classify(lookup: ir.Table, rules: ModelRules) -> ir.Table:
    """One row per (case_type, code, decision_kind) with its outcome class and terminality.

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
    admin = list(rules.admin_closure_codes) + (["P"] if rules.tps_as_admin_closure else [])
    o_class = ibis.cases(
        (t.code.isin(admin), "admin_closure"),
        (t.code == rules.change_of_venue_code, "change_of_venue"),
        (t.code == rules.transfer_code, "transfer"),
        (t.code == rules.failure_to_prosecute_code, "failure_to_prosecute"),
        else_="other",
    )
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
    outcome = ibis.cases((t.decision_kind == "O", o_class), else_=c_class)
    t = t.mutate(outcome_class=outcome)
    return t.mutate(
        terminal=~(
            t.outcome_class.isin(["change_of_venue", "transfer"])
            | t.code.isin(list(rules.non_terminal_codes))
        )
    )
