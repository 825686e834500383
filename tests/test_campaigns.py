"""The admin's campaign pages: planner's target, progress, no overlaps, close today, delete, audit, roles, CSRF."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from analysis.services import sample_size
from survey_app.models import AuditLog, Compilazione, Rilevazione, Servizio

from .helpers import add_answers, csrf_token, login

URL = "/staff/rilevazioni/"
HEADER = "id_esterno;data;servizio;canale;sede;D1;D1_importanza;D2;D3;D4;D5;D6;D7"


def today() -> date:
    return datetime.now(ZoneInfo("Europe/Rome")).date()


def form_data(client, url: str = URL, **overrides) -> dict:
    token = csrf_token(client.get(url).get_data(as_text=True))
    start = today() + timedelta(days=10)
    data = {"csrf_token": token, "codice": "primavera", "titolo": "Primavera", "questionario": "breve",
            "servizi": ["anagrafe", "tributi"], "data_inizio": start.isoformat(),
            "data_fine": (start + timedelta(days=60)).isoformat(), "campione_obiettivo": ""}
    return {**data, **overrides}


def add_campaign(session, codice: str, start: date, end: date, slugs=("anagrafe",), target: int | None = None):
    services = list(session.scalars(select(Servizio).where(Servizio.slug.in_(slugs))))
    campaign = Rilevazione(codice=codice, titolo=codice.capitalize(), questionario_id=services[0].questionario_id,
                           data_inizio=start, data_fine=end, campione_obiettivo=target, servizi=services)
    session.add(campaign)
    session.commit()
    return campaign


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(catalogue, client, runner):
    login(client, runner, "admin@example.org", "--role", "admin")
    return client


def test_a_campaign_without_target_gets_the_planners_and_it_is_audited(admin, catalogue):
    response = admin.post(URL, data=form_data(admin))
    assert response.status_code == 302, unescape(response.get_data(as_text=True))
    services = catalogue.scalars(select(Servizio).where(Servizio.slug.in_(["anagrafe", "tributi"]))).all()
    expected = sum(sample_size(s.utenti_annui) for s in services if s.utenti_annui)
    assert expected == sample_size(5000)  # tributi has no yearly users: left out
    campaign = catalogue.scalar(select(Rilevazione))
    assert campaign.campione_obiettivo == expected and campaign.questionario.codice == "breve"
    assert [s.slug for s in campaign.servizi] == ["anagrafe", "tributi"]
    page = unescape(admin.get(URL).get_data(as_text=True))
    assert f"calcolato dal pianificatore: {expected} questionari" in page and "Tributi" in page
    assert "Primavera" in page and "programmata" in page
    assert f"campione suggerito {sample_size(5000)}" in page  # the planner's figure next to each service
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="rilevazione.crea"))
    assert audit.oggetto == "rilevazione primavera" and audit.utente_id is not None
    assert audit.dettagli["campione_obiettivo"] == expected and audit.dettagli["servizi"] == ["anagrafe", "tributi"]


def test_a_given_target_is_kept(admin, catalogue):
    assert admin.post(URL, data=form_data(admin, campione_obiettivo="120")).status_code == 302
    assert catalogue.scalar(select(Rilevazione.campione_obiettivo)) == 120


def test_without_yearly_users_the_target_stays_empty_and_an_emptied_target_is_planned_again(admin, catalogue):
    response = admin.post(URL, data=form_data(admin, servizi=["tributi"]), follow_redirects=True)
    assert "il campione obiettivo resta da indicare" in unescape(response.get_data(as_text=True))
    campaign = catalogue.scalar(select(Rilevazione))
    assert campaign.campione_obiettivo is None
    url = f"{URL}{campaign.id}"
    response = admin.post(url, data=form_data(admin, url, servizi=["anagrafe", "tributi"]), follow_redirects=True)
    assert f"calcolato dal pianificatore: {sample_size(5000)} questionari (esclusi i servizi senza utenti annui: " \
           "Tributi)" in unescape(response.get_data(as_text=True))
    catalogue.expire_all()
    assert campaign.campione_obiettivo == sample_size(5000)


def test_progress_counts_the_answers_linked_by_the_import(admin, catalogue, runner, tmp_path):
    add_campaign(catalogue, "autunno", today() - timedelta(days=30), today() + timedelta(days=30),
                 ("anagrafe", "tributi"), target=8)
    day = (today() - timedelta(days=5)).strftime("%d/%m/%Y")
    rows = [f"X{i};{day};{slug};;;5;;;5;;;;" for i, slug in enumerate(["anagrafe"] * 3 + ["tributi"])]
    path = tmp_path / "lotto.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = runner.invoke(args=["responses", "import", str(path), "--questionnaire", "breve", "--source", "Doxa",
                                 "--method", "CATI"])
    assert result.exit_code == 0, result.output
    add_answers(catalogue, "anagrafe", datetime.now() - timedelta(days=1), {"D3": 4})  # not linked: not counted
    html = unescape(admin.get(URL).get_data(as_text=True))
    assert "Anagrafe: 3" in html and "Tributi: 1" in html and "in corso" in html
    assert ">4</td>" in html and "50%" in html  # 4 of 8
    campaign = catalogue.scalar(select(Rilevazione))
    page = unescape(admin.get(f"{URL}{campaign.id}").get_data(as_text=True))
    assert "4 su 8 (50%)" in page and "Chiudi oggi" in page


def test_overlapping_campaigns_on_a_service_are_refused(admin, catalogue):
    add_campaign(catalogue, "inverno", today(), today() + timedelta(days=20))
    response = admin.post(URL, data=form_data(admin))
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "si sovrappone alla rilevazione «Inverno» (inverno" in html and "sui servizi: Anagrafe" in html
    assert count(catalogue, Rilevazione) == 1
    # Another service in the same period is fine, and so is the same service just after.
    assert admin.post(URL, data=form_data(admin, servizi=["tributi"])).status_code == 302
    after = today() + timedelta(days=21)
    assert admin.post(URL, data=form_data(admin, codice="estate", servizi=["anagrafe"], data_inizio=after.isoformat(),
                                          data_fine=(after + timedelta(days=9)).isoformat())).status_code == 302
    assert count(catalogue, Rilevazione) == 3


def test_a_service_with_another_questionnaire_and_bad_fields_are_refused(admin, catalogue):
    response = admin.post(URL, data=form_data(admin, servizi=["anagrafe", "vigilanza"]))
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "Il servizio Vigilanza (vigilanza) usa un altro questionario («Mettiamoci la faccia»)" in html
    response = admin.post(URL, data=form_data(admin, codice="Primavera 2025", titolo="", data_inizio="2026-05-01",
                                              data_fine="2026-04-01", campione_obiettivo="molti", servizi=[]))
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    for message in ("Solo lettere minuscole, cifre e trattini", "Dare un titolo alla rilevazione.",
                    "La fine non può precedere l'inizio.", "Indicare un numero intero di questionari",
                    "Scegliere almeno un servizio."):
        assert message in html
    assert 'aria-invalid="true"' in html
    # Years nobody means: 1900, 9999 (9999-12-31 was a 500 on every later save: the day after it does not exist).
    for start, end in (("1900-01-01", "1900-02-01"), ("2026-05-01", "9999-12-31"), ("0001-01-01", "0001-02-01")):
        response = admin.post(URL, data=form_data(admin, data_inizio=start, data_fine=end))
        assert response.status_code == 400, (start, end)
        assert "Indicare una data tra il 01/01/2000 e il 31/12/2100." in unescape(response.get_data(as_text=True))
    add_campaign(catalogue, "primavera", date(2020, 1, 1), date(2020, 2, 1))
    response = admin.post(URL, data=form_data(admin))
    assert response.status_code == 400 and "Esiste già una rilevazione con questo codice." in unescape(
        response.get_data(as_text=True))
    assert count(catalogue, Rilevazione) == 1


def test_edit_is_checked_and_audited_with_before_and_after(admin, catalogue):
    campaign = add_campaign(catalogue, "autunno", today() + timedelta(days=5), today() + timedelta(days=30),
                            target=100)
    add_campaign(catalogue, "inverno", today() + timedelta(days=40), today() + timedelta(days=60),
                 ("anagrafe", "tributi"))
    url = f"{URL}{campaign.id}"
    page = unescape(admin.get(url).get_data(as_text=True))
    assert "Vigilanza" not in page and "Elimina la rilevazione" in page  # only the services on its questionnaire
    response = admin.post(url, data=form_data(admin, url, titolo="Autunno 2026",
                                              data_fine=(today() + timedelta(days=45)).isoformat(),
                                              servizi=["anagrafe"], campione_obiettivo="100"))
    assert response.status_code == 400 and "«Inverno» (inverno" in unescape(response.get_data(as_text=True))
    response = admin.post(url, data=form_data(admin, url, titolo="Autunno 2026", servizi=["anagrafe", "tributi"],
                                              data_inizio=campaign.data_inizio.isoformat(),
                                              data_fine=campaign.data_fine.isoformat(), campione_obiettivo="150"))
    assert response.status_code == 302
    catalogue.expire_all()
    assert (campaign.titolo, campaign.campione_obiettivo) == ("Autunno 2026", 150)
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="rilevazione.modifica"))
    assert audit.oggetto == "rilevazione autunno"
    assert audit.dettagli["prima"]["titolo"] == "Autunno" and audit.dettagli["dopo"]["titolo"] == "Autunno 2026"
    assert audit.dettagli["prima"]["servizi"] == ["anagrafe"] and audit.dettagli["dopo"]["servizi"] == [
        "anagrafe", "tributi"]
    assert audit.dettagli["dopo"]["campione_obiettivo"] == 150
    vigilanza = admin.post(url, data=form_data(admin, url, servizi=["vigilanza"]))
    assert vigilanza.status_code == 400  # not even offered on this questionnaire
    assert admin.get(f"{URL}9999").status_code == 404


def test_linked_answers_pin_their_service_and_dates(admin, catalogue):
    campaign = add_campaign(catalogue, "autunno", today() - timedelta(days=20), today() + timedelta(days=20),
                            ("anagrafe", "tributi"))
    answer = add_answers(catalogue, "tributi", datetime.combine(today() - timedelta(days=10), datetime.min.time()),
                         {"D3": 4})
    answer.rilevazione_id = campaign.id
    catalogue.commit()
    url = f"{URL}{campaign.id}"
    response = admin.post(url, data=form_data(admin, url, titolo="Autunno", servizi=["anagrafe"],
                                              data_inizio=(today() - timedelta(days=5)).isoformat(),
                                              data_fine=campaign.data_fine.isoformat()))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Il servizio Tributi ha già 1 questionario in questa rilevazione" in html
    assert "l'inizio non può essere dopo" in html


def test_close_today_and_never_before_the_start(admin, catalogue):
    running = add_campaign(catalogue, "autunno", today() - timedelta(days=10), today() + timedelta(days=20))
    planned = add_campaign(catalogue, "inverno", today() + timedelta(days=30), today() + timedelta(days=60))
    end = running.data_fine
    unconfirmed = admin.post(f"{URL}{running.id}/chiudi", data={"csrf_token": csrf_token(admin.get(URL).get_data(
        as_text=True))}, follow_redirects=True)  # the first button only asks
    assert "va confermata con il secondo pulsante" in unconfirmed.get_data(as_text=True)
    catalogue.expire_all()
    assert running.data_fine == end
    response = admin.post(f"{URL}{running.id}/chiudi", data={"csrf_token": csrf_token(admin.get(URL).get_data(
        as_text=True)), "conferma": "1"})
    assert response.status_code == 302
    catalogue.expire_all()
    assert running.data_fine == today()
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="rilevazione.chiudi"))
    assert audit.oggetto == "rilevazione autunno" and audit.dettagli["dopo"] == {"data_fine": today().isoformat()}
    page = unescape(admin.get(f"{URL}{running.id}").get_data(as_text=True))
    assert "chiusa oggi" in page and "Chiudi oggi" not in page
    token = csrf_token(admin.get(URL).get_data(as_text=True))
    response = admin.post(f"{URL}{planned.id}/chiudi", data={"csrf_token": token, "conferma": "1"}, follow_redirects=True)
    assert "non è ancora iniziata" in unescape(response.get_data(as_text=True))
    catalogue.expire_all()
    assert planned.data_fine == today() + timedelta(days=60)
    assert admin.post(f"{URL}9999/chiudi", data={"csrf_token": token}).status_code == 404


def test_a_service_sent_twice_is_one_service(admin, catalogue):
    """A tampered form with a service twice was refused as "a campaign with this code exists" when created, and
    recorded twice when edited (an administrator's walk-through)."""
    response = admin.post(URL, data=form_data(admin, servizi=["anagrafe", "anagrafe"]))
    assert response.status_code == 302
    campaign = catalogue.scalar(select(Rilevazione))
    assert [s.slug for s in campaign.servizi] == ["anagrafe"]
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="rilevazione.crea"))
    assert audit.dettagli["servizi"] == ["anagrafe"]


