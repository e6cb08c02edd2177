"""The shape of a metric definition: :class:`MetricSpec`, :class:`Variant`, :class:`Condition`.

A metric is data (YAML under ``metrics/definitions/``). Its fields:

``id, title, definition`` (plain English a journalist could quote), ``unit`` (count | percent
| days), ``counting_unit`` (case | proceeding | application), ``kind`` (closed set, see
:mod:`immfacts.metrics.kinds`), ``table`` (a model table), ``date`` (the column that places a
row in a period, for flows), ``universe`` (filters that define what is counted at all),
``numerator`` / ``denominator`` (extra filters, ratios), ``statuses`` (stocks),
``components`` (a column whose values are reported one by one), ``dimensions`` (what ``--by``
and ``--where`` may use), ``dimension_columns`` (per-metric column overrides), ``suppression``
(minimum-N rules), ``days_from`` / ``days_to`` (durations), ``caveats`` and ``variants``.

A **filter** is a list of one-key mappings ``{column: test}`` where ``test`` is a scalar
(equals), a list (one of), or ``{not_in: [...]}``, ``{ne: x}``, ``{null: true|false}``.
A **variant** names itself, gives a one-line ``rationale`` and overrides only the fields it
changes; exactly one variant is ``default: true``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

KINDS = ("count", "ratio", "share", "pending_at", "median_days")
UNITS = ("count", "percent", "days")
COUNTING_UNITS = ("case", "proceeding", "application")
OPS = ("eq", "ne", "in", "not_in", "null")
OVERRIDABLE = (
    "kind", "table", "date", "universe", "numerator", "denominator", "statuses", "components",
    "suppression", "days_from", "days_to", "timing", "dimension_columns", "definition", "counting_unit",
)


@dataclass(frozen=True)
class Condition:
    """One filter test on one model column."""

    column: str
    op: str
    value: Any = None

    @classmethod
    def parse(cls, raw: Any) -> Condition:
        """Read ``{column: test}`` (see module docstring)."""
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ValueError(f"a filter must be a one-key mapping {{column: test}}, got {raw!r}")
        (col, test), = raw.items()
        if isinstance(test, list):
            return cls(str(col), "in", tuple(test))
        if isinstance(test, dict):
            if len(test) != 1:
                raise ValueError(f"filter on {col!r} must have one operator, got {test!r}")
            (op, val), = test.items()
            op = "null" if op is None else op  # YAML reads a bare `null:` key as None
            if op not in OPS:
                raise ValueError(f"unknown operator {op!r} on {col!r}; use one of {', '.join(OPS)}")
            return cls(str(col), op, tuple(val) if isinstance(val, list) else val)
        return cls(str(col), "eq", test)

    def describe(self) -> str:
        """The test in words, e.g. ``final_outcome in (removal, voluntary_departure)``."""
        if self.op == "null":
            return f"{self.column} is {'' if self.value else 'not '}null"
        if self.op in ("in", "not_in"):
            return f"{self.column} {self.op.replace('_', ' ')} ({', '.join(map(str, self.value))})"
        return f"{self.column} {'=' if self.op == 'eq' else '!='} {self.value}"


def parse_filters(raw: Any) -> tuple[Condition, ...]:
    """A list of filter mappings (or None) as conditions."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"filters must be a list of {{column: test}} mappings, got {raw!r}")
    return tuple(Condition.parse(r) for r in raw)


@dataclass(frozen=True)
class Variant:
    """A named definition variant: what it changes and why."""

    name: str
    rationale: str
    default: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricSpec:
    """A metric as declared in the registry (base fields; variants override some)."""

    id: str
    title: str
    definition: str
    unit: str
    counting_unit: str
    kind: str
    table: str
    file: str = ""
    date: str | None = None
    timing: str = "flow"  # flow | stock
    universe: tuple[Condition, ...] = ()
    numerator: tuple[Condition, ...] = ()
    denominator: tuple[Condition, ...] = ()
    statuses: tuple[str, ...] = ()
    components: dict[str, Any] | None = None
    dimensions: tuple[str, ...] = ()
    dimension_columns: dict[str, str] = field(default_factory=dict)
    suppression: dict[str, Any] | None = None
    days_from: str | None = None
    days_to: str | None = None
    required_groups: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()
    source: str = "eoir_case_data"
    variant: str | None = None  # set on a resolved spec

    @property
    def default_variant(self) -> str:
        for v in self.variants:
            if v.default:
                return v.name
        return self.variants[0].name if self.variants else "default"

    @property
    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants] or ["default"]

    def resolve(self, variant: str | None = None) -> MetricSpec:
        """The spec with a variant's overrides applied (``None`` = the default variant)."""
        name = variant or self.default_variant
        v = next((x for x in self.variants if x.name == name), None)
        if v is None:
            return replace(self, variant=name)
        changes: dict[str, Any] = {}
        for key, val in v.overrides.items():
            if key in ("universe", "numerator", "denominator"):
                changes[key] = parse_filters(val)
            elif key == "statuses":
                changes[key] = tuple(val)
            else:
                changes[key] = val
        if "universe_add" in v.overrides:
            changes.pop("universe_add", None)
        extra = parse_filters(v.overrides.get("universe_add"))
        if extra:
            changes["universe"] = tuple(changes.get("universe", self.universe)) + extra
        return replace(self, variant=name, **changes)

    def variant_spec(self, name: str) -> Variant | None:
        return next((x for x in self.variants if x.name == name), None)

    def summary(self) -> dict[str, Any]:
        """The catalogue entry (``immfacts metrics``, the web page, docs)."""
        return {
            "id": self.id,
            "title": self.title,
            "definition": self.definition.strip(),
            "unit": self.unit,
            "counting_unit": self.counting_unit,
            "kind": self.kind,
            "source": self.source,
            "dimensions": list(self.dimensions),
            "default_variant": self.default_variant,
            "variants": [
                {"name": v.name, "rationale": v.rationale, "default": v.name == self.default_variant}
                for v in self.variants
            ],
            "caveats": list(self.caveats),
        }


def metric_from_dict(d: dict[str, Any], file: str = "") -> MetricSpec:
    """Build a spec from one YAML mapping (raises ValueError/KeyError/TypeError on bad shape)."""
    variants = tuple(
        Variant(
            name=str(v["name"]),
            rationale=str(v.get("rationale", "")),
            default=bool(v.get("default", False)),
            overrides={k: x for k, x in v.items() if k not in ("name", "rationale", "default")},
        )
        for v in d.get("variants") or []
    )
    return MetricSpec(
        id=str(d["id"]),
        title=str(d["title"]),
        definition=str(d["definition"]),
        unit=str(d["unit"]),
        counting_unit=str(d["counting_unit"]),
        kind=str(d["kind"]),
        table=str(d["table"]),
        file=file,
        date=d.get("date"),
        timing=str(d.get("timing", "stock" if d["kind"] == "pending_at" else "flow")),
        universe=parse_filters(d.get("universe")),
        numerator=parse_filters(d.get("numerator")),
        denominator=parse_filters(d.get("denominator")),
        statuses=tuple(d.get("statuses") or ()),
        components=d.get("components"),
        dimensions=tuple(d.get("dimensions") or ()),
        dimension_columns=dict(d.get("dimension_columns") or {}),
        suppression=d.get("suppression"),
        days_from=d.get("days_from"),
        days_to=d.get("days_to"),
        required_groups=tuple(d.get("required_groups") or ()),
        caveats=tuple(d.get("caveats") or ()),
        variants=variants,
        source=str(d.get("source", "eoir_case_data")),
    )
