"""The metric registry: load every YAML file under ``metrics/definitions/``, validate, look up.

``check()`` returns **every** problem at once (MetricFlow-style), each naming the metric, the
file and the fix; ``immfacts registry check`` prints them and exits non-zero if any. Checks:
required fields and allowed values, duplicate ids, exactly one default variant, variant
rationales, every referenced column present in the model table (schemas come from the model
expressions themselves, so no data is needed), dimensions known, and every variant valid
after its overrides are applied.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from immfacts.errors import RegistryError, UnknownMetricError, suggest
from immfacts.metrics.spec import COUNTING_UNITS, OVERRIDABLE, UNITS, MetricSpec, metric_from_dict

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
REQUIRED = ("id", "title", "definition", "unit", "counting_unit", "kind", "table", "variants")


@dataclass(frozen=True)
class Issue:
    """One registry problem: where, what, and how to fix it."""

    file: str
    metric: str | None
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.metric or '-'}: {self.problem}"


def _raw_entries(folder: Path) -> list[tuple[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("metrics", []) if isinstance(data, dict) else []:
            out.append((path.name, entry))
    return out


def load(folder: Path = DEFINITIONS_DIR) -> tuple[dict[str, MetricSpec], list[Issue]]:
    """All metrics that parse, plus the issues of those that do not (nothing raised)."""
    from immfacts.metrics.kinds import validate
    from immfacts.model import model_schemas

    schemas = model_schemas()
    specs: dict[str, MetricSpec] = {}
    issues: list[Issue] = []
    for file, entry in _raw_entries(folder):
        mid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(entry, dict):
            issues.append(Issue(file, None, f"entry is not a mapping: {entry!r}"))
            continue
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            issues.append(Issue(file, mid, f"missing field(s) {', '.join(missing)}; add them"))
            continue
        try:
            spec = metric_from_dict(entry, file)
        except (ValueError, KeyError, TypeError) as e:
            issues.append(Issue(file, mid, f"cannot be read: {e}"))
            continue
        if spec.id in specs:
            issues.append(Issue(file, spec.id, f"duplicate id (also in {specs[spec.id].file}); rename one"))
            continue
        if spec.unit not in UNITS:
            issues.append(Issue(file, spec.id, f"unit {spec.unit!r} is not one of {', '.join(UNITS)}"))
        if spec.counting_unit not in COUNTING_UNITS:
            issues.append(Issue(file, spec.id, f"counting_unit {spec.counting_unit!r} is not one of {', '.join(COUNTING_UNITS)}"))
        if not spec.definition.strip() or len(spec.definition.split()) < 8:
            issues.append(Issue(file, spec.id, "definition is missing or too short to quote; write it in plain English"))
        defaults = [v.name for v in spec.variants]
        if not spec.variants:
            issues.append(Issue(file, spec.id, "no variants; declare at least the default one"))
        n_default = sum(v.default for v in spec.variants)
        if spec.variants and n_default != 1:
            issues.append(Issue(file, spec.id, f"{n_default} variants are marked default; mark exactly one `default: true`"))
        if len(set(defaults)) != len(defaults):
            issues.append(Issue(file, spec.id, "variant names repeat; make them unique"))
        for v in spec.variants:
            if not v.rationale.strip():
                issues.append(Issue(file, spec.id, f"variant {v.name!r} has no rationale; say in one line how it differs"))
            bad = [k for k in v.overrides if k not in OVERRIDABLE and k != "universe_add"]
            if bad:
                issues.append(Issue(file, spec.id, f"variant {v.name!r} overrides unknown field(s) {', '.join(bad)}"))
                continue
            try:
                resolved = spec.resolve(v.name)
            except (ValueError, TypeError) as e:
                issues.append(Issue(file, spec.id, f"variant {v.name!r} cannot be applied: {e}"))
                continue
            issues.extend(Issue(file, spec.id, p) for p in validate(resolved, schemas))
        if not spec.variants:
            issues.extend(Issue(file, spec.id, p) for p in validate(spec.resolve(), schemas))
        specs[spec.id] = spec
    return specs, issues


@functools.cache
def _loaded() -> tuple[dict[str, MetricSpec], tuple[Issue, ...]]:
    specs, issues = load()
    return specs, tuple(issues)


def metrics() -> dict[str, MetricSpec]:
    """The EOIR case-data metrics by id (raises RegistryError if the registry is broken)."""
    specs, issues = _loaded()
    if issues:
        raise RegistryError(
            f"the metric registry has {len(issues)} problem(s), first: {issues[0]}",
            "run `immfacts registry check` to list them all",
            issues=[str(i) for i in issues],
        )
    return specs


def check(folder: Path | None = None) -> list[Issue]:
    """Every problem of the registry (empty list = valid)."""
    if folder is None:
        return list(_loaded()[1])
    return load(folder)[1]


def reference_catalogue() -> list[dict[str, Any]]:
    """Reference series specs from :mod:`immfacts.reference` ([] when that stage is absent)."""
    try:
        from immfacts import reference
    except ImportError:
        return []
    fn = getattr(reference, "catalogue", None)
    if fn is None:
        return []
    try:
        return [dict(x, source=x.get("source", "reference")) for x in fn()]
    except Exception:  # a broken reference bundle must not hide the EOIR catalogue
        return []


def get(metric_id: str) -> MetricSpec:
    """One EOIR metric by id, or a clear error with the nearest ids (EOIR and reference)."""
    specs = metrics()
    if metric_id in specs:
        return specs[metric_id]
    every = list(specs) + [r["id"] for r in reference_catalogue() if "id" in r]
    near = suggest(metric_id, every)
    raise UnknownMetricError(
        f"unknown metric {metric_id!r}",
        ("did you mean " + ", ".join(near) + "? " if near else "") + "list them with `immfacts metrics`",
    )
