"""Rolling a firm's batch back as a whole: its answers, their counts and its external ids go; its record stays."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..maintenance.locks import one_bulk_writer_at_a_time
from ..models import (
    AuditLog,
    CommentoStato,
    Compilazione,
    ImportBatch,
    ImportExternalId,
    RiepilogoRisposte,
    Risposta,
    User,
)
from ..models.base import utcnow
from .load import ImportRefused


def rollback_batch(session: Session, batch_id: int, *, user: User | None = None, actor: str | None = None) -> int:
    """Delete every questionnaire of the batch in one transaction; returns how many. Audited."""
    # First, so that two rollbacks of one batch run one after the other (the second then finds it rolled back), and
    # erase-order never rewrites the rows this deletes at the same time (maintenance/locks.py).
    one_bulk_writer_at_a_time(session)
    batch = session.get(ImportBatch, batch_id, populate_existing=True)
    if batch is None:
        raise ImportRefused(f"lotto {batch_id} inesistente")
    if batch.annullato_il is not None:
        raise ImportRefused(f"il lotto {batch_id} è già stato annullato il {batch.annullato_il:%d/%m/%Y}")
    ids = select(Compilazione.id).where(Compilazione.import_batch_id == batch_id)
    removed = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    # Comment states first: SQLite does not cascade, and a reused answer id must not inherit a state.
    session.execute(delete(CommentoStato).where(CommentoStato.risposta_id.in_(
        select(Risposta.id).where(Risposta.compilazione_id.in_(ids)))))
    session.execute(delete(Risposta).where(Risposta.compilazione_id.in_(ids)))
    session.execute(delete(Compilazione).where(Compilazione.import_batch_id == batch_id))
    # Every count of a batch's answers sits in rows keyed by that batch: they go with it, nothing else moves.
    session.execute(delete(RiepilogoRisposte).where(RiepilogoRisposte.import_batch_id == batch_id))
    # The firm may send corrected rows with the same identifiers again.
    session.execute(delete(ImportExternalId).where(ImportExternalId.batch_id == batch_id))
    who = user.email if user else (actor or "riga di comando")
    batch.annullato_il, batch.annullato_da = utcnow(), who
    session.add(AuditLog(utente_id=user.id if user else None, azione="lotto.annulla", oggetto=f"lotto {batch_id}",
                         dettagli={"fonte": batch.fonte, "file": batch.nome_file, "sha256": batch.sha256,
                                   "compilazioni": removed, "da": who}))
    session.commit()
    return removed
