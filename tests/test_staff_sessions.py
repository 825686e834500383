"""Staff sessions: throttled logins, equal work for unknown e-mails, logout and resets that end every copy of the
cookie, a server-side timeout, safe redirects, the users commands, and the audit of it all.

These tests keep no app context open between requests (see ``with_catalogue``), as in production.
"""

from __future__ import annotations

from html import unescape

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditLog, User, UserScope

from .helpers import csrf_token, log_in, login
from .test_demo_and_users import in_db, with_catalogue


def copy_of(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return other


def actions(app) -> list[str]:
    return [a for (a,) in in_db(app, select(AuditLog.azione).order_by(AuditLog.id))]


def test_logout_ends_the_session_and_every_copy_of_its_cookie(app, client, runner):
    with_catalogue(app)
    login(client, runner, "anna@example.org", "--role", "admin")
    copy = copy_of(app, client)
    assert copy.get("/staff/").status_code == 200
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    left = client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=True)
    assert "Sessione chiusa. Per rientrare nell&#39;area riservata, accedi di nuovo." in left.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    gone = copy.get("/staff/")
    assert gone.status_code == 302 and "/staff/login" in gone.headers["Location"]
    assert actions(app)[-3:] == ["utente.crea", "accesso", "uscita"][-3:]


def test_login_starts_a_fresh_session_and_only_follows_local_next(app, client, runner):
    with_catalogue(app)
    password = runner.invoke(args=["users", "create", "anna@example.org", "--role", "admin"]).output.rsplit(": ", 1)[1]
    page = client.get("/staff/login?lang=en")
    before = client.get_cookie("session").value
    token = csrf_token(page.get_data(as_text=True))
    # A tab or another control character in next= never reaches the view: an Italian 400, no redirect at all.
    refused = client.post("/staff/login?next=/%09/evil.example", data={"csrf_token": token, "email": "anna@example.org",
                                                                       "password": password.strip()})
    assert refused.status_code == 400 and "Location" not in refused.headers
    for target, landing in (("//evil.example", "/staff/"), ("/%5Cevil.example", "/staff/"),
                            ("https://evil.example/", "/staff/"), ("/staff/azioni/", "/staff/azioni/")):
        done = client.post(f"/staff/login?next={target}", data={"csrf_token": token, "email": "anna@example.org",
                                                                 "password": password.strip()})
        assert done.status_code == 302 and done.headers["Location"] == landing, target
        assert client.get_cookie("session").value != before
        token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    assert 'lang="en"' in client.get("/staff/").get_data(as_text=True)  # the language survives the new session


def test_failed_logins_are_throttled_per_account_and_per_client(app, client, runner):
    with_catalogue(app)
    app.config.update(LOGIN_RATE_LIMIT_ACCOUNT="3 per 15 minutes", LOGIN_RATE_LIMIT_CLIENT="5 per 15 minutes")
    password = runner.invoke(args=["users", "create", "anna@example.org", "--role", "admin"]).output.rsplit(": ", 1)[1]
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))

    def attempt(email, secret="sbagliata"):  # noqa: S107 (a wrong password, on purpose)
        return client.post("/staff/login", data={"csrf_token": token, "email": email, "password": secret})

    assert [attempt("anna@example.org").status_code for _ in range(3)] == [401, 401, 401]
    blocked = attempt("anna@example.org", password.strip())  # even the right password waits now
    assert blocked.status_code == 429
    assert "Troppi tentativi di accesso non riusciti" in blocked.get_data(as_text=True)
    assert attempt("bruno@example.org").status_code == 401  # another account: its own count…
    assert attempt("carla@example.org").status_code == 401
    assert attempt("dario@example.org").status_code == 429  # …until the client's 5 failures are spent
    assert actions(app).count("accesso.fallito") == 5


def test_a_right_password_clears_the_accounts_count(app, client, runner):
    with_catalogue(app)
    app.config.update(LOGIN_RATE_LIMIT_ACCOUNT="3 per 15 minutes", LOGIN_RATE_LIMIT_CLIENT="100 per 15 minutes")
    password = runner.invoke(args=["users", "create", "anna@example.org", "--role", "admin"]).output.rsplit(": ", 1)[1]
    for _round in range(3):  # more logins than the limit, each after two mistakes: a person, not a guesser
        assert log_in(app.test_client(), "anna@example.org", "sbagliata").status_code == 401
        assert log_in(app.test_client(), "anna@example.org", "sbagliata").status_code == 401
        assert log_in(app.test_client(), "anna@example.org", password.strip()).status_code == 302


def test_an_unknown_email_costs_a_password_check_too(app, client, runner, monkeypatch):
    from survey_app.staff import routes

    with_catalogue(app)
    checked = []
    real = routes.check_password_hash
    monkeypatch.setattr(routes, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"csrf_token": token, "email": "nessuno@example.org",
                                                 "password": "qualunque"})
    assert response.status_code == 401 and checked == [routes.DUMMY_HASH]


