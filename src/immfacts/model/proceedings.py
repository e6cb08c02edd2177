"""The ``proceedings`` model table: one row per proceeding, its completion decoded.

A proceeding is *completed* when ``COMP_DATE`` is set and exactly one of ``DEC_CODE``
(a merits decision, C-type) and ``OTHER_COMP`` (an other completion, O-type) is set; a
``COMP_DATE`` with both or neither is a ``data_error`` (counted, not completed). Its
``outcome_class`` comes from the release's lookup row for the proceeding's **own**
``CASE_TYPE`` (see :mod:`immfacts.model.decode`). Dates are calendar dates (time of day is
noise). The case's ``CASE_TYPE`` (from ``A_TblCase``) decides scope; proceedings whose case is
missing are kept with ``orphan = true`` and left out of every case-level table.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from immfacts.model.decode import other_completion_class
from immfacts.model.rules import ModelRules


def proceedings(proc: ir.Table, case: ir.Table, decoded: ir.Table, rules: ModelRules) -> ir.Table:
    """Build the proceedings table from staged B_TblProceeding / A_TblCase and the decoded lookup."""
    from immfacts.model.cases import asylum_type

    case_types = case.select(
        cidn=_.IDNCASE,
        case_case_type=_.CASE_TYPE.strip().upper(),
        represented=ibis.cases((_.E_28_DATE.notnull(), "represented"), else_="unrepresented"),
        asylum_type=asylum_type(_.C_ASY_TYPE),
    )
    p = proc.mutate(
        comp=_.COMP_DATE.date(),
        dec=_.DEC_CODE.strip().upper(),
        oth=_.OTHER_COMP.strip().upper(),
        ptype=_.CASE_TYPE.strip().upper(),
    )
    has_dec, has_oth = p.dec.notnull(), p.oth.notnull()
    exactly_one = (has_dec & ~has_oth) | (~has_dec & has_oth)
    p = p.mutate(
        completed=p.comp.notnull() & exactly_one,
        data_error=p.comp.notnull() & ~exactly_one,
    )
    p = p.mutate(
        decision_kind=ibis.cases((p.completed & has_dec, "C"), (p.completed & has_oth, "O"), else_=ibis.null("string")),
        code=ibis.cases((p.completed & has_dec, p.dec), (p.completed & has_oth, p.oth), else_=ibis.null("string")),
    )
    j = p.left_join(case_types, case_types.cidn == p.IDNCASE)
    j = j.left_join(
        decoded,
        [j.ptype == decoded.case_type, j.code == decoded.code, j.decision_kind == decoded.decision_kind],
    )
    in_scope_types = list(rules.in_scope_case_types)
    # O-type codes are classified by code (no lookup row needed); C-type by the lookup row.
    cls = ibis.cases(
        (~j.completed, ibis.null("string")),
        (j.decision_kind == "O", other_completion_class(j.code, rules)),
        else_=j.outcome_class.fill_null("other"),
    )
    return j.select(
        idnproceeding=j.IDNPROCEEDING,
        idncase=j.IDNCASE,
        case_type=j.ptype,
        case_case_type=j.case_case_type,
        orphan=j.cidn.isnull(),
        in_scope=j.cidn.notnull() & j.case_case_type.isin(in_scope_types).fill_null(False),
        type_conflict=j.cidn.notnull() & (j.ptype != j.case_case_type).fill_null(j.ptype.isnull() != j.case_case_type.isnull()),
        input_date=j.INPUT_DATE.date(),
        osc_date=j.OSC_DATE.date(),
        comp_date=j.comp,
        dec_code=j.dec,
        other_comp=j.oth,
        completed=j.completed,
        data_error=j.data_error,
        decision_kind=j.decision_kind,
        code=j.code,
        description=j.description,
        in_lookup=j.outcome_class.notnull(),
        outcome_class=cls,
        terminal=j.completed & ~cls.isin(["change_of_venue", "transfer"]).fill_null(False)
        & ~((j.decision_kind == "O") & j.code.isin(list(rules.non_terminal_other_codes))).fill_null(False),
        absentia=(j.ABSENTIA.strip().upper() == "Y").fill_null(False),
        court=j.BASE_CITY_CODE.strip().upper(),
        hearing_location=j.HEARING_LOC_CODE.strip().upper(),
        judge=j.IJ_CODE.strip().upper(),
        custody=j.CUSTODY.strip().upper(),
        nationality=j.NAT.strip().upper(),
        language=j.LANG.strip().upper(),
        represented=j.represented,
        asylum_type=j.asylum_type,
    )
