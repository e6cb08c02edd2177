"""Keeping CBP encounters current: add a newly released CBP file to the user overlay.

CBP re-issues its Nationwide Encounters CSV every month. ``add_cbp(FILE)``:

1. reads and validates the file (:func:`cbp_files.read_nationwide`: header, fiscal-year and
   month labels, categories, counts, repeated keys, missing months, future months), then
   checks its totals: no month may total zero, and a month already in the data may not move
   by more than ``max_revision`` (5 %) — CBP's revisions are small, a larger jump means the
   wrong file;
2. compares it with the data as it stands (newest release per month) and reports the months
   **added**, **revised** (old and new totals, rows changed, the release it supersedes) and
   unchanged;
3. writes it as a new release into the user overlay ``$IMMFACTS_HOME/reference/`` — a tidy
   file, a citation in ``sources.yaml`` and an entry in ``cbp/releases.yaml``, the manifest
   written last so that a failure leaves the overlay as it was. The installed bundle (which
   may be read-only) is never modified.

A malformed file raises :class:`~immfacts.errors.ReferenceDataError` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from immfacts.errors import ReferenceDataError
from immfacts.reference.cbp_files import TidyFile, month_label, read_nationwide
from immfacts.reference.store import Store, get_store, overlay_dir, sha256_file

CBP_PAGE = "https://www.cbp.gov/document/stats/nationwide-encounters"


def _compare(store: Store, tidy_path: Path) -> list[dict[str, Any]]:
    """Per month of the new file: the total held now (newest release), the new total, rows changed."""
    cols = "{'month': 'VARCHAR', 'fiscal_year': 'INTEGER', 'region': 'VARCHAR', 'state': 'VARCHAR', " \
           "'demographic': 'VARCHAR', 'citizenship': 'VARCHAR', 'title': 'VARCHAR', 'encounters': 'BIGINT'}"
    return store.query(
        "WITH new AS (\n"
        "  SELECT strptime(month || '-01', '%Y-%m-%d')::DATE AS month, region, state, demographic, citizenship, title, encounters\n"
        f"  FROM read_csv(?, header = true, auto_detect = false, columns = {cols})\n"
        "), held AS (\n"
        "  SELECT r.* FROM cbp_nationwide_rows AS r JOIN cbp_releases AS c ON c.release_id = r.release_id\n"
        "  WHERE r.month IN (SELECT DISTINCT month FROM new)\n"
        "  QUALIFY c.rank = max(c.rank) OVER (PARTITION BY r.month)\n"
        ")\n"
        "SELECT strftime(month, '%Y-%m') AS month, sum(coalesce(h.encounters, 0)) AS previous,\n"
        "       sum(coalesce(n.encounters, 0)) AS new,\n"
        "       count(*) FILTER (WHERE coalesce(h.encounters, 0) <> coalesce(n.encounters, 0)) AS rows_changed,\n"
        "       max(h.release_id) AS previous_release\n"
        "FROM held AS h FULL JOIN new AS n USING (month, region, state, demographic, citizenship, title)\n"
        "GROUP BY 1 ORDER BY 1", [str(tidy_path)])


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_list(path: Path, key: str | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or ([] if key is None else {})
    return list(data.get(key, [])) if key else list(data)


def add_cbp(
    path: str | os.PathLike[str], home: str | os.PathLike[str] | None = None,
    released: str | dt.date | None = None, max_revision: float = 0.05, today: dt.date | None = None,
) -> dict[str, Any]:
    """Validate a CBP Nationwide Encounters CSV and merge it into the user overlay; report what changed.

    ``released``: CBP's publication date of the file (default: today), used to order releases
    and for ``--edition as-of``. Returns ``{"changed", "release", "added", "revised",
    "unchanged", "fiscal_year_totals", "renamed", "overlay"}``.
    """
    src = Path(path).expanduser()
    today = today or dt.date.today()
    tidy = read_nationwide(src, today=today)
    totals = tidy.month_totals()
    zero = [m for m, n in totals.items() if n == 0]
    if zero:
        raise ReferenceDataError(
            f"{src.name}: months {', '.join(zero)} total zero encounters — the file is incomplete",
            "download the file again from cbp.gov; nothing was changed",
        )
    published = _published(released, today)
    store = get_store(home)
    with tempfile.TemporaryDirectory(prefix="immfacts-add-cbp-") as tmpdir:
        staged = Path(tmpdir) / "new.csv"
        tidy.write(staged, compress=False)
        months_cmp = _compare(store, staged)
    added, revised, unchanged, too_big = [], [], 0, []
    for r in months_cmp:
        if r["previous_release"] is None:
            added.append(r["month"])
        elif not r["rows_changed"]:
            unchanged += 1
        else:
            prev, new_total = int(r["previous"]), int(r["new"])
            revised.append({"month": r["month"], "previous": prev, "new": new_total, "change": new_total - prev,
                            "rows_changed": int(r["rows_changed"]), "previous_release": r["previous_release"]})
            if prev and abs(new_total - prev) / prev > max_revision:
                too_big.append(f"{r['month']} ({prev:,} → {new_total:,})")
    if too_big:
        raise ReferenceDataError(
            f"{src.name}: totals move by more than {max_revision:.0%} from the data already held for "
            f"{', '.join(too_big[:5])}{' …' if len(too_big) > 5 else ''} — this does not look like a CBP revision",
            "check that this is CBP's Nationwide Encounters file; to accept it anyway raise --max-revision. Nothing was changed",
        )
    digest = sha256_file(src)
    months = tidy.months
    first, last = month_label(months[0]), month_label(months[-1])
    existing = [r for r in store.releases if r.family == "nationwide" and r.meta.get("input_sha256") == digest]
    report: dict[str, Any] = {
        "file": str(src), "months": {"first": first, "last": last, "count": len(months)},
        "added": added, "revised": revised, "unchanged": unchanged,
        "fiscal_year_totals": tidy.fiscal_year_totals(), "renamed": tidy.renamed,
        "overlay": str(overlay_dir(home)),
    }
    if existing:
        report.update(changed=False, release=existing[0].to_dict(),
                      message=f"this file was already added as release {existing[0].id}; nothing changed")
        return report
    rid = f"cbp-nationwide-{last}-user-{digest[:8]}"
    report["release"] = _write(tidy, src, rid, published, first, last, digest, home, today)
    report["changed"] = bool(added or revised)
    newest_last = max((r.last_month for r in store.releases if r.family == "nationwide"), default="")
    if last < newest_last:
        report["message"] = (f"the file ends {last}, before the newest release already held ({newest_last}); "
                             "it is kept, and wins only for months no newer release has")
    return report


def _published(released: str | dt.date | None, today: dt.date) -> dt.date:
    if released in (None, ""):
        return today
    if isinstance(released, dt.date):
        return released
    try:
        return dt.date.fromisoformat(str(released))
    except ValueError:
        raise ReferenceDataError(f"cannot read the release date {released!r}", "write it as YYYY-MM-DD") from None


def _write(tidy: TidyFile, src: Path, rid: str, published: dt.date, first: str, last: str, digest: str,
           home: Any, today: dt.date) -> dict[str, Any]:
    root = overlay_dir(home)
    rel = f"cbp/nationwide/{rid}.csv.gz"
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tidy.write(tmp, compress=True)
        os.replace(tmp, target)
        sources = [s for s in _read_list(root / "sources.yaml") if s.get("id") != rid]
        fy = tidy.fiscal_year_totals()
        sources.append({
            "id": rid,
            "publisher": "U.S. Customs and Border Protection",
            "title": f"Nationwide Encounters (state-level CSV), {first} to {last}",
            "url": CBP_PAGE,
            "published": published.isoformat(),
            "retrieved": today.isoformat(),
            "license": "U.S. government work — public domain (17 U.S.C. § 105)",
            "kind": "primary",
            "notes": f"added with `immfacts reference add-cbp` from {src.name} (sha256 {digest})",
        })
        _atomic_write(root / "sources.yaml", yaml.safe_dump(sources, sort_keys=False, allow_unicode=True))
        entries = [e for e in _read_list(root / "cbp" / "releases.yaml", "releases") if e.get("id") != rid]
        entry = {
            "id": rid, "family": "nationwide", "source": rid, "file": rel, "published": published.isoformat(),
            "first_month": first, "last_month": last, "rows": len(tidy.rows), "fy_totals": fy,
            "sha256": sha256_file(target), "input_sha256": digest, "input_file": src.name,
            "added": today.isoformat(),
        }
        entries.append(entry)
        _atomic_write(root / "cbp" / "releases.yaml",
                      "# Written by `immfacts reference add-cbp`: CBP releases added after the package was built.\n"
                      + yaml.safe_dump({"releases": entries}, sort_keys=False, allow_unicode=True))
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ReferenceDataError(f"cannot write the overlay at {root}: {e}", "check the folder's permissions or set IMMFACTS_HOME") from None
    return {"id": rid, "published": published.isoformat(), "first": first, "last": last,
            "rows": len(tidy.rows), "file": str(target)}
