"""The staff area in Chromium: every page in the staff layout, 0 axe-core violations, in Italian and English.

An admin sees every staff page. Each one must show the staff menu (a ``nav`` named after it) and never the
citizens' footer note on anonymity, which belongs to the public pages.
"""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis import charts

from .conftest import UNNAMED_SCROLL_BOXES, axe_violations, cut_off, seed_history, submit

pytestmark = pytest.mark.browser

EMAIL = "staff-pagine@example.org"
SERVICE = "anagrafe-stato-civile"  # demo catalogue, with a year of seeded answers in 2025
ACTION_SERVICE = "tributi"
MENU = {"it": "Menu dell'area riservata", "en": "Staff area menu"}
ANONYMITY = {"it": "Le risposte sono anonime", "en": "Answers are anonymous"}
CHART_TEXT_OUTSIDE = """() => [...document.querySelectorAll('.plotly-graph-div')].flatMap(chart => {
    const box = chart.getBoundingClientRect();
    return [...chart.querySelectorAll('.gtitle, .ytick text, .xtick text, .legendtext')].filter(text => {
        const r = text.getBoundingClientRect();
        return r.width && (r.left < box.left - 1 || r.right > box.right + 1);
    }).map(text => text.textContent);
})"""
PLOTLY = Path(__file__).resolve().parents[2] / "survey_app" / "static" / "vendor" / "plotly" / "plotly-basic.min.js"

# Every staff page an admin opens by GET without parameters (test_every_parameterless_page_is_listed keeps
# this list complete), then the pages that need one.
PARAMETERLESS = ["/staff/", "/staff/azioni/", "/staff/catalogo/", "/staff/catalogo/questionari/", "/staff/commenti",
                 "/staff/importazioni/", "/staff/importazioni/carica", "/staff/password", "/staff/qr/", "/staff/registro",
                 "/staff/rilevazioni/", "/staff/token-api/", "/staff/trasparenza/", "/staff/utenti/"]
NOT_PAGES = {"/staff/login",  # the page before logging in: test_accessibility checks it
             "/staff/registro.csv",  # a download
             "/staff/azioni/nuova",  # a 404 without ?servizio=: in WITH_PARAMETERS
             "/staff/trasparenza/anteprima"}  # a 404 without ?anno=: in WITH_PARAMETERS
WITH_PARAMETERS = [f"/staff/servizi/{SERVICE}?anno=2025", f"/staff/servizi/{SERVICE}?da=2025-03&a=2025-06&canale=web",
                   f"/staff/servizi/{SERVICE}/domande/D9?anno=2025", f"/staff/servizi/{SERVICE}/domande/D10?anno=2025",
                   f"/staff/servizi/{SERVICE}/domande/D12?anno=2025", f"/staff/servizi/{SERVICE}/domande/D11?anno=2025",
                   f"/staff/azioni/nuova?servizio={ACTION_SERVICE}",
                   f"/staff/catalogo/servizi/{SERVICE}", "/staff/catalogo/servizi/vigilanza-polizia-locale",
                   "/staff/catalogo/questionari/servizio-completo", "/staff/trasparenza/anteprima?anno=2025"]


@pytest.fixture(scope="module")
def staff(live_server):
    """An admin account, and the demo's answers over 2024 and 2025 (seed_history)."""
    from survey_app.extensions import db as _db
    from survey_app.users import create_user

    seed_history(live_server["app"])
    with live_server["app"].app_context():
        _, password = create_user(_db.session, EMAIL, "admin")
        _db.session.remove()
    return {"url": live_server["url"], "app": live_server["app"], "password": password}


def log_in(page, staff, lang: str) -> None:
    page.goto(f"{staff['url']}/staff/login?lang={lang}")
    page.fill("#email", EMAIL)
    page.fill("#password", staff["password"])
    submit(page, page.locator("form.cs-form button[type=submit]"))
    page.wait_for_url("**/staff/")


def url(staff, path: str, lang: str) -> str:
    return f"{staff['url']}{path}{'&' if '?' in path else '?'}lang={lang}"


def check(page, lang: str, where: str) -> None:
    """The language, the staff layout, no citizen note and 0 axe-core violations on the page shown."""
    assert page.locator("html").get_attribute("lang") == lang, where
    assert axe_violations(page) == [], where
    assert_staff_layout(page, lang, where)


def assert_staff_layout(page, lang: str, where: str) -> None:
    assert page.get_by_role("navigation", name=MENU[lang], exact=True).count() == 1, where
    assert page.get_by_role("button", name="Esci" if lang == "it" else "Log out").count() >= 1, where
    assert page.locator(".footer-note").count() == 0, where
    assert ANONYMITY[lang] not in page.locator("body").inner_text(), where


