"""Keep a warehouse current with EOIR's release: check, download when changed, ingest.

EOIR replaces ``EOIR Case Data.zip`` roughly monthly and publishes no changelog; the HTTP
``ETag`` / ``Last-Modified`` headers are the only signal. :func:`update` asks the server for
them, compares them with the version it saw last (``<home>/cache/update-state.json``, one
entry per URL) and with the releases already in the warehouse, and downloads only when they
changed — into ``<home>/cache/``, resuming an interrupted transfer with HTTP ``Range``. The
finished file is size-checked and then ingested with its ``Last-Modified`` recorded, so every
number computed from it can name the exact release, and compared with the release before it
(:func:`immfacts.lifecycle.diff`, saved for the web app's data-quality page).

The URL is EOIR's current one unless ``url=`` / ``--url`` / ``$IMMFACTS_EOIR_URL`` says
otherwise (the older ``FOIA-TRAC-Report.zip`` address returns 404).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import re
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from immfacts.errors import InputError
from immfacts.lifecycle import download as dl
from immfacts.lifecycle.progress import bar
from immfacts.paths import resolve_warehouse
from immfacts.warehouse import Warehouse

DEFAULT_URL = "https://fileshare.eoir.justice.gov/EOIR Case Data.zip"
URL_ENV = "IMMFACTS_EOIR_URL"
MIN_BYTES_ENV = "IMMFACTS_MIN_RELEASE_BYTES"
# The real zip is ~4.6 GB; anything under 50 MB is an error page or a truncated file.
DEFAULT_MIN_BYTES = 50 * 1024 * 1024
STATE_FILE = "update-state.json"


@dataclass
class UpdateResult:
    """What ``immfacts update`` found and did.

    ``status``: ``unchanged`` (nothing downloaded), ``changed`` (``check_only``: a new version
    is available), ``updated`` (downloaded and ingested), ``reingested`` (the version was seen
    before but its release was missing from the warehouse; the cached zip was ingested again).
    """

    status: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_length: int | None = None
    zip_path: str | None = None
    downloaded_bytes: int = 0
    resumed_from: int = 0
    release_id: str | None = None
    synthetic: bool = False
    ingest: dict[str, Any] | None = None
    diff: dict[str, Any] | None = None  # vs the previous release: status, alerts, saved_to
    message: str = ""
    checked_at: str = field(default_factory=lambda: _now())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def default_url() -> str:
    """EOIR's current release URL, unless ``$IMMFACTS_EOIR_URL`` overrides it."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def parse_size(text: str | int | None) -> int | None:
    """``"100MB"`` / ``"4.5 GB"`` / ``"1024"`` → bytes (None stays None)."""
    if text is None or isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?i?b?)?\s*", text.lower())
    if not m:
        raise InputError(f"cannot read the size {text!r}", "write it like 500MB, 4GB or 1048576")
    mult = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    unit = (m.group(2) or "").replace("i", "").rstrip("b") or ""
    return int(float(m.group(1)) * mult[unit])


def _min_bytes(value: int | str | None) -> int:
    if value is not None:
        return parse_size(value) or 0
    env = os.environ.get(MIN_BYTES_ENV)
    return parse_size(env) if env else DEFAULT_MIN_BYTES  # type: ignore[return-value]


# --- state -----------------------------------------------------------------------------
def state_path(home: Path) -> Path:
    return home / "cache" / STATE_FILE


def read_state(home: Path) -> dict[str, Any]:
    """The update state (``{"sources": {url: {...}}}``); empty when never run."""
    p = state_path(home)
    if not p.exists():
        return {"sources": {}}
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return {"sources": {}}
    data.setdefault("sources", {})
    return data


def _write_state(home: Path, state: dict[str, Any]) -> None:
    p = state_path(home)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(p)


def _zip_name(info: dl.RemoteInfo) -> str:
    name = urllib.parse.unquote(urllib.parse.urlsplit(info.url).path.rsplit("/", 1)[-1]) or "release.zip"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, "zip"
    stem = re.sub(r"[^\w .()-]+", "_", stem)
    return f"{stem}-{info.version_tag()}.{ext}"


# --- ingest ----------------------------------------------------------------------------
def _ingest(path: Path, home: Path, *, last_modified: str | None, progress: bool) -> dict[str, Any]:
    """Ingest ``path`` into ``home`` (via ``immfacts.ingest``); returns the report dict."""
    import immfacts

    func = immfacts.ingest.ingest
    params = inspect.signature(func).parameters
    kwargs: dict[str, Any] = {"warehouse": home}
    if "last_modified" in params:
        kwargs["last_modified"] = last_modified
    if "progress" in params:
        kwargs["progress"] = progress
    report = func(path, **kwargs)
    return report.to_dict() if hasattr(report, "to_dict") else dict(report)


def _record_last_modified(home: Path, release_id: str | None, last_modified: str | None) -> None:
    """Make sure release.json names the HTTP Last-Modified (if ingest did not take it)."""
    if not release_id or not last_modified:
        return
    meta_file = home / "releases" / release_id / "release.json"
    if not meta_file.exists():
        return
    meta = json.loads(meta_file.read_text())
    if meta.get("last_modified"):
        return
    meta["last_modified"] = last_modified
    tmp = meta_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(meta_file)