def test_delete_only_a_campaign_without_answers_that_is_not_running(admin, catalogue):
    with_answers = add_campaign(catalogue, "autunno", today() + timedelta(days=5), today() + timedelta(days=20))
    empty = add_campaign(catalogue, "inverno", today() + timedelta(days=30), today() + timedelta(days=60))
    running = add_campaign(catalogue, "estate", today() - timedelta(days=5), today(), ("tributi",))
    answer = add_answers(catalogue, "anagrafe", datetime.now(), {"D3": 5})
    answer.rilevazione_id = with_answers.id
    catalogue.commit()
    token = csrf_token(admin.get(URL).get_data(as_text=True))
    response = admin.post(f"{URL}{with_answers.id}/elimina", data={"csrf_token": token, "conferma": "1"}, follow_redirects=True)
    assert "ha già 1 questionario: non si può eliminare" in unescape(response.get_data(as_text=True))
    response = admin.post(f"{URL}{running.id}/elimina", data={"csrf_token": token, "conferma": "1"}, follow_redirects=True)
    assert "La rilevazione è in corso: si può chiudere, non eliminare." in unescape(response.get_data(as_text=True))
    assert count(catalogue, Rilevazione) == 3
    response = admin.post(f"{URL}{empty.id}/elimina", data={"csrf_token": token, "conferma": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert sorted(catalogue.scalars(select(Rilevazione.codice))) == ["autunno", "estate"]
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="rilevazione.elimina"))
    assert audit.oggetto == "rilevazione inverno" and audit.dettagli["servizi"] == ["anagrafe"]
    assert count(catalogue, Compilazione) == 1
    assert admin.post(f"{URL}9999/elimina", data={"csrf_token": token}).status_code == 404
    # One that ended without a single questionnaire could be neither closed nor deleted (an administrator's
    # walk-through): it is offered for deletion, and goes.
    ended = add_campaign(catalogue, "vecchia", date(2024, 1, 1), date(2024, 2, 1), ("tributi",))
    page = unescape(admin.get(f"{URL}{ended.id}").get_data(as_text=True))
    assert "La rilevazione è chiusa senza alcun questionario: si può eliminare." in page
    response = admin.post(f"{URL}{ended.id}/elimina", data={"csrf_token": token, "conferma": "1"})
    assert response.status_code == 302 and "vecchia" not in catalogue.scalars(select(Rilevazione.codice)).all()


