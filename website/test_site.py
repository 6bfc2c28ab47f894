"""The course website in a real browser: Debian's headless Chromium driven by Playwright.

Run by `make test-site`, which installs what it needs, builds the site (`make site`)
and then runs this file. Every page is opened from a local server, and any
request that leaves it (a CDN font, script or MathJax) fails the page, so the site
is proven to work offline. Screenshots for review go to
build/site-screenshots/.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from tools.course import ROOT, all_notebooks, colab_url, load, notebook_paths, source

SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-screenshots"
CHROMIUM = "/usr/bin/chromium"
# Flags that keep Chromium from reaching out on its own (the network here refuses it).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # an iPhone 12-14 sized window
LESSON_FOR_SCREENSHOT = "05"
MATH = re.compile(r"\$[^$\s][^$]*\$")

NOTEBOOKS = all_notebooks()


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def page_of(notebook: Path) -> str:
    """``notebooks/00_x.ipynb`` -> ``notebooks/00_x.html``."""
    return rel(notebook.with_suffix(".html"))


def image_outputs(notebook: Path) -> int:
    return sum("image/png" in out.get("data", {}) or "image/svg+xml" in out.get("data", {})
               for cell in load(notebook)["cells"] for out in cell.get("outputs", []))


def has_math(notebook: Path) -> bool:
    return any(MATH.search(source(c)) for c in load(notebook)["cells"] if c["cell_type"] == "markdown")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def base_url():
    assert (SITE / "index.html").exists(), "build the site first: make site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser_context():
    """One Chromium and one browsing context (a reader's session) for all pages."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: make test-site installs it (apt-get)"
    with sync_playwright() as p:
        # launch() gives Chromium a fresh, temporary --user-data-dir of its own.
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, service_workers="block")
        yield context
        context.close()
        browser.close()


class Visit:
    """One page opened in a new tab, with everything that went wrong on the way."""

    def __init__(self, context, base_url: str, path: str):
        self.base_url = base_url
        self.problems: list[str] = []
        self.page = context.new_page()
        self.page.on("request", self._only_local)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught error: {error}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        self.page.on("response", self._response)
        self.page.goto(base_url + path, wait_until="load")
        # MathJax typesets after "load" (deferred script) and then fetches its fonts.
        try:
            self.page.wait_for_function(
                "() => !document.querySelector('.math') || window.MathJax?.startup?.promise", timeout=15_000)
        except PlaywrightTimeout:
            self.problems.append("the page has formulas, but MathJax never started")
        self.page.evaluate("""async () => {
            if (window.MathJax?.startup?.promise) await MathJax.startup.promise;
            await document.fonts.ready;
        }""")

    def _only_local(self, request) -> None:
        # Watched, not routed through Playwright (which costs a round trip per request):
        # nothing outside is reachable here anyway, and anywhere such a request fails the page.
        if not request.url.startswith((self.base_url, "data:", "blob:")):
            self.problems.append(f"request to the outside world: {request.url}")

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} at {message.location}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser_context, base_url):
    opened = []

    def open_page(path: str) -> Visit:
        opened.append(Visit(browser_context, base_url, path))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


@functools.cache
def ids_in(html_file: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding="utf-8")))


def broken_links(v: Visit) -> list[str]:
    """Links to this site whose file is missing, or whose #anchor is not on the page."""
    hrefs = v.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    broken = []
    for href in sorted(set(hrefs)):
        if not href.startswith(v.base_url):
            continue
        parts = urlsplit(href)
        target = SITE / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if parts.path.endswith(".ipynb") and not parts.path.startswith("/_sources/"):
            broken.append(f"{href} (a notebook link that was not turned into its page)")  # the download button's
        elif not target.is_file():
            broken.append(f"{href} (no such file)")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in ids_in(target):
            broken.append(f"{href} (no #{parts.fragment} on that page)")
    return broken


def broken_images(v: Visit) -> list[str]:
    return v.page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src)")


def common_checks(v: Visit) -> None:
    assert not v.problems, "\n".join(v.problems)
    assert not broken_images(v), f"images that did not load: {broken_images(v)}"
    assert not broken_links(v), "broken links:\n" + "\n".join(broken_links(v))
    v.page.set_viewport_size(PHONE)
    widths = v.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"on a phone-sized window the page is {widths[0]} px wide for {widths[1]} px"


def test_every_notebook_has_a_page():
    missing = [rel(nb) for nb in NOTEBOOKS if not (SITE / page_of(nb)).is_file()]
    assert not missing, f"notebooks without a page on the site: {missing}"


