"""Browser tests of the library parts of the page (api/static/library.js) on a real parallel
library (XQuAD articles in Chinese and English): the library view, the filter bar, and
language versions side by side with a switch per paragraph. Headless Debian Chromium via
Playwright, as in tests/test_web.py (whose browser fixtures and helpers this reuses).
"""

from __future__ import annotations

import re
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


# ---------------------------------------------------------------- a library of over 200 documents, served off loopback

SUPER_BOWL = "Which NFL team won Super Bowl 50 for the 2015 season?"
KRILL = (
    "1. The Commission notes that the catch of Antarctic krill in statistical area 48 reached 450,000 tonnes.\n\n"
    "2. The Commission asks members to report krill bycatch of larval fish by haul.\n"
)


@pytest.fixture(scope="module")
def public_server(big_library: Any, answerer: Any) -> Iterator[tuple[str, Any]]:
    """The ≥ 200-document library (conftest ``big_library``) served as off loopback: every data
    request needs the API key, which the page must get from the user and send itself."""
    from api.app import create_app
    from tests.big_library import answerer_over

    big, described = big_library
    served = big.with_changes({"api.host": "0.0.0.0"})  # the exposure decision; the socket stays on 127.0.0.1
    with serve(create_app(served, answerer=answerer_over(big, answerer))) as url:
        yield url, described


@pytest.fixture()
def public_page(browser: Any, public_server: tuple[str, Any]) -> Iterator[Any]:  # noqa: F811 - browser is the imported fixture
    context, tab, problems = _open_page(browser, public_server[0])
    yield tab
    context.close()
    assert not problems["external"], f"the page tried to reach the network: {problems['external']}"
    assert not problems["page_errors"], f"JavaScript errors: {problems['page_errors']}"
    assert not problems["console"], f"console errors: {problems['console']}"


def enter_key(page: Any, key: str) -> None:
    page.locator("#key-box").evaluate("box => { box.open = true; }")
    page.locator("#key-input").fill(key)
    page.locator("#key-form button[type=submit]").click()


def open_library(page: Any, base: str) -> None:
    from tests.big_library import BIG_LIBRARY_KEY

    page.goto(base + "/")
    page.get_by_role("button", name="English").click()
    enter_key(page, BIG_LIBRARY_KEY)
    page.get_by_role("link", name="Library").click()
    _expect()(page.locator("#library-table tbody tr").first).to_be_visible()