def _release_present(wh: Warehouse, release_id: str | None, info: dl.RemoteInfo) -> str | None:
    """Id of a warehouse release that came from this version of the file, if any."""
    rels = wh.releases()
    if release_id and any(r.id == release_id for r in rels):
        return release_id
    if info.last_modified:
        for r in rels:
            lm = r.meta.get("last_modified")
            if lm and dl._same_http_date(lm, info.last_modified):
                return r.id
    return None


# --- the public function ---------------------------------------------------------------
def update(
    url: str | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    check_only: bool = False,
    min_bytes: int | str | None = None,
    progress: bool = False,
    timeout: float = 60.0,
) -> UpdateResult:
    """Download and ingest EOIR's release when it changed since the last one seen.

    ``url`` defaults to :func:`default_url`; ``warehouse`` to the default warehouse.
    ``force`` downloads even when the server's ETag/Last-Modified match the last version
    seen; ``check_only`` only asks the server (no download). ``min_bytes`` (default 50 MB or
    ``$IMMFACTS_MIN_RELEASE_BYTES``) is the smallest plausible size of a release zip.
    Raises :class:`~immfacts.errors.FetchError` when the server cannot be reached or the
    transfer breaks off (a second call resumes it), and
    :class:`~immfacts.errors.InputError` when the file fails the size checks.
    """
    url = url or default_url()
    home = resolve_warehouse(warehouse)
    wh = Warehouse(home)
    minimum = _min_bytes(min_bytes)
    state = read_state(home)
    seen = state["sources"].get(url, {})

    with httpx.Client(timeout=httpx.Timeout(timeout, connect=30.0)) as client:
        info = dl.probe(client, url)
        result = UpdateResult(
            status="unchanged",
            url=url,
            etag=info.etag,
            last_modified=info.last_modified,
            content_length=info.content_length,
        )
        if info.content_length is not None and info.content_length < minimum:
            raise InputError(
                f"{url} announces only {info.content_length:,} bytes; a real EOIR release is several GB",
                "check the URL; for a small test release pass --min-size (or set IMMFACTS_MIN_RELEASE_BYTES)",
            )
        known = dl.same_version(seen, info) if seen else False
        present = _release_present(wh, seen.get("release_id") if known else None, info)
        if not force and present:
            result.release_id = present
            result.synthetic = wh.release(present).synthetic
            result.zip_path = seen.get("zip") if known else None
            result.message = f"release {present} is current ({info.last_modified or info.etag})"
            seen.update(_validators(info), release_id=present, checked_at=result.checked_at)
            state["sources"][url] = seen
            _write_state(home, state)
            return result
        if check_only:
            result.status = "changed"
            result.message = "a new release is available" if seen else "no release from this URL yet"
            return result

        cache = home / "cache"
        final = cache / _zip_name(info)
        if not force and known and final.exists():
            # Same version, downloaded before, but its release is gone from the warehouse.
            dl.check_size(final, expected=info.content_length, min_bytes=minimum)
            result.status = "reingested"
        else:
            part = final.with_name(final.name + ".part")
            partial = seen.get("partial") or {}
            resume = (
                not force
                and part.exists()
                and partial.get("path") == str(part)
                and dl.same_version(partial, info)
            )
            seen["partial"] = {"path": str(part), **_validators(info)}
            state["sources"][url] = seen
            _write_state(home, state)
            with bar(f"downloading {final.name}", enabled=progress) as update_bar:
                outcome = dl.fetch(client, info, part, resume=resume, on_progress=update_bar)
            dl.check_size(part, expected=info.content_length, min_bytes=minimum)
            part.replace(final)
            result.status = "updated"
            result.downloaded_bytes = outcome.downloaded
            result.resumed_from = outcome.resumed_from
            seen.pop("partial", None)
            seen.update(zip=str(final), **_validators(info))
            state["sources"][url] = seen
            _write_state(home, state)

    result.zip_path = str(final)
    report = _ingest(final, home, last_modified=info.last_modified, progress=progress)
    rel = report.get("release") or {}
    result.release_id = rel.get("id")
    result.synthetic = bool(rel.get("synthetic"))
    result.ingest = report
    _record_last_modified(home, result.release_id, info.last_modified)
    seen.update(
        zip=str(final), release_id=result.release_id, checked_at=result.checked_at, updated_at=_now(), **_validators(info)
    )
    state["sources"][url] = seen
    _write_state(home, state)
    result.message = f"ingested release {result.release_id} ({info.last_modified or info.etag})"
    result.diff = _diff_with_previous(wh, result.release_id)
    return result


def _diff_with_previous(wh: Warehouse, release_id: str | None) -> dict[str, Any] | None:
    """Compare the new release with the one before it (saved for the data-quality page)."""
    rels = [r for r in wh.releases() if r.id != release_id]
    if not release_id or not rels or not any(r.id == release_id for r in wh.releases()):
        return None
    from immfacts.lifecycle.differ import diff

    d = diff(rels[0].id, release_id, wh.path)
    return {"old": rels[0].id, "new": release_id, "status": d.status, "alerts": d.alerts, "saved_to": d.saved_to}


def _validators(info: dl.RemoteInfo) -> dict[str, Any]:
    return {"etag": info.etag, "last_modified": info.last_modified, "content_length": info.content_length}
