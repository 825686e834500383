"""One-time form tokens: a reload or the back button never stores an answer twice.

Only a hash of the token and the day it was used are kept, with no link to the answer.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class FormToken(Base):
    __tablename__ = "form_tokens"

    impronta: Mapped[str] = mapped_column(String(64), primary_key=True)
    giorno: Mapped[date] = mapped_column(Date, index=True)
