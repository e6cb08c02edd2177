"""Downloading a release zip from an http(s) URL into the warehouse cache, streamed.

Only ``http://`` and ``https://`` are accepted. The body is streamed in 1 MiB chunks to
``<cache>/<hash of the URL>-<file name>.part`` (with a progress bar on a terminal) and renamed
into place when complete, so an interrupted download never looks finished. A sidecar
``….json`` keeps the URL, ``Last-Modified``, ``ETag`` and size; a later ingest of the same URL
reuses the cached file when a ``HEAD`` request reports the same validators.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from immfacts.errors import FetchError, InputError


def _cache_paths(url: str, cache_dir: Path) -> tuple[Path, Path]:
    name = unquote(Path(urlparse(url).path).name) or "release.zip"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80]
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    target = cache_dir / f"{key}-{name}"
    return target, target.with_name(target.name + ".json")


def _validators(headers) -> dict[str, str | None]:
    return {"last_modified": headers.get("last-modified"), "etag": headers.get("etag"), "size": headers.get("content-length")}


def download(url: str, cache_dir: Path | None, progress=None, timeout: float = 60.0) -> tuple[Path, str | None]:
    """Fetch ``url`` into ``cache_dir``; return (local path, HTTP Last-Modified or None)."""
    import httpx

    scheme = urlparse(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise InputError(f"unsupported URL scheme {scheme!r} in {url}", hint="give an http(s) URL, or a local path of the zip")
    if cache_dir is None:
        from immfacts.paths import default_home

        cache_dir = default_home() / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    target, meta_path = _cache_paths(url, cache_dir)
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout) as client:
            if target.exists() and meta_path.exists():
                cached = json.loads(meta_path.read_text())
                try:
                    head = client.head(url)
                    now = _validators(head.headers) if head.status_code < 400 else None
                except httpx.HTTPError:
                    now = None
                same = now is not None and any(now[k] for k in now) and all(
                    now[k] is None or cached.get(k) == now[k] for k in ("last_modified", "etag", "size")
                )
                if same and target.stat().st_size == int(cached.get("bytes", -1)):
                    return target, cached.get("last_modified")
            part = target.with_name(target.name + ".part")
            with client.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    raise FetchError(f"{url} answered HTTP {resp.status_code}", hint="check the URL (EOIR moves the file now and then)")
                total = int(resp.headers.get("content-length") or 0) or None
                meta = _validators(resp.headers)
                done = 0
                task = progress.start_download(url, total) if progress is not None else None
                with open(part, "wb") as fh:
                    for chunk in resp.iter_bytes(1 << 20):
                        fh.write(chunk)
                        done += len(chunk)
                        if task is not None:
                            progress.advance_download(task, len(chunk))
                if total is not None and done != total:
                    part.unlink(missing_ok=True)
                    raise FetchError(f"{url}: the download stopped after {done:,} of {total:,} bytes", hint="try again")
            part.replace(target)
            meta_path.write_text(json.dumps({"url": url, **meta, "bytes": done}, indent=1))
            return target, meta.get("last_modified")
    except httpx.HTTPError as e:
        raise FetchError(f"cannot download {url}: {e}", hint="check the URL and your network connection") from None
