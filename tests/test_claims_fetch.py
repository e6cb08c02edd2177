"""URL fetching within limits, against a local HTTP server (no network)."""

import datetime as dt
import http.server
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from immfacts.claims import check_url
from immfacts.claims.fetch import fetch
from immfacts.cli import app
from immfacts.errors import FetchError

ARTICLE = (Path(__file__).parent / "fixtures" / "claims" / "article.html").read_bytes()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        routes = {
            "/article": (200, "text/html; charset=utf-8", ARTICLE),
            "/big": (200, "text/html", b"<html><body>" + b"x" * 300_000 + b"</body></html>"),
            "/pdf": (200, "application/pdf", b"%PDF-1.4 not an article"),
            "/plain": (200, "text/plain; charset=utf-8", b"Agents recorded 2.5 million encounters at the southwest border in fiscal 2023."),
            "/missing": (404, "text/html", b"no"),
        }
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/article")
            self.end_headers()
            return
        status, ctype, body = routes.get(self.path, (404, "text/html", b"no"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if self.path != "/big":  # the oversized page does not announce its size
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_article_text_and_publication_date_are_extracted(server):
    art = fetch(server + "/article", allow_private=True)
    assert "9.5 million encounters" in art.text and "Home | World" not in art.text
    assert art.date == dt.date(2024, 6, 4)


def test_redirects_are_followed_and_checked(server):
    assert "51.6 million" in fetch(server + "/redirect", allow_private=True).text


def test_oversized_page_is_refused(server):
    with pytest.raises(FetchError, match="larger than the limit"):
        fetch(server + "/big", allow_private=True, max_bytes=100_000)


def test_non_html_response_is_refused(server):
    with pytest.raises(FetchError, match="not a web page"):
        fetch(server + "/pdf", allow_private=True)


def test_plain_text_is_taken_as_the_article(server):
    assert fetch(server + "/plain", allow_private=True).text.startswith("Agents recorded")


def test_http_errors_are_reported(server):
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(server + "/missing", allow_private=True)


def test_loopback_is_refused_unless_allowed(server, monkeypatch):
    monkeypatch.delenv("IMMFACTS_ALLOW_PRIVATE_FETCH", raising=False)
    with pytest.raises(FetchError, match="non-public address"):
        fetch(server + "/article")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a", "gopher://x"])
def test_only_http_and_https_are_allowed(url):
    with pytest.raises(FetchError, match="only http and https"):
        fetch(url, allow_private=True)


def test_check_url_uses_the_page_date_as_as_of(server, tmp_path, monkeypatch):
    monkeypatch.setenv("IMMFACTS_ALLOW_PRIVATE_FETCH", "1")
    report = check_url(server + "/article", warehouse=tmp_path)
    d = report.to_dict()
    assert d["as_of"] == "2024-06-04" and d["source"]["url"].endswith("/article")
    assert [c["metric"] for c in d["claims"]] == ["cbp.encounters", "census.foreign_born"]


def test_cli_checks_a_url(server, tmp_path, monkeypatch):
    monkeypatch.setenv("IMMFACTS_ALLOW_PRIVATE_FETCH", "1")
    res = CliRunner().invoke(app, ["check", server + "/pdf", "--warehouse", str(tmp_path)])
    assert res.exit_code == 2 and "not a web page" in res.output
