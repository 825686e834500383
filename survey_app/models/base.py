"""Declarative base shared by every model; plain SQLAlchemy so it carries no Flask import."""

from __future__ import annotations

import os
import secrets
from array import array
from datetime import UTC, datetime

from markupsafe import Markup
from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Keys of the citizens' answers: 64-bit on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is already 64-bit, and only
# that exact spelling keeps it the table's rowid.
RandomKey = BigInteger().with_variant(Integer(), "sqlite")
# Random keys start above every key a sequence ever gave (migration 0010 moved the old ones up here too).
RANDOM_KEY_MIN = 2**32


def random_key() -> int:
    """A primary key that says nothing about when its row was written: sequential keys would line the stored answers
    up with a web server's access log (address and second) in submission order. 62 random bits: a clash is as likely
    as guessing a 60-bit secret, and the primary key would refuse it rather than merge two answers."""
    return secrets.randbits(63) | RANDOM_KEY_MIN


def random_keys(count: int) -> list[int]:
    """``count`` random keys at once, for bulk writes (an import, the demo's answers)."""
    return [(word >> 1) | RANDOM_KEY_MIN for word in array("Q", os.urandom(8 * count))]


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Bilingual:
    """Texts kept as <name>_it (or a plain <name>, an office's) and <name>_en: English when asked and present,
    Italian otherwise."""

    def localised(self, name: str, lang: str = "it") -> str | None:
        if lang == "en" and getattr(self, f"{name}_en", None):
            return getattr(self, f"{name}_en")
        # On the instance: a frozen dataclass's fields (the public pages' PublicService) are not class attributes.
        return getattr(self, f"{name}_it") if hasattr(self, f"{name}_it") else getattr(self, name)

    def said(self, name: str, lang: str = "it") -> str | None:
        """``localised`` for a page's body: where an English page shows the Italian text for want of a translation,
        it is marked ``lang="it"`` (WCAG 3.1.2: a screen reader reads it with an Italian voice, not an English one).
        Never in a <title> or an attribute, which take text only."""
        return italian_part(self.localised(name, lang), lang != "it" and not getattr(self, f"{name}_en", None))


def italian_part(text: str | None, fallback: bool) -> str | None:
    """``text`` in a ``<span lang="it">`` (escaped) when it is the Italian one shown on a page in another language."""
    return Markup('<span lang="it">%s</span>') % text if text and fallback else text
