"""The public results and the publishing pages in Chromium: 0 axe-core violations, readable without JavaScript."""

from datetime import date

import pytest

from .conftest import UNNAMED_SCROLL_BOXES, axe_violations, cut_off, submit

pytestmark = pytest.mark.browser

SERVICE = "anagrafe-stato-civile"


@pytest.fixture(scope="module")
def published(live_server):
    """A year of demo answers, an improvement action, and version 1 of 2025 published."""
    from survey_app.demo.seed import seed_responses
    from survey_app.extensions import db as _db
    from survey_app.models import AzioneMiglioramento, Servizio
    from survey_app.transparency.publishing import publish_year
    from survey_app.users import create_user

    with live_server["app"].app_context():
        seed_responses(_db.session, 400, seed=5, end=date(2025, 12, 31))
        servizio = _db.session.query(Servizio).filter_by(slug=SERVICE).one()
        _db.session.add(AzioneMiglioramento(
            servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore="quota_soddisfatti",
            domanda_codice="D4", titolo="Prenotazione online degli appuntamenti",
            descrizione="Agenda online per ridurre l'attesa allo sportello.", data_inizio=date(2025, 3, 1),
            data_scadenza=date(2025, 9, 30), stato="completata", esito="Attesa media scesa da 25 a 10 minuti."))
        _db.session.commit()
        publish_year(_db.session, 2025, actor="test")
        _, password = create_user(_db.session, "pubblica@example.org", "trasparenza")
        _db.session.remove()
    return {"url": live_server["url"], "password": password, "app": live_server["app"]}


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("path", ["/trasparenza", "/trasparenza/2025", f"/trasparenza/2025/{SERVICE}",
                                  "/trasparenza/2025?ente=cuorgne"])
def test_public_results_have_no_violations(published, page, path, lang):
    response = page.goto(f"{published['url']}{path}{'&' if '?' in path else '?'}lang={lang}")
    assert response.status == 200
    assert page.locator("table caption").count() >= 1
    assert axe_violations(page) == []
    assert page.evaluate(UNNAMED_SCROLL_BOXES) == []  # a focused table box is announced by its name


def test_service_results_work_without_javascript(published, page_without_js):
    page_without_js.goto(f"{published['url']}/trasparenza/2025/{SERVICE}")
    assert page_without_js.locator("svg[role=img] title").count() == 1
    assert page_without_js.get_by_role("table").first.is_visible()
    assert page_without_js.get_by_text("Prenotazione online degli appuntamenti").is_visible()
    link = page_without_js.get_by_role("link", name="Foglio di calcolo Excel (XLSX)")
    with page_without_js.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "soddisfazione-2025.xlsx"  # as the data package names it


def test_publishing_pages_have_no_violations(published, page):
    page.goto(f"{published['url']}/staff/login")
    page.fill("#email", "pubblica@example.org")
    page.fill("#password", published["password"])
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/staff/")
    for path in ("/staff/trasparenza/", "/staff/azioni/", "/staff/trasparenza/anteprima?anno=2025"):
        page.goto(f"{published['url']}{path}")
        assert axe_violations(page) == [], path
    page.goto(f"{published['url']}/staff/trasparenza/")
    page.get_by_label("Anno da pubblicare").select_option("2025")
    page.locator("label[for=conferma]").click()  # as a person ticks it (Bootstrap Italia draws the box on the label)
    assert page.get_by_label("Ho controllato: la versione pubblicata non si potrà più modificare").is_checked()
    submit(page, page.get_by_role("button", name="Pubblica"))
    assert page.get_by_role("status").first.is_visible()  # "nothing changed": no new version
    assert axe_violations(page) == []


def test_the_publishing_page_fits_a_phone(published, page):
    """The versions' file lists sat beside their headings (a flex row) and ran off a 375 px screen."""
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{published['url']}/staff/login")
    page.fill("#email", "pubblica@example.org")
    page.fill("#password", published["password"])
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/staff/")
    page.goto(f"{published['url']}/staff/trasparenza/")
    assert cut_off(page) == []
    heading = page.get_by_role("heading", name="Anno 2025, versione 1").bounding_box()
    files = page.get_by_role("table", name="File della versione 1 dell'anno 2025").bounding_box()
    assert files["y"] > heading["y"] + heading["height"] and files["x"] <= heading["x"] + 1  # below, not beside


def test_the_public_chart_keeps_readable_labels_on_a_phone(published, page):
    """At 375 px the drawing shrank to 45%, its 14 px labels to about 6 px: it keeps its size and scrolls in its box."""
    from .conftest import cut_off

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{published['url']}/trasparenza/2025/{SERVICE}")
    label = page.locator("svg[role=img] text").first
    rendered = label.bounding_box()["height"]
    assert rendered >= 10, rendered  # px on screen, for a 14 px label
    assert cut_off(page) == []  # the box scrolls, the page does not
    assert axe_violations(page) == []  # and a box that scrolls can be reached by keyboard
    # It says it scrolls, where it does: the percentages and the standards started off-screen, unannounced.
    hint = page.locator(".cs-chart-hint").first
    assert hint.is_visible() and "Scorri il grafico di lato" in hint.inner_text()
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not hint.is_visible()
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{published['url']}/trasparenza/2025")
    assert cut_off(page) == [] and axe_violations(page) == []


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_changes_between_versions_and_the_method_note_fit_320_pixels(published, page, lang):
    """Opened at 320 px, "Che cosa è cambiato" was a table 437 px wide outside any scrolling box, cutting off its
    "Dopo" column; a change of address is one long word."""
    from survey_app.extensions import db as _db
    from survey_app.transparency.publishing import latest, publish_year

    app = published["app"]
    with app.app_context():
        if latest(_db.session, 2024) is None:
            publish_year(_db.session, 2024, actor="test")
            config = app.config
            before = config.get("PUBLIC_BASE_URL")
            config["PUBLIC_BASE_URL"] = "https://servizi-online.comune-di-esempio-con-un-nome-lungo.example.it"
            try:
                assert publish_year(_db.session, 2024, actor="test").created
            finally:
                config["PUBLIC_BASE_URL"] = before
        _db.session.remove()
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{published['url']}/trasparenza/2024?lang={lang}")
    page.locator("details summary").first.click()
    assert page.get_by_role("table", name="Modifiche della versione 2" if lang == "it" else "Changes in version 2")\
        .is_visible()
    assert cut_off(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator("dl.cs-method dt").count() >= 8
    assert axe_violations(page) == []
