"""One name per survey firm, whichever door its data comes through (CLI, web upload, API token)."""

from __future__ import annotations

from itertools import chain

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, ImportBatch, User
from .columns import normal


def canonical_firm(session: Session, name: str) -> str:
    """The firm's name as first recorded: "DOXA " and "Doxa" are one firm, so its batches and ids stay together."""
    name = " ".join(name.split())
    key = normal(name)
    known = chain(session.scalars(select(ImportBatch.fonte).distinct()),
                  session.scalars(select(ApiToken.fonte).distinct()),
                  session.scalars(select(User.societa).where(User.societa.is_not(None)).distinct()))
    return next((firm for firm in known if normal(firm) == key), name)