def test_every_parameterless_page_is_listed(live_server):
    app = live_server["app"]
    pages = {rule.rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/staff/") and "GET" in rule.methods and not rule.arguments}
    assert pages - NOT_PAGES == set(PARAMETERLESS)


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("path", PARAMETERLESS + WITH_PARAMETERS)
def test_staff_page_is_accessible_in_the_staff_layout(staff, page, path, lang):
    """One visit per page and language: its status, language, 0 axe-core violations and the staff layout."""
    log_in(page, staff, lang)
    response = page.goto(url(staff, path, lang))
    assert response.status == 200, path
    check(page, lang, path)


def test_every_staff_page_fits_a_phone(staff, page):
    """At 375 px nothing runs off the screen: wide tables scroll in their own box, the header's address wraps."""
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, staff, "it")
    for path in PARAMETERLESS + WITH_PARAMETERS:
        page.goto(url(staff, path, "it"))
        assert cut_off(page) == [], path
        # Nor does the page itself scroll sideways (hidden labels in the comments' buttons made it 605 px wide).
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        # Nor is a chart's title or a label cut at its edges (titles lost their count, question labels their start).
        assert page.evaluate(CHART_TEXT_OUTSIDE) == [], path
        # A table that scrolls sideways on a phone must be reachable by keyboard, as on a desktop.
        assert [v for v in axe_violations(page) if v["id"] == "scrollable-region-focusable"] == [], path
        # ...and, once focused, is announced by its name, not by reading the whole table out.
        assert page.evaluate(UNNAMED_SCROLL_BOXES) == [], path


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_account_in_the_header_has_its_own_row_on_a_phone(staff, page, lang):
    """At 375 px the address was cut mid-word beside "Area riservata" and ran into the top of the blue band."""
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, staff, lang)
    band = page.locator(".it-header-center-wrapper").bounding_box()
    account = page.locator(".staff-user").bounding_box()
    brand = page.locator(".it-brand-wrapper").bounding_box()
    address = page.locator(".staff-user p .fw-semibold")
    line = float(address.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert account["y"] >= brand["y"] + brand["height"] - 1  # below the brand, not squeezed beside it
    assert band["y"] + 8 <= brand["y"] and account["y"] + account["height"] <= band["y"] + band["height"] - 8
    assert address.bounding_box()["height"] < 1.5 * line  # the whole address on one line
    logout = page.locator(".staff-user button").bounding_box()
    assert logout["height"] < 50 and logout["x"] + logout["width"] <= 375


def test_a_users_page_with_a_long_address_fits_320_pixels(staff, page):
    """WCAG 1.4.10 at 320 px: the heading with a user's e-mail address did not wrap, and the page was 346 px wide."""
    from sqlalchemy import select

    from survey_app.extensions import db as _db
    from survey_app.models import User
    from survey_app.users import create_user

    address = "ufficio.relazioni.con.il.pubblico@comune-di-valfiorita.example.it"
    with staff["app"].app_context():
        if _db.session.scalar(select(User).filter_by(email=address)) is None:
            create_user(_db.session, address, "trasparenza")
        user_id = _db.session.scalar(select(User.id).filter_by(email=address))
        _db.session.remove()
    page.set_viewport_size({"width": 320, "height": 800})
    log_in(page, staff, "it")
    page.goto(url(staff, f"/staff/utenti/{user_id}", "it"))
    assert page.get_by_role("heading", level=1).inner_text() == address
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("width", [375, 1280])
def test_the_overview_chart_names_every_service(staff, page, width):
    """Plotly skipped every other name when the rows were thinner than their labels (8 names for 15 bars)."""
    page.set_viewport_size({"width": width, "height": 900})
    names = [f"Servizio {i} con un nome lungo come quelli veri (mensa e iscrizioni online)" for i in range(16)]
    frame = pd.DataFrame({"servizio": names, "quota": [40.0 + 3 * i for i in range(16)], "n": [50] * 16,
                          "standard": [70.0] * 16})
    page.set_content('<div id="chart" style="width:100%"></div>')
    page.add_script_tag(path=str(PLOTLY))
    page.evaluate("figure => Plotly.newPlot('chart', figure.data, figure.layout, {responsive: true})",
                  json.loads(charts.service_comparison(frame, "2025").to_json()))
    ticks = page.locator("#chart .yaxislayer-above .ytick text").evaluate_all("texts => texts.map(t => t.textContent)")
    assert len(ticks) == 16 and all(tick.startswith("Servizio") for tick in ticks), ticks
    log_in(page, staff, "it")
    page.goto(url(staff, "/staff/?anno=2025", "it"))
    chart = page.locator(".plotly-graph-div").first
    bars = chart.evaluate("div => new Set(div.data.filter(t => t.type === 'bar').flatMap(t => t.y)).size")
    assert bars >= 10 and chart.locator(".yaxislayer-above .ytick text").count() == bars
    # The legend sits clear of the title and of the bars.
    legend, title = chart.locator(".legend").bounding_box(), chart.locator(".gtitle").bounding_box()
    plot = chart.locator(".nsewdrag").first.bounding_box()
    assert legend["y"] >= plot["y"] + plot["height"] and legend["y"] > title["y"] + title["height"]


@pytest.mark.parametrize(("lang", "tip", "tick"), [("it", "Scarica il grafico come immagine PNG", "2,5"),
                                                   ("en", "Download plot as a PNG", "2.5")])
def test_the_charts_speak_the_pages_language(staff, page, lang, tip, tick):
    """The toolbar's tips and the axes' decimals follow the page: "Download plot as a PNG" and "2.5" sat on the
    Italian pages, whose tables write 2,5."""
    log_in(page, staff, lang)
    page.goto(url(staff, f"/staff/servizi/{SERVICE}?anno=2025", lang))
    charts_ = page.locator(".plotly-graph-div")
    assert charts_.first.locator(f'.modebar-btn[data-title="{tip}"]').count() == 1
    ticks = page.locator(".plotly-graph-div .xtick text, .plotly-graph-div .ytick text").evaluate_all(
        "texts => texts.map(text => text.textContent)")
    assert tick in ticks, ticks


def test_a_service_pages_charts_and_downloads_read_well_with_a_screen_reader(staff, page):
    """Each chart read as its axis labels run together, plus an unnamed picture; seven toolbar buttons a chart (49 tab
    stops, one offering to upload the figures to Plotly Cloud); 13 links all called "CSV" and 13 "XLSX"."""
    log_in(page, staff, "it")
    page.goto(url(staff, f"/staff/servizi/{SERVICE}?anno=2025", "it"))
    charts_ = page.locator(".plotly-graph-div")
    assert charts_.count() >= 5
    for i in range(charts_.count()):
        chart = charts_.nth(i)
        # Nothing but the toolbar (whose button holds its icon) is left for a screen reader.
        assert [line for line in chart.aria_snapshot().splitlines() if not line.startswith(" ")] == ["- toolbar:"]
        assert chart.locator(".modebar-btn").evaluate_all("buttons => buttons.map(b => b.getAttribute('aria-label'))") \
            == ["Scarica il grafico come immagine PNG"]
    assert page.get_by_role("button", name="Share chart...").count() == 0
    for kind in ("CSV", "XLSX"):
        names = page.get_by_role("link", name=kind).evaluate_all("links => links.map(link => link.textContent)")
        assert len(names) >= 10 and len(set(names)) == len(names), names
    summaries = page.locator("summary").all_text_contents()
    assert len(summaries) >= 5 and len(set(summaries)) == len(summaries), summaries


@pytest.mark.parametrize("lang", ["it", "en"])
def test_action_form_pages(staff, page, lang):
    """The action form with its errors, the list with the new action, the edit form."""
    log_in(page, staff, lang)
    page.goto(url(staff, f"/staff/azioni/nuova?servizio={ACTION_SERVICE}", lang))
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator(".error-message").count() >= 1
    check(page, lang, "action form with errors")
    title = f"Sportello su appuntamento ({lang})"
    page.fill("#titolo", title)
    page.fill("#descrizione", "Appuntamenti prenotabili in rete.")
    page.fill("#data_inizio", "2025-03-01")
    page.fill("#data_scadenza", "2025-09-30")
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.get_by_role("status").first.is_visible()
    assert page.get_by_role("row", name=title).count() == 1
    check(page, lang, "actions with the new one")
    page.get_by_role("row", name=title).get_by_role("link").click()
    assert page.locator("#titolo").input_value() == title
    check(page, lang, "action edit form")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_api_token_pages(staff, page, lang):
    """A form with errors, then a new token shown once in the list of tokens."""
    log_in(page, staff, lang)
    page.goto(url(staff, "/staff/token-api/", lang))
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator(".error-message").count() >= 1
    check(page, lang, "token form with errors")
    page.fill("#nome", f"Sistema CATI ({lang})")
    page.fill("#societa", "Demoskopika")
    page.locator("#servizi").select_option(SERVICE)
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator("code#nuovo-token").is_visible()
    assert page.locator("table tbody tr").count() >= 1
    check(page, lang, "new token")
    # Revoking asks first: the row's button opens the question, its second button revokes.
    row = page.locator("tbody tr", has_text=f"Sistema CATI ({lang})")
    row.locator("summary").click()
    check(page, lang, "revocation asked")
    submit(page, row.locator("button[name=conferma]"))
    assert ("revocato il" if lang == "it" else "revoked on") in page.locator(
        "tbody tr", has_text=f"Sistema CATI ({lang})").inner_text()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_password_form_with_errors(staff, page, lang):
    log_in(page, staff, lang)
    page.goto(url(staff, "/staff/password", lang))
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator(".error-message").count() >= 1
    check(page, lang, "password form with errors")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_wrong_month_on_a_service_page(staff, page, lang):
    log_in(page, staff, lang)
    page.goto(url(staff, f"/staff/servizi/{SERVICE}?anno=2025&da=2025-05&a=2025-01", lang))
    field = page.locator("input#a")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator("#a-errore").is_visible()
    check(page, lang, "service page with a wrong month")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_import_pages(staff, page, lang):
    """Upload with errors, the preview of a file with a valid and an invalid row, the import, the rollback."""
    log_in(page, staff, lang)
    page.goto(url(staff, "/staff/importazioni/carica", lang))
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator(".error-message").count() >= 1
    check(page, lang, "upload form with errors")
    name = f"lotto-{lang}.csv"
    rows = f"id_esterno;data;servizio;canale;sede;D1;D2;D3\nP-{lang}-1;15/03/2026;urp-protocollo;;;3;;\n" \
           f"P-{lang}-2;16/03/2026;urp-protocollo;;;viola;;\n"
    page.locator("#file").set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": rows.encode()}])
    page.locator("#questionario").select_option("mettiamoci-la-faccia")
    page.locator("#societa").fill("Demoskopika srl")  # the office uploads for a firm
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator("#escludi_non_valide").count() == 1  # a valid row, an invalid one: the preview
    assert page.locator("table").count() == 2
    check(page, lang, "preview")
    page.locator("label[for=escludi_non_valide]").click()  # Bootstrap Italia draws the box on the label
    assert page.locator("#escludi_non_valide").is_checked()
    submit(page, page.locator("form[action$='/conferma'] button[type=submit]"))
    page.wait_for_url("**/staff/importazioni/lotti/*")  # the batch's own page, with what came in and what did not
    assert page.get_by_role("status").first.is_visible()
    assert page.get_by_role("table").filter(has_text="urp-protocollo").count() == 0  # services by name
    assert page.get_by_role("cell", name="1", exact=True).count() == 1  # one questionnaire imported
    check(page, lang, "batch page")
    with page.expect_download() as download:  # the row left out, and why, kept with the batch
        page.get_by_role("link", name=re.compile("Scarica le righe escluse|Download the rows left out")).click()
    assert download.value.suggested_filename.endswith("-righe-escluse.csv")
    page.goto(url(staff, "/staff/importazioni/", lang))
    check(page, lang, "imports with the new batch")
    row = page.get_by_role("row").filter(has_text=name)
    assert row.get_by_role("link", name="1 riga esclusa" if lang == "it" else "1 row left out").count() == 1
    row.get_by_role("link", name="Annulla il lotto" if lang == "it" else "Roll back batch").click()
    check(page, lang, "rollback page")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/staff/importazioni/")
    check(page, lang, "imports after the rollback")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_catalogue_forms_with_errors(staff, page, lang):
    """The service page with a refused standard, a counter's edit page, a refused questionnaire wording."""
    log_in(page, staff, lang)
    page.goto(url(staff, f"/staff/catalogo/servizi/{SERVICE}", lang))
    page.fill("#soglia", "120")
    submit(page, page.locator("form[action$='/standard'] button[type=submit]"))
    assert page.locator("#soglia-errore").is_visible()
    check(page, lang, "standard form with errors")
    page.goto(url(staff, f"/staff/catalogo/servizi/{SERVICE}", lang))
    page.locator("#sedi ~ .table-responsive a").first.click()
    assert page.locator("#codice").input_value() == "sportello-anagrafe"
    page.fill("#nome", "")
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator("#nome-errore").is_visible()
    check(page, lang, "counter form with errors")
    page.goto(url(staff, "/staff/catalogo/questionari/servizio-completo", lang))
    page.fill("#titolo_it", "")
    page.fill("#domande-0-testo_it", "")
    submit(page, page.locator("form.cs-form button[type=submit]"))
    assert page.locator("#titolo_it-errore").is_visible() and page.locator("#domande-0-testo_it-errore").is_visible()
    check(page, lang, "questionnaire form with errors")
