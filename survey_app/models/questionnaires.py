"""Questionnaires with immutable versions, their questions and answer options."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Bilingual, italian_part, utcnow

# Question types. Numeric ones store their value in risposte.valore:
#   scala (scala_min..scala_max), faccine (1 rosso, 2 giallo, 3 verde), nps (0..10), si_no (0 no, 1 si).
QUESTION_TYPES = ("scala", "faccine", "nps", "scelta_singola", "scelta_multipla", "testo", "si_no")
NUMERIC_TYPES = ("scala", "faccine", "nps", "si_no")
CHOICE_TYPES = ("scelta_singola", "scelta_multipla")
CIVIT_DIMENSIONS = ("accessibilità", "tempestività", "trasparenza", "efficacia")
FACES = {1: "rosso", 2: "giallo", 3: "verde"}
FIXED_SCALES = {"faccine": (1, 3), "nps": (0, 10), "si_no": (0, 1)}


class Questionario(Bilingual, Base):
    __tablename__ = "questionari"

    id: Mapped[int] = mapped_column(primary_key=True)
    codice: Mapped[str] = mapped_column(String(80), unique=True)
    titolo_it: Mapped[str] = mapped_column(String(200))
    titolo_en: Mapped[str | None] = mapped_column(String(200))
    introduzione_it: Mapped[str | None] = mapped_column(Text)
    introduzione_en: Mapped[str | None] = mapped_column(Text)

    versioni: Mapped[list[QuestionarioVersione]] = relationship(
        back_populates="questionario", order_by="QuestionarioVersione.numero"
    )

    @property
    def versione_corrente(self) -> QuestionarioVersione | None:
        return self.versioni[-1] if self.versioni else None

    def titolo(self, lang: str = "it") -> str:
        return self.localised("titolo", lang)

    def introduzione(self, lang: str = "it") -> str | None:
        return self.localised("introduzione", lang)


class QuestionarioVersione(Base):
    """A frozen set of questions. Once answered it never changes: edits create a new version."""

    __tablename__ = "questionario_versioni"
    __table_args__ = (UniqueConstraint("questionario_id", "numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionario_id: Mapped[int] = mapped_column(ForeignKey("questionari.id"), index=True)
    numero: Mapped[int] = mapped_column(Integer)
    # Hash of the canonical question definitions, to tell "same questions" from "changed".
    impronta: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    questionario: Mapped[Questionario] = relationship(back_populates="versioni")
    domande: Mapped[list[Domanda]] = relationship(
        back_populates="versione", order_by="Domanda.posizione", cascade="all, delete-orphan"
    )


class Domanda(Bilingual, Base):
    __tablename__ = "domande"
    __table_args__ = (UniqueConstraint("versione_id", "codice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    versione_id: Mapped[int] = mapped_column(ForeignKey("questionario_versioni.id"), index=True)
    codice: Mapped[str] = mapped_column(String(40))
    posizione: Mapped[int] = mapped_column(Integer)
    tipo: Mapped[str] = mapped_column(String(30))
    testo_it: Mapped[str] = mapped_column(Text)
    testo_en: Mapped[str | None] = mapped_column(Text)
    aiuto_it: Mapped[str | None] = mapped_column(Text)
    aiuto_en: Mapped[str | None] = mapped_column(Text)
    obbligatoria: Mapped[bool] = mapped_column(Boolean, default=False)
    scala_min: Mapped[int | None]
    scala_max: Mapped[int | None]
    # {"min": {"it": ..., "en": ...}, "max": {...}} for the ends of a scale.
    etichette: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stile: Mapped[str | None] = mapped_column(String(20))  # "stelle" renders a scale as stars
    non_so: Mapped[bool] = mapped_column(Boolean, default=False)  # offers a "non so" answer
    dimensione: Mapped[str | None] = mapped_column(String(30))  # CiVIT dimension
    importanza: Mapped[bool] = mapped_column(Boolean, default=False)  # also asks how important it is
    max_lunghezza: Mapped[int | None]
    # Branching: {"domanda": "D1", "valori": [1]} or {"domanda": "D1", "minore_di": 4} / {"almeno": 4}.
    mostra_se: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    versione: Mapped[QuestionarioVersione] = relationship(back_populates="domande")
    opzioni: Mapped[list[Opzione]] = relationship(
        back_populates="domanda", order_by="Opzione.posizione", cascade="all, delete-orphan"
    )

    def testo(self, lang: str = "it") -> str:
        return self.localised("testo", lang)

    def aiuto(self, lang: str = "it") -> str | None:
        return self.localised("aiuto", lang)

    @property
    def is_numeric(self) -> bool:
        return self.tipo in NUMERIC_TYPES

    def etichetta(self, end: str, lang: str = "it") -> str | None:
        labels = (self.etichette or {}).get(end) or {}
        return labels.get(lang) or labels.get("it")

    def etichetta_said(self, end: str, lang: str = "it") -> str | None:
        """``etichetta`` for a page's body, marked Italian where it stands in for a missing translation."""
        labels = (self.etichette or {}).get(end) or {}
        return italian_part(self.etichetta(end, lang), lang != "it" and not labels.get(lang))

    def shown_for(self, answers: dict[str, Any]) -> bool:
        """Whether the branching condition holds for the answers given so far (codes to values)."""
        rule = self.mostra_se
        if not rule:
            return True
        value = answers.get(rule["domanda"])
        if value is None or value == [] or value == "":
            return False
        values = value if isinstance(value, list) else [value]
        if "valori" in rule:
            wanted = {str(v) for v in rule["valori"]}
            return any(str(v) in wanted for v in values)
        try:
            number = float(values[0])
        except (TypeError, ValueError):
            return False
        if "minore_di" in rule:
            return number < float(rule["minore_di"])
        return number >= float(rule["almeno"])


class Opzione(Bilingual, Base):
    __tablename__ = "opzioni"
    __table_args__ = (UniqueConstraint("domanda_id", "codice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domanda_id: Mapped[int] = mapped_column(ForeignKey("domande.id"), index=True)
    codice: Mapped[str] = mapped_column(String(60))
    posizione: Mapped[int] = mapped_column(Integer)
    testo_it: Mapped[str] = mapped_column(String(300))
    testo_en: Mapped[str | None] = mapped_column(String(300))

    domanda: Mapped[Domanda] = relationship(back_populates="opzioni")

    def testo(self, lang: str = "it") -> str:
        return self.localised("testo", lang)
