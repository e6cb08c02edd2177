"""Resumable HTTP download of a release zip.

EOIR serves one multi-gigabyte zip with ``ETag`` and ``Last-Modified`` headers. This module
asks the server what it has (:func:`probe`, a ``HEAD`` request, falling back to a ``GET``
whose body is not read when ``HEAD`` is refused), and downloads it into a ``.part`` file
(:func:`fetch`). A transfer that breaks off leaves the ``.part`` file in place; the next call
continues it with ``Range: bytes=N-`` and ``If-Range`` (so a file that changed in between is
fetched from the start instead of being spliced). Sizes are checked against the server's
``Content-Length``; the first bytes must be a zip's.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from immfacts.errors import FetchError, InputError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
URL_HINT = (
    "check the address (EOIR moved the file to 'https://fileshare.eoir.justice.gov/EOIR Case Data.zip'; "
    "the old FOIA-TRAC-Report.zip address returns 404), or pass --url / set IMMFACTS_EOIR_URL"
)

ProgressFn = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RemoteInfo:
    """What the server says about the file before we download it."""

    url: str  # after redirects
    etag: str | None
    last_modified: str | None
    content_length: int | None
    accept_ranges: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def strong_etag(self) -> str | None:
        """The ETag if it is a strong one (only those may be sent in ``If-Range``)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return None

    def version_tag(self) -> str:
        """A file-name-safe tag naming this version of the file."""
        if self.last_modified:
            try:
                d = email.utils.parsedate_to_datetime(self.last_modified)
                return d.strftime("%Y%m%dT%H%M%SZ")
            except (TypeError, ValueError):
                pass
        if self.etag:
            return re.sub(r"[^A-Za-z0-9]+", "", normalize_etag(self.etag))[:24] or "unversioned"
        return "unversioned"


def normalize_etag(etag: str | None) -> str | None:
    """Compare ETags the way CDNs need: weak (``W/"x"``) and strong (``"x"``) forms match."""
    if not etag:
        return None
    e = etag.strip()
    if e.startswith("W/"):
        e = e[2:]
    return e.strip('"')


def same_version(seen: dict[str, Any], info: RemoteInfo) -> bool:
    """True when ``info`` names the same file version as the recorded ``seen`` headers.

    ETags decide when both sides have one; else ``Last-Modified``. With no validator in
    common the file is treated as changed (a size alone cannot tell two releases apart).
    """
    if seen.get("etag") and info.etag:
        return normalize_etag(seen["etag"]) == normalize_etag(info.etag)
    if seen.get("last_modified") and info.last_modified:
        return _same_http_date(seen["last_modified"], info.last_modified)
    return False


def _same_http_date(a: str, b: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(a) == email.utils.parsedate_to_datetime(b)
    except (TypeError, ValueError):
        return a.strip() == b.strip()


def _info_from(response: httpx.Response) -> RemoteInfo:
    h = response.headers
    length = h.get("content-length")
    return RemoteInfo(
        url=str(response.url),
        etag=h.get("etag"),
        last_modified=h.get("last-modified"),
        content_length=int(length) if length and length.isdigit() else None,
        accept_ranges="bytes" in h.get("accept-ranges", "").lower(),
    )


def _check_status(response: httpx.Response, url: str) -> None:
    if response.status_code == 404:
        raise FetchError(f"{url} returned 404 Not Found", URL_HINT, url=url)
    if response.status_code >= 400:
        raise FetchError(
            f"{url} returned HTTP {response.status_code} {response.reason_phrase}",
            "try again later; if it persists, " + URL_HINT,
            url=url,
            status=response.status_code,
        )


def probe(client: httpx.Client, url: str) -> RemoteInfo:
    """Ask the server for the file's validators and size (``HEAD``; ``GET`` if refused)."""
    try:
        r = client.head(url, follow_redirects=True)
        if r.status_code in (405, 501):
            with client.stream("GET", url, follow_redirects=True) as g:
                _check_status(g, url)
                return _info_from(g)
    except httpx.HTTPError as e:
        raise FetchError(
            f"could not reach {url}: {e}", "check your network connection, or " + URL_HINT, url=url
        ) from e
    _check_status(r, url)
    return _info_from(r)


@dataclass
class FetchOutcome:
    """How a download went."""

    path: Path
    bytes: int
    downloaded: int  # bytes transferred in this call
    resumed_from: int  # 0 when started from scratch
    restarted: bool  # a partial file existed but the server sent the whole file


def _content_range_start(value: str | None) -> tuple[int | None, int | None]:
    m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", value or "")
    if not m:
        return None, None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), total


