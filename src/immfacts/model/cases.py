"""The ``cases`` model table: one row per ``IDNCASE`` of ``A_TblCase``, proceedings collapsed.

Collapse rules (docs/definitions.md, "Cases"; EOIR_DOMAIN.md §2.2):

* ``receipt_date`` = earliest ``INPUT_DATE`` of the case's proceedings
  (``receipt_date_osc`` = earliest ``OSC_DATE``, for the ``osc_date`` variant);
* the **final proceeding** is the last by ``(COMP_DATE nulls last, IDNPROCEEDING)``; the case
  is ``completed`` when that proceeding is completed with a terminal class, and then
  ``final_outcome`` / ``final_comp_date`` / ``final_absentia`` are that proceeding's;
* the **initial completion** is the earliest terminal completion (``initial_comp_date``,
  ``initial_outcome``);
* court, hearing location and judge are the final proceeding's; nationality, language,
  custody, representation (``E_28_DATE`` set at some point) and asylum type
  (``C_ASY_TYPE``: ``I`` affirmative, ``E`` defensive) are the case's.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from immfacts.model.rules import ModelRules

# Composite ordering keys: day number since 1900-01-01 times this, plus the row id.
KEY_FACTOR = 10**10
_NO_DATE_LAST = 10**6


def day_number(d: ir.DateValue) -> ir.IntegerValue:
    """Days since 1900-01-01 (dates before 1900 are NULL after ingest, so this is >= 0)."""
    return d.delta(ibis.date(1900, 1, 1), unit="day")


def asylum_type(code: ir.StringValue) -> ir.StringValue:
    """``C_ASY_TYPE`` as a label: affirmative (I), defensive (E), unknown (anything else)."""
    c = code.strip().upper()
    return ibis.cases((c == "I", "affirmative"), (c == "E", "defensive"), else_="unknown")


def label_table(t: ir.Table, code_col: str, label_col: str) -> ir.Table:
    """A lookup reduced to one label per upper-cased code."""
    return (
        t.select(code=t[code_col].cast("string").strip().upper(), label=t[label_col].cast("string").strip())
        .filter(_.code.notnull())
        .group_by("code")
        .aggregate(label=_.label.min())
    )


def attach_labels(t: ir.Table, labels: dict[str, ir.Table | None], columns: dict[str, str]) -> ir.Table:
    """Add ``<column>_name`` for each ``{column: labelled dimension}`` of ``t``."""
    for col, dim in columns.items():
        lk = labels.get(dim)
        if lk is None:
            t = t.mutate(**{f"{col}_name": ibis.null("string")})
            continue
        lk = lk.rename(**{f"__code_{col}": "code", f"{col}_name": "label"})
        t = t.left_join(lk, t[col] == lk[f"__code_{col}"]).drop(f"__code_{col}")
    return t


LABELLED = {"court": "court", "hearing_location": "hearing_location", "judge": "judge",
            "nationality": "nationality", "language": "language"}


def cases(case: ir.Table, procs: ir.Table, labels: dict[str, ir.Table | None], rules: ModelRules) -> ir.Table:
    """Build the cases table from staged A_TblCase and the proceedings model table."""
    p = procs.filter(~_.orphan)
    p = p.mutate(
        fkey=ibis.cases((p.comp_date.isnull(), _NO_DATE_LAST), else_=day_number(p.comp_date)) * KEY_FACTOR
        + p.idnproceeding,
        ikey=ibis.cases((p.terminal, day_number(p.comp_date) * KEY_FACTOR + p.idnproceeding), else_=ibis.null("int64")),
    )
    # The final proceeding's columns travel through the aggregate (an arg_max over a struct):
    # joining the proceedings back by id would reference ``p`` three times, which DuckDB
    # materialises in memory and cannot spill (docs/performance.md, "Memory, third round").
    final = ibis.struct(dict(
        final_idnproceeding=p.idnproceeding, f_completed=p.completed, f_terminal=p.terminal,
        f_class=p.outcome_class, f_comp=p.comp_date, f_absentia=p.absentia, f_code=p.code,
        f_kind=p.decision_kind, court=p.court, hearing_location=p.hearing_location, judge=p.judge,
    ))
    agg = p.group_by("idncase").aggregate(
        receipt_date=_.input_date.min(),
        receipt_date_osc=_.osc_date.min(),
        n_proceedings=_.count(),
        final=final.argmax(p.fkey),
        initial_comp_date=_.comp_date.min(where=_.terminal),
        initial_outcome=p.outcome_class.argmin(p.ikey, where=p.terminal),
    ).unpack("final")
    c = case.select(
        idncase=_.IDNCASE,
        case_type=_.CASE_TYPE.strip().upper(),
        nationality=_.NAT.strip().upper(),
        language=_.LANG.strip().upper(),
        custody=_.CUSTODY.strip().upper(),
        represented=ibis.cases((_.E_28_DATE.notnull(), "represented"), else_="unrepresented"),
        asylum_type=asylum_type(_.C_ASY_TYPE),
    )
    j = c.left_join(agg, c.idncase == agg.idncase).drop("idncase_right")
    done = j.f_terminal.fill_null(False)
    out = j.select(
        "idncase",
        "case_type",
        in_scope=j.case_type.isin(list(rules.in_scope_case_types)).fill_null(False),
        nationality=j.nationality,
        language=j.language,
        custody=j.custody,
        represented=j.represented,
        asylum_type=j.asylum_type,
        receipt_date=j.receipt_date,
        receipt_date_osc=j.receipt_date_osc,
        n_proceedings=j.n_proceedings.fill_null(0),
        final_idnproceeding=j.final_idnproceeding,
        completed=done,
        final_outcome=ibis.cases((done, j.f_class), else_=ibis.null("string")),
        final_comp_date=ibis.cases((done, j.f_comp), else_=ibis.null("date")),
        final_absentia=done & j.f_absentia.fill_null(False),
        final_code=ibis.cases((done, j.f_code), else_=ibis.null("string")),
        final_decision_kind=ibis.cases((done, j.f_kind), else_=ibis.null("string")),
        admin_closed_now=done & (j.f_class == "admin_closure").fill_null(False),
        initial_comp_date=j.initial_comp_date,
        initial_outcome=j.initial_outcome,
        court=j.court,
        hearing_location=j.hearing_location,
        judge=j.judge,
    )
    return attach_labels(out, labels, LABELLED)
