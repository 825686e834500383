"""Staff accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..imports.firms import canonical_firm
from ..models import ROLES, Servizio, User


class UserError(ValueError):
    pass


def create_user(session: Session, email: str, role: str, scope: list[str] | tuple[str, ...] = (),
                password: str | None = None, firm: str | None = None) -> tuple[User, str]:
    """Create a staff account; returns it with its password (generated when not given)."""
    email = email.strip().lower()
    if "@" not in email:
        raise UserError(f"indirizzo email non valido: «{email}»")
    if role not in ROLES:
        raise UserError(f"ruolo sconosciuto «{role}» (ammessi: {', '.join(ROLES)})")
    if session.scalar(select(User).filter_by(email=email)) is not None:
        raise UserError(f"esiste già un utente {email}")
    services = list(session.scalars(select(Servizio).where(Servizio.slug.in_(scope))))
    unknown = sorted(set(scope) - {s.slug for s in services})
    if unknown:
        raise UserError(f"servizi sconosciuti nell'ambito: {', '.join(unknown)}")
    if role in ("responsabile", "rilevatore") and not services:
        raise UserError(f"il ruolo «{role}» richiede almeno un servizio nell'ambito (--scope SLUG)")
    password = password or secrets.token_urlsafe(12)
    firm = canonical_firm(session, firm or "") or None
    if firm and role != "rilevatore":
        raise UserError("la società si indica solo per il ruolo «rilevatore»")
    user = User(email=email, ruolo=role, servizi=services, societa=firm)
    user.set_password(password)
    session.add(user)
    session.commit()
    return user, password
