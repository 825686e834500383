"""The retention of free-text comments: erased COMMENT_RETENTION_MONTHS after the answer's date.

What goes is the text, never the answer: the Risposta row stays with ``testo`` emptied to NULL, as the staff's own
"elimina" leaves the row (models/comments.py). The daily counts (riepilogo_risposte) count a free-text item as an
answered item and as one respondent, whatever the text said; they feed the published "testo libero" rows (n) and
``summary.rebuild`` recounts them from the rows. Keeping the rows keeps every published figure of past years and
keeps the counts equal to a rebuild, with no count to adjust. Scores, choices and the questionnaires themselves
are anonymous and kept. The comments' states (letto, gestito, oscurato) go with their text.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import AuditLog, CommentoStato, Compilazione, Risposta
from . import MaintenanceError
from .locks import one_bulk_writer_at_a_time

ACTION = "commenti.eliminati"


@dataclass(frozen=True)
class PurgeReport:
    months: int
    cutoff: date  # comments of answers dated before this day (local time) are erased; this day's are kept
    comments: int
    states: int
    dry_run: bool


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, or that month's last day (31 March - 1 month: 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_today(timezone: str) -> date:
    """Today where the answers' hours are recorded (they are local times, SURVEY_TIMEZONE)."""
    return datetime.now(ZoneInfo(timezone)).date()


def old_comments(cutoff: date):
    """The free-text answers whose questionnaire is dated before ``cutoff`` (a Select of Risposta ids)."""
    return select(Risposta.id).join(Compilazione, Compilazione.id == Risposta.compilazione_id) \
        .where(Risposta.testo.is_not(None), Compilazione.data_ora < datetime.combine(cutoff, time()))


def purge_comments(session: Session, months: int, *, today: date, dry_run: bool = False,
                   actor: str | None = None) -> PurgeReport:
    """Erase the comments older than ``months`` months before ``today`` and their states, in one transaction, with
    one audit entry. Running it again the same day finds nothing more. ``dry_run`` only counts."""
    if months < 1:
        raise MaintenanceError(f"il periodo di conservazione deve essere di almeno 1 mese (indicati {months})")
    cutoff = months_before(today, months)
    ids = old_comments(cutoff)
    try:
        if not dry_run:
            one_bulk_writer_at_a_time(session)  # erase-order rewrites these rows too (locks.py); counted after it
        states = session.scalar(select(func.count()).select_from(CommentoStato)
                                .where(CommentoStato.risposta_id.in_(ids))) or 0
        if dry_run:
            comments = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
            session.rollback()
            return PurgeReport(months, cutoff, comments, states, dry_run=True)
        # States first: they point at the answers chosen by their text, which the update empties.
        session.execute(delete(CommentoStato).where(CommentoStato.risposta_id.in_(ids))
                        .execution_options(synchronize_session=False))
        comments = session.execute(update(Risposta).where(Risposta.id.in_(ids)).values(testo=None)
                                   .execution_options(synchronize_session=False)).rowcount
        session.add(AuditLog(azione=ACTION, oggetto=f"{comments} commenti anteriori al {cutoff:%d/%m/%Y}",
                             dettagli={"commenti": comments, "stati": states, "data_limite": cutoff.isoformat(),
                                       "mesi": months, "da": actor or "riga di comando"}))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return PurgeReport(months, cutoff, comments, states, dry_run=False)
