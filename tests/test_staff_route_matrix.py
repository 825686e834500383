"""Every staff route from the app's URL map, for every role, with real objects behind each URL part.

The roles each route admits are read from the route itself (``roles_required`` records them), so a new route is
checked without anyone adding it here: each role gets 200 where it is admitted and 403 elsewhere, every POST
without a CSRF token is refused with nothing written, and every POST a role is not admitted to is a 403.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter

from survey_app.models import (
    AuditLog,
    AzioneMiglioramento,
    ImportBatch,
    Rilevazione,
    Risposta,
    Sede,
    Servizio,
    Standard,
    User,
)
from survey_app.users import create_user

from .helpers import add_answers, csrf_token, log_in

ROLES = ("admin", "trasparenza", "responsabile", "rilevatore")
# Routes every logged-in account reaches (each checks the role inside, where it matters).
EVERY_ACCOUNT = {"staff.dashboard", "staff.password", "staff.logout"}
FORMATS = {"qr.poster": "pdf", "publishing.report": "pdf", "imports.template_file": "csv"}
# Pages that take their object from the query string.
QUERY = {"actions.create": {"servizio": "anagrafe"}, "publishing.preview": {"anno": "2025"}}
# URLs whose object cannot exist in a fresh database: an upload's error report names a file of a past upload.
NO_OBJECT = {"imports.errors_csv"}


@pytest.fixture
def world(app, db, catalogue):
    """One of everything a staff URL can name, and an account per role."""
    add_answers(db, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5, "D7": "Un commento"})
    anagrafe = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    batch = ImportBatch(fonte="Doxa", metodo="CATI", nome_file="x.csv", sha256="1" * 64, righe=1, righe_scartate=1,
                        righe_escluse=[[2, "D1", "9", "valore non ammesso"]])
    campaign = Rilevazione(codice="matrice", titolo="Matrice", questionario=anagrafe.questionario,
                           data_inizio=date(2031, 1, 1), data_fine=date(2031, 2, 1), servizi=[anagrafe])
    action = AzioneMiglioramento(servizio=anagrafe, indicatore="quota_soddisfatti", domanda_codice="D3",
                                 titolo="Più sportelli", descrizione="Un secondo sportello", ufficio_id=anagrafe.ufficio_id,
                                 data_inizio=date(2025, 1, 1), data_scadenza=date(2025, 12, 31), stato="pianificata")
    db.add_all([batch, campaign, action])
    db.commit()
    # The batch brought an answer to anagrafe, the scope's service: its page is the office manager's to read.
    add_answers(db, "anagrafe", datetime(2025, 3, 4, 10), {"D3": 4}, canale="telefono", import_batch=batch)
    passwords = {}
    for role in ROLES:
        scope = ["anagrafe"] if role in ("responsabile", "rilevatore") else []
        _user, passwords[role] = create_user(db, f"{role}@matrice.it", role, scope=scope,
                                             firm="Doxa" if role == "rilevatore" else None)
    db.commit()
    values = {
        "slug": "anagrafe", "servizio": "anagrafe", "anno": 2025, "code": "breve", "codice": "D3",
        "name": "indicatori", "sha256": "0" * 64,
        "action_id": action.id, "campaign_id": campaign.id, "batch_id": batch.id,
        "sede_id": db.scalar(select(Sede.id).filter_by(servizio_id=anagrafe.id, codice="sportello-1")),
        "standard_id": db.scalar(select(Standard.id).filter_by(servizio_id=anagrafe.id).limit(1)),
        "user_id": db.scalar(select(User.id).filter_by(email="trasparenza@matrice.it")),
        "risposta_id": db.scalar(select(Risposta.id).where(Risposta.testo.is_not(None))),
        "token_id": 1,
    }
    return {"values": values, "passwords": passwords}


def staff_rules(app, method: str, values: dict) -> list[tuple[str, str, tuple[str, ...] | None]]:
    """(endpoint, URL, roles it admits or None for any account) for each route under /staff taking ``method``."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or method not in rule.methods or rule.endpoint == "staff.login":
            continue
        args = {name: values.get(name, 1) for name in rule.arguments}
        if "fmt" in rule.arguments:
            args["fmt"] = FORMATS.get(rule.endpoint, "csv")
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                args[name] = sorted(converter.items)[0]
        with app.test_request_context():
            url = url_for(rule.endpoint, **args, **QUERY.get(rule.endpoint, {}))
        found.append((rule.endpoint, url, getattr(app.view_functions[rule.endpoint], "roles", None)))
    return sorted(found)


def test_every_staff_route_states_the_roles_it_admits(app):
    for endpoint, url, roles in staff_rules(app, "GET", {}) + staff_rules(app, "POST", {}):
        assert roles is not None or endpoint in EVERY_ACCOUNT, f"{endpoint} ({url}) checks no role"
        assert roles is None or "admin" in roles, endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_every_page_it_is_admitted_to_and_no_other(app, world, role):
    client = app.test_client()
    log_in(client, f"{role}@matrice.it", world["passwords"][role])
    checked = 0
    for endpoint, url, roles in staff_rules(app, "GET", world["values"]):
        response = client.get(url)
        if roles is not None and role not in roles:
            assert response.status_code == 403, (role, url)
            # The way back from a refused staff page leads to the staff area, not to the citizens' list.
            assert "Torna all'area riservata" in response.get_data(as_text=True), (role, url)
        elif endpoint in NO_OBJECT:
            assert response.status_code == 404, (role, url)
        elif endpoint == "staff.dashboard" and role == "rilevatore":
            assert response.status_code == 302 and response.headers["Location"].endswith("/staff/importazioni/")
        else:
            assert response.status_code == 200, (role, url, response.status_code)
            checked += 1
    assert checked >= {"admin": 30, "trasparenza": 12, "responsabile": 12, "rilevatore": 4}[role]


def test_every_staff_post_without_its_csrf_token_is_refused_and_writes_nothing(app, world, db):
    client = app.test_client()
    log_in(client, "admin@matrice.it", world["passwords"]["admin"])
    audit = db.scalar(select(func.count()).select_from(AuditLog))
    rules = staff_rules(app, "POST", world["values"])
    assert len(rules) >= 25
    for _endpoint, url, _roles in rules:
        response = client.post(url, data={"stato": "letto", "titolo": "x"})
        assert response.status_code == 400, url
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditLog)) == audit
    assert client.get("/staff/password").status_code == 200  # still logged in: logout needs its token too


@pytest.mark.parametrize("role", ("trasparenza", "responsabile", "rilevatore"))
def test_a_post_a_role_is_not_admitted_to_is_a_403(app, world, db, role):
    client = app.test_client()
    log_in(client, f"{role}@matrice.it", world["passwords"][role])
    token = csrf_token(client.get("/staff/password").get_data(as_text=True))
    audit = db.scalar(select(func.count()).select_from(AuditLog))
    refused = 0
    for _endpoint, url, roles in staff_rules(app, "POST", world["values"]):
        if roles is not None and role not in roles:
            assert client.post(url, data={"csrf_token": token, "stato": "letto"}).status_code == 403, (role, url)
            refused += 1
    assert refused >= 10
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditLog)) == audit
