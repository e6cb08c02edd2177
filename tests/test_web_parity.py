"""One code path, four faces: the page, the HTTP API, the CLI and Python give the same number."""

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fixtures.web.webtesting import find_id, sample_wh  # noqa: F401 - fixture
from immfacts.cli import app as cli_app
from immfacts.warehouse import Warehouse
from immfacts.web import create_app, get

QUERIES = [
    ("eoir.receipts", {"period": "FY2020"}),
    ("eoir.completions", {"period": "FY2019..FY2021"}),
    ("eoir.pending", {"period": "2021-09-30", "variant": "including_inactive"}),
    ("eoir.asylum.grant_rate", {"period": "FY2020..FY2023"}),
    ("eoir.receipts", {"period": "FY2020", "where": "case_type=RMV"}),
    ("cbp.encounters", {"period": "FY2023"}),
]


@pytest.fixture(scope="module")
def client(sample_wh):  # noqa: F811 - fixture
    with TestClient(create_app(sample_wh)) as c:
        yield c


def _cli_args(metric, query, wh_path):
    args = ["metric", metric, "--json", "--warehouse", str(wh_path)]
    for k, v in query.items():
        args += [f"--{k}", v]
    return args


@pytest.mark.parametrize(("metric", "query"), QUERIES, ids=[f"{m}-{'-'.join(q.values())}" for m, q in QUERIES])
def test_page_api_cli_and_python_agree(client, sample_wh, metric, query):  # noqa: F811
    py_query = {k: ([v] if k == "where" else v) for k, v in query.items()}
    python = Warehouse(sample_wh).metric(metric, **py_query).value

    api = client.get(f"/api/metrics/{metric}", params=query).json()["value"]

    result = CliRunner().invoke(cli_app, _cli_args(metric, query, sample_wh))
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)["value"]

    page_params = {"metric": metric, **query}
    page = client.get("/explore?" + urlencode(page_params), headers={"accept": "text/html"}).text
    raw = find_id(page, "metric-value")["attrs"]["data-value"]
    shown = None if raw == "" else float(raw)

    assert python is not None
    assert api == python
    assert cli == python
    assert shown == pytest.approx(python)


def test_immfacts_get_answers_like_the_http_api(client, sample_wh):  # noqa: F811
    path = "/api/metrics/eoir.receipts?" + urlencode({"period": "FY2020", "by": "fy"})
    result = CliRunner().invoke(cli_app, ["get", path, "--warehouse", str(sample_wh)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == client.get(path).json()["rows"]
    assert "SYNTHETIC" in result.stderr


def test_immfacts_get_exits_nonzero_with_the_error_shape(sample_wh):  # noqa: F811
    result = CliRunner().invoke(cli_app, ["get", "/api/metrics/eoir.recipts", "--warehouse", str(sample_wh)])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["status"] == 404 and body["ok"] is False


def test_immfacts_get_renders_pages_too(sample_wh):  # noqa: F811
    r = get("/definitions", warehouse=sample_wh)
    assert r.ok and r.content_type.startswith("text/html") and 'id="eoir.receipts"' in r.text


def test_immfacts_get_rejects_a_non_path():
    result = CliRunner().invoke(cli_app, ["get", "http://example.org/"])
    assert result.exit_code == 2
    assert "paths start with /" in result.output


def test_serve_command_passes_its_options_to_the_library(monkeypatch, tmp_path):
    import immfacts.web

    seen = {}
    monkeypatch.setattr(immfacts.web, "serve", lambda warehouse, **kw: seen.update(warehouse=warehouse, **kw))
    result = CliRunner().invoke(
        cli_app, ["serve", "--warehouse", str(tmp_path), "--port", "8123", "--allow-private-fetch"]
    )
    assert result.exit_code == 0, result.output
    assert seen == {"warehouse": tmp_path, "host": "127.0.0.1", "port": 8123, "allow_private_fetch": True}
    assert "http://127.0.0.1:8123" in result.output
