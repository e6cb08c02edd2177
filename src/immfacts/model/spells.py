"""Status spells: when each case (and each asylum application) is pending, as date intervals.

Stocks ("pending at D") are answered from spells, so any number of dates costs one scan.
docs/definitions.md, "Stocks at a date D": take the case's last proceeding by
``(INPUT_DATE, IDNPROCEEDING)`` among those with ``INPUT_DATE <= D``. That proceeding is
*in force* from its ``INPUT_DATE`` until the next proceeding's ``INPUT_DATE``; within that
interval the case is

* ``active`` before the proceeding's completion (or throughout, if it never completes, or
  after a non-terminal completion such as a change of venue);
* ``inactive`` from an admin-closure completion on (a recalendared case has a newer
  proceeding, whose spell makes it active again);
* completed otherwise (completed intervals are not stored).

``case_spells`` rows are half-open ``[spell_start, spell_end)`` (``spell_end`` NULL = still
open at the data date). ``proceeding_open`` marks the part before the in-force proceeding's
completion. ``asylum_application_spells`` narrows the open part of a proceeding to each of its
ASYL applications from the received date on: EOIR's "pending asylum applications" counts
those, never the whole court backlog.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from immfacts.model.cases import attach_labels
from immfacts.model.rules import ModelRules

CASE_DIMS = ("in_scope", "case_type", "nationality", "language", "custody", "represented",
             "asylum_type", "receipt_date", "nationality_name", "language_name")


def _least(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """The earlier of two dates, NULL meaning 'open' (infinitely late)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), (a < b, a), else_=b)


def case_spells(procs: ir.Table, cases: ir.Table, labels: dict[str, ir.Table | None], rules: ModelRules) -> ir.Table:
    """Active and inactive spells of every (non-orphan) case."""
    p = procs.filter(~_.orphan, _.input_date.notnull())
    w = ibis.window(group_by=p.idncase, order_by=[p.input_date, p.idnproceeding])
    p = p.mutate(next_start=p.input_date.lead().over(w))
    comp = ibis.cases((p.completed, p.comp_date), else_=ibis.null("date"))
    p = p.mutate(comp=comp)
    p = p.mutate(mid=ibis.cases((p.comp.isnull(), ibis.null("date")), (p.comp < p.input_date, p.input_date), else_=p.comp))
    cols = dict(idncase=p.idncase, idnproceeding=p.idnproceeding, court=p.court,
                hearing_location=p.hearing_location, judge=p.judge)
    open_part = p.select(
        **cols,
        spell_start=p.input_date,
        spell_end=ibis.cases((p.mid.isnull(), p.next_start), else_=_least(p.next_start, p.mid)),
        status=ibis.literal("active"),
        proceeding_open=ibis.literal(True),
    )
    closed = p.filter(p.mid.notnull())
    closed_part = closed.select(
        idncase=closed.idncase, idnproceeding=closed.idnproceeding, court=closed.court,
        hearing_location=closed.hearing_location, judge=closed.judge,
        spell_start=closed.mid,
        spell_end=closed.next_start,
        status=ibis.cases(
            (~closed.terminal, "active"),
            (closed.outcome_class == "admin_closure", "inactive"),
            else_="completed",
        ),
        proceeding_open=ibis.literal(False),
    )
    s = ibis.union(open_part, closed_part)
    s = s.filter(s.status != "completed", s.spell_end.isnull() | (s.spell_start < s.spell_end))
    c = cases.select("idncase", *CASE_DIMS).rename(c_idn="idncase")
    s = s.inner_join(c, s.idncase == c.c_idn).drop("c_idn")
    return attach_labels(s, labels, {"court": "court", "hearing_location": "hearing_location", "judge": "judge"})


def asylum_application_spells(apps: ir.Table, spells: ir.Table, rules: ModelRules) -> ir.Table:
    """Spells during which an ASYL application is pending (its proceeding open, case active)."""
    a = apps.filter(~_.orphan, _.appl_code.isin(list(rules.asylum_codes))).select(
        a_idn=_.idnproceedingappln, a_proc=_.idnproceeding, recd_date=_.recd_date
    )
    s = spells.filter(_.proceeding_open, _.status == "active")
    j = a.inner_join(s, a.a_proc == s.idnproceeding)
    start = ibis.cases((j.recd_date.isnull(), j.spell_start), (j.recd_date > j.spell_start, j.recd_date),
                       else_=j.spell_start)
    j = j.mutate(spell_start=start).rename(idnproceedingappln="a_idn").drop("a_proc", "recd_date")
    return j.filter(j.spell_end.isnull() | (j.spell_start < j.spell_end))