def test_an_idle_session_expires_on_the_server(app, client, runner):
    with_catalogue(app)
    login(client, runner, "anna@example.org", "--role", "admin")
    assert client.get("/staff/").status_code == 200
    app.config["STAFF_IDLE_MINUTES"] = 0
    expired = client.get("/staff/")
    assert expired.status_code == 302 and "/staff/login" in expired.headers["Location"]
    assert "La sessione è scaduta" in client.get(expired.headers["Location"]).get_data(as_text=True)


def test_users_commands_list_reset_and_deactivate(app, client, runner):
    with_catalogue(app)
    password = login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Doxa")
    listing = runner.invoke(args=["users", "list"]).output
    assert "firm@example.org\trilevatore\tDoxa\tanagrafe\tattivo\t" in listing
    copy = copy_of(app, client)
    assert runner.invoke(args=["users", "deactivate", "firm@example.org"]).exit_code == 0
    assert copy.get("/staff/importazioni/").status_code == 302  # its open session ended at once
    assert log_in(app.test_client(), "firm@example.org", password).status_code == 401
    assert "disattivato" in runner.invoke(args=["users", "list"]).output
    assert runner.invoke(args=["users", "reset-password", "nessuno@example.org"]).exit_code == 1
    with app.app_context():
        assert db.session.scalar(select(User.attivo).filter_by(email="firm@example.org")) is False
    assert actions(app)[-1] == "accesso.fallito" and "utente.disattiva" in actions(app)


