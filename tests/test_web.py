"""Browser tests of the web page (api/static/): headless Chromium, driven by Playwright, against a live server.

Chromium comes from Debian's packages (``scripts/install-browser.sh``); Playwright only drives it
and never downloads a browser. Without chromium or playwright these tests FAIL when the CI
environment variable is set, and are skipped otherwise.

The page must work air-gapped: every request that leaves the live server is aborted and fails
the test. Screenshots go to a temp dir (or ``$WEB_SCREENSHOT_DIR``); the answered Chinese question
with its paragraph panel open is also written to ``docs/screenshot.png`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import live_server as serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README_SCREENSHOT = ROOT / "docs" / "screenshot.png"
SCREENSHOT_MAX_BYTES = 300_000
DOC = "000_75fc5355e1129b16"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ZH_QUESTION = "多哈会议有多少名政府代表参加？"
EN_QUESTION = "When does the second commitment period of the Kyoto Protocol end?"
# Not in the documents, and refused with a wide margin (best evidence 0.82 against the 0.896
# same-language threshold when this was written). The English "Who won the 2022 FIFA World Cup?"
# then scored 0.762 against the 0.76 cross-lingual threshold: too close to test the page with.
UNANSWERABLE = "珠穆朗玛峰有多高？"
ANSWER_TIMEOUT_MS = 60_000


def _unavailable(reason: str) -> None:
    """Fail in CI (a browser test that cannot run is a broken set-up), skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; the browser tests cannot run. Install it with scripts/install-browser.sh (Debian's chromium) and pip install playwright.", pytrace=False)
    pytest.skip(f"{reason} (set CI=1 to make this a failure)")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session", autouse=True)
def chromium_executable() -> str:
    """Checked before anything else (autouse, session scope): no model is loaded when no browser can run."""
    executable = shutil.which("chromium")
    if executable is None:
        _unavailable("chromium is not installed (no 'chromium' on PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the Python package 'playwright' is not installed")
    return executable


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    except Exception as error:
        manager.stop()
        pytest.fail(f"chromium at {chromium_executable} did not start: {error}", pytrace=False)
    yield launched
    launched.close()
    manager.stop()


@pytest.fixture(scope="module")
def live_server(settings: Any, answerer: Any) -> Iterator[str]:
    """The real app (real model, index of the seed) under uvicorn on a free loopback port."""
    from api.app import create_app

    with serve(create_app(settings, answerer=answerer)) as url:
        yield url


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("WEB_SCREENSHOT_DIR")
    if wanted:
        path = Path(wanted)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("web-screenshots")


def _open_page(browser: Any, base: str, **context_options: Any) -> tuple[Any, Any, dict[str, list[str]]]:
    options = {"viewport": {"width": 1280, "height": 860}, "locale": "en-US", "device_scale_factor": 1, **context_options}
    context = browser.new_context(**options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    problems: dict[str, list[str]] = {"external": [], "page_errors": [], "console": []}

    def gate(route: Any) -> None:
        url = route.request.url
        if url.startswith(base + "/") or url == base:
            route.continue_()
        else:
            problems["external"].append(url)
            route.abort()

    context.route("**/*", gate)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda error: problems["page_errors"].append(str(error)))

    def on_console(message: Any) -> None:
        # a 4xx answer the test provokes is logged by Chromium as "Failed to load resource": expected
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems["console"].append(message.text)

    page.on("console", on_console)
    return context, page, problems


@pytest.fixture()
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context (empty localStorage, English locale) whose requests may only reach the live server."""
    context, tab, problems = _open_page(browser, live_server)
    yield tab
    context.close()
    assert not problems["external"], f"the page tried to reach the network: {problems['external']}"
    assert not problems["page_errors"], f"JavaScript errors: {problems['page_errors']}"
    assert not problems["console"], f"console errors: {problems['console']}"


# ---------------------------------------------------------------- helpers


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def ask(page: Any, question: str) -> None:
    """Type the question and submit it with Enter, as a person would; wait for the answer or the error."""
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "() => !document.getElementById('result').hidden && !document.getElementById('ask-form').classList.contains('is-busy')"
        " || !document.getElementById('ask-error').hidden",
        timeout=ANSWER_TIMEOUT_MS,
    )


def shot(page: Any, screens: Path, name: str) -> Path:
    path = screens / f"{name}.png"
    # caret and animation options inject an inline <style>, which the page's CSP rightly blocks (a console error)
    page.screenshot(path=str(path), caret="initial")
    return path


def span_texts(citation: dict[str, Any]) -> list[str]:
    chars = list(citation["text"])  # spans count code points, like Array.from in the page
    return ["".join(chars[start:end]) for start, end in citation["spans"]]


def api_answer(page: Any, base: str, question: str) -> dict[str, Any]:
    response = page.request.post(f"{base}/ask", data={"question": question})
    assert response.ok, response.text()
    return response.json()


def clipboard(page: Any) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def write_readme_screenshot(page: Any) -> None:
    """docs/screenshot.png, kept small (a 256-colour palette PNG: plenty for a page of text)."""
    from PIL import Image

    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    # the timing changes from run to run: hidden, so that an unchanged page gives an unchanged file
    page.locator(".timing").evaluate_all("elements => elements.forEach(e => { e.hidden = true; })")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no caret in the picture
    page.screenshot(path=str(README_SCREENSHOT), caret="initial")
    with Image.open(README_SCREENSHOT) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    reduced.save(README_SCREENSHOT, optimize=True)
    size = README_SCREENSHOT.stat().st_size
    assert size <= SCREENSHOT_MAX_BYTES, f"{README_SCREENSHOT} is {size} bytes, over {SCREENSHOT_MAX_BYTES}"


# ---------------------------------------------------------------- tests


def test_chinese_question_cites_paragraph_highlights_evidence_and_copies(page: Any, live_server: str, screens: Path) -> None:
    expect = _expect()
    page.goto(live_server + "/")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#ask-button")).to_have_text("提问")

    ask(page, ZH_QUESTION)
    result = page.locator("#result")
    expect(result).to_have_attribute("data-state", "answered")
    expect(page.locator("#ask-error")).to_be_hidden()
    expect(result.locator(".answer-text")).to_contain_text("政府代表")
    chips = result.locator(".answer-text .chip")
    expect(chips.first).to_have_text(re.compile(r"^第\d+"))
    expect(result.locator(".sources .source").first).to_be_visible()
    shot(page, screens, "01-zh-answer")

    # keyboard only: Tab from the question box reaches a citation chip, Enter opens it
    page.locator("#question").focus()
    for _ in range(25):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('.answer-text .chip')"):
            break
    else:
        pytest.fail("no citation chip is reachable with Tab")
    reference = page.evaluate("() => document.activeElement.textContent")
    page.keyboard.press("Enter")

    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(reference)
    expect(page.locator("#panel-section li").first).to_contain_text("多哈")
    marks = page.locator("#panel-text mark")
    expect(marks.first).to_be_visible()
    paragraph_text = page.locator("#panel-text").text_content()
    marked = marks.all_text_contents()
    assert all(m and m in paragraph_text for m in marked)
    assert any("4 300 名政府代表" in m for m in marked), marked

    # the highlight is exactly the API's spans
    citation = next(c for c in api_answer(page, live_server, ZH_QUESTION)["citations"] if c["reference"] == reference)
    assert marked == span_texts(citation)
    assert paragraph_text == citation["text"]
    shot(page, screens, "02-zh-panel")
    write_readme_screenshot(page)

    # copy with reference: the quote in Chinese quotation marks, then the reference in full-width brackets
    page.locator("#panel-copy").click()
    expect(page.locator("#panel-copy-status")).to_contain_text("已复制")
    assert clipboard(page) == f"“{''.join(span_texts(citation))}”（{reference}）"

    # Escape closes the panel and gives focus back to the chip
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("() => document.activeElement.matches('.answer-text .chip')")

    # "read in the document" from the panel opens the deep link of the cited paragraph
    chips.first.click()
    page.locator("#panel-open").click()
    expect(page).to_have_url(re.compile(rf"#doc/{DOC}/para/{citation['para']}$"))
    expect(page.locator("#reader-para-heading")).to_have_text(f"第{citation['para']}段")
    expect(panel).to_be_hidden()


def test_english_question_cross_lingual_quote_and_copy(page: Any, live_server: str, screens: Path) -> None:
    expect = _expect()
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#ask-button")).to_have_text("Ask")

    ask(page, EN_QUESTION)
    result = page.locator("#result")
    expect(result).to_have_attribute("data-state", "answered")
    expect(result.locator(".answer-text")).to_contain_text("2020")
    expect(result.locator(".notes")).to_contain_text("not translated")
    expect(page.locator("#ask-announce")).to_have_text("Answer found, citing 1 paragraph(s).")  # for screen readers
    chip = result.locator(".answer-text .chip").first
    expect(chip).to_have_text(re.compile(r"^para\. \d+"))
    reference = chip.text_content()
    chip.click()

    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(reference)
    mark = page.locator("#panel-text mark").first
    expect(mark).to_be_visible()
    assert mark.text_content() in page.locator("#panel-text").text_content()
    assert "2020 年 12 月 31 日" in mark.text_content()
    expect(page.locator("#panel-note")).to_contain_text("highlighted")
    shot(page, screens, "03-en-panel")

    citation = next(c for c in api_answer(page, live_server, EN_QUESTION)["citations"] if c["reference"] == reference)
    page.get_by_role("button", name="Copy with reference").click()
    expect(page.locator("#panel-copy-status")).to_contain_text("Copied")
    assert clipboard(page) == f"“{''.join(span_texts(citation))}” ({reference})"


def test_unanswerable_question_shows_refusal_with_closest_paragraphs(page: Any, live_server: str, screens: Path) -> None:
    expect = _expect()
    page.goto(live_server + "/")
    answer = api_answer(page, live_server, UNANSWERABLE)
    assert answer["refused"], f"the API no longer refuses {UNANSWERABLE!r}: {answer['answer']}"
    ask(page, UNANSWERABLE)
    result = page.locator("#result")
    expect(result).to_have_attribute("data-state", "refused")
    expect(result.locator(".refusal-heading")).to_have_text(re.compile("No answer in the documents"))
    expect(result.locator(".refusal-answer")).to_have_text(answer["answer"])
    assert result.locator(".answer-text .chip").count() == 0
    closest = result.locator(".closest .source")
    expect(closest.first).to_be_visible()
    see_also = answer["see_also"]
    assert closest.count() == len(see_also) > 0
    expect(closest.first.locator(".chip")).to_have_text(see_also[0]["reference"])
    shot(page, screens, "04-refusal")

    closest.first.click()
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(see_also[0]["reference"])
    assert page.locator("#panel-text").text_content() == see_also[0]["text"]
    assert page.locator("#panel-text mark").count() == 0
    expect(page.locator("#panel-note")).to_contain_text("not quoted")
    page.locator("#panel-close").click()
    expect(page.locator("#panel")).to_be_hidden()


def test_deep_link_browses_paragraph_by_paragraph(page: Any, live_server: str, screens: Path) -> None:
    expect = _expect()
    page.goto(f"{live_server}/#doc/{DOC}/para/26")
    heading = page.locator("#reader-para-heading")
    expect(heading).to_have_text("Paragraph 26")
    expect(page.locator("#reader-text")).to_contain_text("多哈修正案")
    expect(page.locator("#reader-section")).to_contain_text("京都议定书")
    expect(page.locator("#reader-doc-title")).to_contain_text("Implementation of United Nations environmental conventions")
    shot(page, screens, "05-reader-26")

    page.locator("#reader-next").click()
    expect(page).to_have_url(re.compile(rf"#doc/{DOC}/para/27$"))
    expect(heading).to_have_text("Paragraph 27")
    page.locator("#reader-prev").click()
    expect(heading).to_have_text("Paragraph 26")
    page.go_back()
    expect(heading).to_have_text("Paragraph 27")

    # the catalogue links to the first paragraph, which has no previous one
    page.goto(f"{live_server}/#documents")
    card = page.locator(".document-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("90 paragraphs")
    shot(page, screens, "05b-documents")
    card.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"#doc/{DOC}/para/1$"))
    expect(heading).to_have_text("Paragraph 1")
    expect(page.locator("#reader-prev")).to_be_disabled()
    expect(page.locator("#reader-next")).to_be_enabled()

    # sub-units (a)…(g) of paragraph 2 are listed, each can be copied with its own reference
    page.goto(f"{live_server}/#doc/{DOC}/para/2")
    expect(heading).to_have_text("Paragraph 2")
    subs = page.locator("#reader-text .sub-unit")
    expect(subs).to_have_count(7)
    expect(subs.first.locator(".sub-label")).to_have_text("(a)")
    shot(page, screens, "06-reader-subunits")
    subs.first.get_by_role("button").click()
    expect(page.locator("#reader-copy-status")).to_contain_text("Copied")
    assert clipboard(page) == "“公约缔约方大会第十八届会议；” (para. 2 (a))"

    # "go to paragraph": 85 holds the Aichi targets, listed as sub-units with their own references
    page.locator("#reader-goto-input").fill("85")
    page.locator("#reader-goto-input").press("Enter")
    expect(heading).to_have_text("Paragraph 85")
    target = page.locator('#reader-text .sub-unit[data-sub="target 11"]')
    expect(target.locator(".sub-label")).to_have_text("Target 11")
    expect(target.get_by_role("button")).to_have_attribute("aria-label", "Copy para. 85, target 11 with its reference")

    # a paragraph that does not exist: the API's sentence, not JSON
    page.goto(f"{live_server}/#doc/{DOC}/para/999")
    error = page.locator("#reader-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("has no paragraph 999")
    assert "{" not in error.text_content()
    expect(page.locator("#reader-paragraph")).to_be_hidden()
    expect(page.locator("#reader-nav")).to_be_hidden()


def test_interface_language_toggle_is_remembered(page: Any, live_server: str) -> None:
    expect = _expect()
    page.goto(live_server + "/")
    zh_button = page.locator(".lang-button[data-lang=zh]")
    en_button = page.locator(".lang-button[data-lang=en]")
    expect(page.locator("#ask-button")).to_have_text("Ask")
    expect(en_button).to_have_attribute("aria-pressed", "true")

    ask(page, ZH_QUESTION)
    expect(page.locator("#result .result-heading")).to_have_text("Answer")

    zh_button.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(zh_button).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#ask-button")).to_have_text("提问")
    expect(page.locator("label[for=question]")).to_have_text("向文件提问")
    expect(page.locator("#result .result-heading")).to_have_text("答案")  # what is on screen is re-rendered
    assert page.evaluate("() => localStorage.getItem('un-rag.ui-language')") == "zh"

    page.reload()
    expect(page.locator("#ask-button")).to_have_text("提问")
    expect(page.locator(".nav-link[data-nav=documents]")).to_have_text("文件")
    page.goto(f"{live_server}/#doc/{DOC}/para/26")
    expect(page.locator("#reader-para-heading")).to_have_text("第26段")
    expect(page.locator("#reader-next")).to_contain_text("下一段")

    en_button.click()
    expect(page.locator("#reader-para-heading")).to_have_text("Paragraph 26")
    expect(page.locator("#reader-next")).to_contain_text("Next")


def test_api_errors_are_shown_in_words(page: Any, live_server: str, screens: Path) -> None:
    expect = _expect()
    page.goto(live_server + "/")
    box = page.locator("#question")
    box.fill("line one")
    box.press("Shift+Enter")  # a new line, not a question
    assert box.input_value() == "line one\n"
    expect(page.locator("#result")).to_be_hidden()

    ask(page, "Why? " * 401)  # 2005 characters: over the API's limit of 2000
    error = page.locator("#ask-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The question is too long")
    text = error.text_content()
    assert "detail" not in text and "{" not in text
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#ask-button")).to_be_enabled()
    shot(page, screens, "07-error")

    # an empty question never reaches the API
    page.locator("#question").fill("  ")
    page.locator("#ask-button").click()
    expect(error).to_contain_text("Type a question first.")

    page.goto(f"{live_server}/#doc/no-such-doc/para/1")
    expect(page.locator("#reader-error")).to_contain_text("unknown document 'no-such-doc'")


def test_loading_state_while_the_answer_is_on_its_way(page: Any, live_server: str) -> None:
    expect = _expect()
    page.goto(live_server + "/")

    held: list[Any] = []
    page.route("**/ask", lambda route: held.append(route))  # hold the request until the loading state is checked
    page.locator("#question").fill(ZH_QUESTION)
    page.locator("#question").press("Enter")
    expect(page.locator("#ask-button")).to_be_disabled()
    expect(page.locator("#ask-status")).to_contain_text("Searching the documents")
    expect(page.locator("#ask-form")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#result")).to_have_attribute("data-state", "answered", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#ask-status")).to_have_text("")
    expect(page.locator("#ask-button")).to_be_enabled()


def test_small_screen_layout(browser: Any, live_server: str, screens: Path) -> None:
    expect = _expect()
    context, tab, problems = _open_page(browser, live_server, viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        tab.goto(live_server + "/")
        expect(tab.locator("#ask-button")).to_have_text("提问")  # the browser's language picks the default
        ask(tab, ZH_QUESTION)
        assert tab.evaluate("() => document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
        tab.locator("#result .answer-text .chip").first.click()
        panel = tab.locator("#panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box is not None and round(box["width"]) == 390
        shot(tab, screens, "08-small-screen")
    finally:
        context.close()
    assert not problems["external"] and not problems["page_errors"] and not problems["console"], problems


def test_page_scripts_are_small_modules_all_loaded_deferred_without_inline_script() -> None:
    """index.html loads every script of api/static (and nothing else) with defer, none inline (the
    CSP is script-src 'self'); each script stays a small module (the ~400-line rule), and the
    shared helpers are written once, in page-core.js."""
    static = ROOT / "api" / "static"
    html = (static / "index.html").read_text(encoding="utf-8")
    tags = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert tags and all(not body.strip() for _, body in tags), "an inline script"
    loaded = [re.search(r'src="/static/([^"]+)"', attrs).group(1) for attrs, _ in tags]
    assert all(" defer" in attrs for attrs, _ in tags)
    assert sorted(loaded) == sorted(p.name for p in static.glob("*.js"))
    assert loaded.index("page-core.js") < min(loaded.index(name) for name in loaded if not name.endswith("-strings.js") and name != "page-core.js")
    assert loaded[-1] == "app.js"  # starts the page once every module is defined
    for script in static.glob("*.js"):
        lines = script.read_text(encoding="utf-8").count("\n")
        assert lines <= 400, f"{script.name} has {lines} lines"
        if script.name != "page-core.js":
            text = script.read_text(encoding="utf-8")
            for helper in ("function el(", "function clear(", "function describeError(", "async function request(", "function copyText("):
                assert helper not in text, f"{script.name} has its own {helper}…)"
