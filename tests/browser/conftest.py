"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Browser tests run on SQLite only: what they check (markup, keyboard, scripts) does not depend on
the database, which the rest of the suite covers on both backends.
"""

from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from survey_app import create_app
from survey_app.catalogue import load_catalogue
from survey_app.extensions import db as _db

from ..conftest import _config

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEMO = ROOT / "instances" / "demo" / "catalogue"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, sqlite_template):
    folder = tmp_path_factory.mktemp("live")
    database = folder / "live.sqlite3"
    shutil.copyfile(sqlite_template, database)
    app = create_app({**_config(f"sqlite:///{database}", folder), "SERVER_NAME": None,
                      "SUBMIT_RATE_LIMIT": "1000 per minute", "KIOSK_RATE_LIMIT": "1000 per minute",
                      "KIOSK_RESET_SECONDS": 2})
    with app.app_context():
        load_catalogue(_db.session, DEMO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app}
    server.shutdown()
    with app.app_context():
        _db.engine.dispose()


SEED_END = date(2025, 12, 31)


def seed_history(app) -> None:
    """The demo's answers over 2024 and 2025 in this server, once per server: the staff pages and flows read them.

    Asked by several modules, in whatever order xdist gives them, and kept in the app: whether any answer is there
    is not the test, since other tests store answers of their own first (today's, or an accessibility check's
    smaller seed, which left the staff pages too few answers to show)."""
    from survey_app.demo.seed import seed_responses

    if app.extensions.get("seeded_history"):
        return
    with app.app_context():
        seed_responses(_db.session, 450, seed=7, end=SEED_END)
        _db.session.remove()
    app.extensions["seeded_history"] = True


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (`apt-get install chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # axe-core is injected as an inline script, which the site's CSP refuses: the tests' own tooling bypasses it.
    # test_security_headers opens its pages without the bypass, under the real policy.
    context = browser.new_context(locale="it-IT", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(java_script_enabled=False, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def submit(page, button) -> None:
    """Click a link or a form's button, and return once the page it leads to has loaded.

    A bare ``click()`` may return before the browser starts the navigation (a file upload takes a while to send), and
    the next assertion would then read the page the form was on.
    """
    with page.expect_navigation():
        button.click()


# Boxes made focusable so that a keyboard can scroll them (a wide table): each must be a region with a name, or a
# screen reader reads the whole table out when it takes the focus.
UNNAMED_SCROLL_BOXES = """() => [...document.querySelectorAll('[tabindex="0"]:not(a, button, input, select, textarea)')]
    .filter(box => !['region', 'group'].includes(box.getAttribute('role')) || !((box.getAttribute('aria-label') || '')
        + (document.getElementById(box.getAttribute('aria-labelledby'))?.textContent || '')).trim())
    .map(box => box.outerHTML.slice(0, 120))"""


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; return its violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


def first_visit(browser, url: str) -> dict:
    """Load ``url`` in a fresh context (empty cache) and measure what went over the wire."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    page.goto(url, wait_until="networkidle")
    rows = []
    for request in responses:
        response = request.response()
        sizes = request.sizes()
        headers = response.all_headers() if response else {}
        rows.append({"url": request.url, "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
                     "cache_control": headers.get("cache-control", ""),
                     "encoding": headers.get("content-encoding", "")})
    blocking = page.evaluate(
        "() => Array.from(document.querySelectorAll('head script[src]'))"
        ".filter(s => !s.defer && !s.async && s.type !== 'module').map(s => s.src)")
    context.close()
    return {"total_bytes": sum(r["bytes"] for r in rows), "responses": rows, "blocking_scripts": blocking}


CUT_OFF = """() => {
  const width = document.documentElement.clientWidth, found = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1 || el.ownerSVGElement) continue;  // an SVG clips its drawing
    let scroller = false;
    for (let up = el.parentElement; up && !scroller; up = up.parentElement) {
      scroller = ['auto', 'scroll'].includes(getComputedStyle(up).overflowX);
    }
    if (!scroller) found.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(box.right)} px`);
  }
  return found.slice(0, 5);
}"""


def cut_off(page) -> list[str]:
    """What runs past the right edge of the window outside a box that scrolls sideways: cut off or making the whole
    page scroll sideways on a phone (a table in ``.table-responsive`` scrolls on its own and is fine)."""
    return page.evaluate(CUT_OFF)


def pytest_collection_modifyitems(items):
    """The test server (werkzeug's) leaves a static file open when the browser drops the connection in the middle
    of it (a page closed while its fonts still load); the ResourceWarning reaches pytest from the server's thread
    at some later test's teardown. It says nothing of the app, which gunicorn serves in production."""
    dropped = pytest.mark.filterwarnings(
        "ignore:Exception ignored in.*/static/vendor/:pytest.PytestUnraisableExceptionWarning")
    for item in items:
        if "/browser/" in str(item.path):
            item.add_marker(dropped)
