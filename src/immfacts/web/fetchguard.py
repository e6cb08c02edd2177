"""Which URLs the web app may fetch on a visitor's behalf (server-side request forgery guard).

A public claim-checker that fetches any URL it is given can be turned against the machine
it runs on: ``file:///etc/passwd``, ``http://127.0.0.1:…/admin``, a cloud metadata address.
Before the claim checker fetches an article, :func:`check_fetch_url` requires an
``http``/``https`` URL with a host name whose every resolved address is public. Loopback,
private, link-local, carrier-grade NAT, multicast, reserved and unspecified addresses are
refused unless the operator started the app with ``--allow-private-fetch`` (tests do, to
read articles from a fixture server on 127.0.0.1). Size and time limits are the claim
checker's own (the same as the CLI's).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from immfacts.errors import FetchError

MAX_URL_LENGTH = 2048
_SCHEMES = ("http", "https")


def _is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(addr, "ipv4_mapped", None)
    if mapped is not None:
        addr = mapped
    return addr.is_global and not (addr.is_multicast or addr.is_reserved or addr.is_unspecified)


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]")).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(
            f"cannot resolve the host {host!r} ({e})", "check the URL's spelling, or paste the article text"
        ) from None
    return sorted({info[4][0] for info in infos})


def check_fetch_url(url: str, allow_private: bool = False) -> str:
    """Return ``url`` if the app may fetch it, else raise :class:`FetchError` saying why."""
    url = (url or "").strip()
    if not url:
        raise FetchError("no URL was given", "paste an article URL starting with https://, or its text")
    if len(url) > MAX_URL_LENGTH:
        raise FetchError(
            f"the URL is {len(url):,} characters long (limit {MAX_URL_LENGTH:,})",
            "use the article's canonical URL, or paste its text",
        )
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES:
        raise FetchError(
            f"refusing to fetch {parts.scheme or 'a scheme-less'}:// URL — only http and https are allowed",
            "paste an article URL starting with https://, or paste its text",
        )
    host = parts.hostname
    if not host:
        raise FetchError(f"the URL {url!r} has no host name", "paste a full URL such as https://example.org/article")
    try:
        _ = parts.port
    except ValueError:
        raise FetchError(f"the URL {url!r} has an invalid port", "check the URL") from None
    if allow_private:
        return url
    for addr in resolve(host):
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
        if not _is_public(ip):
            raise FetchError(
                f"refusing to fetch {host}: it resolves to a loopback, private or reserved address ({ip})",
                "the operator can allow this with `immfacts serve --allow-private-fetch`; "
                "otherwise paste the article text",
            )
    return url
