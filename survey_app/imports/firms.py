"""One name per survey firm, whichever door its data comes through (CLI, web upload, API token)."""

from __future__ import annotations

from itertools import chain

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, ImportBatch, User
from .columns import normal
from .validate import CONTROL


def _recorded(session: Session):
    return chain(session.scalars(select(ImportBatch.fonte).order_by(ImportBatch.id)),
                 session.scalars(select(ApiToken.fonte).order_by(ApiToken.id)),
                 session.scalars(select(User.societa).where(User.societa.is_not(None)).order_by(User.id)))


def canonical_firm(session: Session, name: str) -> str:
    """The firm's name as first recorded: "DOXA " and "Doxa" are one firm, so its batches and ids stay together."""
    name = " ".join(CONTROL.sub("", name).split())  # a control character typed at the console goes
    key = normal(name)
    return next((firm for firm in _recorded(session) if normal(firm) == key), name)


def firm_of(user) -> str:
    """The firm an account's uploads are filed under: its firm, or else, for an account created before the firm's
    name was required, its e-mail's domain."""
    return user.societa or user.email.rsplit("@", 1)[-1].lower()


def known_firms(session: Session) -> list[str]:
    """Every firm recorded (its batches, API tokens, accounts), once each under its first name, in name order."""
    firms: dict[str, str] = {}
    for firm in _recorded(session):
        firms.setdefault(normal(firm), firm)
    return sorted(firms.values(), key=str.casefold)
