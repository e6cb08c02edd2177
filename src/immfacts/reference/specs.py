"""The reference metric specs (``data/catalogue.yaml``) and the query words they accept.

A spec has the fields of an EOIR metric spec — ``id, title, definition, unit,
counting_unit, dimensions, variants ({name, description, default}), source: "reference",
caveats, citations`` — plus how it is computed (``kind``: encounters, flow, stock, rate).
This module also turns what a user writes into canonical query terms: dimension names
(``fy`` → ``fiscal_year``), filter values (``southwest`` → ``southwest_land_border``,
``border patrol`` → ``USBP``, ``title 42`` → ``Title 42``) and ``where`` in any of its
forms (dict, ``"k=v;k2=a|b"``, list of ``"k=v"``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from immfacts.errors import InvalidQueryError, UnknownMetricError, suggest
from immfacts.reference.store import bundle_dir

DIMENSION_ALIASES = {
    "fy": "fiscal_year", "fiscal_years": "fiscal_year", "year": "calendar_year", "cy": "calendar_year",
    "calendar_years": "calendar_year", "months": "month", "regions": "region", "border": "region",
    "components": "component", "agency": "component", "title_of_authority": "title", "authority": "title",
    "demographics": "demographic", "citizenship_grouping": "citizenship_group", "nationality": "citizenship",
    "country": "citizenship", "states": "state", "sectors": "sector", "type": "encounter_type",
    "periods": "period",
}

NATIONWIDE = "nationwide"
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "region": {
        "southwest": "southwest_land_border", "sw": "southwest_land_border", "swb": "southwest_land_border",
        "southwest_border": "southwest_land_border", "southern_border": "southwest_land_border",
        "us_mexico_border": "southwest_land_border", "mexican_border": "southwest_land_border",
        "southwest_land_border": "southwest_land_border",
        "northern": "northern_land_border", "north": "northern_land_border", "nlb": "northern_land_border",
        "northern_border": "northern_land_border", "canadian_border": "northern_land_border",
        "northern_land_border": "northern_land_border",
        "other": "other", "coastal": "other", "coastal_border": "other",
        "nationwide": NATIONWIDE, "national": NATIONWIDE, "all": NATIONWIDE, "total": NATIONWIDE,
    },
    "component": {
        "usbp": "USBP", "border_patrol": "USBP", "u_s_border_patrol": "USBP", "us_border_patrol": "USBP",
        "ofo": "OFO", "office_of_field_operations": "OFO", "field_operations": "OFO", "ports_of_entry": "OFO",
    },
    "title": {"8": "Title 8", "title_8": "Title 8", "t8": "Title 8", "42": "Title 42", "title_42": "Title 42", "t42": "Title 42"},
    "demographic": {
        "uac": "UAC", "uc": "UAC", "uacs": "UAC", "ucs": "UAC", "unaccompanied": "UAC",
        "unaccompanied_children": "UAC", "unaccompanied_alien_children": "UAC", "unaccompanied_minors": "UAC",
        "uc_single_minors": "UAC", "fmua": "FMUA", "family": "FMUA", "families": "FMUA",
        "family_units": "FMUA", "family_unit": "FMUA", "single_adults": "Single Adults", "single_adult": "Single Adults",
        "adults": "Single Adults", "accompanied_minors": "Accompanied Minors", "am": "Accompanied Minors",
    },
    "encounter_type": {
        "apprehension": "Apprehensions", "apprehensions": "Apprehensions", "expulsion": "Expulsions",
        "expulsions": "Expulsions", "inadmissible": "Inadmissibles", "inadmissibles": "Inadmissibles",
    },
    "sector": {"rgv": "rio_grande_valley", "rio_grande": "rio_grande_valley"},
}
UPPER_DIMS = {"state", "citizenship", "citizenship_group"}
SLUG_DIMS = {"sector"}


def slug(text: str) -> str:
    """Lower-case words joined by underscores ('Title 42' → 'title_42')."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class Variant:
    """A named variant of a reference metric (for CBP encounters: a scope of filters)."""
    name: str
    description: str
    default: bool = False
    where: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The variant as in the catalogue contract: name, description, default (and its filters)."""
        d: dict[str, Any] = {"name": self.name, "description": self.description, "default": self.default}
        if self.where:
            d["where"] = dict(self.where)
        return d


@dataclass(frozen=True)
class Spec:
    """One reference metric as declared in catalogue.yaml."""

    id: str
    series: str
    title: str
    kind: str  # encounters | flow | stock | rate
    definition: str
    unit: str
    counting_unit: str
    dimensions: tuple[str, ...]
    variants: tuple[Variant, ...]
    caveats: tuple[str, ...] = ()
    extra_citations: tuple[str, ...] = ()
    secondary: bool = False
    figures_of: str | None = None
    measure: str = "value"

    @property
    def default_variant(self) -> Variant:
        """The variant used when none is named."""
        return next(v for v in self.variants if v.default)

    @property
    def figure_metric(self) -> str:
        """The metric id the figures are stored under (a share metric reads its level's rows)."""
        return self.figures_of or self.id

    def variant(self, name: str | None) -> Variant:
        """A variant by name (None = the default); unknown names raise InvalidQueryError."""
        if name is None:
            return self.default_variant
        for v in self.variants:
            if v.name == name:
                return v
        names = [v.name for v in self.variants]
        raise InvalidQueryError(
            f"{self.id} has no variant {name!r}",
            f"choose one of {', '.join(names)} (or 'all')" + _did_you_mean(name, names),
        )


def _did_you_mean(name: str, choices: list[str]) -> str:
    near = suggest(name, choices)
    return f"; did you mean {' or '.join(near)}?" if near else ""


@functools.lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Spec], tuple[dict[str, Any], ...]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load((bundle_dir() / "catalogue.yaml").read_text(encoding="utf-8"), Loader=loader)
    series_of = {m: s["id"] for s in raw["series"] for m in s["metrics"]}
    specs: dict[str, Spec] = {}
    for m in raw["metrics"]:
        variants = tuple(
            Variant(v["name"], v["description"], bool(v.get("default")), dict(v.get("where") or {}))
            for v in m["variants"]
        )
        specs[m["id"]] = Spec(
            id=m["id"], series=series_of[m["id"]], title=m["title"], kind=m["kind"],
            definition=" ".join(m["definition"].split()), unit=m["unit"], counting_unit=m["counting_unit"],
            dimensions=tuple(m["dimensions"]), variants=variants, caveats=tuple(m.get("caveats") or ()),
            extra_citations=tuple(m.get("citations") or ()), secondary=bool(m.get("secondary")),
            figures_of=m.get("figures_of"), measure=m.get("measure", "value"),
        )
    return specs, tuple(raw["series"])


