"""The web app in a real browser: Playwright driving Debian's Chromium, headless, offline.

Uvicorn serves the app over the session's SYNTHETIC sample warehouse on 127.0.0.1; every
request the page makes to any other host is aborted and reported (the app must need no
CDN). Screenshots go to ``test-artifacts/`` (git-ignored) for a person to look at.
"""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from fixtures.web.webtesting import FixtureSite, LiveServer, sample_wh  # noqa: F401 - fixture
from immfacts.web import create_app
from immfacts.web.serve import warm_up

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: the browser tests drive Debian's Chromium. "
            "Install it with `make sysdeps-test` (apt-get install chromium).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(sample_wh):  # noqa: F811 - fixture
    app = create_app(sample_wh, allow_private_fetch=True)
    warm_up(app)  # as `immfacts serve` does: the home page's numbers are ready before the first visit
    with LiveServer(app) as s:
        yield s


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def only_localhost(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", only_localhost)
    pg = ctx.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.set_default_timeout(60_000)  # generous: the 2-core CI machine is shared
    pg.set_default_navigation_timeout(60_000)
    yield pg
    ctx.close()
    assert not outside, f"the page tried to reach other hosts: {outside}"
    assert not problems, problems


def shot(pg, name, full_page=True):
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_home_page_shows_headlines_and_synthetic_banner(page, server):
    page.goto(server.url + "/")
    assert "SYNTHETIC" in page.locator("#synthetic-banner").inner_text()
    values = page.locator(".headline-value")
    assert values.count() >= 6
    api = page.request.get(server.url + "/api/metrics/eoir.receipts?period=" + page.locator(
        "#card-eoir-receipts .meta").inner_text().split(" ")[0]).json()
    shown = page.locator('#card-eoir-receipts .headline-value').get_attribute("data-value")
    assert float(shown) == api["value"]
    assert page.locator("svg.sparkline").count() >= 1
    shot(page, "home")


def test_explorer_query_through_the_form_shows_the_number(page, server):
    page.goto(server.url + "/explore")
    with page.expect_navigation():
        page.select_option("#f-metric", "eoir.completions")
    page.fill("#f-period", "FY2020")
    with page.expect_navigation():
        page.click("#run-query")
    query = parse_qs(urlsplit(page.url).query)
    assert query["metric"] == ["eoir.completions"] and query["period"] == ["FY2020"]
    assert "wdim" not in query and "wval" not in query  # the shared URL is clean
    shown = page.locator("#metric-value")
    api = page.request.get(server.url + "/api/metrics/eoir.completions?period=FY2020").json()
    assert float(shown.get_attribute("data-value")) == api["value"]
    assert shown.inner_text().replace(",", "") == str(api["value"])
    shot(page, "explorer-number")

    page.select_option("#f-by", "fy")
    page.fill("#f-period", "FY2016..FY2021")
    with page.expect_navigation():
        page.click("#run-query")
    rows = page.locator("#result-table tbody tr")
    assert rows.count() == 6
    assert page.locator(".only-number svg.column-chart rect.bar").count() == 6
    page.click(".toggle button[data-mode=percent]")
    assert page.locator("#results").get_attribute("data-mode") == "percent"
    assert page.locator("#result-table tbody tr td.only-percent").first.is_visible()
    assert not page.locator("#result-table tbody tr td.only-number").first.is_visible()
    assert "mode=percent" in page.url
    shot(page, "explorer-breakdown-percent")


def test_shared_url_opens_the_same_view(page, server, browser):
    page.goto(server.url + "/explore?metric=eoir.receipts&period=FY2018..FY2021&by=fy")
    page.click(".toggle button[data-mode=percent]")
    shared = server.url + page.locator("#share-link").get_attribute("href")
    expected_rows = page.locator("#result-table tbody").inner_text()

    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        fresh = other.new_page()
        fresh.goto(shared)
        assert fresh.locator("#results").get_attribute("data-mode") == "percent"
        assert fresh.locator("#result-table tbody").inner_text() == expected_rows
        assert fresh.locator("#f-by").input_value() == "fy"
        fresh.screenshot(path=str(ARTIFACTS / "shared-url.png"), full_page=True)
    finally:
        other.close()


def test_claim_check_shows_a_verdict_card(page, server):
    page.goto(server.url + "/check")
    page.fill("#c-text", "The current asylum backlog is more than 3.5 million cases. <script>window.pwned=1</script>")
    page.fill("#c-asof", "2024-06-04")
    with page.expect_navigation():
        page.click("#run-check")
    card = page.locator("#check-report .imf-card").first
    assert card.is_visible()
    assert card.locator(".imf-verdict").inner_text().strip()
    assert page.evaluate("window.pwned") is None  # the pasted script was shown as text, not run
    shot(page, "claim-check")


def test_claim_check_by_url_fetches_from_a_local_site(page, server):
    with FixtureSite() as site:
        page.goto(server.url + "/check")
        page.fill("#c-url", site.url + "/backlog.html")
        with page.expect_navigation():
            page.click("#run-check")
        assert page.locator("#check-report .imf-card").count() >= 1
    assert "pwned" not in page.title()
    shot(page, "claim-check-url")


@pytest.mark.parametrize("path", ["/definitions", "/quality", "/sources"])
def test_reference_pages_render_without_errors(page, server, path):
    response = page.goto(server.url + path)
    assert response.status == 200
    assert page.locator("h1").inner_text()
    shot(page, path.strip("/"), full_page=path != "/definitions")  # that page is very long
