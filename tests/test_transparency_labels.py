"""The public pages in English name services and questions as the catalogue does in English, where the published
Italian is still the catalogue's; the published files stay as published."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape

from sqlalchemy import select

from survey_app.models import Domanda, Servizio

from .test_transparency import YEAR, answered, publish  # noqa: F401 - the fixture, by name


def test_english_pages_use_the_catalogues_english_names_for_what_was_published(answered, runner, client,  # noqa: F811
                                                                              tmp_path):
    publish(runner, tmp_path)
    english = unescape(client.get(f"/trasparenza/{YEAR}/anagrafe?lang=en").get_data(as_text=True))
    assert "<h1>Registry office" in english and "Overall, how satisfied are you?" in english
    assert "How satisfied are you with courtesy?" in english and "effectiveness" in english
    assert "Complessivamente, quanto è soddisfatto?" not in english
    year = unescape(client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True))
    assert ">Registry office</a>" in year
    italian = unescape(client.get(f"/trasparenza/{YEAR}/anagrafe?lang=it").get_data(as_text=True))
    assert "<h1>Anagrafe" in italian and "Complessivamente, quanto è soddisfatto?" in italian and "efficacia" in italian

    # Renamed or reworded since: the English page keeps the Italian it was published with, never a translation of
    # something else.
    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    servizio.nome_it, servizio.nome_en = "Anagrafe e stato civile", "Registry and civil status"
    for domanda in answered.scalars(select(Domanda).filter_by(testo_it="Complessivamente, quanto è soddisfatto?")):
        domanda.testo_it = "Nel complesso, quanto sei soddisfatto?"
    answered.commit()
    english = unescape(client.get(f"/trasparenza/{YEAR}/anagrafe?lang=en").get_data(as_text=True))
    assert '<h1><span lang="it">Anagrafe</span>' in english and "Registry and civil status" not in english
    assert '<span lang="it">Complessivamente, quanto è soddisfatto?</span>' in english
    assert "Overall, how satisfied are you?" not in english
    assert "How satisfied are you with courtesy?" in english  # unchanged, still translated


def test_a_kiosk_question_is_labelled_by_its_code_and_questionnaire(catalogue, runner, client, tmp_path):
    from datetime import datetime

    from .helpers import add_answers

    for face in (3, 3, 2, 1, 3, 3):
        add_answers(catalogue, "anagrafe", datetime(YEAR, 4, 2, 10), {"D1": face}, questionnaire="kiosk",
                    canale="chiosco")
    publish(runner, tmp_path)
    page = unescape(client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True))
    assert "D1 (Mettiamoci la faccia)" in page and "faccine.D1" not in page
    assert "faccine.D1" in (tmp_path / f"soddisfazione-{YEAR}.csv").read_text()  # the published file as it was


def test_a_past_year_is_published_with_the_wording_its_respondents_read(answered, runner, tmp_path):  # noqa: F811
    """Rewording D1 after the year (a new questionnaire version) must not relabel the year's D1 rows."""
    import csv
    import io

    from survey_app.catalogue import load_catalogue

    from .test_catalogue import small, write

    data = small()
    data["questionari"][0]["domande"][0]["testo"]["it"] = "Quanto sei soddisfatto della gentilezza?"
    assert load_catalogue(answered, write(tmp_path, data)).new_versions == ["breve v2"]
    publish(runner, tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / f"soddisfazione-{YEAR}.csv").read_text())))
    d1 = {row["domanda"] for row in rows if row["servizio_codice"] == "anagrafe" and row["domanda_codice"] == "D1"}
    assert d1 == {"Quanto è soddisfatto della cortesia?"}


