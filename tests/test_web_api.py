"""The JSON API over a SYNTHETIC sample warehouse: every route, the one error shape, validation."""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from fixtures.web.webtesting import FIXTURE_WAREHOUSE, sample_wh  # noqa: F401 - fixture
from immfacts.warehouse import Warehouse
from immfacts.web import create_app

ERROR_KEYS = {"ok", "error", "errors", "status"}


@pytest.fixture(scope="module")
def client(sample_wh):  # noqa: F811 - fixture
    with TestClient(create_app(sample_wh), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def wh(sample_wh):  # noqa: F811 - fixture
    return Warehouse(sample_wh)


def assert_error_shape(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == ERROR_KEYS
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    return body


# --- catalogue and metrics -------------------------------------------------------------------
def test_catalogue_lists_every_metric_with_its_definition_and_variants(client):
    body = client.get("/api/metrics").json()
    assert body["ok"] is True
    ids = {m["id"] for m in body["metrics"]}
    assert {"eoir.pending", "eoir.receipts", "eoir.asylum.grant_rate"} <= ids
    for m in body["metrics"]:
        assert m["definition"] and m["variants"]
        assert sum(v["default"] for v in m["variants"]) == 1


def test_metric_answer_is_the_python_result(client, wh):
    r = client.get("/api/metrics/eoir.receipts", params={"period": "FY2020"})
    body = r.json()
    expected = wh.metric("eoir.receipts", period="FY2020")
    assert body["ok"] is True
    assert body["value"] == expected.value
    assert body["metric"] == "eoir.receipts" and body["variant"] == expected.variant
    assert body["synthetic"] is True and "SYNTHETIC" in body["label"]
    assert body["sql"] and body["release"]["id"] == wh.release().id


def test_metric_by_dimension_returns_rows(client, wh):
    body = client.get("/api/metrics/eoir.completions", params={"period": "FY2018..FY2020", "by": "fy"}).json()
    expected = wh.metric("eoir.completions", period="FY2018..FY2020", by="fy")
    assert body["groups"] == ["fy"]
    assert [row["value"] for row in body["rows"]] == [row["value"] for row in expected.rows]


def test_metric_filter_is_applied(client, wh):
    court = wh.metric("eoir.receipts", period="FY2020", by="court").rows[0]["court"]
    body = client.get("/api/metrics/eoir.receipts", params={"period": "FY2020", "where": f"court={court}"}).json()
    assert body["value"] == wh.metric("eoir.receipts", period="FY2020", where=[f"court={court}"]).value
    assert body["value"] <= wh.metric("eoir.receipts", period="FY2020").value


def test_variant_all_gives_every_definition_side_by_side(client, wh):
    body = client.get("/api/metrics/eoir.asylum.grant_rate", params={"period": "FY2020..FY2023", "variant": "all"}).json()
    names = [v["variant"] for v in body["variants"]]
    assert names == [v["name"] for v in next(m for m in client.get("/api/metrics").json()["metrics"] if m["id"] == "eoir.asylum.grant_rate")["variants"]]
    assert all(0 <= v["value"] <= 1 for v in body["variants"] if v["value"] is not None)


def test_csv_download_has_the_rows_and_says_synthetic(client):
    r = client.get("/api/metrics/eoir.receipts", params={"period": "FY2018..FY2020", "by": "fy", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "SYNTHETIC" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    json_rows = client.get("/api/metrics/eoir.receipts", params={"period": "FY2018..FY2020", "by": "fy"}).json()["rows"]
    assert rows and [row["fy"] for row in rows] == [row["fy"] for row in json_rows]
    assert [int(row["value"]) for row in rows] == [row["value"] for row in json_rows]
    assert {row["synthetic"] for row in rows} == {"true"}


def test_reference_series_needs_no_release(tmp_path):
    with TestClient(create_app(tmp_path)) as c:
        body = c.get("/api/metrics/cbp.encounters", params={"period": "FY2023"}).json()
    assert body["ok"] is True and body["source_kind"] == "reference" and body["value"] > 0
    assert body["citation"] and body["synthetic"] is False


# --- errors and validation -------------------------------------------------------------------
def test_unknown_metric_is_404_with_suggestions(client):
    body = assert_error_shape(client.get("/api/metrics/eoir.recipts"), 404)
    assert "eoir.receipts" in body["errors"][0]["suggestions"]
    assert body["errors"][0]["type"] == "UnknownMetricError"


@pytest.mark.parametrize("period", ["FY20244", "2024-13", "nixon", "FY2024..FY2020"])
def test_bad_period_is_422(client, period):
    body = assert_error_shape(client.get("/api/metrics/eoir.receipts", params={"period": period}), 422)
    assert body["errors"][0]["hint"]


@pytest.mark.parametrize(
    "params",
    [{"by": "shoe_size"}, {"where": "shoe_size=9"}, {"variant": "no_such_variant"}, {"where": "court"}],
)
def test_unsupported_query_is_422(client, params):
    assert_error_shape(client.get("/api/metrics/eoir.receipts", params=params), 422)


def test_bad_format_is_a_validation_error(client):
    body = assert_error_shape(client.get("/api/metrics/eoir.receipts", params={"format": "xml"}), 422)
    assert body["errors"][0]["loc"] == ["query", "format"]


def test_unknown_release_is_404(client):
    assert_error_shape(client.get("/api/metrics/eoir.receipts", params={"release": "1999-01-01"}), 404)


def test_no_release_is_404_saying_how_to_get_one(tmp_path):
    with TestClient(create_app(tmp_path)) as c:
        body = assert_error_shape(c.get("/api/metrics/eoir.receipts"), 404)
    assert "make demo" in body["errors"][0]["hint"]


def test_oversized_query_string_is_413(client):
    assert_error_shape(client.get("/api/metrics/eoir.receipts?period=" + "x" * 9000), 413)


def test_oversized_parameter_is_413(client):
    assert_error_shape(client.get("/api/metrics/eoir.receipts", params={"by": "b" * 300}), 413)


def test_unknown_route_and_wrong_method_use_the_error_shape(client):
    assert_error_shape(client.get("/api/nothing-here"), 404)
    assert_error_shape(client.delete("/api/metrics"), 405)


def test_crash_is_a_500_in_the_error_shape_without_internals(client, monkeypatch):
    from immfacts.web import services

    def boom():
        raise RuntimeError("secret internal detail /etc/x")

    monkeypatch.setattr(services, "sources", boom)
    body = assert_error_shape(client.get("/api/sources"), 500)
    assert "secret" not in client.get("/api/sources").text
    assert body["errors"][0]["type"] == "RuntimeError"


# --- claim checking --------------------------------------------------------------------------
def test_check_text_returns_one_entry_per_claim(client):
    r = client.post("/api/check", json={"text": "The current asylum backlog is more than 3.5 million cases.", "as_of": "2024-06-04"})
    body = r.json()
    assert r.status_code == 200 and body["ok"] is True
    assert len(body["claims"]) >= 1
    claim = body["claims"][0]
    assert {"span", "sentence", "claimed", "verdict"} <= set(claim)


def test_check_needs_text_or_url_not_both(client):
    assert_error_shape(client.post("/api/check", json={}), 422)
    assert_error_shape(client.post("/api/check", json={"text": "x", "url": "https://example.org"}), 422)


def test_check_bad_as_of_is_422(client):
    assert_error_shape(client.post("/api/check", json={"text": "5 cases", "as_of": "June 4"}), 422)


def test_check_text_over_200_kb_is_413(client):
    body = assert_error_shape(client.post("/api/check", json={"text": "a" * (200 * 1024 + 1)}), 413)
    assert "200 KB" in body["error"]


def test_check_body_over_limit_is_413_before_parsing(client):
    assert_error_shape(client.post("/api/check", content=b'{"text": "' + b"a" * 300_000 + b'"}',
                                   headers={"content-type": "application/json"}), 413)


def test_check_malformed_json_is_422(client):
    assert_error_shape(client.post("/api/check", content=b"{not json", headers={"content-type": "application/json"}), 422)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/", "http://169.254.169.254/latest/"])
def test_check_url_refuses_local_and_non_http_targets(client, url):
    body = assert_error_shape(client.post("/api/check", json={"url": url}), 422)
    assert body["errors"][0]["type"] == "FetchError"


# --- releases, sources, schema ---------------------------------------------------------------
def test_releases_lists_the_ingested_release(client, wh):
    body = client.get("/api/releases").json()
    assert [r["id"] for r in body["releases"]] == [r.id for r in wh.releases()]
    assert body["synthetic"] is True and body["releases"][0]["synthetic"] is True


def test_release_report_is_the_ingest_report(client, wh):
    rel = wh.release()
    body = client.get(f"/api/releases/{rel.id}/report").json()
    assert body["report"] == rel.report()
    for t in body["report"]["tables"].values():
        assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"]
    assert_error_shape(client.get("/api/releases/nope/report"), 404)


def test_releases_newest_first_in_fixture_warehouse():
    with TestClient(create_app(FIXTURE_WAREHOUSE)) as c:
        body = c.get("/api/releases").json()
    assert [r["id"] for r in body["releases"]] == ["2024-07-01-sample", "2024-06-01-real"]


def test_sources_have_citations(client):
    body = client.get("/api/sources").json()
    assert body["ok"] is True and body["sources"]
    assert all(s["citations"] and all(c["url"] for c in s["citations"]) for s in body["sources"])


def test_openapi_schema_documents_every_api_route(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/metrics", "/api/metrics/{metric_id}", "/api/check", "/api/releases", "/api/sources"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/metrics/{metric_id}"]["get"]["parameters"]}
    assert {"period", "by", "where", "variant", "release"} <= params


def test_responses_carry_security_headers(client):
    r = client.get("/api/metrics")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_concurrent_uncached_queries_all_succeed(sample_wh, wh):  # noqa: F811 - fixture
    """The metric engine's connection refuses concurrent calls; the app must queue them, not 500."""
    import concurrent.futures

    import httpx

    from fixtures.web.webtesting import LiveServer

    courts = [r["court"] for r in wh.metric("eoir.receipts", period="FY2021", by="court").rows][:6]
    paths = [f"/api/metrics/eoir.receipts?period=FY2021&where=court%3D{c}" for c in courts]
    paths += ["/api/metrics/eoir.completions?period=FY2021&by=court"]
    with (
        LiveServer(create_app(sample_wh)) as server,
        httpx.Client(base_url=server.url, timeout=120) as http,
        concurrent.futures.ThreadPoolExecutor(len(paths) + 2) as pool,
    ):
        checks = [pool.submit(http.post, "/api/check", json={"text": f"The backlog is {n} million cases."})
                  for n in (2, 3)]
        answers = list(pool.map(http.get, paths)) + [f.result() for f in checks]
    assert [a.status_code for a in answers] == [200] * len(answers)
    assert sum(a.json()["value"] for a in answers[:6]) <= wh.metric("eoir.receipts", period="FY2021").value


@pytest.mark.parametrize("value", ["NYC' OR '1'='1", "NYC; DROP TABLE cases; --", 'NYC") OR ("1"="1'])
def test_filter_values_are_data_not_sql(client, wh, value):
    r = client.get("/api/metrics/eoir.receipts", params={"period": "FY2020", "where": f"court={value}"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["value"] == 0  # no court has that name; nothing was injected
    assert wh.metric("eoir.receipts", period="FY2020").value > 0  # and the data is still there
