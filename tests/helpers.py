"""Helpers shared by the tests."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select

from survey_app.models import Base, Compilazione, Domanda, Risposta, Servizio

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def add_answers(session, slug: str, when: datetime, values: dict[str, int | str | list[str] | None],
                questionnaire: str | None = None, canale: str = "web", importance: dict[str, int] | None = None,
                non_so: tuple[str, ...] = (), import_batch=None, lingua: str = "it") -> Compilazione:
    """One submission with the given item values (codes to values), straight into the database."""
    servizio = session.scalar(select(Servizio).filter_by(slug=slug))
    q = servizio.questionario if questionnaire is None else servizio.questionario_chiosco
    versione = q.versione_corrente
    by_code = {d.codice: d for d in session.scalars(select(Domanda).filter_by(versione_id=versione.id))}
    rows = []
    for code, value in values.items():
        domanda = by_code[code]
        imp = (importance or {}).get(code)
        if isinstance(value, list):
            rows += [Risposta(domanda=domanda, opzione=v) for v in value]
        elif isinstance(value, str):
            rows.append(Risposta(domanda=domanda, testo=value))
        else:
            rows.append(Risposta(domanda=domanda, valore=value, importanza=imp))
    for code in non_so:
        rows.append(Risposta(domanda=by_code[code], non_so=True))
    compilazione = Compilazione(servizio=servizio, versione=versione, data_ora=when, canale=canale, lingua=lingua,
                                risposte=rows, import_batch=import_batch)
    session.add(compilazione)
    session.commit()
    return compilazione


HIDDEN_RE = re.compile(r'<input[^>]*name="(csrf_token|form_token)"[^>]*value="([^"]*)"|'
                       r'<input[^>]*value="([^"]*)"[^>]*name="(csrf_token|form_token)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The CSRF and one-time tokens of a questionnaire page."""
    fields = {}
    for m in HIDDEN_RE.finditer(html):
        name, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        fields[name] = value
    assert "csrf_token" in fields, "no csrf_token in the page"
    return fields


def submit(client, url: str, data: dict, page: str | None = None):
    """GET the questionnaire at ``url`` and POST ``data`` with its hidden tokens."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**hidden_fields(html), **data})


def login(client, runner, email: str, *options: str) -> str:
    """Create a staff account with `flask users create` and log in with the password it printed (returned)."""
    out = runner.invoke(args=["users", "create", email, *options])
    password = out.output.rsplit(": ", 1)[1].strip()
    log_in(client, email, password)
    return password


def log_in(client, email: str, password: str):
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    return client.post("/staff/login", data={"csrf_token": token, "email": email, "password": password})


def table_counts(session) -> dict[str, int]:
    """The number of rows of every table (a table dropped meanwhile fails the query)."""
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
