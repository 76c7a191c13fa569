"""The book as a reader sees it: offline, clean, complete, checked in a real browser.

The tiny synthetic book of the session is used (``conftest.tiny_book``; set
``ARBEIDSINDIKATOR_TEST_BOOK`` to the ``out_root`` of a finished build to reuse it). Then

- no built page references a script, style or font on another host;
- no executed chapter has stderr output or warning text in it;
- every table offers its CSV and Excel files, and the linked files exist in the HTML folder;
- Debian's headless Chromium (``/usr/bin/chromium`` + ``chromedriver``, installed by
  ``make browser``, which ``make test`` runs) opens every page with no network and checks that
  formulas are rendered (no raw ``\\(`` in the visible text), every image loads, the console
  has no errors and the synthetic-data notice is visible; screenshots of the introduction,
  results and uncertainty pages are saved under ``_build/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT_PAGES = {"00_introduction": "introduction", "04_results": "results", "06_uncertainty": "uncertainty"}
SCREENSHOT_DIR = REPO / "_build" / "screenshots"
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)


@pytest.fixture(scope="module")
def book(tiny_book) -> Path:
    """out_root of the built tiny book (conftest.tiny_book; its HTML is in ``_build/html``)."""
    return tiny_book


def _pages(book: Path) -> list[Path]:
    from arbeidsindikator.book.build import toc_files

    html = book / "_build" / "html"
    return [html / f"{f}.html" for f in toc_files(REPO)]


class _Assets(HTMLParser):
    """Collects the URLs a page loads: scripts, stylesheets, fonts, preloads, icons, inline url()."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload", "prefetch", "font")):
                self.urls.append((f"link[{rel}]", a["href"]))
        elif tag in ("img", "iframe", "source", "embed") and a.get("src"):
            self.urls.append((tag, a["src"]))
        if a.get("style"):
            self.urls += [("style attribute", u) for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])]
        self._in_style = tag == "style"

    def handle_data(self, data):  # noqa: ANN001
        if self._in_style:
            self.urls += [("style", u) for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", data)]
            self.urls += [("style @import", u) for u in re.findall(r"@import\s+['\"]([^'\"]+)", data)]

    def handle_endtag(self, tag):  # noqa: ANN001
        self._in_style = False


def test_no_page_loads_anything_from_another_host(book):
    html = book / "_build" / "html"
    bad = []
    for page in sorted(html.rglob("*.html")):
        p = _Assets()
        p.feed(page.read_text(encoding="utf-8"))
        bad += [f"{page.relative_to(html)}: {kind} {url}" for kind, url in p.urls if EXTERNAL.match(url)]
    for css in sorted((html / "_static").rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(r"@import\s+['\"]([^'\"]+)", text):
            if EXTERNAL.match(url):
                bad.append(f"{css.relative_to(html)}: {url}")
    assert not bad, "pages load assets from the network:\n" + "\n".join(bad[:40])
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is not shipped with the book"


def test_no_stderr_or_warning_text_in_executed_chapters(book):
    found = []
    for nb_path in sorted((book / "_build" / "book").rglob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    found.append(f"{nb_path.stem} cell {i}: stderr: {out.get('text', '')[:200]!r}")
                texts = [out.get("text", "")] + [str(v) for v in out.get("data", {}).values()]
                for t in texts:
                    m = re.search(r"\b\w*(Warning|Error)\b:.*", t if isinstance(t, str) else "")
                    if m and out.get("output_type") != "error":
                        found.append(f"{nb_path.stem} cell {i}: {m.group(0)[:200]!r}")
    assert not found, "executed chapters print warnings or stderr:\n" + "\n".join(found[:30])


def test_every_table_has_caption_and_working_downloads(book):
    html = book / "_build" / "html"
    n_tables = 0
    for page in _pages(book):
        text = page.read_text(encoding="utf-8")
        tables = text.count('class="table')
        captions = len(re.findall(r"<caption", text))
        links = re.findall(r'href="([^"]+\.(?:csv|xlsx))"', text)
        for href in links:
            assert (page.parent / href).resolve().is_file(), f"{page.name}: broken download link {href}"
        n_book = text.count("book-table ") + text.count('book-table"')
        assert captions >= n_book, f"{page.name}: {n_book} book tables but {captions} captions"
        assert len([h for h in links if h.endswith(".csv")]) >= n_book, f"{page.name}: a table without CSV link"
        n_tables += tables
    assert n_tables > 0
    results = (html / "chapters" / "04_results.html").read_text(encoding="utf-8")
    # the results chapter links the long-format export and the coefficient table
    assert re.search(r'href="[^"]*coefficients\.csv"', results) and re.search(r'href="[^"]*coefficients\.xlsx"', results)
    export = sorted({p.name for d in (book / "tables", book / "_build" / "tables") for p in d.glob("*/export/*")
                     if p.suffix in (".csv", ".xlsx")})
    assert export and all(re.search(rf'href="[^"]*/{re.escape(n)}"', results) for n in export), export


def _driver(user_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={user_dir}", "--window-size=1280,1600",
                # no network at all, as in a secure analysis environment
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)


_WAIT_MATHJAX = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done('ok'), (e) => done('error: ' + e));
  } else if (Date.now() - t0 > 15000) { done(document.querySelector('.math') ? 'no MathJax' : 'no math'); }
  else { setTimeout(poll, 100); }
})();
"""


def test_pages_in_headless_chromium(book):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        msg = "Debian's chromium and chromium-driver are not installed (run `make browser` as root)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    user_dir = tempfile.mkdtemp(prefix="chromium-profile-")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    driver = _driver(user_dir)
    try:
        driver.set_script_timeout(30)
        for page in _pages(book):
            name = page.stem
            driver.get(page.resolve().as_uri())
            state = driver.execute_async_script(_WAIT_MATHJAX)
            if state not in ("ok", "no math"):
                problems.append(f"{name}: MathJax {state}")
            text = driver.execute_script("return document.body.innerText")
            for raw in ("\\(", "\\[", "$$"):
                if raw in text:
                    i = text.index(raw)
                    problems.append(f"{name}: raw formula source in the visible text: {text[max(0, i - 40):i + 60]!r}")
            if driver.execute_script("return document.querySelectorAll('mjx-container').length") == 0 and \
                    driver.execute_script("return document.querySelectorAll('.math').length") > 0:
                problems.append(f"{name}: formulas present but none rendered by MathJax")
            broken = driver.execute_script(
                "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
            problems += [f"{name}: image does not load: {src}" for src in broken]
            no_alt = driver.execute_script(
                "return Array.from(document.images).filter(i => !(i.alt || '').trim()).map(i => i.src)")
            problems += [f"{name}: image without alt text: {src}" for src in no_alt]
            notice = driver.execute_script(
                "return Array.from(document.querySelectorAll('.admonition, .bd-header-announcement, div'))"
                ".some(e => e.innerText && e.innerText.includes('Synthetic data') && e.offsetParent !== null)")
            if not notice:
                problems.append(f"{name}: synthetic-data notice not visible")
            for entry in driver.get_log("browser"):
                if entry.get("level") == "SEVERE":
                    problems.append(f"{name}: console error: {entry.get('message', '')[:200]}")
            if name in SCREENSHOT_PAGES:
                label = SCREENSHOT_PAGES[name]
                driver.save_screenshot(str(SCREENSHOT_DIR / f"{label}.png"))
                has_table = driver.execute_script(
                    "const t = document.querySelector('div.book-table'); if (!t) return false;"
                    "t.scrollIntoView({block: 'start'}); window.scrollBy(0, -80); return true;")
                if has_table:
                    driver.save_screenshot(str(SCREENSHOT_DIR / f"{label}-table.png"))
                has_math = driver.execute_script(
                    "const m = document.querySelector('mjx-container[display=\"true\"], mjx-container');"
                    "if (!m) return false; m.scrollIntoView({block: 'center'}); return true;")
                if has_math:
                    driver.save_screenshot(str(SCREENSHOT_DIR / f"{label}-formula.png"))
    finally:
        driver.quit()
        shutil.rmtree(user_dir, ignore_errors=True)
    assert not problems, "\n".join(problems[:40])
    for label in SCREENSHOT_PAGES.values():
        assert (SCREENSHOT_DIR / f"{label}.png").stat().st_size > 10_000
