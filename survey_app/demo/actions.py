"""Demo improvement actions and the first publication, so that /trasparenza shows a real year on a fresh demo."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import AzioneMiglioramento, Pubblicazione, Servizio

# (service, indicator, question, title, description, start month, months, state, outcome)
ACTIONS = [
    ("anagrafe-stato-civile", "quota_soddisfatti", "D4", "Appuntamenti prenotabili online",
     "Agenda online per la carta d'identità elettronica e i certificati, per ridurre l'attesa allo sportello.",
     2, 6, "completata", "Attesa media allo sportello scesa da 25 a 12 minuti."),
    ("tributi", "quota_soddisfatti", "D3", "Avvisi TARI riscritti in linguaggio chiaro",
     "Nuovo modello di avviso con importi, scadenze e modalità di pagamento in evidenza.",
     4, 8, "in_corso", None),
    ("urp-protocollo", "quota_soddisfatti", "D1", "Sportello unico il sabato mattina",
     "Apertura del sabato dalle 9 alle 12 per chi lavora nei giorni feriali.", 9, 6, "pianificata", None),
]


def _shift(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def add_demo_actions(session: Session, year: int) -> int:
    """The demo's improvement actions in ``year``, once (none is added when any action exists)."""
    if session.scalar(select(exists().where(AzioneMiglioramento.id.is_not(None)))):
        return 0
    added = 0
    for slug, indicator, code, title, text, month, months, state, outcome in ACTIONS:
        servizio = session.scalar(select(Servizio).filter_by(slug=slug))
        if servizio is None:
            continue
        start = date(year, month, 1)
        session.add(AzioneMiglioramento(servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore=indicator,
                                        domanda_codice=code, titolo=title, descrizione=text, data_inizio=start,
                                        data_scadenza=_shift(start, months), stato=state, esito=outcome))
        added += 1
    session.commit()
    return added


def has_publication(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(Pubblicazione.id.is_not(None)))))
