"""Bundled reference figures with citations: CBP encounters, gotaways, foreign-born, EOIR published.

Half the numbers in an immigration story do not come from court data. This package ships
the official series (and the secondary figures claims often quote) as tidy, cited data
files (``reference/data``), loads them into an in-memory DuckDB database, and answers
catalogue queries on them with SQL — the same query shape as the EOIR metrics:

    from immfacts import reference
    reference.compute("cbp.encounters", period="2021-02..2024-04")
    reference.compute("cbp.encounters", period="FY2024", variant="southwest_land_border")
    reference.compute("eoir.published.pending", period="FY2016", edition="as-of", as_of="2021-06-01")
    reference.sources()                 # every series, its coverage and full citations
    reference.add_cbp("nationwide-encounters-fy24-fy27-state.csv")   # keep CBP current
    reference.check()                   # citations, checksums, differences between releases

Every result has ``source_kind="reference"``, the citations of the sources it used, the
editions it read, the period as resolved (with what was left out) and its SQL.
"""

from __future__ import annotations

from typing import Any

from immfacts.provenance import Result
from immfacts.reference import encounters, figures
from immfacts.reference.editions import parse_edition
from immfacts.reference.specs import Spec, get_spec, is_reference_metric, series, specs
from immfacts.reference.store import get_store

__all__ = ["add_cbp", "catalogue", "check", "compute", "explain", "is_reference_metric", "sources"]


def catalogue() -> list[dict[str, Any]]:
    """One spec per reference metric, with the fields of the EOIR metric specs.

    ``id, title, definition, unit, counting_unit, dimensions, variants ({name, description,
    default}), source ("reference"), caveats, citations`` (source ids), plus ``series``,
    ``kind`` and ``secondary``.
    """
    store = get_store()
    used = _sources_by_metric(store)
    out = []
    for spec in specs().values():
        out.append({
            "id": spec.id,
            "title": spec.title,
            "definition": spec.definition,
            "unit": spec.unit,
            "counting_unit": spec.counting_unit,
            "dimensions": list(spec.dimensions),
            "variants": [v.to_dict() for v in spec.variants],
            "source": "reference",
            "caveats": list(spec.caveats),
            "citations": [*used.get(spec.figure_metric, []), *spec.extra_citations],
            "series": spec.series,
            "kind": spec.kind,
            "secondary": spec.secondary,
        })
    return out


def _sources_by_metric(store) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in store.query("SELECT DISTINCT metric, source FROM figures ORDER BY metric, source"):
        out.setdefault(r["metric"], []).append(r["source"])
    out["cbp.encounters"] = [r.source for r in store.releases]
    return out


def _engine(spec: Spec):
    return encounters if spec.kind == "encounters" else figures


def compute(
    metric_id: str,
    period: Any = None,
    by: str | list[str] | None = None,
    where: Any = None,
    variant: str | None = None,
    edition: str | None = "latest",
    as_of: Any = None,
) -> Result:
    """Compute a reference metric.

    ``period``: any form :func:`immfacts.periods.parse_period` reads (``FY2024``,
    ``2021-02..2024-04``, ``biden``, a date for stocks); ``None`` = the latest figure (or the
    latest complete fiscal year of encounters). ``by``: dimension(s) to group by.
    ``where``: filters (dict, ``"region=southwest_land_border;component=USBP"`` or a list of
    ``k=v``). ``variant``: a named variant, ``"all"`` for every variant (``result.variants``),
    or ``None`` for the default. ``edition``: ``"latest"``, ``"as-of"`` (with ``as_of``; passing
    ``as_of`` alone implies it) or a source/release id. Unknown ids raise
    :class:`~immfacts.errors.UnknownMetricError`; periods outside the data raise
    :class:`~immfacts.errors.PeriodError` naming the coverage.
    """
    spec = get_spec(metric_id)
    store = get_store()
    ed = parse_edition(edition, as_of)
    engine = _engine(spec)
    if variant == "all":
        return _all_variants(spec, store, ed, engine, period=period, by=by, where=where)
    return engine.compute(spec, store, ed, period=period, by=by, where=where, variant=variant)


def _all_variants(spec: Spec, store, ed, engine, **query: Any) -> Result:
    from immfacts.errors import ImmfactsError

    results: dict[str, Result | ImmfactsError] = {}
    for v in spec.variants:
        try:
            results[v.name] = engine.compute(spec, store, ed, variant=v.name, **query)
        except ImmfactsError as e:
            results[v.name] = e
    default = results[spec.default_variant.name]
    if isinstance(default, ImmfactsError):
        ok = [r for r in results.values() if isinstance(r, Result)]
        if not ok:
            raise default
        base = ok[0]
        base.notes = [f"default variant {spec.default_variant.name}: {default.message}", *base.notes]
        base.value = None
        base.variant = spec.default_variant.name
    else:
        base = default
    base.variants = []
    for v in spec.variants:
        r = results[v.name]
        entry: dict[str, Any] = {"variant": v.name, "description": v.description, "default": v.default}
        if isinstance(r, Result):
            entry.update(value=r.value, period=r.period, components=r.components, citation=r.citation,
                         notes=r.notes)
            if r.numerator is not None:
                entry.update(numerator=r.numerator, denominator=r.denominator)
        else:
            entry.update(value=None, error=r.message, hint=r.hint)
        base.variants.append(entry)
    return base


def explain(
    metric_id: str, period: Any = None, by: Any = None, where: Any = None, variant: str | None = None,
    edition: str | None = "latest", as_of: Any = None,
) -> str:
    """The SQL a reference query would run (planning may read coverage; the query itself is not run)."""
    spec = get_spec(metric_id)
    store = get_store()
    ed = parse_edition(edition, as_of)
    return _engine(spec).compute(spec, store, ed, period=period, by=by, where=where,
                                 variant=None if variant == "all" else variant, execute=False)


def sources() -> list[dict[str, Any]]:
    """Every reference series with its metrics, coverage, editions and full citations."""
    from immfacts.reference.listing import list_sources

    return list_sources(get_store(), series(), specs())


def add_cbp(path: Any, home: Any = None, released: Any = None, max_revision: float = 0.05) -> dict[str, Any]:
    """Validate a new CBP Nationwide Encounters CSV and merge it into the user overlay.

    Reports the months added and revised; a malformed file raises ReferenceDataError and
    changes nothing. See :func:`immfacts.reference.update.add_cbp`.
    """
    from immfacts.reference.update import add_cbp as _add

    return _add(path, home=home, released=released, max_revision=max_revision)


def check(home: Any = None) -> dict[str, Any]:
    """Check the bundle and overlay: citations, checksums, totals, release differences.

    See :func:`immfacts.reference.audit.check`.
    """
    from immfacts.reference.audit import check as _check

    return _check(home=home)
