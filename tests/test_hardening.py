"""Findings of a probe, each fixed at its root: one-time tokens spent once whatever is appended to them, citizens'
channels only, control characters refused before any view, an Italian page for our own faults, a favicon."""

from __future__ import annotations

from sqlalchemy import func, select

from survey_app.models import Compilazione, Risposta, Servizio

from .helpers import hidden_fields


def stored(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Compilazione))


def test_a_token_with_junk_appended_is_the_same_token(client, catalogue):
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    assert client.post("/s/anagrafe", data={**fields, "D3": "4"}).status_code == 302
    for junk in ("!!", "~~", "@@", "=", "==", "\u00a0"):
        response = client.post("/s/anagrafe", data={**fields, "form_token": fields["form_token"] + junk, "D3": "4"})
        assert response.status_code in (302, 422), junk
    assert stored(catalogue) == 1


def test_the_public_form_takes_only_the_channels_a_citizen_uses(client, catalogue):
    for asked, kept in (("telefono", "web"), ("carta", "web"), ("chiosco", "web"), ("qr", "qr"), ("email", "email")):
        url = f"/s/anagrafe?canale={asked}"
        fields = hidden_fields(client.get(f"{url}&nuovo=1").get_data(as_text=True))
        before = set(catalogue.scalars(select(Compilazione.id)))
        assert client.post(url, data={**fields, "D3": "4"}).status_code == 302
        catalogue.expire_all()
        (new,) = [c for c in catalogue.scalars(select(Compilazione)) if c.id not in before]  # keys are random
        assert new.canale == kept, asked


