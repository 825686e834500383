"""Improvement actions: a responsabile manages those of their own services, every write audited, published."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import unescape

import openpyxl
import pytest
from sqlalchemy import select

from survey_app.models import AuditLog, AzioneMiglioramento, Servizio, Standard

from .helpers import add_answers, csrf_token, login


def form_data(client, url: str, **overrides) -> dict:
    token = csrf_token(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "titolo": "Sportello il sabato", "descrizione": "Apertura il sabato mattina.",
            "riferimento": "indicatore-quota_soddisfatti", "domanda_codice": "D2", "data_inizio": "2025-02-01",
            "data_scadenza": "2025-06-30", "stato": "in_corso", "esito": ""}
    data["ufficio"] = str(_office_id(client.application))
    return {**data, **overrides}


def _office_id(app) -> int:
    from survey_app.extensions import db

    with app.app_context():
        return db.session.scalar(select(Servizio.ufficio_id).filter_by(slug="anagrafe"))


@pytest.fixture
def manager(catalogue, client, runner):
    login(client, runner, "resp@example.org", "--role", "responsabile", "--scope", "anagrafe")
    return client


def test_a_responsabile_records_an_action_on_a_standard_and_it_is_audited(manager, catalogue):
    url = "/staff/azioni/nuova?servizio=anagrafe"
    target = catalogue.scalar(select(Standard).filter_by(indicatore="quota_soddisfatti", domanda_codice="D3"))
    response = manager.post(url, data=form_data(manager, url, riferimento=f"standard-{target.id}", domanda_codice=""))
    assert response.status_code == 302
    action = catalogue.scalar(select(AzioneMiglioramento))
    assert (action.titolo, action.stato, action.standard_id, action.indicatore, action.domanda_codice) == (
        "Sportello il sabato", "in_corso", target.id, "quota_soddisfatti", "D3")
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="azione.crea"))
    assert audit.dettagli["titolo"] == "Sportello il sabato" and audit.utente_id is not None
    # Editing records what changed, old and new.
    edit = f"/staff/azioni/{action.id}"
    response = manager.post(edit, data=form_data(manager, edit, riferimento=f"standard-{target.id}",
                                                 domanda_codice="", stato="completata", esito="Attesa dimezzata."))
    assert response.status_code == 302
    change = catalogue.scalar(select(AuditLog).filter_by(azione="azione.modifica"))
    assert change.dettagli["stato"] == {"prima": "in_corso", "dopo": "completata"}
    assert "titolo" not in change.dettagli
    from datetime import datetime

    from .helpers import add_answers

    add_answers(catalogue, "anagrafe", datetime(2025, 5, 2, 10), {"D3": 4})  # the page is for years with answers
    page = manager.get("/staff/servizi/anagrafe?anno=2025").get_data(as_text=True)
    assert "Sportello il sabato" in page and "completata" in page
    d3_row = page.split('<span class="cs-code">D3</span>', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="#azione-{action.id}">Sportello il sabato</a>' in d3_row  # beside its indicator
    assert f'id="azione-{action.id}"' in page


def test_invalid_input_is_refused_with_italian_messages_and_nothing_written(manager, catalogue):
    url = "/staff/azioni/nuova?servizio=anagrafe"
    response = manager.post(url, data=form_data(manager, url, data_scadenza="2025-01-01", titolo="",
                                                domanda_codice="D99", data_inizio="31/02/2025"))
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "Dare un titolo all'azione." in html
    assert "Indicare una data valida." in html
    assert "Il questionario del servizio non ha la domanda «D99»: i codici sono D1, D2, D3," in html
    response = manager.post(url, data=form_data(manager, url, data_scadenza="2025-01-01"))
    assert "La scadenza non può precedere l'inizio." in unescape(response.get_data(as_text=True))
    # 1900 and 9999 were saved and published as the action's period (an office manager's walk-through).
    response = manager.post(url, data=form_data(manager, url, data_inizio="1900-01-01", data_scadenza="9999-12-31"))
    html = unescape(response.get_data(as_text=True))
    # Beside each of the two fields, and in the summary above the form.
    assert response.status_code == 400 and html.count("Indicare una data tra il 01/01/2000 e il 31/12/2100.") == 4
    for blank in ("", "   "):  # a finished action's outcome is what the published programme says of it
        response = manager.post(url, data=form_data(manager, url, stato="completata", esito=blank))
        assert response.status_code == 400
        assert "Descrivere l'esito: per un'azione completata è pubblicato" in unescape(response.get_data(as_text=True))
    # Done, or under way, before it begins: a programme published so reads as made up.
    future = (date.today() + timedelta(days=10)).strftime("%Y-%m-%d")
    later = (date.today() + timedelta(days=200)).strftime("%Y-%m-%d")
    for state, label in (("completata", "completata"), ("in_corso", "in corso")):
        response = manager.post(url, data=form_data(manager, url, stato=state, esito="Fatto", data_inizio=future,
                                                     data_scadenza=later))
        assert response.status_code == 400
        assert f"non può essere già «{label}»: correggere la data di inizio o lo stato." in \
            unescape(response.get_data(as_text=True))
    # Invisible characters pasted from a word processor, said beside the field even with another error there.
    response = manager.post(url, data=form_data(manager, url, titolo="Sportello\x0b sabato", descrizione="x" * 5001))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    message = "Il testo contiene caratteri di controllo non ammessi: ricopiarlo senza formattazione."
    assert html.count(f'<p class="error-message" id="titolo-errore">{message}</p>') == 1
    assert html.count(message) == 2  # beside the field, and in the summary above the form
    assert 'id="titolo-errore"' in html and 'id="descrizione-errore"' in html
    assert catalogue.scalar(select(AzioneMiglioramento)) is None
    planned = manager.post(url, data=form_data(manager, url, stato="pianificata", data_inizio=future,
                                               data_scadenza=later, domanda_codice="d2"))
    assert planned.status_code == 302
    assert catalogue.scalar(select(AzioneMiglioramento.domanda_codice)) == "D2"  # "d2", as typed: the question D2


def test_a_question_typed_beside_a_standard_must_be_the_standards_own(manager, catalogue):
    """The published reference is the standard's: another question typed beside it was saved and never shown."""
    url = "/staff/azioni/nuova?servizio=anagrafe"
    on_d3 = catalogue.scalar(select(Standard).filter_by(indicatore="quota_soddisfatti", domanda_codice="D3"))
    response = manager.post(url, data=form_data(manager, url, riferimento=f"standard-{on_d3.id}", domanda_codice="D2"))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Lo standard scelto riguarda la domanda D3: lasciare vuoto il codice o scrivere D3" in html
    assert 'aria-describedby="domanda_codice-errore"' in html
    whole = catalogue.scalar(select(Standard).filter_by(servizio_id=on_d3.servizio_id, soglia=60))
    assert not whole.domanda_codice  # a standard of the whole service names no question
    response = manager.post(url, data=form_data(manager, url, riferimento=f"standard-{whole.id}", domanda_codice="D2"))
    assert "Lo standard scelto riguarda tutto il servizio, non una domanda" in unescape(response.get_data(as_text=True))
    assert catalogue.scalar(select(AzioneMiglioramento)) is None
    for typed in ("", "  ", "d3"):  # left empty (or blank), or the standard's own in any case: the standard's question
        response = manager.post(url, data=form_data(manager, url, riferimento=f"standard-{on_d3.id}",
                                                    domanda_codice=typed))
        assert response.status_code == 302
    assert catalogue.scalars(select(AzioneMiglioramento.domanda_codice)).all() == ["D3", "D3", "D3"]


