"""Where the reference figures live, and the DuckDB database they are queried in.

Two layers, read together:

* the **bundle** — ``immfacts/reference/data`` in the installed package (read-only): the
  ``sources.yaml`` citations, ``catalogue.yaml`` metric specs, ``figures/*.csv`` tidy figures,
  and the CBP table files listed in ``cbp/releases.yaml``;
* the **user overlay** — ``$IMMFACTS_HOME/reference/`` (written by ``add_cbp``): CBP releases
  added after the package was built, with their own ``cbp/releases.yaml`` and
  ``sources.yaml``. Overlay releases are added to the bundle's, never replace its files.

:func:`get_store` loads both into one in-memory DuckDB database (tables ``sources``,
``figures``, ``cbp_releases``, ``cbp_nationwide_rows``, ``cbp_sbo_rows``,
``cbp_usbp_sectors``, ``cbp_enforcement_fy``) and caches it until the overlay changes.
Reference metrics are computed by SQL on these tables, and the SQL is kept in each result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import yaml

from immfacts.errors import ReferenceDataError
from immfacts.paths import default_home
from immfacts.warehouse import literal

FIGURE_COLUMNS = {
    "metric": "VARCHAR", "variant": "VARCHAR", "period_start": "DATE", "period_end": "DATE",
    "value": "DOUBLE", "qualifier": "VARCHAR", "moe": "DOUBLE", "share": "DOUBLE",
    "share_moe": "DOUBLE", "numerator": "DOUBLE", "denominator": "DOUBLE", "source": "VARCHAR",
    "label": "VARCHAR", "notes": "VARCHAR",
}
FAMILY_COLUMNS = {
    "nationwide": {"month": "VARCHAR", "fiscal_year": "INTEGER", "region": "VARCHAR", "state": "VARCHAR",
                   "demographic": "VARCHAR", "citizenship": "VARCHAR", "title": "VARCHAR", "encounters": "BIGINT"},
    "sbo": {"month": "VARCHAR", "fiscal_year": "INTEGER", "component": "VARCHAR", "demographic": "VARCHAR",
            "citizenship_group": "VARCHAR", "title": "VARCHAR", "encounter_type": "VARCHAR", "encounters": "BIGINT"},
    "usbp_sectors": {"month": "VARCHAR", "fiscal_year": "INTEGER", "region": "VARCHAR", "sector": "VARCHAR",
                     "encounters": "BIGINT"},
    "enforcement_fy": {"fiscal_year": "INTEGER", "component": "VARCHAR", "encounters": "BIGINT"},
}
FAMILY_TABLES = {
    "nationwide": "cbp_nationwide_rows", "sbo": "cbp_sbo_rows",
    "usbp_sectors": "cbp_usbp_sectors", "enforcement_fy": "cbp_enforcement_fy",
}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when libyaml is present
SOURCE_FIELDS = ("publisher", "title", "url", "published", "retrieved", "license")


def bundle_dir() -> Path:
    """The bundled reference data folder inside the installed package."""
    return Path(str(resources.files("immfacts.reference").joinpath("data")))


def overlay_dir(home: str | Path | None = None) -> Path:
    """The user's overlay folder: ``<home>/reference`` (home = ``$IMMFACTS_HOME`` or the data folder)."""
    return Path(home).expanduser() / "reference" if home else default_home() / "reference"


sql_str = literal  # a SQL string literal (single quotes doubled)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as e:
        raise ReferenceDataError(f"{path}: not valid YAML ({e})", "restore the file or remove it") from None


@dataclass
class Release:
    """One CBP table file (a release of one family) in the bundle or the overlay."""

    id: str
    family: str
    source: str
    path: Path
    published: dt.date | None
    first_month: str
    last_month: str
    rows: int
    sha256: str
    origin: str  # bundle | overlay
    fy_totals: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The release as JSON (for reports)."""
        return {
            "id": self.id, "family": self.family, "source": self.source, "origin": self.origin,
            "published": self.published.isoformat() if self.published else None,
            "first": self.first_month, "last": self.last_month, "rows": self.rows,
            "file": str(self.path), "notes": list(self.notes),
        }


def load_sources(home: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every citation, by id: the bundle's ``sources.yaml`` plus the overlay's (added releases)."""
    out: dict[str, dict[str, Any]] = {}
    for folder, origin in ((bundle_dir(), "bundle"), (overlay_dir(home), "overlay")):
        path = folder / "sources.yaml"
        if not path.exists():
            continue
        for entry in _read_yaml(path) or []:
            entry = dict(entry)
            for key in ("published", "retrieved"):
                if isinstance(entry.get(key), dt.date):
                    entry[key] = entry[key].isoformat()
            entry["origin"] = origin
            out[entry["id"]] = entry
    return out


def load_releases(home: str | Path | None = None) -> list[Release]:
    """The CBP table files of the bundle and the overlay, with their manifest entries."""
    out: list[Release] = []
    for folder, origin in ((bundle_dir(), "bundle"), (overlay_dir(home), "overlay")):
        manifest = folder / "cbp" / "releases.yaml"
        if not manifest.exists():
            continue
        for e in (_read_yaml(manifest) or {}).get("releases", []):
            out.append(Release(
                id=e["id"], family=e["family"], source=e["source"], path=folder / e["file"],
                published=_date(e.get("published")), first_month=str(e["first_month"]),
                last_month=str(e["last_month"]), rows=int(e["rows"]), sha256=e["sha256"], origin=origin,
                fy_totals={int(k): int(v) for k, v in (e.get("fy_totals") or {}).items()},
                notes=list(e.get("notes") or []), meta=dict(e),
            ))
    return out


