"""The Content-Security-Policy in Chromium: every page works under it (charts drawn, scripts run) and the browser
reports no violation; a page cannot be framed."""

from __future__ import annotations

import pytest

from .conftest import seed_history

pytestmark = pytest.mark.browser

EMAIL = "csp@example.org"
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
PUBLIC = ["/", "/s/anagrafe-stato-civile?canale=qr&sede=sportello-anagrafe", "/k/anagrafe-stato-civile?sede=sportello-anagrafe",
          "/privacy", "/accessibilita", "/trasparenza/", "/staff/login"]
STAFF = ["/staff/?anno=2025", "/staff/servizi/anagrafe-stato-civile?anno=2025",
         "/staff/servizi/anagrafe-stato-civile/domande/D9?anno=2025", "/staff/commenti", "/staff/catalogo/"]


@pytest.fixture(scope="module")
def admin(live_server):
    from survey_app.extensions import db as _db
    from survey_app.users import create_user

    seed_history(live_server["app"])
    with live_server["app"].app_context():
        _, password = create_user(_db.session, EMAIL, "admin")
        _db.session.remove()
    return password


@pytest.fixture
def strict_page(browser):
    """A page under the site's real policy (the shared ``page`` fixture bypasses it for axe-core)."""
    context = browser.new_context(locale="it-IT")
    yield context.new_page()
    context.close()


def violations(page) -> list[str]:
    return page.evaluate("() => window.__violations")


def test_every_page_works_under_the_policy(live_server, strict_page, admin):
    page = strict_page
    base = live_server["url"]
    page.add_init_script(WATCH)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    for path in PUBLIC:
        response = page.goto(base + path)
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"], path
        assert violations(page) == [], path
    page.goto(f"{base}/staff/login")
    page.fill("#email", EMAIL)
    page.fill("#password", admin)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/staff/")
    drawn = 0
    for path in STAFF:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path
        charts = page.locator(".plotly-graph-div").count()
        if charts:  # plotly's inline scripts ran: each figure has drawn its SVG
            assert page.locator(".plotly-graph-div .main-svg").count() >= charts, path
            # Every trace drawn as the type it was written with: the basic bundle (bar, scatter, pie) would draw
            # a type it lacks as an empty scatter, with no error.
            drawn_types = page.evaluate("""() => [...document.querySelectorAll('.plotly-graph-div')].flatMap(
                div => div.data.map((trace, i) => [trace.type || 'scatter', div._fullData[i].type]))""")
            assert drawn_types and all(wanted == got for wanted, got in drawn_types), (path, drawn_types)
        drawn += charts
    assert drawn >= 5  # the overview, the service page and the question page have charts
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_a_page_cannot_be_framed(live_server, strict_page):
    page = strict_page
    response = page.goto(live_server["url"] + "/staff/login")
    headers = response.headers
    assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_an_injected_inline_script_does_not_run(live_server, strict_page):
    strict_page.goto(live_server["url"] + "/s/anagrafe-stato-civile")
    ran = strict_page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = true'; document.head.appendChild(s); return window.__ran === true; }""")
    assert ran is False