def test_scope_and_roles(catalogue, client, runner):
    other = AzioneMiglioramento(servizio_id=catalogue.scalar(select(Servizio.id).filter_by(slug="tributi")),
                                ufficio_id=catalogue.scalar(select(Servizio.ufficio_id).filter_by(slug="tributi")),
                                indicatore="media", titolo="Altro", descrizione="x", data_inizio=date(2025, 1, 1),
                                data_scadenza=date(2025, 2, 1))
    catalogue.add(other)
    catalogue.commit()
    assert client.get("/staff/azioni/").status_code == 302  # anonymous: to the login page
    login(client, runner, "resp@example.org", "--role", "responsabile", "--scope", "anagrafe")
    assert client.get("/staff/azioni/nuova?servizio=tributi").status_code == 404  # out of scope looks unknown
    assert client.get(f"/staff/azioni/{other.id}").status_code == 404
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    assert client.post(f"/staff/azioni/{other.id}/elimina", data={"csrf_token": token}).status_code == 404
    assert "Altro" not in client.get("/staff/azioni/").get_data(as_text=True)
    client.post("/staff/logout", data={"csrf_token": token})
    login(client, runner, "t@example.org", "--role", "trasparenza")
    listing = client.get("/staff/azioni/")
    assert listing.status_code == 200 and "Altro" in listing.get_data(as_text=True)  # reads every action
    # Its description and what prompted it, which the officer could not open before publishing (the edit page
    # is the managers').
    assert '<p class="mb-1">x</p><p class="mb-1">Indicatore: media</p>' in listing.get_data(as_text=True)
    assert client.get("/staff/azioni/nuova?servizio=tributi").status_code == 403  # but does not manage them
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    client.post("/staff/logout", data={"csrf_token": token})
    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "tributi", "--firm", "Example")
    assert client.get("/staff/azioni/").status_code == 403


