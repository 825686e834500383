"""The staff overview: every service in scope, figures from the analysis package, trend checked with scipy,
Italian number formats, filters and sorting in the URL, clear errors for bad parameters, downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from html import unescape

import openpyxl
import pandas as pd
import pytest
from scipy.stats import norm
from sqlalchemy import select

from analysis.engine import Period, service_table, standards_results
from analysis.overview import overview_table
from survey_app.demo.seed import seed_responses
from survey_app.models import Rilevazione, Servizio

from .helpers import login


@pytest.fixture
def seeded(catalogue):
    seed_responses(catalogue, 900, seed=3, end=date(2025, 12, 31))
    return catalogue


def test_the_overview_figures_come_from_the_analysis_and_the_trend_test_is_right(seeded):
    conn = seeded.connection()
    table = overview_table(conn, Period.year(2025), today=date(2025, 6, 1)).set_index("servizio_codice")
    now, before = (service_table(conn, Period.year(y)).set_index("servizio_codice") for y in (2025, 2024))
    for slug in now.index:
        assert table.loc[slug, "quota_soddisfatti"] == pytest.approx(now.loc[slug, "quota_soddisfatti"])
        assert table.loc[slug, "n"] == now.loc[slug, "n"]
        # Pooled two-proportion z-test, computed here with scipy from the two years' counts.
        k1, n1 = round(now.loc[slug, "quota_soddisfatti"] * now.loc[slug, "n"] / 100), now.loc[slug, "n"]
        k2, n2 = round(before.loc[slug, "quota_soddisfatti"] * before.loc[slug, "n"] / 100), before.loc[slug, "n"]
        pooled = (k1 + k2) / (n1 + n2)
        z = (k1 / n1 - k2 / n2) / (pooled * (1 - pooled) * (1 / n1 + 1 / n2)) ** 0.5
        assert table.loc[slug, "p_value"] == pytest.approx(2 * norm.sf(abs(z)))
        assert table.loc[slug, "differenza"] == pytest.approx(k1 / n1 * 100 - k2 / n2 * 100, abs=0.1)
    assert table.loc["anagrafe", "esito"] in ("raggiunto", "non raggiunto")
    assert {s["indicatore"] for s in table.loc["anagrafe", "standard"]} == {"quota_soddisfatti", "media"}


def test_an_open_campaign_shows_its_progress(seeded):
    servizio = seeded.scalar(select(Servizio).filter_by(slug="tributi"))
    seeded.add(Rilevazione(codice="autunno", titolo="Autunno 2025", questionario_id=servizio.questionario_id,
                           data_inizio=date(2025, 9, 1), data_fine=date(2025, 12, 31), campione_obiettivo=200,
                           servizi=[servizio]))
    seeded.commit()
    table = overview_table(seeded.connection(), Period.year(2025), today=date(2025, 10, 1)).set_index(
        "servizio_codice")
    assert table.loc["tributi", "campagna"] == "Autunno 2025" and table.loc["tributi", "campagna_raccolti"] == 0
    assert pd.isna(table.loc["anagrafe", "campagna"])  # not in this campaign (yet)
    # Progress is the whole campaign's: its target is summed over its services.
    anagrafe = seeded.scalar(select(Servizio).filter_by(slug="anagrafe"))
    campaign = seeded.scalar(select(Rilevazione).filter_by(codice="autunno"))
    campaign.servizi.append(anagrafe)
    seeded.commit()
    from .helpers import add_answers

    for slug in ("anagrafe", "tributi", "tributi"):
        add_answers(seeded, slug, datetime(2025, 10, 2, 9), {"D3": 4}).rilevazione_id = campaign.id
    seeded.commit()
    table = overview_table(seeded.connection(), Period.year(2025), today=date(2025, 10, 3)).set_index(
        "servizio_codice")
    # Each service its own count (the campaign's total stood on every row), the campaign's beside it.
    assert list(table.loc[["anagrafe", "tributi"], "campagna_raccolti"]) == [1, 2]
    assert list(table.loc[["anagrafe", "tributi"], "campagna_raccolti_totale"]) == [3, 3]
    assert list(table.loc[["anagrafe", "tributi"], "campagna_servizi"]) == [2, 2]
    assert table.loc["tributi", "campagna_avanzamento"] == pytest.approx(1.5)


def test_the_overview_page_in_scope_with_italian_numbers_filters_and_downloads(seeded, client, runner):
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe", "--scope", "tributi")
    page = client.get("/staff/?anno=2025")
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "Vigilanza" not in html  # outside the scope
    row = service_table(seeded.connection(), Period.year(2025), "anagrafe").iloc[0]
    italian = f"{row['quota_soddisfatti']:.1f}".replace(".", ",")
    assert f"{italian}%" in html and "Comune di Prova · Servizi demografici" in html
    # Each office heads its own rows: a row-group header over a tbody of its own (a colgroup header named columns).
    import re

    groups = re.findall(r'<th scope="rowgroup" colspan="9">([^<]+)</th>', html)
    assert "Comune di Prova · Servizi demografici" in groups and 'scope="colgroup"' not in html
    assert html.count("<tbody>") == len(groups) >= 1
    assert html.count('class="plotly-graph-div"') == 1
    from survey_app.models import Ufficio

    office = seeded.scalar(select(Ufficio).filter_by(nome="Servizi demografici"))
    office.nome_en = "Registry office"
    seeded.commit()
    english = unescape(client.get("/staff/?anno=2025&lang=en").get_data(as_text=True))
    assert f"{row['quota_soddisfatti']:.1f}%" in english
    # The offices in English, as the service pages name them (the overview kept "Servizi demografici").
    assert "Comune di Prova · Registry office" in english and "Servizi demografici" not in english
    assert "D3 % satisfied ≥ 80.0" in english and "D3 mean ≥ 4.0" in english and "soddisfatti ≥" not in english
    assert "D3 % soddisfatti ≥ 80,0" in html and "D3 media ≥ 4,0" in html
    ordered = unescape(client.get("/staff/?anno=2025&ordina=soddisfazione&verso=desc&lang=it").get_data(as_text=True))
    assert ordered.index("Anagrafe") < ordered.index("Tributi")  # anagrafe is the more satisfied in the seed
    for bad, status in (("anno=-1", 400), ("anno=2027", 404), ("anno=abc", 400), ("anno=%C2%B2", 400),
                        ("anno=" + "9" * 5000, 400), ("ordina=x", 400),
                        ("verso=su", 400), ("ente=nessuno", 404)):
        response = client.get(f"/staff/?{bad}")
        assert response.status_code == status, bad
        assert 'lang="it"' in response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(client.get("/staff/panoramica.csv?anno=2025").data.decode())))
    assert rows[0][:5] == ["anno", "ente", "ufficio", "servizio_codice", "servizio"]
    assert [r[3] for r in rows[1:]] == ["anagrafe", "tributi"]
    assert rows[1][rows[0].index("quota_soddisfatti")] == f"{row['quota_soddisfatti']:.1f}"  # published decimals
    # Each standard with its figure and result, as the page lists them (the one esito did not say which one).
    results = standards_results(seeded.connection(), Period.year(2025), "anagrafe")
    expected = "; ".join(
        f"{r.domanda_codice} {r.indicatore} ≥ {r.soglia:g} ({r.valore:.{2 if r.indicatore == 'media' else 1}f}): {r.esito}"
        for r in results.itertuples())
    header = rows[0]
    assert header.index("standard") == header.index("esito_standard") - 1
    assert rows[1][header.index("standard")] == expected and "D3 quota_soddisfatti ≥ 80 (" in expected
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/staff/panoramica.xlsx?anno=2025").data))["Panoramica"]
    # People's headings in the workbook; the CSV keeps the codes' names.
    assert [c.value for c in sheet[1]][:2] == ["Anno", "Ente"] and sheet.max_row == 3


def test_the_campaign_column_shows_a_dash_or_what_was_collected_never_nan(seeded, client, runner):
    """A service without a running campaign, and a campaign without a target: no "nan", no "0 su  (%)", and whole
    numbers in the download."""
    tributi = seeded.scalar(select(Servizio).filter_by(slug="tributi"))
    seeded.add(Rilevazione(codice="sportello", titolo="Sportello aperto", questionario_id=tributi.questionario_id,
                           data_inizio=date(2025, 11, 1), data_fine=date(2025, 12, 31),
                           campione_obiettivo=None, servizi=[tributi]))
    seeded.commit()
    login(client, runner, "a@comune.it", "--role", "admin")
    html = unescape(client.get("/staff/?anno=2025").get_data(as_text=True))
    assert not re.search(r"\bnan\b", html, re.IGNORECASE) and " su  (" not in html
    assert 'Sportello aperto<br><span class="small">0 raccolti; conclusa il 31/12/2025</span>' in html
    assert html.count('<span class="text-muted small">—</span>') == 2  # anagrafe and vigilanza: no campaign
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/panoramica.csv?anno=2025").data.decode())))
    by_service = {row["servizio_codice"]: row for row in rows}
    assert by_service["tributi"]["campagna_raccolti_servizio"] == "0" and by_service["tributi"]["campagna_obiettivo"] == ""
    assert by_service["tributi"]["campagna_raccolti_totale"] == "0"
    assert by_service["anagrafe"]["campagna"] == "" and by_service["anagrafe"]["campagna_raccolti_servizio"] == ""
    assert by_service["anagrafe"]["compilazioni"].isdigit()


def test_the_service_page_takes_only_years_with_answers(seeded, client, runner):
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    assert client.get("/staff/servizi/anagrafe").status_code == 200  # the newest year with answers
    for bad, status in (("anno=-1", 400), ("anno=2027", 404), ("anno=1999", 404), ("anno=2025x", 400),
                        ("anno=%C2%B2", 400)):
        response = client.get(f"/staff/servizi/anagrafe?{bad}")
        assert response.status_code == status, bad
        assert 'lang="it"' in response.get_data(as_text=True)


def test_the_menu_marks_the_current_page_only(seeded, client, runner):
    login(client, runner, "a@comune.it", "--role", "admin")
    for url, label in (("/staff/?anno=2025", "Panoramica"), ("/staff/servizi/anagrafe?anno=2025", "Panoramica"),
                       ("/staff/utenti/", "Utenti"), ("/staff/registro", "Registro attività"),
                       ("/staff/rilevazioni/", "Rilevazioni"), ("/staff/password", "Password"),
                       ("/staff/importazioni/", "Importazioni"), ("/staff/qr/", "Locandine QR")):
        html = unescape(client.get(url).get_data(as_text=True))
        assert html.count('class="nav-link active"') == 1, url
        assert f'aria-current="page">{label}</a>' in html, url


def _chart_traces(html: str) -> dict[str, dict]:
    """The overview chart's traces by name, read from the JSON plotly is given."""
    import json

    start = html.index("Plotly.newPlot(")
    data, _end = json.JSONDecoder().raw_decode(html, html.index("[", start))
    return {trace["name"]: trace for trace in data}