def test_off_loopback_the_page_asks_for_the_key_and_sends_it_with_every_request(public_page: Any, public_server: tuple[str, Any]) -> None:
    from tests.big_library import BIG_LIBRARY_KEY

    expect = _expect()
    base, _ = public_server
    page = public_page
    page.goto(base + "/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#key-box")).to_have_attribute("open", "")  # the page's first request was refused: the box opened
    page.locator("#key-box summary").click()  # closed again by the user
    ask(page, SUPER_BOWL)
    error = page.locator("#ask-error")
    expect(error).to_contain_text("needs its API key")
    expect(error).to_contain_text("missing or wrong API key")  # the server's own reason, one line
    expect(page.locator("#key-box")).to_have_attribute("open", "")
    enter_key(page, "not-the-key-0000")
    ask(page, SUPER_BOWL)
    expect(error).to_contain_text("missing or wrong API key")
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url[len(base):], r.headers.get("authorization"))))
    enter_key(page, BIG_LIBRARY_KEY)
    expect(page.locator("#key-status")).to_contain_text("Saved")
    expect(page.locator("#key-set")).to_be_visible()
    ask(page, SUPER_BOWL)
    expect(page.locator("#result")).to_have_attribute("data-state", re.compile("answered|refused"))
    page.get_by_role("link", name="Library").click()
    expect(page.locator("#library-table tbody tr").first).to_be_visible()
    page.locator('#library-table tr[data-document="A/70/100"] .version-chip', has_text="English").click()
    expect(page.locator("#reader-text")).to_contain_text("The Panthers defense gave up just 308 points")
    api_calls = [(path, auth) for path, auth in sent if not path.startswith("/static/") and path not in ("/", "")]
    assert {p.split("?")[0].split("/")[1] for p, _ in api_calls} >= {"ask", "library", "documents"}
    assert all(auth == f"Bearer {BIG_LIBRARY_KEY}" for _, auth in api_calls), api_calls
    stored = page.evaluate("() => [sessionStorage.getItem('un-rag.api-key'), JSON.stringify(localStorage)]")
    assert stored[0] == BIG_LIBRARY_KEY and BIG_LIBRARY_KEY not in stored[1]  # this tab only
    page.locator("#key-box").evaluate("box => { box.open = true; }")
    page.locator("#key-forget").click()
    expect(page.locator("#key-set")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('un-rag.api-key')") is None


def test_library_view_lists_over_200_documents_and_the_filter_bar_narrows_answers(public_page: Any, public_server: tuple[str, Any]) -> None:
    expect = _expect()
    base, described = public_server
    page = public_page
    open_library(page, base)
    rows = page.locator("#library-table tbody tr")
    expect(rows).to_have_count(described.documents)
    assert described.documents >= 200
    expect(page.locator("#library-count")).to_have_text(f"{described.documents} documents, {described.versions} language versions")
    bowl = page.locator('#library-table tr[data-document="A/70/100"]')
    expect(bowl.locator(".version-chip")).to_have_text(["中文", "English"])
    expect(bowl.locator(".library-units")).to_have_text("1 / 1 · 1 / 1")
    expect(bowl).to_contain_text("Super Bowl 50")
    expect(bowl).to_contain_text("2015-01-05")
    expect(bowl).to_contain_text("General Assembly")
    seed = page.locator('#library-table tr[data-document="000_75fc5355e1129b16"]')
    expect(seed.locator(".library-units")).to_contain_text("90 / ")
    expect(seed).to_contain_text("(no symbol)")
    # the find box narrows the list to what matches every word
    page.locator("#library-find").fill("Security Council 71")
    expect(page.locator("#library-count")).to_contain_text("Showing")
    assert 0 < rows.count() < described.documents
    for text in rows.all_inner_texts():
        assert "Security Council" in text and "71" in text
    page.locator("#library-find").fill("")
    expect(rows).to_have_count(described.documents)
    # the filter bar offers what the library holds
    assert page.locator("#filter-symbols option").count() == sum(1 for _ in described.xquad) + len(described.formats)
    assert page.locator("#filter-lang option").evaluate_all("os => os.map(o => o.value)") == ["", "zh", "en"]
    assert "Security Council" in page.locator("#filter-bodies option").evaluate_all("os => os.map(o => o.value)")
    # and narrows the answer: one symbol, one language
    page.get_by_role("link", name="Ask", exact=True).click()
    page.locator("#filter-summary").click()
    page.locator("#filter-symbol").fill("A/70/100")
    page.locator("#filter-lang").select_option("en")
    expect(page.locator("#filter-summary")).to_have_text("Filters (2)")
    with page.expect_response(lambda r: r.url.endswith("/ask")) as answered:
        ask(page, SUPER_BOWL)
    body = answered.value.json()
    assert {c["doc"] for c in body["citations"] + body["see_also"]} == {"xquad-00.en"}
    assert answered.value.request.post_data_json["symbol"] == "A/70/100"
    page.locator("#filter-clear").click()
    page.locator("#filter-session").fill("71")
    with page.expect_response(lambda r: r.url.endswith("/ask")) as elsewhere:
        ask(page, SUPER_BOWL)
    assert "xquad-00.en" not in {c["doc"] for c in elsewhere.value.json()["citations"] + elsewhere.value.json()["see_also"]}


def _open_library_for_editing(page: Any, public_server: tuple[str, Any], big_library: Any) -> tuple[Any, Any, Any, Any, Any]:
    """The library view opened on the large library: (expect, page, described library, table rows, the library)."""
    base, described = public_server
    big, _ = big_library
    open_library(page, base)
    return _expect(), page, described, page.locator("#library-table tbody tr"), big


def test_upload_a_file_then_find_it_listed_and_answered_then_remove_it(
    public_page: Any, public_server: tuple[str, Any], big_library: Any, tmp_path: Any
) -> None:
    from rag.parser import parse_document
    from tests.seed_documents import write_un_docx

    expect, page, described, rows, big = _open_library_for_editing(public_page, public_server, big_library)
    files_before = sorted(p.name for p in big.seeds_dir.iterdir())
    # a file that is not what it says: the server's one-line reason, and nothing changes
    page.locator("#add-file").set_input_files({"name": "broken.docx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04 not a Word file"})
    page.locator("#add-button").click()
    failure = page.locator("#library-edit-error")
    expect(failure).to_be_visible()
    expect(failure).to_have_text(re.compile(r"^broken\.docx: not a readable Word"))
    assert "Traceback" not in failure.inner_text() and "\n" not in failure.inner_text().strip()
    # a real Word file, with its symbol and language given in the form
    docx = write_un_docx(parse_document("krill", KRILL, path="krill.txt", encoding="utf-8"), tmp_path / "krill.docx",
                         recycle="Please recycle", symbol="CCAMLR/35/1")
    page.locator("#add-file").set_input_files(str(docx))
    page.locator("#add-symbol").fill("CCAMLR/35/1")
    page.locator("#add-lang").select_option("en")
    page.locator("#add-button").click()
    status = page.locator("#library-edit-status")
    expect(status).to_contain_text("Added krill.docx (krill, English)", timeout=120_000)
    expect(failure).to_be_hidden()
    expect(rows).to_have_count(described.documents + 1)
    added = page.locator('#library-table tr[data-document="CCAMLR/35/1"]')
    expect(added.locator(".library-units")).to_have_text("2 / 2")
    assert "CCAMLR/35/1" in page.locator("#filter-symbols option").evaluate_all("os => os.map(o => o.value)")
    # answerable at once
    page.get_by_role("link", name="Ask", exact=True).click()
    with page.expect_response(lambda r: r.url.endswith("/ask")) as answered:
        ask(page, "How much Antarctic krill was caught in statistical area 48?")
    body = answered.value.json()
    assert not body["refused"] and body["citations"][0]["doc"] == "krill" and "450,000" in body["answer"]
    expect(page.locator("#result .answer-text")).to_contain_text("450,000")
    # removed from its row, after a confirmation in the row itself
    page.get_by_role("link", name="Library").click()
    added.get_by_role("button", name="Remove CCAMLR/35/1").click()
    expect(added.locator(".library-confirm")).to_contain_text("Remove CCAMLR/35/1?")
    added.get_by_role("button", name="Yes, remove").click()
    expect(status).to_contain_text("Removed CCAMLR/35/1 (krill)", timeout=120_000)
    expect(rows).to_have_count(described.documents)
    expect(added).to_have_count(0)
    assert "CCAMLR/35/1" not in page.locator("#filter-symbols option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(p.name for p in big.seeds_dir.iterdir()) == files_before


CORAL = (
    "1. Seventeen coastal States reported nurseries that grow staghorn coral fragments for transplanting onto degraded reefs.\n\n"
    "2. The Assembly invites States to share the survival rates of transplanted fragments after two years.\n"
)


def test_upload_with_title_session_date_and_body_shows_them_in_the_library(
    public_page: Any, public_server: tuple[str, Any], big_library: Any, tmp_path: Any
) -> None:
    """The form's "More details" (title, English title, session, date, body) reach the catalogue:
    checked on the page against the API's limits first, then listed in the library view."""
    expect, page, described, rows, big = _open_library_for_editing(public_page, public_server, big_library)
    files_before = sorted(p.name for p in big.seeds_dir.iterdir())
    posted: list[Any] = []
    page.on("request", lambda r: posted.append(r) if r.method == "POST" and r.url.endswith("/documents") else None)
    coral = tmp_path / "coral-nurseries.txt"
    coral.write_text(CORAL, encoding="utf-8")
    page.locator("#add-file").set_input_files(str(coral))
    page.locator("#add-symbol").fill("A/72/950")
    page.locator("#add-lang").select_option("en")
    more = page.locator("#add-more")
    expect(more).not_to_have_attribute("open", "")  # collapsed until wanted
    more.locator("summary").click()
    page.locator("#add-title").fill("Coral nurseries: report of the Secretary-General")
    page.locator("#add-title-en").fill("Coral reef nurseries")
    page.locator("#add-date").fill("2017-09-15")
    page.locator("#add-body").fill("General Assembly")
    # the API's limit on the session (1 to 1000), checked before anything is sent
    page.locator("#add-session").fill("1001")
    page.locator("#add-button").click()
    failure = page.locator("#library-edit-error")
    expect(failure).to_have_text("The session must be a whole number from 1 to 1000.")
    expect(page.locator("#add-session")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#add-session")).to_be_focused()
    page.locator("#add-title-en").evaluate("(input, text) => { input.value = text; }", "x" * 501)  # past maxlength by script
    page.locator("#add-session").fill("72")
    page.locator("#add-button").click()
    expect(failure).to_have_text("The English title is too long: at most 500 characters.")
    assert not posted, "a form the API would refuse was sent"
    page.locator("#add-title-en").fill("Coral reef nurseries")
    page.locator("#add-button").click()
    status = page.locator("#library-edit-status")
    expect(status).to_contain_text("Added coral-nurseries.txt (coral-nurseries, English)", timeout=120_000)
    expect(failure).to_be_hidden()
    sent = posted[-1].post_data or ""
    for name, value in [("title", "Coral nurseries: report of the Secretary-General"), ("title_en", "Coral reef nurseries"),
                        ("session", "72"), ("date", "2017-09-15"), ("body", "General Assembly")]:
        assert f'name="{name}"\r\n\r\n{value}\r\n' in sent, (name, sent[:2000])
    expect(page.locator("#add-title")).to_have_value("")  # the form is ready for the next file
    # the same file again, without "replace": the server refuses, and its one-line reason is shown
    page.locator("#add-file").set_input_files(str(coral))
    page.locator("#add-session").fill("72")
    page.locator("#add-button").click()
    expect(failure).to_have_text(re.compile(r"^the library already has .*replace=true"))
    assert "\n" not in failure.inner_text().strip()
    page.locator("#add-file").set_input_files([])
    page.locator("#add-session").fill("")
    expect(rows).to_have_count(described.documents + 1)
    added = page.locator('#library-table tr[data-document="A/72/950"]')
    cells = added.locator("td")
    expect(cells.nth(0)).to_have_text("Coral reef nurseries")  # the English interface shows the English title
    expect(cells.nth(2)).to_have_text("72")
    expect(cells.nth(3)).to_have_text("2017-09-15")
    expect(cells.nth(4)).to_have_text("General Assembly")
    page.get_by_role("button", name="中文").click()
    expect(cells.nth(0)).to_have_text("Coral nurseries: report of the Secretary-General")  # the title in the file's language
    expect(more.locator("summary")).to_have_text("更多信息（可选）")
    page.get_by_role("button", name="English").click()
    # and it is found by what was given
    page.locator("#library-find").fill("coral 2017-09-15")
    expect(rows).to_have_count(1)
    page.locator("#library-find").fill("")
    added.get_by_role("button", name="Remove A/72/950").click()
    added.get_by_role("button", name="Yes, remove").click()
    expect(status).to_contain_text("Removed A/72/950", timeout=120_000)
    expect(rows).to_have_count(described.documents)
    assert sorted(p.name for p in big.seeds_dir.iterdir()) == files_before


def test_side_by_side_versions_in_the_large_library(public_page: Any, public_server: tuple[str, Any]) -> None:
    expect = _expect()
    base, _ = public_server
    page = public_page
    open_library(page, base)
    page.goto(base + "/#doc/xquad-05.zh/para/1")
    columns = page.locator("#reader-versions .version-column")
    expect(columns).to_have_count(2)
    expect(columns.nth(0)).to_have_attribute("lang", "zh-CN")
    expect(columns.nth(1)).to_have_attribute("lang", "en")
    page.locator("#reader-versions").get_by_role("button", name="English").click()
    expect(columns.nth(0)).to_be_hidden()
    expect(columns.nth(1)).to_be_visible()