def test_a_service_added_after_a_year_is_not_made_up_into_its_new_versions(answered, runner, tmp_path):  # noqa: F811
    """Republishing 2025 after adding SUAP listed it as "nessuna risposta" and the Nucleo's report counted its
    standards as not assessable; the first version published after the year ended fixes the year's services."""
    from datetime import datetime

    import openpyxl

    from survey_app.catalogue import load_catalogue
    from survey_app.models import Pubblicazione

    from .helpers import add_answers
    from .test_catalogue import small, write

    publish(runner, tmp_path / "v1")
    first = {row["servizio_codice"] for row in answered.scalar(select(Pubblicazione.dati))["sintesi"]}
    assert "tributi" in first  # a service of the catalogue without answers in the year is listed, as it was
    data = small()
    next(e for e in data["enti"] if e["codice"] == "comune-test")["uffici"][0]["servizi"].append(
        {"slug": "suap", "nome": {"it": "SUAP"}, "questionario": "breve",
         "standard": [{"indicatore": "quota_soddisfatti", "soglia": 70}]})
    load_catalogue(answered, write(tmp_path, data))
    add_answers(answered, "anagrafe", datetime(YEAR, 11, 3, 10), {"D3": 2})  # something to publish again
    publish(runner, tmp_path / "v2")
    latest = answered.scalar(select(Pubblicazione.dati).order_by(Pubblicazione.versione.desc()).limit(1))
    assert {row["servizio_codice"] for row in latest["sintesi"]} == first  # no SUAP in 2025
    report = tmp_path / "relazione.xlsx"
    assert runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(report)]).exit_code == 0
    cells = [c for ws in openpyxl.load_workbook(report) for row in ws.iter_rows(values_only=True) for c in row]
    assert "SUAP" not in cells and "suap" not in cells


def test_an_office_has_an_english_name_on_the_english_pages_only(db, runner, client, tmp_path):
    """An office written {it: …, en: …} in the catalogue: English pages use the English, files keep the Italian."""
    import yaml

    from survey_app.catalogue import load_catalogue
    from survey_app.catalogue.export import catalogue_data
    from survey_app.models import Ufficio

    from .conftest import SMALL_CATALOGUE
    from .helpers import add_answers

    data = yaml.safe_load(SMALL_CATALOGUE.read_text(encoding="utf-8"))
    office = next(u for e in data["enti"] for u in e.get("uffici", []) if u["codice"] == "demografici")
    office["nome"] = {"it": office["nome"], "en": "Registry office"}
    path = tmp_path / "catalogo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_catalogue(db, path)
    stored = db.scalar(select(Ufficio).filter_by(codice="demografici"))
    assert (stored.nome, stored.nome_en) == ("Servizi demografici", "Registry office")
    add_answers(db, "anagrafe", datetime(2025, 3, 1, 9), {"D3": 5})
    result = runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    english = client.get("/trasparenza/2025?lang=en").get_data(as_text=True)
    italian = client.get("/trasparenza/2025?lang=it").get_data(as_text=True)
    assert "<td>Registry office</td>" in english and "Servizi demografici" not in english
    assert "<td>Servizi demografici</td>" in italian and "Registry office" not in italian
    assert "Registry office" not in (tmp_path / "out" / "soddisfazione-2025.csv").read_text(encoding="utf-8")
    # The export writes it back as it was given; an office without English stays a plain name.
    offices = {u["codice"]: u["nome"] for e in catalogue_data(db)["enti"] for u in e.get("uffici", [])}
    assert offices["demografici"] == {"it": "Servizi demografici", "en": "Registry office"}
    assert offices["vigilanza"] == "Polizia locale"
    # The staff pages in English name it so too (they kept the Italian): the service page, the actions.
    from .helpers import login

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    staff = client.get("/staff/servizi/anagrafe?anno=2025&lang=en").get_data(as_text=True)
    assert "Comune di Prova · Registry office" in staff and "Servizi demografici" not in staff
    form = client.get("/staff/azioni/nuova?servizio=anagrafe").get_data(as_text=True)
    assert "Registry office</p>" in form


def test_a_figures_two_verdicts_are_in_the_pages_language(app):
    """On an English page a figure with two targets read "mean ≥ 4.0: non raggiunto; % satisfied ≥ 80: non
    raggiunto" (an office manager's walk-through)."""
    from survey_app.transparency.formatting import decimals

    text = "media ≥ 4.0: non raggiunto; quota_soddisfatti ≥ 80: raggiunto; media ≥ 3.5: non valutabile"
    with app.test_request_context("/?lang=en"):
        assert decimals(text) == "mean ≥ 4.0: not met; % satisfied ≥ 80: met; mean ≥ 3.5: not assessable"
    with app.test_request_context("/"):
        assert decimals(text) == "media ≥ 4,0: non raggiunto; % soddisfatti ≥ 80: raggiunto; media ≥ 3,5: non valutabile"