def test_the_chart_marks_each_service_against_its_overall_questions_target(seeded, client, runner):
    """Anagrafe's standards: 80% satisfied on D3 (its overall question) and 60% on every question; another question's
    target, or the one for every question, must not stand in for the overall one's."""
    from survey_app.models import Standard

    tributi = seeded.scalar(select(Servizio).filter_by(slug="tributi"))
    seeded.add_all([Standard(servizio_id=tributi.id, indicatore="quota_soddisfatti", soglia=55, domanda_codice="D1"),
                    Standard(servizio_id=tributi.id, indicatore="quota_soddisfatti", soglia=65)])
    seeded.commit()
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe", "--scope", "tributi")
    standard = _chart_traces(unescape(client.get("/staff/?anno=2025").get_data(as_text=True)))["Standard"]
    assert dict(zip(standard["y"], _values(standard["x"]), strict=True)) == {"Anagrafe": 80, "Tributi": 65}


def _values(encoded) -> list[float]:
    """A plotly array as numbers: plain, or typed and base64-encoded."""
    import base64

    import numpy as np

    if isinstance(encoded, list):
        return encoded
    return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).tolist()


def test_a_past_year_shows_its_own_campaign_not_todays(seeded, client, runner):
    """2025's overview showed the campaign running today (2026's) and not 2025's own."""
    tributi = seeded.scalar(select(Servizio).filter_by(slug="tributi"))
    today = date.today()
    for code, title, start, end in (("primavera", "Primavera 2025", date(2025, 3, 1), date(2025, 5, 31)),
                                    ("estate", "Estate 2025", date(2025, 6, 1), date(2025, 8, 31)),
                                    ("oggi", "Oggi", today - timedelta(days=3), today + timedelta(days=3))):
        seeded.add(Rilevazione(codice=code, titolo=title, questionario_id=tributi.questionario_id, data_inizio=start,
                               data_fine=end, campione_obiettivo=100, servizi=[tributi]))
    seeded.commit()
    conn = seeded.connection()
    past = overview_table(conn, Period.year(2025), today=today).set_index("servizio_codice")
    assert past.loc["tributi", "campagna"] == "Estate 2025"  # the year's last
    assert past.loc["tributi", "campagna_fine"] == date(2025, 8, 31)
    assert overview_table(conn, Period.year(today.year), today=today).set_index(
        "servizio_codice").loc["tributi", "campagna"] == "Oggi"
    # Seen from inside 2025, on 1 April: the campaign running then.
    assert overview_table(conn, Period.year(2025), today=date(2025, 4, 1)).set_index(
        "servizio_codice").loc["tributi", "campagna"] == "Primavera 2025"
    login(client, runner, "a@comune.it", "--role", "admin")
    html = unescape(client.get("/staff/?anno=2025").get_data(as_text=True))
    assert "Estate 2025<br>" in html and "conclusa il 31/08/2025" in html and "Oggi<br>" not in html
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/panoramica.csv?anno=2025").data.decode())))
    assert {row["servizio_codice"]: row["campagna"] for row in rows}["tributi"] == "Estate 2025"


