"""Browser tests of the library parts of the page (api/static/library.js) on a real parallel
library (XQuAD articles in Chinese and English): the library view, the filter bar, and
language versions side by side with a switch per paragraph. Headless Debian Chromium via
Playwright, as in tests/test_web.py (whose browser fixtures and helpers this reuses).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from live_server import live_server as serve
from test_web import _expect, _open_page, ask, browser, chromium_executable  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library_server(parallel_settings: Any, parallel_answerer: Any) -> Iterator[str]:
    from api.app import create_app

    with serve(create_app(parallel_settings, answerer=parallel_answerer)) as url:
        yield url


@pytest.fixture()
def page(browser: Any, library_server: str) -> Iterator[Any]:  # noqa: F811 - browser is the imported fixture
    context, tab, problems = _open_page(browser, library_server)
    yield tab
    context.close()
    assert not problems["external"], f"the page tried to reach the network: {problems['external']}"
    assert not problems["page_errors"], f"JavaScript errors: {problems['page_errors']}"
    assert not problems["console"], f"console errors: {problems['console']}"


def test_library_view_lists_documents_with_versions_and_counts(page: Any, library_server: str) -> None:
    expect = _expect()
    page.goto(library_server + "/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Library").click()
    expect(page.locator("#view-library")).to_be_visible()
    rows = page.locator("#library-table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2
    first = page.locator('#library-table tr[data-document="xquad-00"]')
    expect(first).to_contain_text("Super Bowl 50")
    expect(first.locator(".version-chip")).to_have_text(["中文", "English"])
    expect(first.locator(".library-units")).to_have_text("5 / 5 · 5 / 5")
    expect(page.locator("#library-count")).to_contain_text("language versions")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#library-heading")).to_have_text("文库")
    first.locator(".version-chip", has_text="English").click()
    expect(page.locator("#view-doc")).to_be_visible()
    expect(page.locator("#reader-text")).to_contain_text("The Panthers defense gave up just 308 points")


def test_reader_shows_versions_side_by_side_with_a_language_switch(page: Any, library_server: str) -> None:
    expect = _expect()
    page.goto(library_server + "/#doc/xquad-00.zh/para/1")
    versions = page.locator("#reader-versions .versions")
    expect(versions).to_be_visible()
    columns = versions.locator(".version-column")
    expect(columns).to_have_count(2)
    expect(columns.nth(0)).to_have_attribute("lang", "zh-CN")
    expect(columns.nth(1)).to_contain_text("The Panthers defense gave up just 308 points")
    expect(columns.nth(0)).to_contain_text("黑豹队的防守只丢了 308")
    versions.get_by_role("button", name="English").click()
    expect(columns.nth(0)).to_be_hidden()
    expect(columns.nth(1)).to_be_visible()
    versions.locator('.version-button[data-show="both"]').click()
    expect(columns.nth(0)).to_be_visible()
    # the next paragraph keeps the same pairing
    page.locator("#reader-next").click()
    expect(page.locator("#reader-versions .version-column").nth(1)).to_contain_text("The Broncos defeated the Pittsburgh Steelers")


def test_filter_bar_restricts_the_answer_and_the_panel_quotes_both_versions(page: Any, library_server: str) -> None:
    expect = _expect()
    page.goto(library_server + "/")
    page.get_by_role("button", name="English").click()
    page.locator("#filter-summary").click()
    page.locator("#filter-lang").select_option("zh")
    expect(page.locator("#filter-summary")).to_have_text("Filters (1)")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.post_data or "") if request.url.endswith("/ask") else None)
    ask(page, "How many career sacks did Jared Allen have?")
    assert requests and '"lang": "zh"' in requests[-1].replace('":"', '": "')
    result = page.locator("#result")
    expect(result).to_have_attribute("data-state", "answered")
    expect(result.locator(".answer-text")).to_contain_text("Chinese version")
    result.locator(".sources .source").first.click()
    panel_versions = page.locator("#panel-versions .versions")
    expect(panel_versions).to_be_visible()
    columns = panel_versions.locator(".version-column")
    expect(columns).to_have_count(2)
    expect(columns.nth(0).locator("mark").first).to_be_visible()  # the Chinese evidence
    expect(columns.nth(1).locator("mark").first).to_be_visible()  # the same paragraph's English sentence
    english_mark = columns.nth(1).locator("mark").first.text_content()
    assert english_mark and english_mark.strip() in result.locator(".answer-text").text_content()
    # a filter that matches nothing: no answer, and the page says so without an error
    page.locator("#filter-since").fill("2030-01-01")
    ask(page, "How many career sacks did Jared Allen have?")
    expect(result).to_have_attribute("data-state", "refused")
