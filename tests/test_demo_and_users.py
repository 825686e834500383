"""Demo answers, `flask users create`, and the staff login."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from analysis.indicators import indicator_table
from survey_app.demo.seed import seed_responses
from survey_app.models import Compilazione, Risposta, User

from .helpers import csrf_token


def dump(db):
    return sorted([
        (c.servizio_id, c.versione_id, c.data_ora, c.canale, c.sede_id, c.lingua, c.import_batch_id is not None,
         sorted(((r.domanda_id, r.valore, r.opzione, r.testo, r.importanza, r.non_so) for r in c.risposte),
                key=repr))
        for c in db.scalars(select(Compilazione))
    ], key=repr)  # in content order: the keys are random


def test_seed_is_deterministic_and_realistic(catalogue, tmp_path):
    db = catalogue
    end = date(2026, 6, 30)
    assert seed_responses(db, 400, seed=7, end=end) == 400
    first = dump(db)
    db.execute(Risposta.__table__.delete())
    db.execute(Compilazione.__table__.delete())
    db.commit()
    seed_responses(db, 400, seed=7, end=end)
    assert dump(db) == first
    dates = [c.data_ora for c in db.scalars(select(Compilazione))]
    assert min(dates) >= datetime.combine(end - timedelta(days=730), datetime.min.time())
    assert max(dates) < datetime.combine(end + timedelta(days=1), datetime.min.time())
    assert all(d.minute == 0 and d.second == 0 for d in dates)
    channels = dict(db.execute(select(Compilazione.canale, func.count()).group_by(Compilazione.canale)).all())
    assert {"web", "qr", "chiosco", "telefono"} <= set(channels)
    assert db.scalar(select(func.count()).where(Compilazione.import_batch_id.is_not(None))) > 0
    # each firm's batch says how many questionnaires it brought, as a real import does
    from survey_app.models import ImportBatch

    per_batch = dict(db.execute(select(Compilazione.import_batch_id, func.count())
                                .where(Compilazione.import_batch_id.is_not(None)).group_by(Compilazione.import_batch_id)).all())
    assert {b.id: b.righe_importate for b in db.scalars(select(ImportBatch)) if b.id in per_batch} == per_batch
    # the services differ: not every service gets the same satisfaction
    table = indicator_table(db.connection(), 2025)
    overall = table[table["domanda_codice"].isin(["D1", "D3"]) & ~table["soppresso"]]
    assert overall["quota_soddisfatti"].max() - overall["quota_soddisfatti"].min() > 5


def test_a_seed_ending_today_has_no_answer_after_this_hour(catalogue, app):
    """At 10:08 the demo had today's answers at 13:00, and a partial publication of the year counted them."""
    from freezegun import freeze_time

    with freeze_time("2026-11-25 09:08:00"):  # 10:08 in Rome
        seed_responses(catalogue, 3000, seed=4)
    latest = catalogue.scalar(select(func.max(Compilazione.data_ora)))
    assert latest == datetime(2026, 11, 25, 10)


def test_different_seed_different_data(catalogue):
    db = catalogue
    seed_responses(db, 50, seed=1, end=date(2026, 6, 30))
    a = dump(db)
    db.execute(Risposta.__table__.delete())
    db.execute(Compilazione.__table__.delete())
    db.commit()
    seed_responses(db, 50, seed=2, end=date(2026, 6, 30))
    assert dump(db) != a


def test_cli_demo_seed(runner, catalogue):
    result = runner.invoke(args=["demo", "seed", "--responses", "30", "--seed", "3", "--end", "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert "Scritte 30 compilazioni" in result.output


def test_seed_without_catalogue_is_a_clear_error(runner, db):
    result = runner.invoke(args=["demo", "seed", "--responses", "5"])
    assert result.exit_code == 1
    assert "caricare prima il catalogo" in result.output


def test_users_create(runner, catalogue):
    db = catalogue
    result = runner.invoke(args=["users", "create", "Resp@Comune.it", "--role", "responsabile",
                                 "--scope", "anagrafe", "--scope", "tributi"])
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User))
    assert user.email == "resp@comune.it" and user.ruolo == "responsabile"
    assert [s.slug for s in user.servizi] == ["anagrafe", "tributi"]
    password = result.output.rsplit(": ", 1)[1].strip()
    assert user.check_password(password) and password not in user.password_hash


@pytest.mark.parametrize(("args", "message"), [
    (["x@y.it", "--role", "responsabile"], "il ruolo «responsabile» richiede almeno un servizio nell'ambito\n"),
    (["x@y.it", "--role", "responsabile", "--scope", "mensa"], "servizi sconosciuti nell'ambito: mensa"),
    (["non-una-email", "--role", "admin"], "indirizzo email non valido"),
    (["x@y.it", "--role", "capo"], "Invalid value for '--role'"),
    (["x@y.it", "--role", "admin", "--scope", "anagrafe"], "il ruolo «admin» vede tutti i servizi"),
    (["x@y.it", "--role", "trasparenza", "--scope", "anagrafe"], "il ruolo «trasparenza» vede tutti i servizi"),
])
def test_users_create_errors(runner, catalogue, args, message):
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_staff_login_and_scope(client, runner, catalogue):
    db = catalogue
    out = runner.invoke(args=["users", "create", "r@comune.it", "--role", "responsabile", "--scope", "tributi"])
    password = out.output.rsplit(": ", 1)[1].strip()
    assert client.get("/staff/").status_code == 302
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    bad = client.post("/staff/login", data={"csrf_token": token, "email": "r@comune.it", "password": "wrong"})
    assert bad.status_code == 401 and "Email o password non corretti." in bad.get_data(as_text=True)
    ok = client.post("/staff/login", data={"csrf_token": token, "email": "r@comune.it", "password": password})
    assert ok.status_code == 302
    page = client.get("/staff/").get_data(as_text=True)
    assert "Tributi" in page and "Anagrafe" not in page  # only the services in scope
    assert db.scalar(select(User)).email == "r@comune.it"


