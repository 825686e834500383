"""axe-core in real Chromium: 0 WCAG 2.1 A/AA violations on every public page, in Italian and English."""

from datetime import date

import pytest

from .conftest import axe_violations, submit

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/s/anagrafe-stato-civile",  # the full service questionnaire
    "/s/urp-protocollo",  # Mettiamoci la faccia
    "/s/sito-istituzionale",  # Designers Italia page clarity (stars)
    "/s/servizi-scolastici",  # Designers Italia online service
    "/s/anagrafe-stato-civile/grazie",
    "/privacy",
    "/accessibilita",
    "/k/anagrafe-stato-civile?sede=sportello-anagrafe",
    "/k/anagrafe-stato-civile/grazie?sede=sportello-anagrafe",
]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_error_page_has_no_violations(live_server, page, lang):
    response = page.goto(f"{live_server['url']}/s/servizio-inesistente?lang={lang}")
    assert response.status == 404
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_no_axe_violations(live_server, page, path, lang):
    separator = "&" if "?" in path else "?"
    response = page.goto(f"{live_server['url']}{path}{separator}lang={lang}")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == lang
    assert axe_violations(page) == []


def test_questionnaire_with_errors_has_no_violations(live_server, page):
    page.goto(f"{live_server['url']}/s/anagrafe-stato-civile")
    submit(page, page.get_by_role("button", name="Invia la valutazione"))
    assert page.locator("#riepilogo-errori").is_visible()
    assert axe_violations(page) == []


def test_first_visit_is_light_and_cacheable(live_server, browser):
    """A first visit to a questionnaire transfers at most 200 KB, compressed, with long-cached static files."""
    from .conftest import first_visit

    visit = first_visit(browser, f"{live_server['url']}/s/anagrafe-stato-civile")
    assert visit["total_bytes"] <= 200 * 1024, visit
    static = [r for r in visit["responses"] if "/static/" in r["url"]]
    assert static and all("max-age=31536000" in r["cache_control"] for r in static)
    css = [r for r in static if r["url"].split("?")[0].endswith(".css")]
    assert css and all(r["encoding"] == "gzip" for r in css)
    assert visit["blocking_scripts"] == []


def test_staff_pages_have_no_violations(live_server, page):
    from survey_app.demo.seed import seed_responses
    from survey_app.extensions import db as _db
    from survey_app.users import create_user

    with live_server["app"].app_context():
        seed_responses(_db.session, 300, seed=2, end=date(2025, 12, 31))
        _, password = create_user(_db.session, "axe@example.org", "admin")
        _db.session.remove()
    page.goto(f"{live_server['url']}/staff/login")
    assert axe_violations(page) == []
    page.fill("#email", "axe@example.org")
    page.fill("#password", password)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/staff/")
    # The service page last: the check after the loop looks at its charts.
    for path in ("/staff/", "/staff/qr/", "/staff/importazioni/", "/staff/importazioni/carica", "/staff/azioni/",
                 "/staff/azioni/nuova?servizio=anagrafe-stato-civile", "/staff/trasparenza/",
                 "/staff/servizi/anagrafe-stato-civile?anno=2025"):
        page.goto(f"{live_server['url']}{path}")
        assert axe_violations(page) == [], path
    assert page.locator(".plotly-graph-div").count() >= 3  # the charts were drawn
