"""Frozen yearly publications for Amministrazione trasparente, and the improvement actions they report.

A publication is a record (D.Lgs. 33/2013): its files are kept byte for byte with their SHA-256,
and the figures it showed are kept as data, so that what was published on a date can be shown
and downloaded again whatever answers arrive later.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .organisation import Servizio, Standard, Ufficio

REASON_LENGTH = 500
ACTION_STATES = ("pianificata", "in_corso", "completata", "annullata")


class Pubblicazione(Base):
    """Version k of a year's publication: who published it, when, the figures and the files."""

    __tablename__ = "pubblicazioni"
    __table_args__ = (UniqueConstraint("anno", "versione"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    anno: Mapped[int] = mapped_column(Integer)
    versione: Mapped[int] = mapped_column(Integer)
    pubblicata_il: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    utente_id: Mapped[int | None] = mapped_column(ForeignKey("utenti.id"))
    # Kept as text too: the account may be deactivated, the record must still say who published.
    pubblicata_da: Mapped[str] = mapped_column(String(254))
    soglia_soppressione: Mapped[int] = mapped_column(Integer)
    # The published tables as data (Sintesi, Domande, Programmi, methodology), for the public pages.
    dati: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What moved against the previous version (empty for version 1).
    modifiche: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Why it was published, in the publisher's words (optional; REASON_LENGTH): on the public page and in its files.
    motivo: Mapped[str | None] = mapped_column(Text)

    file: Mapped[list[PubblicazioneFile]] = relationship(back_populates="pubblicazione", order_by="PubblicazioneFile.id",
                                                         cascade="all, delete-orphan")

    def file_named(self, name: str) -> PubblicazioneFile | None:
        return next((f for f in self.file if f.nome == name), None)


class PubblicazioneFile(Base):
    __tablename__ = "pubblicazione_file"
    __table_args__ = (UniqueConstraint("pubblicazione_id", "nome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pubblicazione_id: Mapped[int] = mapped_column(ForeignKey("pubblicazioni.id", ondelete="CASCADE"), index=True)
    nome: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    dimensione: Mapped[int] = mapped_column(Integer)
    contenuto: Mapped[bytes] = mapped_column(LargeBinary)

    pubblicazione: Mapped[Pubblicazione] = relationship(back_populates="file")


class AzioneMiglioramento(Base):
    """An improvement action (programma di miglioramento) decided from a service's results."""

    __tablename__ = "azioni_miglioramento"
    __table_args__ = (
        CheckConstraint("stato IN ('pianificata', 'in_corso', 'completata', 'annullata')", name="stato"),
        CheckConstraint("data_scadenza >= data_inizio", name="periodo"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    servizio_id: Mapped[int] = mapped_column(ForeignKey("servizi.id"), index=True)
    # What prompted it: a standard of the carta dei servizi, or an indicator of a question.
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("standard.id", ondelete="SET NULL"))
    indicatore: Mapped[str] = mapped_column(String(40))
    domanda_codice: Mapped[str] = mapped_column(String(40), default="")
    titolo: Mapped[str] = mapped_column(String(200))
    descrizione: Mapped[str] = mapped_column(Text)
    ufficio_id: Mapped[int] = mapped_column(ForeignKey("uffici.id"))
    data_inizio: Mapped[date] = mapped_column(Date)
    data_scadenza: Mapped[date] = mapped_column(Date)
    stato: Mapped[str] = mapped_column(String(20), default="pianificata")
    esito: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    servizio: Mapped[Servizio] = relationship()
    standard: Mapped[Standard | None] = relationship()
    ufficio: Mapped[Ufficio] = relationship()

    def in_year(self, year: int) -> bool:
        """An action belongs to a year's publication when its period overlaps that year."""
        return self.data_inizio <= date(year, 12, 31) and self.data_scadenza >= date(year, 1, 1)
