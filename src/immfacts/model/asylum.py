"""The ``applications`` and ``asylum_cases`` model tables.

``applications``: one row per ``tbl_Court_Appln`` row, with its decision category
(``grant`` = ``G, F, C, I, P``, plus ``L`` for non-ASYL applications; ``deny`` = ``D``;
``non_merits`` = anything else or no decision), ``eoir_other`` (``A, M, O, W``: what EOIR's
official rate adds to its denominator), the decision date (its proceeding's ``COMP_DATE``:
there is no application decision date) and ``first_record`` (false for a later row of the
same case, application type and received date — the same I-589 re-recorded after a change
of venue). Applications whose proceeding is missing are ``orphan`` and excluded below.

``asylum_cases``: one row per (asylum ``family``, case) where family ``asyl`` = cases with an
``ASYL`` application (the default) and ``i589`` = cases with any of ``ASYL, ASYW, WCAT``.
The case's decision is its last application by ``(APPL_RECD_DATE nulls first, decision
priority F > G > D > C > I > L > P > S > A > R > O > T > W > M, IDNPROCEEDINGAPPLN)``
(deportationdata's tie-break). Case columns (scope, final outcome, dimensions) are copied
from ``cases``; ``decision_court`` / ``decision_judge`` are those of the deciding proceeding.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from immfacts.model.cases import attach_labels, day_number
from immfacts.model.rules import ModelRules

_RECD_FACTOR = 10**12
_PRIO_FACTOR = 10**10
FAMILIES = ("asyl", "i589")
CASE_COLUMNS = (
    "case_type", "in_scope", "nationality", "language", "custody", "represented", "asylum_type",
    "court", "hearing_location", "judge", "court_name", "hearing_location_name", "judge_name",
    "nationality_name", "language_name", "completed", "final_outcome", "final_comp_date",
    "final_absentia", "receipt_date", "admin_closed_now",
)


def _priority(dec: ir.StringValue, rules: ModelRules) -> ir.IntegerValue:
    return ibis.cases(*[(dec == code, i + 1) for i, code in enumerate(rules.decision_priority)], else_=0)


def applications(appln: ir.Table, procs: ir.Table, cases: ir.Table, rules: ModelRules) -> ir.Table:
    """Build the applications table from staged tbl_Court_Appln and the model tables."""
    # select, not mutate: DuckDB identifiers are case-insensitive, so appl_code would clash
    # with APPL_CODE.
    a = appln.select(
        IDNPROCEEDINGAPPLN=_.IDNPROCEEDINGAPPLN,
        IDNPROCEEDING=_.IDNPROCEEDING,
        IDNCASE=_.IDNCASE,
        appl_code=_.APPL_CODE.strip().upper(),
        appl_dec=_.APPL_DEC.strip().upper(),
        recd_date=_.APPL_RECD_DATE.date(),
    )
    p = procs.select(
        p_idn=_.idnproceeding, p_case=_.idncase, p_orphan=_.orphan, decision_date=_.comp_date,
        court=_.court, hearing_location=_.hearing_location, judge=_.judge, p_input=_.input_date,
    )
    j = a.left_join(p, p.p_idn == a.IDNPROCEEDING)
    grant = j.appl_dec.isin(list(rules.grant_decisions)) | ((j.appl_dec == "L") & (j.appl_code != "ASYL"))
    j = j.select(
        idnproceedingappln=j.IDNPROCEEDINGAPPLN,
        idnproceeding=j.IDNPROCEEDING,
        idncase=j.IDNCASE.fill_null(j.p_case),
        orphan=j.p_idn.isnull() | j.p_orphan.fill_null(True),
        appl_code=j.appl_code,
        recd_date=j.recd_date,
        appl_dec=j.appl_dec,
        decision=ibis.cases(
            (grant.fill_null(False), "grant"),
            (j.appl_dec.isin(list(rules.deny_decisions)).fill_null(False), "deny"),
            else_="non_merits",
        ),
        eoir_other=j.appl_dec.isin(list(rules.other_decisions)).fill_null(False),
        priority=_priority(j.appl_dec, rules),
        decision_date=j.decision_date,
        proceeding_input_date=j.p_input,
        court=j.court,
        hearing_location=j.hearing_location,
        judge=j.judge,
    )
    # The first record of a (case, type, received date) by a window, not an aggregate joined
    # back: a self-join of ``j`` is materialised in memory and cannot spill. A window
    # partition groups NULL keys together, as the first-record rule wants.
    w = ibis.window(group_by=[j.idncase, j.appl_code, j.recd_date])
    j = j.mutate(first_record=(j.idnproceedingappln == j.idnproceedingappln.min().over(w)).fill_null(True))
    c = cases.select(c_idn=_.idncase, in_scope=_.in_scope, case_type=_.case_type, nationality=_.nationality,
                     language=_.language, custody=_.custody, represented=_.represented, asylum_type=_.asylum_type)
    j = j.left_join(c, j.idncase == c.c_idn)
    return j.mutate(in_scope=j.in_scope.fill_null(False) & ~j.orphan).drop("c_idn")


def asylum_cases(apps: ir.Table, cases: ir.Table, labels: dict[str, ir.Table | None], rules: ModelRules) -> ir.Table:
    """Build the asylum_cases table (both families stacked, column ``family``)."""
    parts = []
    for family, codes in (("asyl", rules.asylum_codes), ("i589", rules.asylum_family_codes)):
        a = apps.filter(~_.orphan, _.appl_code.isin(list(codes)))
        if family == "asyl":
            # L (grant of withholding under CAT) is a grant only where the family includes WCAT.
            a = a.mutate(decision=ibis.cases(((a.appl_dec == "L"), "non_merits"), else_=a.decision))
        a = a.mutate(
            key=ibis.cases((a.recd_date.isnull(), 0), else_=day_number(a.recd_date) + 1) * _RECD_FACTOR
            + a.priority * _PRIO_FACTOR + a.idnproceedingappln
        )
        # the deciding application's columns travel through the aggregate (arg_max over a
        # struct) rather than a join back to ``a``, which DuckDB could not spill
        decision = dict(
            decision_idnproceeding=a.idnproceeding, decision_code=a.appl_dec, decision=a.decision,
            eoir_other=a.eoir_other, decision_date=a.decision_date, decision_court=a.court,
            decision_hearing_location=a.hearing_location, decision_judge=a.judge,
        )
        ch = a.group_by("idncase").aggregate(
            d=ibis.struct(dict(chosen=a.idnproceedingappln, **decision)).argmax(a.key),
            n_applications=_.count(),
            first_appl_recd_date=_.recd_date.min(),
        )
        ch = ch.select("idncase", chosen=ch.d["chosen"], n_applications=ch.n_applications,
                       first_appl_recd_date=ch.first_appl_recd_date, **{k: ch.d[k] for k in decision})
        ch = ch.mutate(
            family=ibis.literal(family),
            official_category=ibis.cases(
                (ch.decision == "grant", "grant"), (ch.decision == "deny", "deny"),
                (ch.eoir_other.fill_null(False), "other"), else_="none",
            ),
        )
        parts.append(ch)
    u = ibis.union(*parts)
    c = cases.select("idncase", *CASE_COLUMNS).rename(c_idn="idncase")
    j = u.inner_join(c, u.idncase == c.c_idn).drop("c_idn")
    j = j.rename(decision_idnproceedingappln="chosen")
    return attach_labels(j, labels, {"decision_court": "court", "decision_hearing_location": "hearing_location",
                                     "decision_judge": "judge"})
