"""The URL guard of the web claim checker: http(s) to public addresses only, unless allowed."""

import pytest

from immfacts.errors import FetchError
from immfacts.web.fetchguard import check_fetch_url


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/a.txt",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "data:text/html,<h1>x</h1>",
        "example.org/article",
    ],
)
def test_non_http_schemes_are_refused(url):
    with pytest.raises(FetchError) as e:
        check_fetch_url(url)
    assert e.value.hint and e.value.http_status == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_loopback_private_and_metadata_addresses_are_refused(url):
    with pytest.raises(FetchError, match="loopback, private or reserved"):
        check_fetch_url(url)


def test_operator_can_allow_private_addresses():
    assert check_fetch_url("http://127.0.0.1:8123/a", allow_private=True) == "http://127.0.0.1:8123/a"


def test_allowing_private_addresses_still_refuses_other_schemes():
    with pytest.raises(FetchError):
        check_fetch_url("file:///etc/passwd", allow_private=True)


def test_public_literal_address_is_allowed_without_dns():
    assert check_fetch_url("https://93.184.215.14/news") == "https://93.184.215.14/news"


def test_overlong_url_is_refused():
    with pytest.raises(FetchError, match="characters long"):
        check_fetch_url("https://example.org/" + "a" * 3000)


def test_empty_url_and_bad_port_are_clear_errors():
    with pytest.raises(FetchError, match="no URL"):
        check_fetch_url("  ")
    with pytest.raises(FetchError, match="invalid port"):
        check_fetch_url("http://93.184.215.14:99999/")
