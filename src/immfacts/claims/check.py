"""Checking an article: extract its claims, compute what each measures, and give verdicts.

:func:`check` is ``immfacts.check``. For every claim it computes the matched metric on
every period reading under every variant, from the best source available:

1. EOIR case data from a *real* (not synthetic) warehouse;
2. reference series (CBP, gotaways, Census, EOIR published) — the latest edition, and the
   edition current at the publication date (the report says when the verdict differs);
3. published secondary figures for the same quantity (TRAC, CRS, EOIR via press …);
4. a SYNTHETIC warehouse — the verdict is then marked ``illustrative``.

Every source's values are shown; the verdict uses the first available source, and the
misattribution check compares against the confusable quantities from the same kind of
source, on the same period.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from pathlib import Path
from typing import Any

from immfacts.claims.compute import Computed, Computer, Unavailable, pick_value
from immfacts.claims.extract import Candidate, extract
from immfacts.claims.render import fmt
from immfacts.claims.report import CheckReport, ClaimResult
from immfacts.claims.tolerance import tolerance
from immfacts.claims.verdict import Value, Verdict, decide, explain
from immfacts.claims.when import Reading

CBP_KEYS = {"nationality": "citizenship"}
# scope values as the EOIR model writes them
EOIR_VALUES = {
    ("custody", "detained"): "D",
    ("custody", "never_detained"): "N",
}
# scope words that name the agency rather than narrow the count: dropped when the metric has no such dimension
SOFT_KEYS = ("component",)
# CBP encounter variants that are a region/component scope (the scope picks the default)
CBP_SCOPE_VARIANTS = {
    ("southwest_land_border", "USBP"): "southwest_land_border_usbp",
    ("southwest_land_border", None): "southwest_land_border",
    ("northern_land_border", None): "northern_land_border",
    ("nationwide", None): "nationwide",
    ("nationwide", "USBP"): "usbp",
    (None, "USBP"): "usbp",
}


def _as_date(as_of: Any) -> dt.date:
    if as_of is None:
        return dt.date.today()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    from immfacts.errors import PeriodError

    try:
        return dt.date.fromisoformat(str(as_of).strip()[:10])
    except ValueError:
        raise PeriodError(f"--as-of {as_of!r} is not a date", "write the publication date as YYYY-MM-DD") from None


def _open_warehouse(warehouse: Any) -> Any:
    """A Warehouse with at least one release, or None ("data not loaded")."""
    from immfacts.warehouse import Warehouse

    if warehouse is None:
        wh = Warehouse()
    elif isinstance(warehouse, str | os.PathLike | Path):
        wh = Warehouse(warehouse)
    else:
        wh = warehouse
    try:
        return wh if wh.has_release() else None
    except OSError:
        return None


def check(text: str, as_of: Any = None, warehouse: Any = None, url: str | None = None,
          source: dict[str, Any] | None = None) -> CheckReport:
    """Check every numeric claim in ``text`` as of the publication date ``as_of``.

    ``warehouse`` is a :class:`~immfacts.warehouse.Warehouse`, a folder, or None for the
    default one; without an ingested release EOIR claims are ``not_checkable`` ("data not
    loaded") and reference claims are still checked.
    """
    t0 = time.perf_counter()
    day = _as_date(as_of)
    wh = _open_warehouse(warehouse)
    computer = Computer(wh, day)
    release = None
    if wh is not None:
        try:
            release = wh.release().provenance()
        except Exception:  # noqa: BLE001 - provenance is informative only
            release = None
    candidates = extract(text, day)
    t1 = time.perf_counter()
    claims = [ClaimResult(_check_one(c, computer, day, i + 1)) for i, c in enumerate(candidates)]
    src = dict(source or {})
    if url:
        src.setdefault("url", url)
        src.setdefault("kind", "url")
    src.setdefault("kind", "text")
    report = CheckReport(day.isoformat(), text, claims, src, release)
    report.timings = {"extract_s": t1 - t0, "check_s": time.perf_counter() - t1}
    return report


# ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _dimensions(metric: str) -> tuple[str, ...] | None:
    try:
        if Computer.is_reference(metric):
            from immfacts.reference.specs import get_spec

            return tuple(get_spec(metric).dimensions)
        from immfacts.metrics import catalogue

        return next((tuple(c["dimensions"]) for c in catalogue() if c["id"] == metric), None)
    except Exception:  # noqa: BLE001 - unknown metric: no filter can be checked
        return None


def _where_for(metric: str, scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as the metric's filters (names and values as the catalogue writes them)."""
    out: dict[str, Any] = {}
    for k, v in scope.items():
        if metric.startswith("cbp."):
            if metric == "cbp.encounters" and k in ("region", "component"):
                continue  # chosen through the variants (see _scope_variant)
            out[CBP_KEYS.get(k, k)] = v
        elif k == "represented":
            out["representation"] = "represented" if v else "unrepresented"
        else:
            out[k] = EOIR_VALUES.get((k, v), v)
    dims = _dimensions(metric)
    if dims is not None:
        out = {k: v for k, v in out.items() if k in dims or (k not in SOFT_KEYS and (k, v) != ("region", "nationwide"))}
    return out


def _unsupported(metric: str, where: dict[str, Any]) -> list[str]:
    dims = _dimensions(metric)
    return [k for k in where if dims is not None and k not in dims]


def _scope_variant(metric: str, scope: dict[str, Any]) -> str | None:
    """For CBP encounters, the variant the region/component words name."""
    if metric != "cbp.encounters":
        return None
    key = (scope.get("region"), scope.get("component"))
    return CBP_SCOPE_VARIANTS.get(key) or CBP_SCOPE_VARIANTS.get((key[0], None))


def _base(c: Candidate) -> dict[str, Any]:
    n = c.number
    return {
        "span": [c.span[0], c.span[1]],
        "text": n.text,
        "sentence": c.sentence,
        "sentence_span": [c.sentence_span[0], c.sentence_span[1]],
        "claimed": {"value": c.claimed_value, "unit": c.claimed_unit, "comparator": c.comparator,
                    "kind": c.kind, "step": n.step},
        "metric": c.match.metric,
        "matched_words": c.match.head,
        "scope": {"filters": dict(c.match.scope), "words": list(c.match.scope_words)},
        "period": _period_dict(c),
        "computed": [],
        "published": [],
        "verdict": "not_checkable",
        "tolerance": None,
        "explanation": "",
        "provenance": {},
        "illustrative": False,
        "notes": list(c.notes),
    }


def _period_dict(c: Candidate) -> dict[str, Any] | None:
    if not c.readings:
        return {"start": None, "end": None, "text": None, "source": c.period_source, "readings": []}
    r = c.readings[0]
    d = r.to_dict()
    d["source"] = c.period_source
    d["readings"] = [x.to_dict() for x in c.readings]
    if c.base_readings:
        d["base"] = c.base_readings[0].to_dict()
    return d


def _not_checkable(d: dict[str, Any], reason: str) -> dict[str, Any]:
    d["verdict"] = "not_checkable"
    d["reason"] = reason
    d["explanation"] = f"Not checkable: {reason}."
    return d


def _check_one(c: Candidate, computer: Computer, day: dt.date, idx: int) -> dict[str, Any]:
    d = _base(c)
    d["id"] = f"c{idx}"
    m = c.match
    if m.entry is None:
        return _not_checkable(d, m.not_checkable or "no catalogue statistic matches this number")
    e = m.entry
    if e.judge_level:
        return _not_checkable(d, "claims about individual judges need the judge's code "
                                 "(ask `immfacts metric eoir.judge.asylum_grant_rate --where judge=CODE`)")
    if not c.readings:
        return _not_checkable(d, "no period stated for this total (say e.g. “in fiscal 2023” or “since 2022”)")
    unit = "percent" if c.claimed_unit in ("percent_change", "points") else c.claimed_unit
    if c.kind == "change" and not c.base_readings:
        return _not_checkable(d, "a change without a stated base period (e.g. “from a year earlier”)")
    tol = tolerance(c.claimed_value, c.number.step, c.comparator,
                    unit if c.claimed_unit not in ("ratio", "count_change") else "count")
    d["tolerance"] = tol.to_dict()
    where = _where_for(e.metric, m.scope)
    missing = _unsupported(e.metric, where)
    if missing:
        words = ", ".join(f"{k}={where[k]}" for k in missing)
        return _not_checkable(d, f"scope not available: {e.metric} cannot be broken down by {words}")
    preferred = _scope_variant(e.metric, m.scope)
    if preferred:
        d["notes"].append(f"scope words select the variant “{preferred}”")
    basis, shown, prov, reasons = _gather(c, e, computer, where, day, preferred)
    d["computed"] = [_value_dict(v) for v in shown]
    d["published"] = [_value_dict(v) for v in shown if v.source == "published"]
    d["provenance"] = prov
    if not basis:
        reason = reasons[0] if reasons else "nothing could be computed"
        if d["published"]:
            reason += " (published figures are shown for reference)"
        return _not_checkable(d, reason)
    confusables = _confusables(c, e, computer, basis, day)
    v = decide(tol, basis, confusables)
    with_value = [x for x in basis if x.value is not None] or basis
    default = next((x for x in with_value if x.default and x.primary_reading), with_value[0])
    claimed_txt = f"“{c.number.text}”" + (f" ({c.comparator.replace('_', ' ')})" if c.comparator != "exact" else "")
    d["verdict"] = v.verdict
    if v.under is not None and v.verdict == "consistent_under_variant":
        d["variant"] = v.under.name()
    if v.verdict == "misattributed" and v.under is not None:
        d["misattributed_to"] = {"metric": v.under.metric, "variant": v.under.variant,
                                 "label": v.under.label, "value": v.under.value}
    unit_fmt = c.claimed_unit if c.kind == "change" else unit
    d["explanation"] = explain(v, claimed_txt, tol, default, lambda x: fmt(x, unit_fmt))
    d["illustrative"] = bool(default.synthetic)
    if d["illustrative"]:
        d["explanation"] += " Illustrative only: computed from a SYNTHETIC sample release."
    _editions(d, c, e, computer, where, tol, v, day)
    if c.record:
        d["record"] = _record(c, e, computer, where, default, day)
    d["series"] = _series(computer, e.metric, d, day, where, preferred, default.variant if default.source != "published" else None)
    d["notes"].extend(n for r in c.readings for n in r.notes if n not in d["notes"])
    return d


def _value_dict(v: Value) -> dict[str, Any]:
    out = {"metric": v.metric, "variant": v.variant, "value": v.value, "default": v.default, "reading": v.reading,
           "primary_reading": v.primary_reading, "source": v.source, "period": v.period,
           "synthetic": v.synthetic}
    out.update(v.extra)
    return out


def _values_from(comp: Computed, c: Candidate, e, idx: int, source: str, edition: str | None,
                 base: Computed | None = None, preferred: str | None = None) -> list[Value]:
    out = []
    base_vals = {b.get("variant"): b for b in base.values} if base else {}
    for entry in comp.values:
        val = pick_value(entry, comp.result, e.component, e.complement)
        if base is not None:
            b = base_vals.get(entry.get("variant"))
            bv = pick_value(b, base.result, e.component, e.complement) if b else None
            val = _change(val, bv, c.claimed_unit)
        period = entry.get("period") or getattr(comp.result, "period", None) or comp.reading.to_dict()
        extra: dict[str, Any] = {"edition": edition} if edition else {}
        if source == "published" and _stale(period, comp.reading):
            extra["stale"] = True
        out.append(Value(
            metric=e.metric, variant=entry.get("variant"), value=val,
            reading=comp.reading.label,
            default=(entry.get("variant") == preferred) if preferred and any(x.get("variant") == preferred for x in comp.values) else bool(entry.get("default")),
            primary_reading=idx == 0,
            source=source, period=period, synthetic=comp.synthetic, extra=extra,
        ))
    return out


STALE_DAYS = 130


def _stale(period: Any, reading: Reading) -> bool:
    """A published level dated far from the date asked for (the latest figure may be years old)."""
    if not isinstance(period, dict) or reading.start is not None or period.get("start"):
        return False
    try:
        end = dt.date.fromisoformat(str(period.get("end"))[:10])
    except ValueError:
        return False
    return abs((reading.end - end).days) > STALE_DAYS


def _change(cur: float | None, base: float | None, unit: str) -> float | None:
    if cur is None or base is None:
        return None
    if unit == "ratio":
        return cur / base if base else None
    if unit == "percent_change":
        return (cur - base) / base if base else None
    return cur - base  # points, count_change


def _gather(c: Candidate, e, computer: Computer, where: dict[str, Any], day: dt.date, preferred: str | None = None):
    """(verdict basis values, all values shown, provenance, reasons nothing was computed)."""
    reasons: list[str] = []
    shown_only: list[Value] = []  # published levels dated too far from the claim's date
    prov: dict[str, Any] = {"sources": []}
    groups: dict[str, list[Value]] = {"warehouse_real": [], "reference": [], "published": [], "warehouse_synthetic": []}
    metrics = [(e.metric, "reference" if computer.is_reference(e.metric) else "warehouse")]
    metrics += [(p, "published") for p in published_ids(e.metric)]
    for metric, kind in metrics:
        editions = ["latest"] if kind != "warehouse" else [None]
        for edition in editions:
            for idx, reading in enumerate(c.readings):
                comp = computer.compute(metric, reading, _where_for(metric, c.match.scope), edition)
                base = None
                if c.kind == "change" and isinstance(comp, Computed):
                    base_reading = c.base_readings[min(idx, len(c.base_readings) - 1)]
                    base = computer.compute(metric, base_reading, _where_for(metric, c.match.scope), edition)
                    if isinstance(base, Unavailable):
                        reasons.append(f"base period: {base.reason}")
                        continue
                if isinstance(comp, Unavailable):
                    if kind != "published":
                        reasons.append(comp.reason)
                    continue
                vals = _values_from(comp, c, e, idx, kind, edition, base, preferred)
                if kind == "published":
                    vals = [Value(**{**v.__dict__, "metric": metric}) for v in vals]
                if kind == "warehouse":
                    groups["warehouse_synthetic" if comp.synthetic else "warehouse_real"].extend(vals)
                else:
                    groups["reference" if kind == "reference" else "published"].extend(vals)
                if idx == 0 or not any(s["metric"] == metric for s in prov["sources"]):
                    prov["sources"].append(_provenance(comp))
    # published levels dated far from the claim's date only count when nothing nearer exists
    fresh = [v for v in groups["published"] if not v.extra.get("stale") and v.value is not None]
    if fresh:
        shown_only.extend(v for v in groups["published"] if v.extra.get("stale"))
        groups["published"] = [v for v in groups["published"] if not v.extra.get("stale")]
    elif any(v.extra.get("stale") and v.value is not None for v in groups["published"]):
        prov.setdefault("notes", []).append("the nearest published figure is dated far from the claim's date")
    order = ("warehouse_real", "reference", "published", "warehouse_synthetic")
    basis: list[Value] = []
    for k in order:
        if groups[k]:
            basis = groups[k]
            if k == "published" and not any(v.default and v.primary_reading for v in basis):
                first = next((v for v in basis if v.primary_reading), basis[0])
                basis = [Value(**{**v.__dict__, "default": v is first}) for v in basis]
            break
    shown = [v for k in order for v in groups[k]] + shown_only
    if c.readings and not prov["sources"]:
        prov.pop("sources")
    return basis, shown, prov, list(dict.fromkeys(reasons))


def _provenance(comp: Computed) -> dict[str, Any]:
    r = comp.result
    return {
        "metric": comp.metric,
        "title": getattr(r, "title", None),
        "definition": getattr(r, "definition", None),
        "period": getattr(r, "period", None),
        "filters": getattr(r, "filters", None),
        "release": getattr(r, "release", None),
        "citation": getattr(r, "citation", None),
        "source_kind": getattr(r, "source_kind", None),
        "sql": getattr(r, "sql", None),
        "synthetic": bool(getattr(r, "synthetic", False)),
        "edition": comp.edition,
        "notes": list(getattr(r, "notes", []) or []),
        "caveats": list(getattr(r, "caveats", []) or []),
    }


def _confusables(c: Candidate, e, computer: Computer, basis: list[Value], day: dt.date) -> list[Value]:
    """Values of the quantities this number is often misattributed from (same kind of source)."""
    if c.kind != "level":
        return []
    real = not basis[0].synthetic
    out: list[Value] = []
    for conf in e.confusable:
        metric = conf["metric"]
        where = _where_for(metric, {**c.match.scope, **(conf.get("where") or {})})
        if conf.get("where") and where == _where_for(metric, c.match.scope) and metric == e.metric:
            continue
        candidates = [metric] + (published_ids(metric) if real else [])
        for mid in candidates:
            comp = computer.compute(mid, c.readings[0], where, "latest" if computer.is_reference(mid) else None)
            if isinstance(comp, Computed) and comp.synthetic == (not real):
                for entry_v in comp.values:
                    if mid == metric and conf.get("variant") and entry_v.get("variant") != conf["variant"]:
                        continue
                    if mid == metric and not conf.get("variant") and not entry_v.get("default"):
                        continue
                    if mid != metric and conf.get("variant"):
                        continue
                    if mid != metric and _stale(entry_v.get("period"), c.readings[0]):
                        continue
                    out.append(Value(metric=mid, variant=entry_v.get("variant"), value=pick_value(entry_v, comp.result, None, False),
                                     label=conf.get("label"), source="confusable", synthetic=comp.synthetic))
    return out


def published_ids(metric: str) -> list[str]:
    """Reference series holding published figures for an EOIR metric (EOIR's own, then analyses)."""
    if not metric.startswith("eoir.") or metric.startswith("eoir.published"):
        return []
    from immfacts.claims.lexicon import load_lexicon

    entry = load_lexicon().entry(metric)
    out = [entry.published] if entry is not None and entry.published else []
    return out + ["published." + metric[len("eoir."):]]


def _editions(d: dict[str, Any], c: Candidate, e, computer: Computer, where, tol, v: Verdict, day: dt.date) -> None:
    """Reference series: the verdict under the edition current at the publication date."""
    if not computer.is_reference(e.metric) or not c.readings or c.kind != "level":
        return
    latest = computer.compute(e.metric, c.readings[0], where, "latest")
    asof = computer.compute(e.metric, c.readings[0], where, "as-of")
    if not isinstance(asof, Computed):
        d["editions"] = {"latest": v.verdict, "as_of": None,
                         "note": f"no edition current at {day.isoformat()}: {asof.reason}"}
        return
    vals = _values_from(asof, c, e, 0, "reference", "as-of", preferred=_scope_variant(e.metric, c.match.scope))
    v2 = decide(tol, vals)
    note = None
    period_latest = getattr(getattr(latest, "result", None), "period", None)
    period_asof = getattr(asof.result, "period", None)
    if v2.verdict != v.verdict:
        note = (f"The verdict differs by edition: {v.verdict} with the latest edition, {v2.verdict} with the "
                f"edition current at {day.isoformat()}")
        if period_latest != period_asof:
            note += " (that edition covered a shorter period)"
        note += "."
    dv = next((x for x in vals if x.default), vals[0] if vals else None)
    d["editions"] = {"latest": v.verdict, "as_of": v2.verdict, "as_of_value": dv.value if dv else None,
                     "as_of_period": period_asof, "note": note,
                     "as_of_citation": getattr(asof.result, "citation", None)}
    d["computed"].extend(_value_dict(x) for x in vals)
    if note:
        d["explanation"] += " " + note


def _record(c: Candidate, e, computer: Computer, where, default: Value, day: dt.date) -> dict[str, Any]:
    """Is the claimed level the highest (or lowest) of the series since the stated year?"""
    rec = dict(c.record or {})
    if default.value is None:
        rec["holds"] = None
        return rec
    since = rec.get("since") or 1990
    end = c.readings[0].end
    series = computer.compute(e.metric, Reading(dt.date(since, 1, 1), end, "calendar", "series"), where,
                              "latest" if computer.is_reference(e.metric) else None, by="fy")
    if not isinstance(series, Computed):
        rec["holds"] = None
        rec["reason"] = series.reason
        return rec
    rows = getattr(series.result, "rows", None) or []
    vals = [float(r["value"]) for r in rows if r.get("value") is not None]
    if not vals:
        rec["holds"] = None
        return rec
    prior = vals[:-1] if len(vals) > 1 else []
    if rec.get("kind") == "low":
        rec["holds"] = all(default.value <= x for x in prior)
    else:
        rec["holds"] = all(default.value >= x for x in prior)
    rec["series_max"] = max(vals)
    rec["series_min"] = min(vals)
    return rec


def _series(computer: Computer, metric: str, claim: dict[str, Any], as_of: dt.date, where: dict[str, Any],
            preferred: str | None = None, variant: str | None = None) -> list[dict[str, Any]]:
    """Annual values of the claim's metric (its default variant), for the report's chart."""
    ref = computer.is_reference(metric)
    start_year = max(2013, as_of.year - 11)
    comp = computer.compute(metric, Reading(dt.date(start_year, 10, 1), as_of, "fiscal", "series"), where,
                            "latest" if ref else None, by="fiscal_year" if ref else "fy")
    if not isinstance(comp, Computed):
        return []
    want = preferred or variant
    rows = getattr(comp.result, "rows", None) or []
    if want and comp.values and not any(v.get("variant") == want and v.get("default") for v in comp.values):
        rows = [r for r in rows if r.get("variant") in (None, want)] or rows
    out = []
    for r in rows:
        label = r.get("fy") or r.get("fiscal_year") or r.get("group") or r.get("label")
        if label is not None and r.get("value") is not None:
            out.append({"label": f"FY{label}" if str(label).isdigit() else str(label), "value": float(r["value"])})
    return out