def test_home_page(visit):
    v = visit("index.html")
    common_checks(v)
    v.page.set_viewport_size(DESKTOP)
    text = v.page.inner_text("article")
    assert "Start here" in text and "Syllabus" in text
    # Every lesson, its exercises and its solutions are linked from the syllabus table,
    # each with a Colab link to that same notebook.
    rows = v.page.eval_on_selector_all(
        "article table tbody tr",
        "rows => rows.map(r => Array.from(r.querySelectorAll('a'), a => a.getAttribute('href')))")
    pairs = {}
    for links in rows:
        for page, colab in zip(links[0::2], links[1::2], strict=True):
            pairs[page] = colab
    for nb in NOTEBOOKS:
        assert page_of(nb) in pairs, f"the syllabus does not link {rel(nb)}"
        assert pairs[page_of(nb)] == colab_url(rel(nb)), f"wrong Colab link next to {rel(nb)}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    v.page.screenshot(path=SHOTS / "home-desktop.png")
    v.page.set_viewport_size(PHONE)
    v.page.screenshot(path=SHOTS / "home-phone.png")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[rel(nb) for nb in NOTEBOOKS])
def test_notebook_page(visit, notebook):
    v = visit(page_of(notebook))
    common_checks(v)
    v.page.set_viewport_size(DESKTOP)

    # "Open in Colab" in the page header, and the notebook's own badge, open this notebook.
    expected = colab_url(rel(notebook))
    header = v.page.get_attribute("a.colab-link", "href")
    assert header == expected, f"header Colab link {header}, expected {expected}"
    badge = v.page.eval_on_selector_all(
        "article a[href^='https://colab.research.google.com/'] img", "imgs => imgs.map(i => i.closest('a').href)")
    assert badge and badge[0] == expected, f"first Colab badge in the notebook points at {badge[:1]}"

    # Every output the notebook saved is shown, and every figure is on the page and loaded.
    with_outputs = sum(bool(c.get("outputs")) for c in load(notebook)["cells"] if c["cell_type"] == "code")
    shown = v.page.locator(".cell_output").count()
    assert shown == with_outputs, f"{shown} cells show outputs, {with_outputs} have outputs in the notebook"
    figures = v.page.eval_on_selector_all(
        ".cell_output img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
    assert len(figures) == image_outputs(notebook), (
        f"{len(figures)} figures on the page, {image_outputs(notebook)} in the notebook")
    assert all(figures)

    # Maths is typeset by MathJax: every formula became a rendered one, none is an error.
    formulas = v.page.eval_on_selector_all(".math", "els => els.map(e => !!e.querySelector('mjx-container'))")
    if has_math(notebook):
        assert formulas and all(formulas), f"{formulas.count(False)} of {len(formulas)} formulas not rendered"
    assert v.page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"

    if notebook.parent.name == "notebooks" and notebook.name.startswith(LESSON_FOR_SCREENSHOT):
        SHOTS.mkdir(parents=True, exist_ok=True)
        v.page.screenshot(path=SHOTS / "lesson-desktop.png")
        v.page.locator(".cell_output img").first.scroll_into_view_if_needed()
        v.page.screenshot(path=SHOTS / "lesson-figure-desktop.png")
        if formulas:
            v.page.locator(".math").first.scroll_into_view_if_needed()
            v.page.screenshot(path=SHOTS / "lesson-math-desktop.png")
        v.page.set_viewport_size(PHONE)
        v.page.evaluate("() => window.scrollTo(0, 0)")
        v.page.screenshot(path=SHOTS / "lesson-phone.png")


def test_search_finds_crossentropyloss_in_lesson_05(visit):
    lesson = next(nb for nb in notebook_paths("notebooks") if nb.name.startswith("05_"))
    v = visit("index.html")
    # Search the way a reader does: the search box (Ctrl+K opens it), type, Enter.
    v.page.keyboard.press("Control+k")
    box = v.page.locator("input[name='q']:visible").first
    box.fill("CrossEntropyLoss")
    box.press("Enter")
    v.page.wait_for_url(re.compile(r"search\.html\?q=CrossEntropyLoss"))
    v.page.wait_for_selector("#search-results li a", timeout=15_000)
    results = v.page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")
    assert any(page_of(lesson) in url for url in results), json.dumps(results, indent=1)
    assert not v.problems, "\n".join(v.problems)
