"""The survey firms' doors: API tokens scoped to a firm's services, and uploads waiting for their confirmation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, LargeBinary, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin
from .organisation import Servizio

api_token_servizi = Table(
    "api_token_servizi",
    Base.metadata,
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("servizio_id", ForeignKey("servizi.id"), primary_key=True),
)


class ApiToken(TimestampMixin, Base):
    """A firm's key to the import API. Only its SHA-256 is stored: the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    nome: Mapped[str] = mapped_column(String(120))
    # The firm: its batches and external ids are the same whether they come by the API or by a web upload.
    fonte: Mapped[str] = mapped_column(String(200))
    impronta: Mapped[str] = mapped_column(String(64), unique=True)
    prefisso: Mapped[str] = mapped_column(String(12))  # the first characters, to tell tokens apart in lists
    creato_da: Mapped[int | None] = mapped_column(ForeignKey("utenti.id"))
    ultimo_uso: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocato_il: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocato_da: Mapped[str | None] = mapped_column(String(254))

    servizi: Mapped[list[Servizio]] = relationship(secondary=api_token_servizi, order_by="Servizio.slug")

    @property
    def attivo(self) -> bool:
        return self.revocato_il is None


class PendingUpload(TimestampMixin, Base):
    """A file checked in a dry run, waiting for its uploader's confirmation.

    Kept in the database, not on a disk, so that the confirmation may reach another app host; removed once
    imported, and after a day (``imports.pending.purge``).
    """

    __tablename__ = "caricamenti_in_attesa"
    __table_args__ = (UniqueConstraint("utente_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    utente_id: Mapped[int] = mapped_column(ForeignKey("utenti.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    nome_file: Mapped[str] = mapped_column(String(300))
    dati: Mapped[bytes] = mapped_column(LargeBinary)
