"""Campaigns, submissions and their item answers, and firm import batches.

Anonymity by construction: nothing here can hold an IP address, a user agent, a cookie
identifier or a time finer than the hour.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, RandomKey, TimestampMixin, random_key
from .organisation import Sede, Servizio
from .questionnaires import Domanda, Questionario, QuestionarioVersione

CHANNELS = ("web", "qr", "chiosco", "sportello", "telefono", "carta", "email")
# What a citizen's own questionnaire link may say it came from: the kiosk has its route, and telephone and paper
# are the survey firms' (their uploads).
CITIZEN_CHANNELS = ("web", "qr", "sportello", "email")
IMPORT_METHODS = ("CATI", "PAPI", "CAWI")
LANGUAGES = ("it", "en")

rilevazione_servizi = Table(
    "rilevazione_servizi",
    Base.metadata,
    Column("rilevazione_id", ForeignKey("rilevazioni.id"), primary_key=True),
    Column("servizio_id", ForeignKey("servizi.id"), primary_key=True),
)


class Rilevazione(Base):
    """A campaign: one questionnaire over some services in a period, with a target sample."""

    __tablename__ = "rilevazioni"
    __table_args__ = (CheckConstraint("data_fine >= data_inizio", name="periodo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    codice: Mapped[str] = mapped_column(String(80), unique=True)
    titolo: Mapped[str] = mapped_column(String(200))
    questionario_id: Mapped[int] = mapped_column(ForeignKey("questionari.id"))
    data_inizio: Mapped[date] = mapped_column(Date)
    data_fine: Mapped[date] = mapped_column(Date)
    campione_obiettivo: Mapped[int | None]

    questionario: Mapped[Questionario] = relationship()
    servizi: Mapped[list[Servizio]] = relationship(secondary=rilevazione_servizi, order_by="Servizio.slug")


class ImportBatch(TimestampMixin, Base):
    """One file of answers uploaded by a survey firm (phone, paper or its own web tool)."""

    __tablename__ = "import_batches"
    __table_args__ = (CheckConstraint("metodo IN ('CATI', 'PAPI', 'CAWI')", name="metodo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fonte: Mapped[str] = mapped_column(String(200))
    metodo: Mapped[str] = mapped_column(String(10))
    nome_file: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    righe: Mapped[int] = mapped_column(Integer)
    utente_id: Mapped[int | None] = mapped_column(ForeignKey("utenti.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))  # set when it came by the API
    questionario_id: Mapped[int | None] = mapped_column(ForeignKey("questionari.id"))
    # The rows written and those left out with --skip-invalid (righe counts every data row of the file).
    righe_importate: Mapped[int] = mapped_column(Integer, default=0)
    righe_scartate: Mapped[int] = mapped_column(Integer, default=0)
    # The rows left out and why, [riga, colonna, valore, motivo]: the errors the import listed (10,000 from the staff
    # page, 1,000 from the command line and the API, which print or return them too). Only short values of columns
    # without free text are kept, never the row's id_esterno (imports.excluded.kept_errors): purging comments leaves
    # none here.
    righe_escluse: Mapped[list[list[Any]] | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    # A batch rolled back as a whole keeps its record: who did it and when.
    annullato_il: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    annullato_da: Mapped[str | None] = mapped_column(String(254))

    questionario: Mapped[Questionario | None] = relationship()


class ImportExternalId(Base):
    """A firm's own row identifier, seen once: kept as a hash and never linked to the answer it came with."""

    __tablename__ = "import_id_esterni"
    __table_args__ = (UniqueConstraint("fonte", "hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    fonte: Mapped[str] = mapped_column(String(200))
    hash: Mapped[str] = mapped_column(String(64))

    batch: Mapped[ImportBatch] = relationship()


class Compilazione(Base):
    """One filled-in questionnaire. Its time is kept to the local hour and no finer, and its key is random."""

    __tablename__ = "compilazioni"

    id: Mapped[int] = mapped_column(RandomKey, primary_key=True, autoincrement=False, default=random_key)
    servizio_id: Mapped[int] = mapped_column(ForeignKey("servizi.id"))
    versione_id: Mapped[int] = mapped_column(ForeignKey("questionario_versioni.id"), index=True)
    rilevazione_id: Mapped[int | None] = mapped_column(ForeignKey("rilevazioni.id"))
    # Local time (Europe/Rome) truncated to the hour.
    data_ora: Mapped[datetime] = mapped_column(DateTime)
    canale: Mapped[str] = mapped_column(String(20))
    sede_id: Mapped[int | None] = mapped_column(ForeignKey("sedi.id"))
    lingua: Mapped[str] = mapped_column(String(5), default="it")
    # Null for a citizen answering online; set when the answer came in a firm's import batch.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)

    servizio: Mapped[Servizio] = relationship()
    versione: Mapped[QuestionarioVersione] = relationship()
    sede: Mapped[Sede | None] = relationship()
    import_batch: Mapped[ImportBatch | None] = relationship()
    risposte: Mapped[list[Risposta]] = relationship(back_populates="compilazione", cascade="all, delete-orphan")


# The indicator queries read a service's answers in a period.
Index("ix_compilazioni_servizio_data", Compilazione.servizio_id, Compilazione.data_ora)


class Risposta(Base):
    """One answered item of a submission: one row per item (per chosen option for multiple choice)."""

    __tablename__ = "risposte"

    id: Mapped[int] = mapped_column(RandomKey, primary_key=True, autoincrement=False, default=random_key)
    compilazione_id: Mapped[int] = mapped_column(RandomKey, ForeignKey("compilazioni.id", ondelete="CASCADE"),
                                                 index=True)
    domanda_id: Mapped[int] = mapped_column(ForeignKey("domande.id"), index=True)
    valore: Mapped[int | None] = mapped_column(SmallInteger)
    opzione: Mapped[str | None] = mapped_column(String(60))
    testo: Mapped[str | None] = mapped_column(Text)
    # Stated importance of the same item (1..5), where the questionnaire asks for it.
    importanza: Mapped[int | None] = mapped_column(SmallInteger)
    non_so: Mapped[bool] = mapped_column(Boolean, default=False)

    compilazione: Mapped[Compilazione] = relationship(back_populates="risposte")
    domanda: Mapped[Domanda] = relationship()
