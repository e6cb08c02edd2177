"""The HTML pages: what they show, the SYNTHETIC label, shareable explorer URLs, escaping."""

import json
import shutil
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from fixtures.web.webtesting import FIXTURE_WAREHOUSE, find_all, find_id, index_ids, sample_wh  # noqa: F401
from immfacts.warehouse import Warehouse
from immfacts.web import create_app

HTML = {"accept": "text/html"}
XSS = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def client(sample_wh):  # noqa: F811 - fixture
    with TestClient(create_app(sample_wh), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def wh(sample_wh):  # noqa: F811 - fixture
    return Warehouse(sample_wh)


def _value(html: str, element_id: str = "metric-value") -> float | None:
    raw = find_id(html, element_id)["attrs"]["data-value"]
    return None if raw == "" else float(raw)


# --- home ------------------------------------------------------------------------------------
def test_home_shows_headline_numbers_release_and_synthetic_banner(client, wh):
    from immfacts.metrics import headline_metrics

    html = client.get("/", headers=HTML).text
    assert "SYNTHETIC" in find_id(html, "synthetic-banner")["text"]
    rel = wh.release()
    assert find_id(html, "release-info")["attrs"]["data-release"] == rel.id
    assert rel.data_date in html
    shown = {(e["attrs"]["data-metric"], e["attrs"]["data-variant"]): e["attrs"]["data-value"]
             for e in find_all(html, "span", class_="headline-value")}
    for r in headline_metrics(wh):
        raw = shown[(r.metric, r.variant)]
        assert (None if raw == "" else float(raw)) == pytest.approx(r.value)
    assert any(m == "cbp.encounters" for m, _ in shown), "encounters belong on the home page"


def test_home_shows_every_variant_of_the_grant_rate(client):
    html = client.get("/", headers=HTML).text
    card = html[html.index('id="card-eoir-asylum-grant_rate"'):]
    card = card[: card.index("</article>")]
    assert card.count("<tr") >= 2
    assert "<svg" in card  # the small trend chart


def test_home_without_a_release_says_how_to_get_one(tmp_path):
    with TestClient(create_app(tmp_path)) as c:
        r = c.get("/", headers=HTML)
    assert r.status_code == 200
    assert "make demo" in r.text
    assert 'id="synthetic-banner"' not in r.text


def test_no_flags_means_the_default_warehouse(monkeypatch, tmp_path):
    monkeypatch.setenv("IMMFACTS_HOME", str(tmp_path / "home"))
    app = create_app()
    assert app.state.ctx.warehouse.path == tmp_path / "home"


# --- explorer --------------------------------------------------------------------------------
def test_explorer_shows_the_same_number_as_the_api(client):
    params = {"metric": "eoir.completions", "period": "FY2019"}
    page = client.get("/explore?" + urlencode(params), headers=HTML).text
    api = client.get("/api/metrics/eoir.completions", params={"period": "FY2019"}).json()
    assert _value(page) == api["value"]
    assert api["definition"][:40] in page
    assert find_id(page, "metric-sql")["text"].strip()


def test_explorer_breakdown_shows_chart_table_and_downloads(client, wh):
    params = {"metric": "eoir.receipts", "period": "FY2018..FY2020", "by": "fy"}
    page = client.get("/explore?" + urlencode(params), headers=HTML).text
    table = page[page.index('id="result-table"'):page.index("</tbody>")]
    cells = find_all(table, "td", class_="num only-number")
    expected = wh.metric("eoir.receipts", period="FY2018..FY2020", by="fy").rows
    assert [float(c["attrs"]["data-value"]) for c in cells] == [r["value"] for r in expected]
    bars = [e for e in find_all(page, "rect") if e["attrs"].get("class") == "bar"]
    assert len(bars) >= len(expected)
    csv_href = find_id(page, "download-csv")["attrs"]["href"]
    assert client.get(csv_href).headers["content-type"].startswith("text/csv")
    assert client.get(find_id(page, "download-json")["attrs"]["href"]).json()["rows"] == json.loads(
        json.dumps(expected, default=str))


def test_shared_explorer_url_reproduces_the_view(client):
    params = [("metric", "eoir.receipts"), ("period", "FY2019..FY2020"), ("by", "fy"), ("mode", "percent")]
    first = client.get("/explore?" + urlencode(params), headers=HTML).text
    share = find_id(first, "share-link")["attrs"]["href"]
    second = client.get(share, headers=HTML).text
    assert _value(second) == _value(first)
    assert find_id(second, "results")["attrs"]["data-mode"] == "percent"
    assert find_id(second, "result-table")["text"] == find_id(first, "result-table")["text"]


def test_explorer_compares_chosen_variants_side_by_side(client, wh):
    params = [("metric", "eoir.pending"), ("period", "2020-09-30"),
              ("variant", "active"), ("variant", "including_inactive")]
    page = client.get("/explore?" + urlencode(params), headers=HTML).text
    rows = find_all(page, "tr", data_variant="including_inactive")
    assert rows
    values = {e["attrs"].get("data-value") for e in find_all(page, "td", class_="num variant-value")}
    assert str(wh.metric("eoir.pending", period="2020-09-30", variant="including_inactive").value) in values


def test_explorer_cascading_filter_offers_values_under_previous_filters(client, wh):
    courts = [r["court"] for r in wh.metric("eoir.receipts", period="FY2020", by="court").rows]
    params = [("metric", "eoir.receipts"), ("period", "FY2020"), ("where", f"court={courts[0]}"), ("wdim", "nationality")]
    page = client.get("/explore?" + urlencode(params), headers=HTML).text
    offered = [o["attrs"]["value"] for o in find_all(page, "option") if o["attrs"].get("value")]
    nats = {r["nationality"] for r in wh.metric("eoir.receipts", period="FY2020", by="nationality",
                                                 where=[f"court={courts[0]}"]).rows}
    assert nats and nats <= set(offered)


def test_explorer_unknown_metric_shows_suggestions_with_404(client):
    r = client.get("/explore?metric=eoir.recipts", headers=HTML)
    assert r.status_code == 404
    assert "eoir.receipts" in find_id(r.text, "error")["text"]


def test_explorer_bad_period_is_422_in_the_page(client):
    r = client.get("/explore?metric=eoir.receipts&period=FY20244", headers=HTML)
    assert r.status_code == 422 and find_id(r.text, "error")["attrs"]["data-status"] == "422"


@pytest.mark.parametrize("param", ["period", "by", "where", "variant", "metric", "wdim"])
def test_hostile_query_parameters_are_escaped(client, param):
    value = f"court={XSS}" if param == "where" else XSS + '"><img src=x onerror=alert(1)>'
    r = client.get("/explore?" + urlencode({"metric": "eoir.receipts", param: value}), headers=HTML)
    assert "<script>alert" not in r.text
    assert "<img src=x" not in r.text


# --- claim checker ---------------------------------------------------------------------------
def test_claim_check_page_shows_verdict_cards(client):
    text = "The current asylum backlog is more than 3.5 million cases."
    r = client.post("/check", data={"text": text, "as_of": "2024-06-04"}, headers=HTML)
    assert r.status_code == 200
    report = find_id(r.text, "check-report")
    assert int(report["attrs"]["data-claims"]) >= 1
    assert find_all(r.text, "span", class_="verdict-count")


def test_hostile_article_text_is_escaped(client):
    text = f"{XSS} More than 350,000 asylum cases were closed since 2022. <img src=x onerror=alert(2)>"
    r = client.post("/check", data={"text": text}, headers=HTML)
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;" in r.text


def test_claim_page_errors_are_shown_in_the_form(client):
    r = client.post("/check", data={"text": "", "url": ""}, headers=HTML)
    assert r.status_code == 422 and find_id(r.text, "error")
    r = client.post("/check", data={"url": "file:///etc/passwd"}, headers=HTML)
    assert r.status_code == 422 and "http" in find_id(r.text, "error")["text"]


def test_claim_page_shows_the_demo_example_report(tmp_path, sample_wh):  # noqa: F811
    import immfacts

    home = tmp_path / "home"
    shutil.copytree(sample_wh, home)
    report = immfacts.check("The current asylum backlog is more than 3.5 million cases.", warehouse=Warehouse(home))
    (home / "reports").mkdir(exist_ok=True)
    (home / "reports" / "article.json").write_text(json.dumps(report.to_dict(), default=str))
    with TestClient(create_app(home)) as c:
        html = c.get("/check", headers=HTML).text
    assert "3.5 million" in find_id(html, "example-report")["text"]


# --- definitions, quality, sources -----------------------------------------------------------
def test_definitions_page_lists_every_metric_and_variant(client):
    entries = index_ids(client.get("/definitions", headers=HTML).text)
    for m in client.get("/api/metrics").json()["metrics"]:
        entry = entries[m["id"]]
        for v in m["variants"]:
            assert v["name"] in entry["text"]


def test_quality_page_reconciles_every_table_of_the_sample(client, wh):
    html = client.get("/quality", headers=HTML).text
    assert find_id(html, "reconciliation-status")["attrs"]["data-ok"] == "true"
    for name in wh.release().report()["tables"]:
        assert find_all(html, "tr", data_table=name)


def test_quality_page_flags_a_table_that_does_not_add_up():
    with TestClient(create_app(FIXTURE_WAREHOUSE)) as c:
        html = c.get("/quality?release=2024-07-01-sample", headers=HTML).text
    assert find_id(html, "reconciliation-status")["attrs"]["data-ok"] == "false"
    row = find_all(html, "tr", data_table="B_TblProceeding")[0]["text"]
    assert "NO" in row and "differs" in row
    reasons = {e["attrs"]["data-reason"] for e in find_all(html, "tr") if "data-reason" in e["attrs"]}
    assert reasons == {"duplicate_row", "empty_primary_key", "continuation_line"}
    assert "<script>alert('col')" not in html  # a hostile column name from a report is escaped
    assert {e["attrs"]["data-release"] for e in find_all(html, "tr") if "data-release" in e["attrs"]} == {
        "2024-07-01-sample", "2024-06-01-real"}


def test_quality_page_shows_the_latest_release_diff_and_its_alert():
    with TestClient(create_app(FIXTURE_WAREHOUSE)) as c:
        html = c.get("/quality", headers=HTML).text
    assert find_id(html, "diff")["attrs"]["data-status"] == "alert"
    assert "33.330%" in find_id(html, "diff-alerts")["text"]
    cases = find_all(html, "tr", data_entity="cases")[0]["text"]
    assert cases.split() == ["cases", "3", "9", "1", "33.330%", "7"]
    assert "CRT_CODE → BASE_CITY_CODE" in find_id(html, "diff")["text"]


def test_quality_page_without_a_diff_says_how_to_get_one(client):
    html = client.get("/quality", headers=HTML).text
    assert "immfacts diff" in find_id(html, "latest-diff")["text"]


def test_quality_page_for_unknown_release_is_404():
    with TestClient(create_app(FIXTURE_WAREHOUSE)) as c:
        assert c.get("/quality?release=1999", headers=HTML).status_code == 404


def test_sources_page_cites_every_reference_series(client):
    html = client.get("/sources", headers=HTML).text
    for s in client.get("/api/sources").json()["sources"]:
        assert find_all(html, "article", data_series=s["series"])
        for c in s.get("citations") or []:
            assert find_all(html, "li", data_citation=c["id"])


def test_unknown_page_is_an_html_404(client):
    r = client.get("/nowhere", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_pages_answer_head_requests_for_monitors(client):
    r = client.head("/sources")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")


def test_oversized_form_post_gets_an_html_413(client):
    r = client.post("/check", data={"text": "a" * 300_000}, headers=HTML)
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert find_id(r.text, "error")["attrs"]["data-status"] == "413"
