"""The collapse and decoding rules of the canonical model, each a named parameter.

Every rule of docs/definitions.md that a reasonable analyst could set differently is a field
of :class:`ModelRules`; :data:`DEFAULT_RULES` holds the defaults that the sample generator's
ground truth uses too. ``build_model(release_dir, rules=...)`` materialises a model under a
rule set, and the rule set is written into ``model/manifest.json`` so every result can say
which rules made it. Metric *variants* that only filter differently (e.g. excluding admin
closures) are declared in the registry instead; they need no rebuild.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Outcome classes of a completed proceeding (docs/definitions.md, "Proceedings").
OUTCOME_CLASSES: tuple[str, ...] = (
    "removal",
    "voluntary_departure",
    "relief",
    "termination",
    "pd_termination",
    "dismissal",
    "admin_closure",
    "change_of_venue",
    "transfer",
    "failure_to_prosecute",
    "other",
)

# Classes of a case's final outcome (non-terminal classes never end a case).
TERMINAL_CLASSES: tuple[str, ...] = tuple(
    c for c in OUTCOME_CLASSES if c not in ("change_of_venue", "transfer")
)

# Asylum-decision priority, lowest first (deportationdata's order F > G > D > … > M).
DEFAULT_DECISION_PRIORITY: tuple[str, ...] = (
    "M", "W", "T", "O", "R", "A", "S", "P", "L", "I", "C", "D", "G", "F",
)


@dataclass(frozen=True)
class ModelRules:
    """Named parameters of the canonical model (defaults = docs/definitions.md)."""

    #: Case types counted in stocks and flows (EOIR's headline footnote).
    in_scope_case_types: tuple[str, ...] = ("RMV", "DEP", "EXC", "AOC", "WHO")
    #: O-type (OTHER_COMP) codes that are administrative closures.
    admin_closure_codes: tuple[str, ...] = ("A", "B", "K", "M", "Y")
    #: Count O-type ``P`` (Temporary Protected Status) as an administrative closure.
    tps_as_admin_closure: bool = False
    #: O-type codes that are change of venue / transfer (not terminal).
    change_of_venue_code: str = "C"
    transfer_code: str = "T"
    #: O-type code of failure to prosecute.
    failure_to_prosecute_code: str = "F"
    #: Further O-type codes that are not terminal (``J``: jurisdiction transferred to the BIA).
    non_terminal_other_codes: tuple[str, ...] = ("J",)
    #: Application code(s) that make a case an asylum case.
    asylum_codes: tuple[str, ...] = ("ASYL",)
    #: The wider I-589 family (asylum, withholding, CAT), for the ``i589`` asylum-family rows.
    asylum_family_codes: tuple[str, ...] = ("ASYL", "ASYW", "WCAT")
    #: APPL_DEC codes that are a grant / a denial of the application.
    grant_decisions: tuple[str, ...] = ("G", "F", "C", "I", "P")
    deny_decisions: tuple[str, ...] = ("D",)
    #: EOIR's "other" asylum decisions (abandoned, not adjudicated, other, withdrawn).
    other_decisions: tuple[str, ...] = ("A", "M", "O", "W")
    #: Decision tie-break within one received date, lowest priority first.
    decision_priority: tuple[str, ...] = DEFAULT_DECISION_PRIORITY
    #: How C-type (DEC_CODE) lookup descriptions map to outcome classes, first match wins:
    #: (class, substrings that must all occur, substrings of which one must occur).
    description_rules: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = field(
        default=(
            ("pd_termination", ("prosecutorial discretion",), ("terminat",)),
            ("removal", (), ("remove", "deport", "exclu")),
            ("voluntary_departure", (), ("voluntary departure",)),
            ("relief", (), ("relief", "grant")),
            ("termination", (), ("terminat",)),
            ("dismissal", (), ("dismiss",)),
        )
    )

    def to_dict(self) -> dict[str, Any]:
        """The rules as plain JSON data (for the model manifest and results)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelRules:
        """Rebuild rules from :meth:`to_dict` output (lists become tuples)."""

        def tup(v: Any) -> Any:
            return tuple(tup(x) for x in v) if isinstance(v, list) else v

        return cls(**{k: tup(v) for k, v in d.items() if k in cls.__dataclass_fields__})


DEFAULT_RULES = ModelRules()