def test_deleting_is_audited(manager, catalogue):
    url = "/staff/azioni/nuova?servizio=anagrafe"
    manager.post(url, data=form_data(manager, url))
    action = catalogue.scalar(select(AzioneMiglioramento))
    token = csrf_token(manager.get(f"/staff/azioni/{action.id}").get_data(as_text=True))
    assert manager.post(f"/staff/azioni/{action.id}/elimina", data={}).status_code == 400  # no CSRF token
    # One click opens the question; without its second button nothing is deleted (WCAG 3.3.4).
    assert manager.post(f"/staff/azioni/{action.id}/elimina", data={"csrf_token": token}).status_code == 302
    assert catalogue.get(AzioneMiglioramento, action.id) is not None
    assert manager.post(f"/staff/azioni/{action.id}/elimina", data={"csrf_token": token, "conferma": "1"}).status_code \
        == 302
    catalogue.expire_all()
    assert catalogue.scalar(select(AzioneMiglioramento)) is None
    assert catalogue.scalar(select(AuditLog).filter_by(azione="azione.elimina")).dettagli["titolo"] == \
        "Sportello il sabato"


def test_the_years_publication_includes_the_actions_of_that_year(catalogue, runner, client, tmp_path):
    servizio = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    for title, start, end in (("In corso nel 2025", date(2024, 10, 1), date(2025, 3, 31)),
                              ("Solo 2024", date(2024, 1, 1), date(2024, 12, 31)),
                              ("Dal 2026", date(2026, 1, 1), date(2026, 6, 30))):
        catalogue.add(AzioneMiglioramento(servizio_id=servizio.id, ufficio_id=servizio.ufficio_id,
                                          indicatore="quota_soddisfatti", domanda_codice="D3", titolo=title,
                                          descrizione="=cmd|' /C calc'!A0", data_inizio=start, data_scadenza=end,
                                          stato="completata", esito="Fatto."))
    catalogue.commit()
    add_answers(catalogue, "anagrafe", datetime(2025, 5, 5, 10), {"D3": 5})
    result = runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "soddisfazione-2025.xlsx")
    rows = list(wb["Programmi di miglioramento"].iter_rows(min_row=4, values_only=True))
    assert [r[3] for r in rows] == ["In corso nel 2025"]
    assert rows[0][4] == "'=cmd|' /C calc'!A0"  # formula injection neutralised
    assert rows[0][6] == datetime(2024, 10, 1) and rows[0][8] == "completata"
    assert rows[0][5] == "% soddisfatti (D3)"
    page = client.get("/trasparenza/2025/anagrafe").get_data(as_text=True)
    assert "In corso nel 2025" in page and "Solo 2024" not in page
    # An action on a standard with a decimal threshold: the Italian files write it with a comma, as the page does.
    standard = catalogue.scalar(select(Standard).filter_by(indicatore="media", domanda_codice="D3"))
    standard.soglia = 3.8
    action = catalogue.scalar(select(AzioneMiglioramento).filter_by(titolo="In corso nel 2025"))
    action.standard_id, action.indicatore = standard.id, "media"
    catalogue.commit()
    assert runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path / "v2")]).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "v2" / "soddisfazione-2025.xlsx")
    assert list(wb["Programmi di miglioramento"].iter_rows(min_row=4, values_only=True))[0][5] == \
        "standard media ≥ 3,8 (D3)"
    report = tmp_path / "relazione.xlsx"
    assert runner.invoke(args=["export", "relazione", "--year", "2025", "--out", str(report)]).exit_code == 0
    cells = {c for ws in openpyxl.load_workbook(report) for row in ws.iter_rows(values_only=True) for c in row}
    assert "standard media ≥ 3,8 (D3)" in cells and "standard media ≥ 3.8 (D3)" not in cells


