"""Answer counts per day, kept in step with the answers: what the indicators read.

One row counts the answers sharing a service, question, day, channel, counter, language,
import batch, value, option and "non so" flag. A "respondent" row counts, per day and
dimension, the people who answered a choice or text question (a multiple choice gives several
option rows but one respondent). Sentinels instead of NULLs keep the unique key usable for
upserts on SQLite and PostgreSQL: sede_id 0 and import_batch_id 0 mean none, valore -1 means
no numeric value, opzione '' no option.

Their keys are random, as the answers' are (models/base.py): a count row is written by the first answer of its day
with its value, so a sequence would tell which values each day's first citizens gave, in the order of an access log.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, RandomKey, random_key

SUMMARY_KEY = ("servizio_id", "domanda_id", "giorno", "canale", "sede_id", "lingua", "import_batch_id", "valore",
               "opzione", "non_so", "rispondente")


class RiepilogoRisposte(Base):
    __tablename__ = "riepilogo_risposte"
    __table_args__ = (UniqueConstraint(*SUMMARY_KEY, name="uq_riepilogo_risposte_chiave"),)

    id: Mapped[int] = mapped_column(RandomKey, primary_key=True, autoincrement=False, default=random_key)
    servizio_id: Mapped[int] = mapped_column(ForeignKey("servizi.id"))
    domanda_id: Mapped[int] = mapped_column(ForeignKey("domande.id"))
    giorno: Mapped[date] = mapped_column(Date, index=True)  # the years with data, a period's counts
    canale: Mapped[str] = mapped_column(String(20))
    sede_id: Mapped[int] = mapped_column(Integer, default=0)
    lingua: Mapped[str] = mapped_column(String(5))
    import_batch_id: Mapped[int] = mapped_column(Integer, default=0)
    valore: Mapped[int] = mapped_column(SmallInteger, default=-1)
    opzione: Mapped[str] = mapped_column(String(60), default="")
    non_so: Mapped[bool] = mapped_column(Boolean, default=False)
    rispondente: Mapped[bool] = mapped_column(Boolean, default=False)
    n: Mapped[int] = mapped_column(Integer)
    n_importanza: Mapped[int] = mapped_column(Integer, default=0)
    somma_importanza: Mapped[int] = mapped_column(Integer, default=0)