def specs() -> dict[str, Spec]:
    """All reference specs by id."""
    return _load()[0]


def series() -> tuple[dict[str, Any], ...]:
    """The series groups (``{id, title, metrics}``) in catalogue order."""
    return _load()[1]


def is_reference_metric(metric_id: str) -> bool:
    """True if ``metric_id`` is a bundled reference metric."""
    return metric_id in specs()


def get_spec(metric_id: str) -> Spec:
    """The spec of a reference metric, or :class:`UnknownMetricError` with the nearest ids."""
    all_specs = specs()
    if metric_id in all_specs:
        return all_specs[metric_id]
    near = suggest(metric_id, list(all_specs))
    raise UnknownMetricError(
        f"unknown reference metric {metric_id!r}",
        (f"did you mean {' or '.join(near)}? " if near else "")
        + "see `immfacts sources` for the reference series",
        suggestions=near,
    )


def dimension(name: str, spec: Spec) -> str:
    """Canonical dimension name, validated against the spec."""
    key = slug(name)
    key = DIMENSION_ALIASES.get(key, key)
    if key not in spec.dimensions:
        raise InvalidQueryError(
            f"{spec.id} cannot be grouped or filtered by {name!r}",
            f"its dimensions are {', '.join(spec.dimensions)}" + _did_you_mean(key, list(spec.dimensions)),
        )
    return key


def parse_by(by: str | list[str] | tuple[str, ...] | None, spec: Spec) -> list[str]:
    """``by`` as a list of canonical dimension names (comma-separated strings accepted)."""
    if by is None or by == "" or by == []:
        return []
    items = [p for p in re.split(r"\s*,\s*", by) if p] if isinstance(by, str) else [str(b) for b in by]
    out: list[str] = []
    for item in items:
        d = dimension(item, spec)
        if d not in out:
            out.append(d)
    return out


def parse_where(where: Any) -> dict[str, list[str]]:
    """``where`` in any accepted form → ``{dimension text: [value, …]}`` (not yet validated)."""
    if where is None or where == "" or where == {} or where == []:
        return {}
    pairs: list[tuple[str, Any]] = []
    if isinstance(where, dict):
        pairs = list(where.items())
    else:
        items = [where] if isinstance(where, str) else list(where)
        for item in items:
            for part in re.split(r"\s*;\s*|,(?=\s*[A-Za-z_][\w ]*\s*=)", str(item)):
                if not part.strip():
                    continue
                if "=" not in part:
                    raise InvalidQueryError(
                        f"cannot read filter {part.strip()!r}",
                        "write filters as DIMENSION=VALUE, e.g. region=southwest_land_border (several values: a|b)",
                    )
                k, v = part.split("=", 1)
                pairs.append((k.strip(), v.strip()))
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        values = v if isinstance(v, list | tuple | set) else str(v).split("|")
        out.setdefault(str(k), []).extend(str(x).strip() for x in values if str(x).strip())
    return out


def canonical_value(dim: str, value: str, known: set[str] | None = None) -> str:
    """The canonical spelling of a filter value (``known`` = the values present in the data)."""
    aliases = VALUE_ALIASES.get(dim, {})
    s = slug(value)
    if s in aliases:
        return aliases[s]
    if dim in UPPER_DIMS:
        v = " ".join(value.split()).upper()
        if known and v not in known:
            starts = sorted(k for k in known if k.startswith(v))
            if len(starts) == 1:  # "CHINA" → "CHINA, PEOPLES REPUBLIC OF"
                return starts[0]
        return v
    if dim in SLUG_DIMS:
        return s
    if known:
        for k in known:
            if slug(k) == s:
                return k
    return value.strip()