def test_a_campaign_of_several_services_shows_each_its_own_count(seeded, client, runner):
    """The overview put the campaign's total (330) against each of its three services."""
    from .helpers import add_answers

    today = date.today()
    services = list(seeded.scalars(select(Servizio).where(Servizio.slug.in_(["anagrafe", "tributi"]))))
    assert len({s.questionario_id for s in services}) == 1
    campaign = Rilevazione(codice="insieme", titolo="Insieme", questionario_id=services[0].questionario_id,
                           data_inizio=today - timedelta(days=3), data_fine=today + timedelta(days=3),
                           campione_obiettivo=10, servizi=services)
    seeded.add(campaign)
    seeded.commit()
    for slug in ("anagrafe", "tributi", "tributi", "tributi"):
        add_answers(seeded, slug, datetime.combine(today, datetime.min.time()), {"D3": 4}).rilevazione_id = campaign.id
    seeded.commit()
    login(client, runner, "a@comune.it", "--role", "admin")
    html = unescape(client.get(f"/staff/?anno={today.year}").get_data(as_text=True))
    assert "Insieme<br><span class=\"small\">1 per questo servizio; in tutta la rilevazione: 4 su 10 (40%)" in html
    assert "Insieme<br><span class=\"small\">3 per questo servizio; in tutta la rilevazione: 4 su 10 (40%)" in html
    rows = list(csv.DictReader(io.StringIO(client.get(f"/staff/panoramica.csv?anno={today.year}").data.decode())))
    by_service = {row["servizio_codice"]: row for row in rows}
    assert [by_service[slug]["campagna_raccolti_servizio"] for slug in ("anagrafe", "tributi")] == ["1", "3"]
    assert {by_service[slug]["campagna_raccolti_totale"] for slug in ("anagrafe", "tributi")} == {"4"}


