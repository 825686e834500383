"""Turn a validated questionnaire form into one Compilazione, its Risposta rows and their daily counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import summary
from ..campaigns import RUNNING_CAMPAIGN
from ..models import CITIZEN_CHANNELS, Compilazione, Domanda, QuestionarioVersione, Risposta, Sede, Servizio
from ..models.base import random_key, random_keys
from .forms import NON_SO
from .lookup import CurrentVersion, PublicService

WEB = "web"


def current_hour(timezone: str) -> datetime:
    """Local time truncated to the hour: the finest time an answer is ever stored with."""
    return datetime.now(ZoneInfo(timezone)).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def resolve_channel(servizio: Servizio | PublicService, canale: str | None, sede_code: str | None,
                    allowed: tuple[str, ...] = CITIZEN_CHANNELS) -> tuple[str, Sede | None]:
    """The channel if the caller allows it, else web, and the service's counter: other values (a firm's telefono or
    carta on the public form, unknown ones) are dropped, never errors."""
    channel = canale if canale in allowed else WEB
    sede = next((s for s in servizio.sedi if s.codice == sede_code), None) if sede_code else None
    return channel, sede


def _items(domande: list[Domanda], answers: dict[str, Any], importance: dict[str, Any]) -> list[tuple[Domanda, dict]]:
    """The answered items as (question, column values); follow-ups whose condition does not hold are dropped."""
    items: list[tuple[Domanda, dict]] = []
    for domanda in domande:
        value = answers.get(domanda.codice)
        imp = importance.get(domanda.codice)
        imp_value = int(imp) if imp not in (None, "") else None
        if value in (None, "", []) and imp_value is None:
            continue
        if not domanda.shown_for(answers):
            continue
        if domanda.tipo == "scelta_multipla":
            items += [(domanda, {"opzione": code}) for code in value]
        elif domanda.tipo == "scelta_singola":
            items.append((domanda, {"opzione": value}))
        elif domanda.tipo == "testo":
            text = value.strip()
            if text:
                items.append((domanda, {"testo": text}))
        elif value == NON_SO:
            items.append((domanda, {"non_so": True, "importanza": imp_value}))
        else:
            items.append((domanda, {"valore": int(value) if value not in (None, "") else None,
                                    "importanza": imp_value}))
    return items


def item_rows(domande: list[Domanda], answers: dict[str, Any], importance: dict[str, Any]) -> list[Risposta]:
    """One ORM row per answered item (per chosen option for multiple choice), for answers added to a stored
    questionnaire (the kiosk's reasons): the counts follow through the ORM hook in summary.py."""
    return [Risposta(domanda=domanda, **values) for domanda, values in _items(domande, answers, importance)]


ITEM_COLUMNS = ("valore", "opzione", "testo", "importanza", "non_so")
# The campaign running on the day, if any, found inside the INSERT itself (campaigns.py).
INSERT_COMPILAZIONE = insert(Compilazione.__table__).values(rilevazione_id=RUNNING_CAMPAIGN)
INSERT_RISPOSTE = insert(Risposta.__table__)


def store_submission(session: Session, servizio: Servizio | PublicService,
                     versione: QuestionarioVersione | CurrentVersion, *,
                     answers: dict[str, Any], importance: dict[str, Any], canale: str | None,
                     sede: str | None, lingua: str, timezone: str, once=None,
                     channels: tuple[str, ...] = CITIZEN_CHANNELS,
                     domande: list[Domanda] | None = None) -> int | None:
    """Store one submission and its daily counts in one transaction; returns its key, or None (and stores
    nothing) when no item was answered or ``once`` found its token spent.

    ``once`` (optional) is called inside the same transaction to spend a one-time token: if the token was already
    used, the whole submission is rolled back. The rows go in as three statements (questionnaire, items, counts),
    not through the ORM's unit of work: this is the path every citizen takes.
    """
    items = _items(domande if domande is not None else list(versione.domande), answers, importance)
    if not items:
        return None
    channel, counter = resolve_channel(servizio, canale, sede, channels)
    key, when = random_key(), current_hour(timezone)
    sede_id = counter.id if counter else None
    connection = session.connection()  # Core on the session's transaction: none of the ORM's bookkeeping
    connection.execute(INSERT_COMPILAZIONE, {
        "id": key, "servizio_id": servizio.id, "versione_id": versione.id, "data_ora": when, "canale": channel,
        "sede_id": sede_id, "lingua": lingua, "import_batch_id": None,
        "campaign_servizio": servizio.id, "campaign_versione": versione.id, "campaign_day": when.date()})
    rows = [{"id": item_key, "compilazione_id": key, "domanda_id": domanda.id,
             **{column: values.get(column, False if column == "non_so" else None) for column in ITEM_COLUMNS}}
            for item_key, (domanda, values) in zip(random_keys(len(items)), items, strict=True)]
    connection.execute(INSERT_RISPOSTE, rows)
    counts = summary.BatchCounts({domanda.id: domanda.tipo for domanda, _values in items})
    counts.add([(servizio.id, when, channel, sede_id, lingua, 0)],
               [[(r["domanda_id"], r["valore"], r["opzione"], r["importanza"], r["non_so"]) for r in rows]])
    summary.upsert_counts(connection, counts.rows())
    try:
        if once is not None:
            once(session)
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return key