def release_rank_key(r: Release) -> tuple:
    """Order of releases within a family: the one with the latest data month, then the latest published, is newest."""
    return (r.last_month, r.published or dt.date.min, r.origin == "overlay", r.id)


def figure_files() -> list[Path]:
    """The bundled figure files (``figures/*.csv``)."""
    return sorted((bundle_dir() / "figures").glob("*.csv"))


class Store:
    """The reference tables in an in-memory DuckDB database (queries serialised by a lock)."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = home
        self.sources = load_sources(home)
        self.releases = load_releases(home)
        self.lock = threading.Lock()
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET enable_progress_bar = false")
        self._load()

    # --- loading ----------------------------------------------------------------------------
    def _load(self) -> None:
        con = self.con
        con.execute(
            "CREATE TABLE sources (id VARCHAR PRIMARY KEY, publisher VARCHAR, title VARCHAR, url VARCHAR, "
            "published DATE, retrieved DATE, license VARCHAR, kind VARCHAR, origin VARCHAR)"
        )
        rows = [
            (s["id"], s.get("publisher"), s.get("title"), s.get("url"), _date(s.get("published")),
             _date(s.get("retrieved")), s.get("license"), s.get("kind"), s.get("origin"))
            for s in self.sources.values()
        ]
        if rows:
            con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self._load_figures()
        self._load_releases()

    def _read_csv(self, path: Path, columns: dict[str, str]) -> str:
        cols = "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items()) + "}"
        return f"read_csv({sql_str(str(path))}, header = true, auto_detect = false, columns = {cols})"

    def _load_figures(self) -> None:
        files = figure_files()
        parts = [f"SELECT * FROM {self._read_csv(p, FIGURE_COLUMNS)}" for p in files]
        body = " UNION ALL ".join(parts) if parts else "SELECT " + ", ".join(
            f"NULL::{t} AS {c}" for c, t in FIGURE_COLUMNS.items()) + " WHERE false"
        try:
            self.con.execute(f"CREATE TABLE figures AS {body}")
        except duckdb.Error as e:  # a hand-edited file that does not parse
            raise ReferenceDataError(f"the bundled figure files do not load: {e}", "run `immfacts reference check`") from None

    def _load_releases(self) -> None:
        con = self.con
        by_family: dict[str, list[Release]] = {}
        for r in self.releases:
            by_family.setdefault(r.family, []).append(r)
        con.execute(
            "CREATE TABLE cbp_releases (release_id VARCHAR, family VARCHAR, source VARCHAR, published DATE, "
            "first_month VARCHAR, last_month VARCHAR, rank INTEGER, origin VARCHAR)"
        )
        for family, rels in by_family.items():
            for rank, r in enumerate(sorted(rels, key=release_rank_key), start=1):
                con.execute("INSERT INTO cbp_releases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [r.id, family, r.source, r.published, r.first_month, r.last_month, rank, r.origin])
        for family, table in FAMILY_TABLES.items():
            cols = FAMILY_COLUMNS[family]
            parts = []
            for r in by_family.get(family, []):
                if not r.path.exists():
                    raise ReferenceDataError(
                        f"reference file {r.path} of release {r.id} is missing",
                        "reinstall immfacts, or remove the release from the overlay's cbp/releases.yaml",
                    )
                select = ", ".join(
                    "strptime(month || '-01', '%Y-%m-%d')::DATE AS month" if c == "month" else c for c in cols
                )
                parts.append(f"SELECT {sql_str(r.id)} AS release_id, {select} FROM {self._read_csv(r.path, cols)}")
            if not parts:
                empty = ", ".join(
                    f"NULL::{'DATE' if c == 'month' else t} AS {c}" for c, t in cols.items())
                parts = [f"SELECT NULL::VARCHAR AS release_id, {empty} WHERE false"]
            try:
                con.execute(f"CREATE TABLE {table} AS " + " UNION ALL ".join(parts))
            except duckdb.Error as e:
                raise ReferenceDataError(f"CBP reference files of family {family!r} do not load: {e}",
                                         "run `immfacts reference check`") from None

    # --- querying ---------------------------------------------------------------------------
    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run SQL and return the rows as dicts."""
        with self.lock:
            cur = self.con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def source(self, source_id: str) -> dict[str, Any]:
        """One source by id; a missing one is a ReferenceDataError."""
        try:
            return self.sources[source_id]
        except KeyError:
            raise ReferenceDataError(
                f"source {source_id!r} is named by a figure but missing from sources.yaml",
                "run `immfacts reference check`",
            ) from None


_CACHE: dict[tuple, Store] = {}
_CACHE_LOCK = threading.Lock()


def _signature(home: str | Path | None) -> tuple:
    folder = overlay_dir(home)
    files = [folder / "cbp" / "releases.yaml", folder / "sources.yaml"]
    sig = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else (str(f), None, None) for f in files)
    return (str(folder), sig)


def get_store(home: str | Path | None = None) -> Store:
    """The loaded reference database for this overlay (reloaded when the overlay changes)."""
    key = _signature(home)
    with _CACHE_LOCK:
        store = _CACHE.get(key)
        if store is None:
            _CACHE.clear()
            store = _CACHE[key] = Store(home)
        return store


def citation(source: dict[str, Any]) -> dict[str, Any]:
    """The citation block of a result for one source."""
    out = {k: source.get(k) for k in ("id", *SOURCE_FIELDS, "notes", "kind")}
    if source.get("via"):
        out["via"] = source["via"]
    return out
