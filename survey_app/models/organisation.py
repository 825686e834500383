"""Enti, uffici, servizi, their counters (sedi) and carta dei servizi standards."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Bilingual

if TYPE_CHECKING:
    from .questionnaires import Questionario

ENTE_TYPES = ("comune", "unione")


class Ente(Base):
    __tablename__ = "enti"
    __table_args__ = (CheckConstraint("tipo IN ('comune', 'unione')", name="tipo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    codice: Mapped[str] = mapped_column(String(80), unique=True)
    nome: Mapped[str] = mapped_column(String(200))
    tipo: Mapped[str] = mapped_column(String(20))
    sito: Mapped[str | None] = mapped_column(String(300))
    # A comune that belongs to an Unione points at it; the Unione lists its member comuni.
    unione_id: Mapped[int | None] = mapped_column(ForeignKey("enti.id"))

    unione: Mapped[Ente | None] = relationship(remote_side=[id], back_populates="comuni_membri")
    comuni_membri: Mapped[list[Ente]] = relationship(back_populates="unione")
    uffici: Mapped[list[Ufficio]] = relationship(back_populates="ente", order_by="Ufficio.nome")

    def __repr__(self) -> str:
        return f"<Ente {self.codice}>"


class Ufficio(Bilingual, Base):
    __tablename__ = "uffici"
    __table_args__ = (UniqueConstraint("ente_id", "codice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(ForeignKey("enti.id"), index=True)
    codice: Mapped[str] = mapped_column(String(80))
    nome: Mapped[str] = mapped_column(String(200))
    # For the English public pages; the published files name the office in Italian.
    nome_en: Mapped[str | None] = mapped_column(String(200))
    responsabile: Mapped[str | None] = mapped_column(String(200))

    ente: Mapped[Ente] = relationship(back_populates="uffici")
    servizi: Mapped[list[Servizio]] = relationship(back_populates="ufficio", order_by="Servizio.nome_it")


class Servizio(Bilingual, Base):
    __tablename__ = "servizi"
    __table_args__ = (CheckConstraint("utenti_annui IS NULL OR utenti_annui > 0", name="utenti_annui"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ufficio_id: Mapped[int] = mapped_column(ForeignKey("uffici.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    nome_it: Mapped[str] = mapped_column(String(200))
    nome_en: Mapped[str | None] = mapped_column(String(200))
    descrizione_it: Mapped[str | None] = mapped_column(Text)
    descrizione_en: Mapped[str | None] = mapped_column(Text)
    # Yearly users: the population for the margin of error and the sample-size planner.
    utenti_annui: Mapped[int | None]
    questionario_id: Mapped[int] = mapped_column(ForeignKey("questionari.id"), index=True)
    questionario_chiosco_id: Mapped[int | None] = mapped_column(ForeignKey("questionari.id"))

    ufficio: Mapped[Ufficio] = relationship(back_populates="servizi")
    questionario: Mapped[Questionario] = relationship(foreign_keys=[questionario_id])
    questionario_chiosco: Mapped[Questionario | None] = relationship(foreign_keys=[questionario_chiosco_id])
    sedi: Mapped[list[Sede]] = relationship(back_populates="servizio", order_by="Sede.codice")
    standard: Mapped[list[Standard]] = relationship(back_populates="servizio", order_by="Standard.id")

    @property
    def ente(self) -> Ente:
        return self.ufficio.ente

    def nome(self, lang: str = "it") -> str:
        return self.localised("nome", lang)

    def descrizione(self, lang: str = "it") -> str | None:
        return self.localised("descrizione", lang)


class Sede(Base):
    """A counter or location where the service is delivered (QR posters and kiosks carry its code)."""

    __tablename__ = "sedi"
    __table_args__ = (UniqueConstraint("servizio_id", "codice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    servizio_id: Mapped[int] = mapped_column(ForeignKey("servizi.id"), index=True)
    codice: Mapped[str] = mapped_column(String(80))
    nome: Mapped[str] = mapped_column(String(200))
    indirizzo: Mapped[str | None] = mapped_column(String(300))
    # For an Unione's services: the member comune where this counter is.
    comune_id: Mapped[int | None] = mapped_column(ForeignKey("enti.id"))

    servizio: Mapped[Servizio] = relationship(back_populates="sedi")
    comune: Mapped[Ente | None] = relationship()


STANDARD_INDICATORS = ("quota_soddisfatti", "media")


class Standard(Base):
    """A quality standard from the carta dei servizi, e.g. quota_soddisfatti >= 80 on D9."""

    __tablename__ = "standard"
    __table_args__ = (
        UniqueConstraint("servizio_id", "indicatore", "domanda_codice", "anno_dal"),
        CheckConstraint("indicatore IN ('quota_soddisfatti', 'media')", name="indicatore"),
        CheckConstraint("anno_al IS NULL OR anno_dal IS NULL OR anno_dal <= anno_al", name="anni"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    servizio_id: Mapped[int] = mapped_column(ForeignKey("servizi.id"), index=True)
    indicatore: Mapped[str] = mapped_column(String(40))
    # Question code the standard applies to; empty means every rated question of the service.
    domanda_codice: Mapped[str] = mapped_column(String(40), default="")
    soglia: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    descrizione: Mapped[str | None] = mapped_column(String(300))
    # The years of the carta dei servizi it belongs to (None: since always, still in force): a new carta's target
    # applies from its year on, and a past year stays judged by the target it had.
    anno_dal: Mapped[int | None] = mapped_column(Integer)
    anno_al: Mapped[int | None] = mapped_column(Integer)

    servizio: Mapped[Servizio] = relationship(back_populates="standard")

    def applies_to(self, year: int) -> bool:
        return (self.anno_dal is None or self.anno_dal <= year) and (self.anno_al is None or year <= self.anno_al)
