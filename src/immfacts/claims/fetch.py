"""Fetching an article from a URL, within limits, and extracting its text and date.

Rules (each breach is a :class:`~immfacts.errors.FetchError` saying what and what to do):

* ``http`` and ``https`` only;
* the host must not resolve to a loopback, private, link-local, reserved or multicast
  address — unless ``allow_private=True`` or ``IMMFACTS_ALLOW_PRIVATE_FETCH=1`` (tests,
  operators on an intranet); redirects are followed by hand (at most
  :data:`MAX_REDIRECTS`) and every hop is checked the same way;
* at most :data:`MAX_BYTES` are read (the body is streamed and the read stops there) and
  the whole fetch must finish within :data:`TIMEOUT_S` seconds;
* the response must be HTML (or plain text, taken as the article itself).

The article text and publication date are extracted with trafilatura.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from immfacts.errors import FetchError

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_S = 20.0
MAX_REDIRECTS = 5
USER_AGENT = "immfacts-claim-checker (+https://github.com/immfacts)"


@dataclass
class Article:
    """An article fetched from the web."""

    url: str
    text: str
    title: str | None
    date: dt.date | None
    content_type: str


def _private_allowed(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    return os.environ.get("IMMFACTS_ALLOW_PRIVATE_FETCH", "").lower() in ("1", "true", "yes")


def check_address(url: str, allow_private: bool | None = None) -> None:
    """Refuse non-http(s) URLs and hosts on loopback/private networks (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"cannot fetch {url!r}: only http and https URLs are allowed",
                         "give an http(s) address, a file path, or - for stdin")
    host = parts.hostname
    if not host:
        raise FetchError(f"cannot fetch {url!r}: the URL has no host", "check the address")
    if _private_allowed(allow_private):
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as e:
        raise FetchError(f"cannot resolve {host!r}: {e}", "check the address and your network") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
            raise FetchError(
                f"refusing to fetch {url!r}: {host} resolves to a non-public address ({ip})",
                "save the page and check the file, or set IMMFACTS_ALLOW_PRIVATE_FETCH=1 on a trusted network",
            )


def fetch(url: str, allow_private: bool | None = None, max_bytes: int = MAX_BYTES,
          timeout: float = TIMEOUT_S) -> Article:
    """Fetch ``url`` within the limits and extract the article (text, title, date)."""
    import httpx

    deadline = time.monotonic() + timeout
    current = url
    with httpx.Client(follow_redirects=False, timeout=timeout, headers={"User-Agent": USER_AGENT}) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_address(current, allow_private)
            try:
                with client.stream("GET", current) as resp:
                    if resp.is_redirect:
                        loc = resp.headers.get("location")
                        if not loc:
                            raise FetchError(f"{current} redirects nowhere", "check the address")
                        current = urljoin(current, loc)
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"{current} answered HTTP {resp.status_code}", "check the address, or save the page and check the file")
                    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                    if ctype not in ("text/html", "application/xhtml+xml", "text/plain", ""):
                        raise FetchError(f"{current} is not a web page (content type {ctype})",
                                         "give the address of an article page (HTML)")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(f"{current} is {int(declared):,} bytes (limit {max_bytes:,})",
                                         "save the article text to a file and check that")
                    body = bytearray()
                    for chunk in resp.iter_bytes():
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise FetchError(f"{current} is larger than the limit of {max_bytes:,} bytes",
                                             "save the article text to a file and check that")
                        if time.monotonic() > deadline:
                            raise FetchError(f"{current} took longer than {timeout:g} s", "try again, or save the page and check the file")
                    encoding = resp.encoding or "utf-8"
            except httpx.TimeoutException:
                raise FetchError(f"{current} took longer than {timeout:g} s", "try again, or save the page and check the file") from None
            except httpx.HTTPError as e:
                raise FetchError(f"cannot fetch {current}: {e}", "check the address and your network") from None
            raw = bytes(body).decode(encoding, errors="replace")
            if ctype == "text/plain":
                return Article(current, raw, None, None, ctype)
            return extract_article(raw, current, ctype)
    raise FetchError(f"{url} redirected more than {MAX_REDIRECTS} times", "give the final address of the article")


def extract_article(html: str, url: str | None = None, content_type: str = "text/html") -> Article:
    """Main text, title and publication date of an HTML page (trafilatura)."""
    import trafilatura

    out = trafilatura.extract(html, url=url, output_format="json", with_metadata=True,
                              include_comments=False, include_tables=False, favor_recall=True)
    if not out:
        raise FetchError(f"no article text found at {url or 'the page'}", "save the article text to a file and check that")
    data = json.loads(out)
    date = None
    if data.get("date"):
        try:
            date = dt.date.fromisoformat(str(data["date"])[:10])
        except ValueError:
            date = None
    return Article(url or "", data.get("text") or "", data.get("title"), date, content_type)
