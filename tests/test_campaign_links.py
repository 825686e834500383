"""Answers belong to the campaign that runs on their day for their service and questionnaire: citizens' answers as
they are stored (web, QR, kiosk), answers given before the campaign was planned when the planner saves it, and the
answers already stored by migration 0012. Its progress (planner, overview) then counts them."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from survey_app.extensions import db as _db
from survey_app.models import Compilazione, Questionario, Rilevazione, Servizio

from .helpers import add_answers, csrf_token, submit
from .test_campaigns import URL, add_campaign, form_data, login, today
from .test_kiosk import tap


def campaigns_of(session) -> list[tuple[str, str | None]]:
    """(service, campaign code) of every stored questionnaire, oldest first."""
    session.expire_all()
    codes = dict(session.execute(select(Rilevazione.id, Rilevazione.codice)).all())
    return [(c.servizio.slug, codes.get(c.rilevazione_id))
            for c in session.scalars(select(Compilazione).order_by(Compilazione.data_ora, Compilazione.canale))]


def test_a_citizens_answer_during_a_campaign_counts_for_it(catalogue, client):
    add_campaign(catalogue, "autunno", today() - timedelta(days=3), today() + timedelta(days=3))  # anagrafe
    add_campaign(catalogue, "passata", today() - timedelta(days=30), today() - timedelta(days=4), ("tributi",))
    assert submit(client, "/s/anagrafe?canale=qr", {"D3": "4"}).status_code == 302
    assert submit(client, "/s/tributi", {"D3": "4"}).status_code == 302  # its campaign has ended
    assert sorted(campaigns_of(catalogue)) == [("anagrafe", "autunno"), ("tributi", None)]


def test_the_kiosk_counts_for_a_campaign_of_its_own_questionnaire_only(catalogue, client):
    add_campaign(catalogue, "autunno", today() - timedelta(days=3), today() + timedelta(days=3))
    assert tap(client, "3").status_code == 302  # the faces are another questionnaire than the campaign's
    assert campaigns_of(catalogue) == [("anagrafe", None)]
    anagrafe = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    catalogue.add(Rilevazione(codice="faccia", titolo="Mettiamoci la faccia", questionario_id=anagrafe.questionario_chiosco_id,
                              data_inizio=today(), data_fine=today(), servizi=[anagrafe]))
    catalogue.commit()
    assert tap(client, "1").status_code == 302
    assert sorted(campaigns_of(catalogue), key=str) == sorted([("anagrafe", None), ("anagrafe", "faccia")], key=str)


def test_a_campaign_planned_afterwards_takes_the_answers_already_given(catalogue, client, runner):
    login(client, runner, "admin@example.org", "--role", "admin")
    before = datetime.combine(today() - timedelta(days=2), datetime.min.time()).replace(hour=10)
    for slug, when in (("anagrafe", before), ("anagrafe", before - timedelta(days=20)), ("tributi", before)):
        add_answers(catalogue, slug, when, {"D3": 4})
    add_answers(catalogue, "vigilanza", before, {"D1": 3})  # another questionnaire, not in the campaign
    start = today() - timedelta(days=5)
    response = client.post(URL, data=form_data(client, codice="retro", data_inizio=start.isoformat(),
                                               data_fine=(start + timedelta(days=30)).isoformat()))
    assert response.status_code == 302
    assert sorted(campaigns_of(catalogue), key=str) == sorted([("anagrafe", None), ("anagrafe", "retro"),
                                                               ("tributi", "retro"), ("vigilanza", None)], key=str)
    assert "Anagrafe: 1" in client.get(URL).get_data(as_text=True)
    # Extending it to the older answer's day takes that one too.
    campaign = catalogue.scalar(select(Rilevazione).filter_by(codice="retro"))
    page = f"{URL}{campaign.id}"
    data = {"csrf_token": csrf_token(client.get(page).get_data(as_text=True)), "titolo": "Retro",
            "servizi": ["anagrafe", "tributi"], "data_inizio": (start - timedelta(days=30)).isoformat(),
            "data_fine": (start + timedelta(days=30)).isoformat(), "campione_obiettivo": "10"}
    assert client.post(page, data=data).status_code == 302
    assert [code for slug, code in campaigns_of(catalogue) if slug == "anagrafe"] == ["retro", "retro"]


def test_migration_0012_links_the_answers_already_stored(app):
    from datetime import date

    from survey_app.catalogue import load_catalogue
    from survey_app.demo.seed import seed_responses

    from .conftest import SMALL_CATALOGUE

    with app.app_context():
        session = _db.session
        load_catalogue(session, SMALL_CATALOGUE)
        breve = session.scalar(select(Questionario).filter_by(codice="breve"))
        services = list(session.scalars(select(Servizio).where(Servizio.slug.in_(("anagrafe", "tributi")))))
        session.add(Rilevazione(codice="primavera", titolo="Primavera", questionario_id=breve.id,
                                data_inizio=date(2026, 3, 1), data_fine=date(2026, 4, 30), servizi=services))
        session.commit()
        seed_responses(session, 400, seed=5, end=date(2026, 5, 31))
        # What belongs to the campaign, worked out here from each stored row.
        expected = sorted(c.id for c in session.scalars(select(Compilazione))
                          if c.servizio.slug in ("anagrafe", "tributi") and c.versione.questionario_id == breve.id
                          and date(2026, 3, 1) <= c.data_ora.date() <= date(2026, 4, 30))
        assert len(expected) > 20
        session.execute(update(Compilazione).values(rilevazione_id=None))  # as stored before this change
        session.commit()
        _db.session.remove()
        downgrade(revision="0011")
        upgrade()
        linked = sorted(_db.session.scalars(select(Compilazione.id).where(Compilazione.rilevazione_id.is_not(None))))
        _db.session.remove()
    assert linked == expected