def test_admins_run_users_from_the_pages_and_read_the_audit_log(app, client, runner):
    import csv
    import io

    with_catalogue(app)
    login(client, runner, "admin@example.org", "--role", "admin")
    page = client.get("/staff/utenti/")
    assert page.status_code == 200 and "admin@example.org" in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    refused = client.post("/staff/utenti/", data={"csrf_token": token, "email": "anna@example.org",
                                                  "ruolo": "responsabile"})
    # Under the services, with the role's name (it came under the e-mail, as «responsabile»).
    assert refused.status_code == 400 and ('<p class="error-message" id="servizi-errore">Il ruolo «Responsabile di '
                                           'servizio» vede solo i servizi del suo ambito: sceglierne almeno uno.</p>'
                                           in refused.get_data(as_text=True))
    assert 'id="email-errore"' not in refused.get_data(as_text=True)
    # Above the form, each error as a link to its field (it said only "Il modulo contiene errori").
    summary = unescape(refused.get_data(as_text=True)).split('id="riepilogo-errori">', 1)[1].split("</div>", 1)[0]
    assert "Il modulo contiene un errore:" in summary
    assert ('<li><a href="#servizi">Servizi nell\'ambito: Il ruolo «Responsabile di servizio» vede solo i servizi del '
            'suo ambito: sceglierne almeno uno.</a></li>') in summary
    # A service not offered (a tampered form) is named in Italian, not in WTForms' English.
    tampered = client.post("/staff/utenti/", data={"csrf_token": token, "email": "anna@example.org",
                                                   "ruolo": "responsabile", "servizi": ["anagrafe", "nope"]})
    assert tampered.status_code == 400
    assert "Servizio non tra quelli proposti: «nope»." in unescape(tampered.get_data(as_text=True))
    assert "is not a valid choice" not in tampered.get_data(as_text=True)
    created = client.post("/staff/utenti/", data={"csrf_token": token, "email": "anna@example.org",
                                                  "ruolo": "responsabile", "servizi": ["anagrafe"]})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    password = created.get_data(as_text=True).split('<code id="nuova-password">', 1)[1].split("<", 1)[0]
    anna = app.test_client()
    assert log_in(anna, "anna@example.org", password).status_code == 302
    assert anna.get("/staff/servizi/tributi?anno=2025").status_code in (403, 404)
    (anna_id,) = in_db(app, select(User.id).filter_by(email="anna@example.org"))[0]
    # The tick left from her former role is dropped: the page says the other roles see everything.
    edited = client.post(f"/staff/utenti/{anna_id}", data={"csrf_token": token, "ruolo": "trasparenza",
                                                           "servizi": ["anagrafe"]})
    assert edited.status_code == 302
    assert in_db(app, select(User.ruolo, func.count(UserScope.servizio_id)).outerjoin(UserScope)
                 .filter(User.email == "anna@example.org").group_by(User.ruolo)) == [("trasparenza", 0)]
    assert anna.get("/staff/").status_code == 302  # a changed role ends her session: she logs in again
    # Deactivating and resetting end sessions at once: each asks a second click first, and without it does nothing.
    assert client.post(f"/staff/utenti/{anna_id}/stato", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/staff/utenti/{anna_id}/password", data={"csrf_token": token}).status_code == 302
    assert log_in(app.test_client(), "anna@example.org", password).status_code == 302  # still active, same password
    confirm = {"csrf_token": token, "conferma": "1"}
    assert client.post(f"/staff/utenti/{anna_id}/stato", data=confirm).status_code == 302
    assert log_in(app.test_client(), "anna@example.org", password).status_code == 401  # deactivated
    reset = client.post(f"/staff/utenti/{anna_id}/password", data=confirm)
    assert reset.status_code == 200 and 'id="nuova-password"' in reset.get_data(as_text=True)
    me = in_db(app, select(User.id).filter_by(email="admin@example.org"))[0][0]
    assert "Non si può disattivare il proprio account." in client.post(
        f"/staff/utenti/{me}/stato", data=confirm, follow_redirects=True).get_data(as_text=True)
    with app.app_context():  # details with accents read as written, not as "Cuorgn\u00e8"
        db.session.add(AuditLog(azione="catalogo.modifica", oggetto="ente cuorgne", dettagli={"nome": "Cuorgnè"}))
        db.session.commit()
    accented = client.get("/staff/registro?azione=catalogo.modifica").get_data(as_text=True)
    assert "Cuorgnè" in accented and "\\u00e8" not in accented
    log = client.get("/staff/registro?azione=utente.modifica")
    html = log.get_data(as_text=True)
    assert log.status_code == 200 and "utente anna@example.org" in html and "trasparenza" in html
    assert '<th scope="row">utente.modifica</th>' in html and '<th scope="row">accesso.fallito</th>' not in html
    rows = list(csv.reader(io.StringIO(client.get("/staff/registro.csv?utente=ADMIN").data.decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[0] == ["quando", "utente", "azione", "oggetto", "dettagli"]
    assert {r[2] for r in rows[1:]} >= {"utente.crea", "utente.modifica", "utente.disattiva",
                                        "utente.reimposta_password", "accesso"}
    assert all(r[1] == "admin@example.org" for r in rows[1:])
    # A wrong date is shown beside its field, the entries unfiltered by it (it was a 400 page naming the parameter);
    # the CSV, which must not give other entries than asked, is still a 400.
    for bad, field, message in (("dal=ieri", "dal", "«ieri» non è una data: scrivere per esempio 25/11/2026."),
                                ("dal=0001-01-01", "dal", "L'anno deve essere tra 2000 e 2100."),
                                ("al=9999-12-31", "al", "L'anno deve essere tra 2000 e 2100."),
                                ("dal=2026-03-01&al=2026-02-01", "al", "La data finale viene prima di quella iniziale")):
        page = client.get(f"/staff/registro?azione=utente.modifica&{bad}")
        html = unescape(page.get_data(as_text=True))
        assert page.status_code == 200 and f'aria-describedby="{field}-errore"' in html and message in html, bad
        assert "utente anna@example.org" in html, bad  # the entries, without the wrong date's filter
        assert client.get(f"/staff/registro.csv?{bad}").status_code == 400, bad
    typed = unescape(client.get("/staff/registro?dal=01/01/2000&al=02/01/2000").get_data(as_text=True))
    assert "Nessuna voce con questi filtri." in typed and 'value="2000-01-01"' in typed  # gg/mm/aaaa understood
    for bad in ("pagina=0", "pagina=%C2%B2", "pagina=99999999999999999999"):
        assert client.get(f"/staff/registro?{bad}").status_code == 400, bad
    assert client.get("/staff/registro?endpoint=x&_method=DELETE").status_code == 200  # unknown keys ignored
    assert len(client.get("/staff/registro?dal=2000-01-01&al=2000-01-02").get_data(as_text=True)) > 0
    assert "Nessuna voce con questi filtri." in client.get("/staff/registro?dal=2000-01-01&al=2000-01-02").get_data(
        as_text=True)
    assert anna.get("/staff/utenti/").status_code == 302


def test_after_an_error_the_focus_goes_where_the_person_must_act(app, client, runner):
    """After a staff form came back with errors the focus stayed at the top of the page, and after a refused login
    too (a keyboard and screen reader walk-through): the first field in error takes it, or the password."""
    import re

    with_catalogue(app)
    login(client, runner, "admin@example.org", "--role", "admin")
    page = client.get("/staff/password").get_data(as_text=True)
    wrong = client.post("/staff/password", data={"csrf_token": csrf_token(page), "attuale": "",
                                                 "nuova": "corta", "conferma": "altra"}).get_data(as_text=True)
    focused = re.findall(r'<input[^>]*\bautofocus\b[^>]*>', wrong)
    assert len(focused) == 1 and 'id="attuale"' in focused[0] and 'aria-invalid="true"' in focused[0]
    later = client.post("/staff/password", data={"csrf_token": csrf_token(page), "attuale": "qualcosa",
                                                 "nuova": "corta", "conferma": "corta"}).get_data(as_text=True)
    assert re.findall(r'<input[^>]*\bautofocus\b[^>]*>', later)[0].count('id="nuova"') == 1
    fresh = app.test_client()
    form = fresh.get("/staff/login").get_data(as_text=True)
    assert "autofocus" not in form
    refused = fresh.post("/staff/login", data={"csrf_token": csrf_token(form), "email": "admin@example.org",
                                                "password": "sbagliata"}).get_data(as_text=True)
    focused = re.findall(r'<input[^>]*\bautofocus\b[^>]*>', refused)
    assert len(focused) == 1 and 'id="password"' in focused[0] and "Email o password non corretti." in refused
    assert 'value="admin@example.org"' in refused  # the e-mail is kept
