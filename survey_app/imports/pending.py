"""Uploads between their dry-run preview and the uploader's confirmation, kept in the database for a day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import PendingUpload, User
from ..models.base import utcnow

KEPT_FOR = timedelta(days=1)


def keep(session: Session, user: User, sha256: str, file_name: str, data: bytes) -> None:
    """Store the file for its uploader (once per content), and drop every upload older than a day."""
    session.execute(delete(PendingUpload).where(PendingUpload.created_at < utcnow() - KEPT_FOR))
    # The same content again (another tab, a second try) replaces the earlier wait: fresh name, fresh day.
    session.execute(delete(PendingUpload).where(PendingUpload.utente_id == user.id, PendingUpload.sha256 == sha256))
    session.add(PendingUpload(utente_id=user.id, sha256=sha256, nome_file=file_name, dati=data))
    try:
        session.commit()
    except IntegrityError:  # two tabs at the same instant: the other one's row serves as well
        session.rollback()


def find(session: Session, user: User, sha256: str) -> PendingUpload | None:
    """The user's own pending file with this hash: nobody confirms another account's upload."""
    return session.scalar(select(PendingUpload).where(PendingUpload.utente_id == user.id,
                                                      PendingUpload.sha256 == sha256,
                                                      PendingUpload.created_at >= utcnow() - KEPT_FOR))


def discard(session: Session, user: User, sha256: str) -> None:
    session.execute(delete(PendingUpload).where(PendingUpload.utente_id == user.id, PendingUpload.sha256 == sha256))
    session.commit()
