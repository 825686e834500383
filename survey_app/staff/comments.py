"""Citizens' free-text comments for the services in the user's scope: read, filter, mark, redact.

Comments never leave the staff area: there is no download of them. Redacting or deleting changes the text only:
the answer row stays, so the daily counts (riepilogo_risposte) and every indicator are unchanged. The audit log
records who, which answer and how long the text was, never the text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

import pandas as pd
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import aliased

from analysis.services import RATED_TYPES, overall_question

from ..errors import bad_parameter
from ..extensions import db
from ..models import AuditLog, CommentoStato, Compilazione, Domanda, QuestionarioVersione, Risposta, Servizio
from ..models.base import utcnow
from . import bp
from .access import RESULT_READERS, can_edit_actions, roles_required
from .routes import visible_services
from .selection import data_years

PAGE = 50
REDACTED = "[testo oscurato: conteneva dati personali]"
FILTERS = ("anno", "servizio", "domanda", "voto", "stato", "q")
SCORE_BANDS = ("basso", "medio", "alto")
STATE_FILTERS = ("nuovo", "letto", "gestito", "oscurato")
MARKS = ("letto", "gestito")
YEAR = re.compile(r"[12][0-9]{3}")
CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
NO_STORE = {"Cache-Control": "no-store"}


def band(value: int, low: int, high: int) -> str:
    """The third of its scale a score falls in: basso under a third of the range, alto over two thirds."""
    span, offset = high - low, 3 * (value - low)
    return "basso" if offset < span else "alto" if offset > 2 * span else "medio"


def overall_items() -> dict[int, dict]:
    """For each questionnaire version, its overall rated item (the rule of the service page, D3 in 'breve')."""
    columns = ["id", "versione_id", "codice", "tipo", "posizione", "obbligatoria", "scala_min", "scala_max"]
    rows = db.session.execute(select(*(getattr(Domanda, c) for c in columns))
                              .where(Domanda.tipo.in_(RATED_TYPES))).all()
    items = {}
    for versione_id, group in pd.DataFrame(rows, columns=columns).groupby("versione_id"):
        code = overall_question(group)
        item = group[group["codice"] == code].iloc[0]
        items[int(versione_id)] = {"id": int(item["id"]), "codice": code, "tipo": item["tipo"],
                                   "min": int(item["scala_min"]), "max": int(item["scala_max"])}
    return items


def _score_clause(score, items: dict[int, dict], wanted: str):
    """The comments whose questionnaire gave its overall item a value in the wanted third."""
    versions = defaultdict(list)  # versions grouped by scale, so that the clause stays short
    for versione_id, item in items.items():
        versions[(item["min"], item["max"])].append(versione_id)
    clauses = [and_(Compilazione.versione_id.in_(ids),
                    score.in_([v for v in range(low, high + 1) if band(v, low, high) == wanted]))
               for (low, high), ids in versions.items()]
    return or_(*clauses) if clauses else false()


def text_questions(services: list[Servizio]) -> dict[str, str]:
    """The free-text questions of these services' questionnaires: code to text (of the newest version)."""
    ids = {s.questionario_id for s in services} | ({s.questionario_chiosco_id for s in services} - {None})
    english = str(get_locale() or "it") == "en"
    rows = db.session.execute(select(Domanda.codice, Domanda.testo_it, Domanda.testo_en).join(QuestionarioVersione)
                              .where(Domanda.tipo == "testo", QuestionarioVersione.questionario_id.in_(ids))
                              .order_by(Domanda.codice, QuestionarioVersione.numero)).all()
    # The newest version's text wins; in English where the catalogue gives it.
    return {code: (text_en if english and text_en else text_it) for code, text_it, text_en in rows}


def _filters() -> dict[str, str]:
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    wrong = {"anno": chosen["anno"] and not YEAR.fullmatch(chosen["anno"]),
             "domanda": chosen["domanda"] and not CODE.fullmatch(chosen["domanda"]),
             "voto": chosen["voto"] and chosen["voto"] not in SCORE_BANDS,
             "stato": chosen["stato"] and chosen["stato"] not in STATE_FILTERS,
             "q": len(chosen["q"]) > 200 or any(ord(c) < 32 for c in chosen["q"])}
    for name, bad in wrong.items():
        if bad:
            bad_parameter(name)  # the page names it
    return chosen


def _page() -> int:
    page = request.args.get("pagina", "1")
    if not PAGE_NUMBER.fullmatch(page):
        bad_parameter("pagina")
    return int(page)