def test_control_characters_are_refused_and_never_break_the_report(manager, catalogue, runner, tmp_path):
    url = "/staff/azioni/nuova?servizio=anagrafe"
    response = manager.post(url, data=form_data(manager, url, descrizione="Testo\x0cda Word"))
    assert response.status_code == 400
    assert "caratteri di controllo" in unescape(response.get_data(as_text=True))
    assert catalogue.scalar(select(AzioneMiglioramento)) is None
    # Written some other way (an older version, a script), the report still builds and strips them.
    servizio = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    catalogue.add(AzioneMiglioramento(servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore="media",
                                      titolo="Modulistica", descrizione="Testo\x0cda Word",
                                      data_inizio=date(2025, 1, 1), data_scadenza=date(2025, 3, 1)))
    catalogue.commit()
    for out in ("r.xlsx", "r.pdf"):
        result = runner.invoke(args=["export", "relazione", "--year", "2025", "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    cells = [c for row in openpyxl.load_workbook(tmp_path / "r.xlsx")["Azioni"].iter_rows(values_only=True)
             for c in row]
    assert "Testoda Word" in cells


def test_the_list_marks_actions_past_their_due_date_that_are_still_open(manager, catalogue):
    servizio = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    today = date.today()
    for title, state, due in (("Ferma", "in_corso", today - timedelta(days=30)),
                              ("Da avviare", "pianificata", today - timedelta(days=1)),
                              ("Chiusa", "completata", today - timedelta(days=30)),
                              ("In tempo", "in_corso", today + timedelta(days=30))):
        catalogue.add(AzioneMiglioramento(servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore="media",
                                          titolo=title, descrizione="x", data_inizio=today - timedelta(days=60),
                                          data_scadenza=due, stato=state, esito="Fatto." if state == "completata"
                                          else None))
    catalogue.commit()
    html = unescape(manager.get("/staff/azioni/").get_data(as_text=True))
    # Each row's title: the header cell's first line (its details follow).
    rows = {chunk.split("</th>", 1)[0].split("\n", 1)[0].strip(): chunk.split("</tr>", 1)[0]
            for chunk in html.split('<th scope="row">')[1:]}
    assert {title for title, row in rows.items() if "· scaduta" in row} == {"Ferma", "Da avviare"}