def test_english_pages_mark_what_they_show_in_italian(answered, runner, client, tmp_path):  # noqa: F811
    """WCAG 3.1.2: a service, office, question or action with no English was shown in Italian inside lang="en",
    read by a screen reader with an English voice. Each is marked lang="it"; translated ones and Italian pages are
    not, and the page's title stays plain text."""
    from survey_app.models import AzioneMiglioramento

    from .helpers import add_answers

    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    answered.add(AzioneMiglioramento(servizio=servizio, indicatore="quota_soddisfatti", titolo="Più sportelli il sabato",
                                     descrizione="Apertura straordinaria", ufficio_id=servizio.ufficio_id,
                                     data_inizio=datetime(YEAR, 2, 1).date(), stato="completata",
                                     data_scadenza=datetime(YEAR, 12, 31).date(), esito="Aperti due sportelli"))
    for value in (5, 4, 4, 3, 5):
        add_answers(answered, "tributi", datetime(YEAR, 5, 2, 10), {"D3": value})
    answered.commit()
    publish(runner, tmp_path)
    year = unescape(client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True))
    assert '<span lang="it">Tributi</span></a>' in year and ">Registry office</a>" in year
    assert '<td><span lang="it">Servizi demografici</span></td>' in year  # an office without English
    assert '<strong><span lang="it">Più sportelli il sabato</span></strong>' in year
    assert '<span lang="it">Apertura straordinaria</span>' in year and '<span lang="it">Aperti due sportelli</span>' in year
    service = unescape(client.get(f"/trasparenza/{YEAR}/anagrafe?lang=en").get_data(as_text=True))
    assert "<h1>Registry office" in service
    assert '<span lang="it">Lo consiglierebbe?</span></th>' in service  # a question without English
    assert '<span lang="it">How satisfied are you with courtesy?' not in service
    assert '<span lang="it">Più sportelli il sabato</span>' in service
    tributi = unescape(client.get(f"/trasparenza/{YEAR}/tributi?lang=en").get_data(as_text=True))
    assert '<h1><span lang="it">Tributi</span>' in tributi and "<title>Tributi · " in tributi
    for page in (f"/trasparenza/{YEAR}?lang=it", f"/trasparenza/{YEAR}/tributi?lang=it"):
        html = client.get(page).get_data(as_text=True)
        assert '<span lang="it">' not in html, page


def test_english_staff_pages_mark_what_they_show_in_italian(answered, runner, client):  # noqa: F811
    """The staff area in English: the overview, a service's page, the catalogue and the actions mark a name or
    text that has no English; a translated one is not."""
    from .helpers import login

    login(client, runner, "admin@comune.it", "--role", "admin")
    overview = unescape(client.get(f"/staff/?anno={YEAR}&lang=en").get_data(as_text=True))
    assert '<span lang="it">Tributi</span></a>' in overview and ">Registry office</a>" in overview
    assert '<span lang="it">Servizi demografici</span>' in overview
    service = unescape(client.get(f"/staff/servizi/vigilanza?anno={YEAR}&lang=en").get_data(as_text=True))
    assert '<h1><span lang="it">Vigilanza</span>' in service and "<title>Vigilanza · " in service
    assert '<span lang="it">Polizia locale</span></p>' in service
    # A campaign's title is written in Italian only (the final read of this change found it unmarked).
    from datetime import date

    from .test_campaigns import add_campaign

    add_campaign(answered, "primavera", date(YEAR, 3, 1), date(YEAR, 5, 31))
    anagrafe = unescape(client.get(f"/staff/servizi/anagrafe?anno={YEAR}&lang=en").get_data(as_text=True))
    assert "<h1>Registry office" in anagrafe and '<span lang="it">Primavera</span></a>' in anagrafe
    catalogue = unescape(client.get("/staff/catalogo/?lang=en").get_data(as_text=True))
    assert '<span lang="it">Anagrafe</span></a>' in catalogue  # the catalogue's Italian field, so named
    # A list's options: the catalogue's English where it has it, else the Italian marked on the option itself.
    users = unescape(client.get("/staff/utenti/?lang=en").get_data(as_text=True))
    assert re.search(r'<option lang="it" value="tributi">Tributi \(tributi\)</option>', users)
    assert re.search(r'<option value="anagrafe">Registry office \(anagrafe\)</option>', users)
    campaigns = unescape(client.get("/staff/rilevazioni/?lang=en").get_data(as_text=True))
    assert re.search(r"<option value=\"breve\">Short questionnaire</option>", campaigns)
    assert re.search(r"<option lang=\"it\" value=\"faccine\">Mettiamoci la faccia</option>", campaigns)
    italian = client.get(f"/staff/?anno={YEAR}&lang=it").get_data(as_text=True)
    assert '<span lang="it">' not in italian
    assert 'lang="it" value=' not in client.get("/staff/utenti/?lang=it").get_data(as_text=True)