@bp.get("/commenti", strict_slashes=False)  # /commenti/ too, as the other staff lists end
@roles_required(*RESULT_READERS)
def comments():
    chosen, page = _filters(), _page()
    services = db.session.scalars(visible_services()).all()
    scope = services
    if chosen["servizio"]:
        scope = [s for s in services if s.slug == chosen["servizio"]]
        if not scope:
            abort(404)  # unknown, or outside the user's scope: the same answer for both
    questions = text_questions(scope)
    if chosen["domanda"] and chosen["domanda"] not in questions:
        abort(404)
    items = overall_items()
    other = aliased(Risposta)
    score = (select(other.valore).where(other.compilazione_id == Compilazione.id, other.valore.is_not(None),
                                        other.domanda_id.in_([i["id"] for i in items.values()]))
             .order_by(other.domanda_id).limit(1).correlate(Compilazione).scalar_subquery())
    query = (select(Risposta, Compilazione, Servizio, Domanda, CommentoStato.stato, score)
             .join(Compilazione, Compilazione.id == Risposta.compilazione_id)
             .join(Servizio, Servizio.id == Compilazione.servizio_id)
             .join(Domanda, Domanda.id == Risposta.domanda_id)
             .outerjoin(CommentoStato, CommentoStato.risposta_id == Risposta.id)
             .where(Domanda.tipo == "testo", Risposta.testo.is_not(None),
                    Compilazione.servizio_id.in_([s.id for s in scope])))
    if chosen["anno"]:
        year = int(chosen["anno"])
        query = query.where(Compilazione.data_ora >= datetime(year, 1, 1), Compilazione.data_ora < datetime(year + 1, 1, 1))
    if chosen["domanda"]:
        query = query.where(Domanda.codice == chosen["domanda"])
    if chosen["voto"]:
        query = query.where(_score_clause(score, items, chosen["voto"]))
    if chosen["stato"]:
        query = query.where(CommentoStato.stato.is_(None) if chosen["stato"] == "nuovo"
                            else CommentoStato.stato == chosen["stato"])
    if chosen["q"]:
        query = query.where(func.lower(Risposta.testo).contains(chosen["q"].lower(), autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = db.session.execute(query.order_by(Compilazione.data_ora.desc(), Risposta.id.desc())
                               .limit(PAGE + 1).offset((page - 1) * PAGE)).all()
    rows = []
    for risposta, compilazione, servizio, domanda, stato, value in found[:PAGE]:
        item = items.get(compilazione.versione_id)
        rows.append({"id": risposta.id, "quando": compilazione.data_ora, "servizio": servizio, "domanda": domanda,
                     "testo": risposta.testo, "stato": stato or "nuovo", "voto": value,
                     "voto_domanda": item if value is not None else None,
                     "fascia": band(value, item["min"], item["max"]) if value is not None and item else None,
                     "modificabile": can_edit_actions(servizio)})
    years = data_years([s.id for s in services])
    if chosen["anno"] and int(chosen["anno"]) not in years:
        years = sorted({*years, int(chosen["anno"])}, reverse=True)
    args = {name: value for name, value in chosen.items() if value}
    return render_template("staff/comments.html", rows=rows, total=total, page=page, more=len(found) > PAGE,
                           chosen=chosen, args=args, services=services, questions=questions, years=years,
                           bands=SCORE_BANDS, states=STATE_FILTERS, redacted=REDACTED), 200, NO_STORE


def _comment(risposta_id: int) -> tuple[Risposta, Servizio]:
    """A free-text answer of a service the user may see; 404 for anything else (existence is not revealed)."""
    row = db.session.execute(
        select(Risposta, Servizio).join(Compilazione, Compilazione.id == Risposta.compilazione_id)
        .join(Servizio, Servizio.id == Compilazione.servizio_id).join(Domanda, Domanda.id == Risposta.domanda_id)
        .where(Risposta.id == risposta_id, Domanda.tipo == "testo", Risposta.testo.is_not(None))).first()
    if row is None or not current_user.can_see(row[1]):
        abort(404)
    return row[0], row[1]


def _set_state(risposta: Risposta, stato: str) -> None:
    state = db.session.get(CommentoStato, risposta.id) or CommentoStato(risposta_id=risposta.id)
    state.stato, state.aggiornato_da, state.aggiornato_il = stato, current_user.id, utcnow()
    db.session.add(state)


def _back(risposta_id: int):
    """Back to the list as it was filtered: a path of this site, built here from the known parameters only."""
    args = {name: value for name in (*FILTERS, "pagina") if (value := request.args.get(name, "").strip())}
    return redirect(url_for("staff.comments", **args, _anchor=f"commento-{risposta_id}"))


def _state_of(risposta_id: int) -> str | None:
    return db.session.scalar(select(CommentoStato.stato).where(CommentoStato.risposta_id == risposta_id))


@bp.post("/commenti/<key:risposta_id>/stato")
@roles_required(*RESULT_READERS)
def comment_state(risposta_id: int):
    risposta, _servizio = _comment(risposta_id)
    stato = request.form.get("stato", "")
    if stato not in MARKS:
        abort(400)
    if _state_of(risposta.id) == "oscurato":
        flash(_("Il commento è oscurato: il suo stato non cambia."), "info")
    else:
        _set_state(risposta, stato)
        db.session.commit()
        flash(_("Commento segnato come letto.") if stato == "letto" else _("Commento segnato come gestito."),
              "success")
    return _back(risposta.id)


def _remove(risposta_id: int, text: str, action: str):
    """Redact or delete: the text replaced, the state 'oscurato', an audit entry with the length only."""
    risposta, servizio = _comment(risposta_id)
    if not can_edit_actions(servizio):
        abort(403)
    if request.form.get("conferma") != "1":  # neither can be undone: the page asks first
        abort(400)
    if risposta.testo in (text, "") and _state_of(risposta.id) == "oscurato":
        flash(_("Il commento era già stato oscurato o eliminato."), "info")
        return _back(risposta.id)
    length = len(risposta.testo)
    risposta.testo = text
    _set_state(risposta, "oscurato")
    db.session.add(AuditLog(utente_id=current_user.id, azione=action, oggetto=f"risposta {risposta.id}",
                            dettagli={"servizio": servizio.slug, "lunghezza": length}))
    db.session.commit()
    flash(_("Testo del commento oscurato.") if text else _("Testo del commento eliminato."), "success")
    return _back(risposta.id)


@bp.post("/commenti/<key:risposta_id>/oscura")
@roles_required(*RESULT_READERS)
def comment_redact(risposta_id: int):
    return _remove(risposta_id, REDACTED, "commento.oscura")


@bp.post("/commenti/<key:risposta_id>/elimina")
@roles_required(*RESULT_READERS)
def comment_delete(risposta_id: int):
    return _remove(risposta_id, "", "commento.elimina")
