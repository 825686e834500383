"""The staff route matrix, built from the app's URL map: anonymous visitors go to the login, each role reaches
what it may and gets 403 elsewhere, and a responsabile never reaches another service's data."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from werkzeug.routing import AnyConverter

from .helpers import add_answers, login

SAMPLE_ARGS = {"slug": "anagrafe", "servizio": "anagrafe", "anno": 2025, "year": 2025, "code": "breve", "fmt": "csv",
               "sha256": "0" * 64, "filename": "x.csv", "name": "x", "ext": "pdf", "versione": 1}
ADMIN_ONLY = ("users.", "api_tokens.", "staff.campaign", "staff.close_campaign", "staff.delete_campaign",
              "staff.catalogue", "imports.rollback")


def staff_get_rules(app):
    """(endpoint, url) for every GET route under /staff, with sample values for its parts."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in rule.methods:
            continue
        args = {name: SAMPLE_ARGS.get(name, 1) for name in rule.arguments}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                args[name] = sorted(converter.items)[0]
        with app.test_request_context():
            found.append((rule.endpoint, url_for(rule.endpoint, **args)))
    return found


def test_anonymous_visitors_are_sent_to_the_login_from_every_staff_page(app, client):
    rules = staff_get_rules(app)
    assert len(rules) >= 20
    for endpoint, url in rules:
        response = client.get(url)
        if endpoint == "staff.login":
            assert response.status_code == 200
        else:
            assert response.status_code == 302 and "/staff/login" in response.headers["Location"], url


# Imports pages a transparency officer and an office manager read (imports/batches.py): the list and a batch's page.
BATCH_PAGES = {"imports.index", "imports.batch"}


def test_transparency_officers_and_managers_get_403_on_admin_pages(app, catalogue, client, runner):
    login(client, runner, "t@comune.it", "--role", "trasparenza")
    for endpoint, url in staff_get_rules(app):
        if endpoint.startswith(ADMIN_ONLY) or (endpoint.startswith("imports.") and endpoint not in BATCH_PAGES):
            assert client.get(url).status_code == 403, url


def test_a_manager_never_reaches_another_services_data(app, catalogue, client, runner):
    add_answers(catalogue, "tributi", datetime(2025, 3, 3, 10), {"D3": 2, "D7": "risposta di tributi"})
    add_answers(catalogue, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5})
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    assert client.get("/staff/servizi/tributi?anno=2025").status_code == 404
    assert client.get("/staff/commenti?servizio=tributi").status_code == 404
    assert "risposta di tributi" not in client.get("/staff/commenti").get_data(as_text=True)
    assert "Tributi" not in client.get("/staff/?anno=2025").get_data(as_text=True)
    assert b"tributi" not in client.get("/staff/panoramica.csv?anno=2025").data
    for endpoint, url in staff_get_rules(app):
        if endpoint.startswith(ADMIN_ONLY) or (endpoint.startswith("imports.") and endpoint not in BATCH_PAGES):
            assert client.get(url).status_code == 403, url
    # The batches' pages: read, never changed (a batch without answers of the scope looks like no batch).
    assert client.get("/staff/importazioni/").status_code == 200
    assert client.get("/staff/importazioni/lotti/1").status_code == 404


def test_multiple_choice_lists_say_how_to_choose_several_by_keyboard(app, catalogue, client, runner):
    """"Ctrl (o Cmd) e clic" was the only help on the lists that take several services: a mouse's way alone."""
    from html import unescape

    from sqlalchemy import select

    from survey_app.models import User

    login(client, runner, "a@comune.it", "--role", "admin")
    user_id = catalogue.scalar(select(User.id).filter_by(email="a@comune.it"))
    for url in (f"/staff/utenti/{user_id}", "/staff/token-api/", "/staff/rilevazioni/"):
        html = unescape(client.get(url).get_data(as_text=True))
        assert "con la tastiera, Maiuscolo e frecce per voci di seguito" in html, url
