"""Staff accounts with a role and a scope of services, and the audit trail."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base, TimestampMixin, utcnow
from .organisation import Servizio

# admin: everything; trasparenza: every service's results and the publication;
# responsabile: the services in scope; rilevatore (survey firm): uploads for the services in scope.
ROLES = ("admin", "trasparenza", "responsabile", "rilevatore")
ROLES_SEEING_ALL = ("admin", "trasparenza")


class UserScope(Base):
    __tablename__ = "utenti_ambiti"

    utente_id: Mapped[int] = mapped_column(ForeignKey("utenti.id", ondelete="CASCADE"), primary_key=True)
    servizio_id: Mapped[int] = mapped_column(ForeignKey("servizi.id"), primary_key=True)


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "utenti"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    ruolo: Mapped[str] = mapped_column(String(20))
    attivo: Mapped[bool] = mapped_column(Boolean, default=True)
    # A survey firm's accounts name their firm: its batches and external ids are shared by its accounts and tokens.
    societa: Mapped[str | None] = mapped_column(String(200))
    # Part of the login cookie: a new value (logout, password change or reset, deactivation) ends every session.
    token_sessione: Mapped[str | None] = mapped_column(String(64))
    ultimo_accesso: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    servizi: Mapped[list[Servizio]] = relationship(secondary="utenti_ambiti", order_by="Servizio.slug")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        self.token_sessione = secrets.token_hex(16)

    def get_id(self) -> str:  # flask-login: the cookie holds id and session token; see staff.routes.load_user
        return f"{self.id}:{self.token_sessione or ''}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # flask-login
        return self.attivo

    def can_see(self, servizio: Servizio) -> bool:
        return self.ruolo in ROLES_SEEING_ALL or any(s.id == servizio.id for s in self.servizi)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    utente_id: Mapped[int | None] = mapped_column(ForeignKey("utenti.id"))
    azione: Mapped[str] = mapped_column(String(80))
    oggetto: Mapped[str | None] = mapped_column(String(200))
    dettagli: Mapped[dict[str, Any] | None] = mapped_column(JSON)
