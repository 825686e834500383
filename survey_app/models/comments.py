"""What the staff did with a citizen's free-text answer: read, handled, or redacted (personal data removed).

A comment with no row here is new. The answer itself (a Risposta with ``testo``) stays, so the counts never change:
redacting replaces its text, deleting empties it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, RandomKey, utcnow

COMMENT_STATES = ("letto", "gestito", "oscurato")


class CommentoStato(Base):
    __tablename__ = "commenti_stato"
    __table_args__ = (CheckConstraint("stato IN ('letto', 'gestito', 'oscurato')", name="stato"),)

    risposta_id: Mapped[int] = mapped_column(RandomKey, ForeignKey("risposte.id", ondelete="CASCADE"),
                                             primary_key=True)
    stato: Mapped[str] = mapped_column(String(20))
    aggiornato_da: Mapped[int | None] = mapped_column(ForeignKey("utenti.id"))
    aggiornato_il: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