def test_control_characters_are_a_400_in_italian_on_both_databases(client, catalogue, runner):
    for url in ("/s/a%00b", "/s/anagrafe?canale=%00", "/s/anagrafe?sede=a%01b", "/staff/login?next=/%0a",
                "/trasparenza/?anno=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "caratteri di controllo" in response.get_data(as_text=True)
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    response = client.post("/s/anagrafe", data={**fields, "D3": "4", "D7": "buono\x00"})
    assert response.status_code == 400 and stored(catalogue) == 0
    # Line breaks and tabs are a comment's own: kept (a break as one "\n", as the browser's maxlength counts it).
    response = client.post("/s/anagrafe", data={**fields, "D3": "4", "D7": "buono\r\nmolto\tbuono"})
    assert response.status_code == 302
    assert catalogue.scalar(select(Risposta.testo).where(Risposta.testo.is_not(None))) == "buono\nmolto\tbuono"


def test_a_fault_of_ours_is_an_italian_page_without_details(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/prova-guasto")
    def broken():
        raise RuntimeError("dettaglio interno che nessuno deve leggere")

    response = app.test_client().get("/prova-guasto")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Errore del server" in text and '<html lang="it">' in text and "dettaglio interno" not in text
    english = app.test_client().get("/prova-guasto?lang=en").get_data(as_text=True)
    assert "Server error" in english


def test_the_favicon_is_served(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert response.data.startswith(b"<svg") and "max-age=86400" in response.headers["Cache-Control"]
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)


def test_posters_print_the_address_the_site_is_served_at(app, catalogue):
    from survey_app.qr.service import poster_for

    anagrafe = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    app.config["PUBLIC_BASE_URL"] = ""
    with app.test_request_context("/staff/qr/", base_url="https://sondaggi.comune.example"):
        assert poster_for(anagrafe, "sportello-1").url.startswith("https://sondaggi.comune.example/s/anagrafe")
    app.config["PUBLIC_BASE_URL"] = "https://www.comune.example.it/"
    with app.test_request_context("/staff/qr/", base_url="http://10.0.0.5:8000"):
        assert poster_for(anagrafe).url.startswith("https://www.comune.example.it/s/anagrafe")


def test_back_after_sending_finds_a_notice_not_a_second_form(client, catalogue):
    url = "/s/anagrafe?canale=qr&sede=sportello-1"
    page = client.get(url)
    assert page.headers["Cache-Control"] == "no-store"  # Back asks the server again…
    fields = hidden_fields(page.get_data(as_text=True))
    assert client.post(url, data={**fields, "D3": "4"}).status_code == 302
    again = client.get(url)  # …which says the answers arrived
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and "Le tue risposte sono già arrivate" in text
    assert 'name="form_token"' not in text and again.headers["Cache-Control"] == "no-store"
    # The form restored from the browser's memory carries a spent token: nothing more is stored.
    assert client.post(url, data={**fields, "D3": "5"}).status_code == 302
    assert stored(catalogue) == 1
    # Another person at the same tablet answers on purpose, through the notice's link (channel and counter kept).
    assert "/s/anagrafe?nuovo=1&amp;canale=qr&amp;sede=sportello-1" in text
    fields = hidden_fields(client.get("/s/anagrafe?nuovo=1&canale=qr&sede=sportello-1").get_data(as_text=True))
    assert client.post("/s/anagrafe?canale=qr&sede=sportello-1", data={**fields, "D3": "2"}).status_code == 302
    assert stored(catalogue) == 2
    # Other services are not concerned.
    assert 'name="form_token"' in client.get("/s/tributi").get_data(as_text=True)


def test_every_route_sends_the_security_headers(app, client, catalogue):
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments:
            continue
        response = client.get(rule.rule)
        headers = response.headers
        assert "script-src 'self' 'nonce-" in headers["Content-Security-Policy"], rule.rule
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # not outside production
        response.close()
        checked += 1
    assert checked >= 15
    # Error pages too.
    assert "Content-Security-Policy" in client.get("/s/nessuno").headers


def test_production_adds_hsts_and_secure_cookies(tmp_path, monkeypatch, database_url):
    from survey_app import create_app

    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    from survey_app.extensions import db

    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/privacy", base_url="https://sondaggi.comune.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        db.engine.dispose()  # the privacy notice read the enti: close the pool's connection now, not at GC time


def test_spent_tokens_older_than_two_days_are_dropped(client, catalogue):
    """Spent tokens are kept only while a token could still come back (a day): a submission drops the older ones."""
    from datetime import date, timedelta

    from survey_app.models import FormToken

    catalogue.add_all([FormToken(impronta="a" * 64, giorno=date.today() - timedelta(days=5)),
                       FormToken(impronta="b" * 64, giorno=date.today() - timedelta(days=1))])
    catalogue.commit()
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    assert client.post("/s/anagrafe", data={**fields, "D3": "4"}).status_code == 302
    catalogue.expire_all()
    kept = set(catalogue.scalars(select(FormToken.impronta)))
    assert "a" * 64 not in kept and "b" * 64 in kept and len(kept) == 2
    # Once a day per process: a later submission the same day leaves an old token for tomorrow's first one.
    catalogue.add(FormToken(impronta="c" * 64, giorno=date.today() - timedelta(days=7)))
    catalogue.commit()

    def spend_one() -> set[str]:
        fields = hidden_fields(client.get("/s/anagrafe?nuovo=1").get_data(as_text=True))
        assert client.post("/s/anagrafe", data={**fields, "D3": "4"}).status_code == 302
        catalogue.expire_all()
        return set(catalogue.scalars(select(FormToken.impronta)))

    assert "c" * 64 in spend_one()
    client.application.extensions["form_tokens_dropped_on"] = date.today() - timedelta(days=1)  # the next day
    assert "c" * 64 not in spend_one()


def test_an_out_of_range_importance_is_named_next_to_its_field(client, catalogue):
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    response = client.post("/s/anagrafe", data={**fields, "D1": "4", "D1__importanza": "9", "D3": "4"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and stored(catalogue) == 0
    assert 'id="D1__importanza-errore"' in html and 'aria-describedby="D1__importanza-errore"' in html
    assert "Risposta non ammessa" in html.split('id="D1__importanza-errore"')[1].split("</p>")[0]
    summary = html.split('id="riepilogo-errori"')[1].split("</div>")[0]
    assert "(importanza)" in summary and "Risposta non ammessa" in summary
    assert "</a> (importanza) – Risposta non ammessa" in summary  # not "soddisfatto?: …"


def test_a_form_refused_by_the_csrf_check_is_logged_with_its_reason(client, catalogue, runner, caplog):
    """Behind a proxy that drops the port from Host, every form over HTTPS was "scaduto" and nothing said why
    (a deploy walk-through on port 8380): the log now names the check's reason, and neither address nor token."""
    https = {"base_url": "https://sondaggi.comune.example:8443"}
    fields = hidden_fields(client.get("/s/anagrafe", **https).get_data(as_text=True))
    with caplog.at_level("WARNING"):
        response = client.post("/s/anagrafe", data={**fields, "D3": "4"}, **https,
                               headers={"Referer": "https://sondaggi.comune.example/s/anagrafe"})
    assert response.status_code == 400 and stored(catalogue) == 0
    (line,) = [r.getMessage() for r in caplog.records if "controllo CSRF" in r.getMessage()]
    assert line == "modulo rifiutato dal controllo CSRF: The referrer does not match the host."
    assert fields["csrf_token"] not in line
    caplog.clear()
    with caplog.at_level("WARNING"):  # the staff's forms and the kiosk's too
        assert client.post("/staff/login", data={"email": "a@b.it", "password": "x"}).status_code == 400
        assert client.post("/k/anagrafe?sede=sportello-1", data={"D1": "3"}).status_code == 400
    reasons = [r.getMessage() for r in caplog.records if "controllo CSRF" in r.getMessage()]
    assert reasons == ["modulo rifiutato dal controllo CSRF: The CSRF token is missing."] * 2