def fetch(
    client: httpx.Client,
    info: RemoteInfo,
    part: Path,
    *,
    resume: bool,
    on_progress: ProgressFn | None = None,
) -> FetchOutcome:
    """Download ``info.url`` into ``part``, continuing an existing ``part`` when ``resume``.

    Raises :class:`FetchError` when the transfer breaks off; ``part`` then holds what arrived,
    so calling again with ``resume=True`` continues from there.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if (resume and part.exists()) else 0
    # identity: byte ranges must count the file's own bytes, not a compressed stream's.
    headers: dict[str, str] = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        validator = info.strong_etag or info.last_modified
        if validator:
            headers["If-Range"] = validator
    resumed_from, restarted, downloaded = 0, False, 0
    total = info.content_length
    try:
        with client.stream("GET", info.url, headers=headers, follow_redirects=True) as r:
            if r.status_code == 416 and have and total is not None and have >= total:
                # Range not satisfiable: the partial file is already complete.
                return FetchOutcome(part, have, 0, have, False)
            _check_status(r, info.url)
            if r.status_code == 206:
                start, whole = _content_range_start(r.headers.get("content-range"))
                if start != have:
                    raise FetchError(
                        f"{info.url}: the server resumed at byte {start}, not {have}",
                        "run the update again with --force to download from the start",
                    )
                total = whole if whole is not None else total
                mode, resumed_from = "ab", have
            else:
                restarted = bool(have)
                mode, have = "wb", 0
                length = r.headers.get("content-length")
                if length and length.isdigit():
                    total = int(length)
            if on_progress:
                on_progress(have, total)
            with part.open(mode) as f:
                # iter_raw() without a chunk size hands over bytes as they arrive, so a
                # broken transfer keeps everything received before the break.
                for chunk in r.iter_raw():
                    f.write(chunk)
                    downloaded += len(chunk)
                    if on_progress:
                        on_progress(have + downloaded, total)
    except httpx.HTTPError as e:
        got = part.stat().st_size if part.exists() else 0
        raise FetchError(
            f"the download of {info.url} broke off after {_mb(got)} of {_mb(total)} ({e})",
            "run `immfacts update` again: it resumes where it stopped",
            url=info.url,
            bytes=got,
            total=total,
        ) from e
    size = part.stat().st_size
    if total is not None and size != total:
        raise FetchError(
            f"the download of {info.url} is incomplete: {size:,} of {total:,} bytes",
            "run `immfacts update` again: it resumes where it stopped",
            url=info.url,
        )
    return FetchOutcome(part, size, downloaded, resumed_from, restarted)


def check_size(path: Path, *, expected: int | None, min_bytes: int) -> None:
    """Sanity checks on a finished download: the size the server announced, a plausible
    minimum, and a zip signature (an HTML error page served with 200 is the usual failure)."""
    size = path.stat().st_size
    if expected is not None and size != expected:
        raise InputError(
            f"{path.name}: {size:,} bytes on disk, but the server announced {expected:,}",
            "run `immfacts update --force` to download it again",
        )
    if size < min_bytes:
        raise InputError(
            f"{path.name} is only {_mb(size)}; a real EOIR release is several GB "
            f"(minimum plausible size set to {_mb(min_bytes)})",
            "check the URL; for a small test release pass --min-size (or set IMMFACTS_MIN_RELEASE_BYTES)",
        )
    with path.open("rb") as f:
        head = f.read(4)
    if head not in ZIP_MAGIC:
        raise InputError(
            f"{path.name} is not a zip file (it starts with {head!r})",
            "the server probably sent an error page; check the URL and try again",
        )


def _mb(n: int | None) -> str:
    if n is None:
        return "an unknown size"
    if n < 1024 * 1024:
        return f"{n:,} bytes"
    return f"{n / (1024 * 1024):,.1f} MB"


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