@pytest.mark.parametrize("options", [("--role", "trasparenza"), ("--role", "responsabile", "--scope", "anagrafe"),
                                     ("--role", "rilevatore", "--scope", "anagrafe", "--firm", "Doxa")])
def test_other_roles_get_403(catalogue, client, runner, options):
    campaign = add_campaign(catalogue, "autunno", today(), today() + timedelta(days=5))
    login(client, runner, "someone@example.org", *options)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{campaign.id}").status_code == 403
    token = csrf_token(client.get("/staff/password").get_data(as_text=True))
    assert client.post(f"{URL}{campaign.id}/chiudi", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{URL}{campaign.id}/elimina", data={"csrf_token": token}).status_code == 403
    assert count(catalogue, Rilevazione) == 1


def test_anonymous_goes_to_login(catalogue, client):
    response = client.get(URL)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_csrf_is_required(admin, catalogue):
    data = form_data(admin)
    del data["csrf_token"]
    assert admin.post(URL, data=data).status_code == 400
    campaign = add_campaign(catalogue, "autunno", today() - timedelta(days=1), today() + timedelta(days=5))
    assert admin.post(f"{URL}{campaign.id}/chiudi").status_code == 400
    assert admin.post(f"{URL}{campaign.id}/elimina").status_code == 400
    assert admin.post(f"{URL}{campaign.id}", data={**data, "titolo": "X"}).status_code == 400
    catalogue.expire_all()
    assert count(catalogue, Rilevazione) == 1 and campaign.titolo == "Autunno"
    assert catalogue.scalar(select(AuditLog).where(AuditLog.azione.like("rilevazione.%"))) is None


def test_the_planners_target_is_written_as_the_table_writes_it(admin, catalogue, monkeypatch):
    import survey_app.staff.campaigns as planner

    monkeypatch.setattr(planner, "planned", lambda services: 1404)  # the thousands, not the planner, under test
    page = unescape(admin.post(URL, data=form_data(admin), follow_redirects=True).get_data(as_text=True))
    assert "calcolato dal pianificatore: 1.404 questionari" in page