def test_login_next_is_never_an_open_redirect(client, runner, catalogue):
    out = runner.invoke(args=["users", "create", "a@comune.it", "--role", "admin"])
    password = out.output.rsplit(": ", 1)[1].strip()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login?next=//evil.example/x",
                           data={"csrf_token": token, "email": "a@comune.it", "password": password})
    assert response.headers["Location"] == "/staff/"


def with_catalogue(app):
    """The small catalogue, loaded in a context that is closed again: each request then has its own app context
    (and its own ``g``), as in production; a fixture holding a context open would share Flask-Login's cached user."""
    from survey_app.catalogue import load_catalogue
    from survey_app.extensions import db

    from .conftest import SMALL_CATALOGUE

    with app.app_context():
        load_catalogue(db.session, SMALL_CATALOGUE)


def in_db(app, query):
    from survey_app.extensions import db

    with app.app_context():
        return db.session.execute(query).all()


def test_every_account_changes_its_own_password_and_its_other_sessions_end(app, client, runner):
    from html import unescape

    from survey_app.models import AuditLog

    from .helpers import login

    with_catalogue(app)
    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Doxa")
    assert in_db(app, select(User.societa).filter_by(email="firm@example.org")) == [("Doxa",)]
    other = app.test_client()  # the same account on a second device: a copy of the cookie
    other.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    assert other.get("/staff/password").status_code == 200
    page = client.get("/staff/password")
    token = csrf_token(page.get_data(as_text=True))
    wrong = client.post("/staff/password", data={"csrf_token": token, "attuale": "sbagliata", "nuova": "x" * 12,
                                                 "conferma": "x" * 12})
    assert wrong.status_code == 400 and "La password attuale non è corretta." in unescape(wrong.get_data(as_text=True))
    short = client.post("/staff/password", data={"csrf_token": token, "attuale": "x", "nuova": "corta",
                                                 "conferma": "diversa"})
    html = unescape(short.get_data(as_text=True))
    assert "Le due password non coincidono." in html
    # The error says what is wrong, not the hint again beneath it.
    assert 'id="nuova-errore">La nuova password è troppo corta: servono almeno 12 caratteri.</p>' in html
    password = runner.invoke(args=["users", "reset-password", "firm@example.org"]).output.rsplit(": ", 1)[1].strip()
    assert client.get("/staff/password").status_code == 302  # a reset ends the account's sessions
    from .helpers import log_in

    log_in(client, "firm@example.org", password)
    token = csrf_token(client.get("/staff/password").get_data(as_text=True))
    other.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    # Twelve characters a guesser tries first are refused (they were all accepted).
    # The account's and the body's own words, however joined, too ("giorgio.bono@cuorgne" scored as strong).
    for weak in ("aaaaaaaaaaaa", "password1234", "123456789012", "firm@example.org", "comune-di-prova",
                 "firm.example@prova", "Prova-Firm-2026!"):
        refused = client.post("/staff/password", data={"csrf_token": token, "attuale": password, "nuova": weak,
                                                       "conferma": weak})
        assert refused.status_code == 400, weak
        assert "La nuova password è facile da indovinare" in unescape(refused.get_data(as_text=True)), weak
    # …but not a password without such words, or with enough other characters (the rule took them for none).
    from survey_app.extensions import db as _db
    from survey_app.users.passwords import guessable

    with client.application.app_context():
        assert not guessable(_db.session, "9#4$8!2@7%1^Kq", "firm@example.org")
        assert not guessable(_db.session, "prova8#4$9!2@7%Zt", "firm@example.org")
    long_paste = client.post("/staff/password", data={"csrf_token": token, "attuale": password,
                                                       "nuova": "x" * 250, "conferma": "x" * 250})
    html = unescape(long_paste.get_data(as_text=True))
    import re

    repeat = re.search(r'<input[^>]*\bid="conferma"[^>]*>', html).group(0)
    assert 'maxlength="200"' in repeat  # as the new password's box: a long paste is cut alike in both
    done = client.post("/staff/password", data={"csrf_token": token, "attuale": password,
                                                "nuova": "nuova-password-lunga", "conferma": "nuova-password-lunga"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    assert client.get("/staff/password").status_code == 200  # this session goes on…
    assert other.get("/staff/password").status_code == 302  # …the copy made before the change does not
    # …and its login page says why, once (it came without a word).
    assert "La sessione è terminata: la password è stata cambiata" in unescape(
        other.get("/staff/login").get_data(as_text=True))
    assert "La sessione è terminata" not in other.get("/staff/login").get_data(as_text=True)
    with app.app_context():
        from survey_app.extensions import db

        assert db.session.scalar(select(User).filter_by(email="firm@example.org")).check_password(
            "nuova-password-lunga")
        actions = db.session.scalars(select(AuditLog.azione).where(AuditLog.azione.startswith("utente.")
                                                                    | (AuditLog.azione == "accesso"))
                                     .order_by(AuditLog.id)).all()
    assert actions == ["utente.crea", "accesso", "utente.reimposta_password", "accesso", "utente.password"]
    assert client.post("/staff/password", data={}).status_code == 400  # no CSRF token, no change
