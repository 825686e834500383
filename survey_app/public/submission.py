"""Turn a validated questionnaire form into one Compilazione and its Risposta rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import CITIZEN_CHANNELS, Compilazione, Domanda, QuestionarioVersione, Risposta, Sede, Servizio
from .forms import NON_SO

WEB = "web"


def current_hour(timezone: str) -> datetime:
    """Local time truncated to the hour: the finest time an answer is ever stored with."""
    return datetime.now(ZoneInfo(timezone)).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def resolve_channel(servizio: Servizio, canale: str | None, sede_code: str | None,
                    allowed: tuple[str, ...] = CITIZEN_CHANNELS) -> tuple[str, Sede | None]:
    """The channel if the caller allows it, else web, and the service's counter: other values (a firm's telefono or
    carta on the public form, unknown ones) are dropped, never errors."""
    channel = canale if canale in allowed else WEB
    sede = next((s for s in servizio.sedi if s.codice == sede_code), None) if sede_code else None
    return channel, sede


def item_rows(domande: list[Domanda], answers: dict[str, Any], importance: dict[str, Any]) -> list[Risposta]:
    """One row per answered item; follow-ups whose condition does not hold are dropped."""
    rows: list[Risposta] = []
    for domanda in domande:
        value = answers.get(domanda.codice)
        imp = importance.get(domanda.codice)
        imp_value = int(imp) if imp not in (None, "") else None
        if value in (None, "", []) and imp_value is None:
            continue
        if not domanda.shown_for(answers):
            continue
        if domanda.tipo == "scelta_multipla":
            rows += [Risposta(domanda=domanda, opzione=code) for code in value]
        elif domanda.tipo == "scelta_singola":
            rows.append(Risposta(domanda=domanda, opzione=value))
        elif domanda.tipo == "testo":
            text = value.strip()
            if text:
                rows.append(Risposta(domanda=domanda, testo=text))
        elif value == NON_SO:
            rows.append(Risposta(domanda=domanda, non_so=True, importanza=imp_value))
        else:
            rows.append(Risposta(domanda=domanda, valore=int(value) if value not in (None, "") else None,
                                 importanza=imp_value))
    return rows


def store_submission(session: Session, servizio: Servizio, versione: QuestionarioVersione, *,
                     answers: dict[str, Any], importance: dict[str, Any], canale: str | None,
                     sede: str | None, lingua: str, timezone: str, once=None,
                     channels: tuple[str, ...] = CITIZEN_CHANNELS) -> Compilazione | None:
    """Store one submission; returns None (and stores nothing) when no item was answered.

    ``once`` (optional) is called inside the same transaction to spend a one-time token: if the
    token was already used the whole submission is rolled back and None is returned.
    """
    rows = item_rows(list(versione.domande), answers, importance)
    if not rows:
        return None
    channel, counter = resolve_channel(servizio, canale, sede, channels)
    compilazione = Compilazione(
        servizio=servizio, versione=versione, data_ora=current_hour(timezone), canale=channel,
        sede=counter, lingua=lingua, risposte=rows,
    )
    session.add(compilazione)
    if once is not None:
        once(session)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return compilazione