@pytest.mark.parametrize(("path", "status", "named"), [
    ("/staff/?anno=abc", 400, "«anno»"), ("/staff/?ordina=zzz", 400, "«ordina»"), ("/staff/?verso=su", 400, "«verso»"),
    ("/staff/?anno=2019", 404, "Nessuna risposta ha «anno» uguale a «2019»"),
    ("/staff/?ente=altrove", 404, "Nessuna risposta ha «ente» uguale a «altrove»"),
    ("/staff/commenti?anno=abc", 400, "«anno»"), ("/staff/commenti?voto=7", 400, "«voto»"),
    ("/staff/commenti?pagina=x", 400, "«pagina»"), ("/staff/registro.csv?dal=abc", 400, "«dal»"),
    ("/staff/registro?pagina=0", 400, "«pagina»"),
    ("/staff/servizi/anagrafe?anno=2019", 404, "Nessuna risposta di questo servizio ha «anno» uguale a «2019»"),
])
def test_a_wrong_address_in_the_staff_area_names_what_is_wrong(seeded, client, runner, path, status, named):
    """These pages answered "Il modulo è scaduto… Torna alla pagina del questionario", the citizens' 400 text."""
    login(client, runner, "a@comune.it", "--role", "admin")
    response = client.get(path)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == status and named in html, html
    assert "questionario" not in html and "Torna all'area riservata" in html


def test_an_unknown_staff_page_does_not_speak_of_a_service_no_longer_active(seeded, client, runner):
    login(client, runner, "a@comune.it", "--role", "admin")
    html = unescape(client.get("/staff/servizi/nessuno").get_data(as_text=True))
    assert "non rientra nei servizi del tuo account" in html and "non è più attivo" not in html


def test_a_staff_error_page_keeps_the_staff_frame(seeded, client, runner):
    """A 403, 404 or 400 under /staff/ used the citizens' layout ("Servizi al cittadino", the anonymity note), the
    staff menu, the account and «Esci» gone (an office manager's walk-through)."""
    login(client, runner, "m@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    for path, status in (("/staff/servizi/tributi", 404), ("/staff/utenti/", 403), ("/staff/?anno=abc", 400),
                         ("/staff/non-esiste", 404)):
        response = client.get(path)
        html = unescape(response.get_data(as_text=True))
        assert response.status_code == status, path
        assert "Menu dell'area riservata" in html and "m@comune.it" in html and ">Esci</button>" in html, path
    citizen = unescape(client.get("/s/non-esiste").get_data(as_text=True))
    assert "Menu dell'area riservata" not in citizen
