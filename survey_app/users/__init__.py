"""Staff accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..imports.firms import canonical_firm
from ..models import ROLES, ROLES_SEEING_ALL, AuditLog, Servizio, User


class UserError(ValueError):
    pass


def _check_scope(role: str, scope) -> None:
    """A scope means something only for the roles limited to it: given to one who sees everything, it would be shown
    in the list of accounts and mislead whoever reads it."""
    if role in ROLES_SEEING_ALL and scope:
        raise UserError(f"il ruolo «{role}» vede tutti i servizi: l'ambito si indica solo per «responsabile» e "
                        "«rilevatore»")


def _check_firm(role: str, firm: str | None) -> None:
    """A firm's account names its firm: taken from the e-mail's domain, two firms on one mail provider (gmail.com,
    libero.it) were one firm, each seeing the other's batches and left-out rows."""
    if role == "rilevatore" and not firm:
        raise UserError("il ruolo «rilevatore» richiede il nome della società di rilevazione (--firm): il dominio "
                        "dell'email non basta, due società possono usare lo stesso servizio di posta")


def create_user(session: Session, email: str, role: str, scope: list[str] | tuple[str, ...] = (),
                password: str | None = None, firm: str | None = None, actor: User | None = None) -> tuple[User, str]:
    """Create a staff account; returns it with its password (generated when not given)."""
    email = email.strip().lower()
    if "@" not in email:
        raise UserError(f"indirizzo email non valido: «{email}»")
    if role not in ROLES:
        raise UserError(f"ruolo sconosciuto «{role}» (ammessi: {', '.join(ROLES)})")
    if session.scalar(select(User).filter_by(email=email)) is not None:
        raise UserError(f"esiste già un utente {email}")
    _check_scope(role, scope)
    services = list(session.scalars(select(Servizio).where(Servizio.slug.in_(scope))))
    unknown = sorted(set(scope) - {s.slug for s in services})
    if unknown:
        raise UserError(f"servizi sconosciuti nell'ambito: {', '.join(unknown)}")
    if role in ("responsabile", "rilevatore") and not services:
        raise UserError(f"il ruolo «{role}» richiede almeno un servizio nell'ambito")
    password = password or secrets.token_urlsafe(12)
    firm = canonical_firm(session, firm or "") or None
    if firm and role != "rilevatore":
        raise UserError("la società si indica solo per il ruolo «rilevatore»")
    _check_firm(role, firm)
    user = User(email=email, ruolo=role, servizi=services, societa=firm)
    user.set_password(password)
    session.add(user)
    session.flush()
    _audit(session, actor, "utente.crea", user, ruolo=role, servizi=sorted(scope), societa=firm)
    session.commit()
    return user, password


def _audit(session: Session, actor: User | None, action: str, user: User, **details) -> None:
    session.add(AuditLog(utente_id=actor.id if actor else None, azione=action, oggetto=f"utente {user.email}"[:200],
                         dettagli=details or None))


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).filter_by(email=email.strip().lower()))
    if user is None:
        raise UserError(f"nessun utente {email.strip().lower()}")
    return user


def reset_password(session: Session, user: User, *, actor: User | None = None) -> str:
    """A new generated password, shown once; every open session of the account ends."""
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    _audit(session, actor, "utente.reimposta_password", user)
    session.commit()
    return password


def set_active(session: Session, user: User, active: bool, *, actor: User | None = None) -> None:
    if actor is not None and actor.id == user.id and not active:
        raise UserError("non si può disattivare il proprio account")
    if user.attivo != active:
        user.attivo = active
        user.end_sessions()
        _audit(session, actor, "utente.attiva" if active else "utente.disattiva", user)
    session.commit()


def update_user(session: Session, user: User, role: str, scope: list[str], firm: str | None, *,
                actor: User | None = None) -> None:
    """Change role, scope and firm, audited with what was and what is."""
    if role not in ROLES:
        raise UserError(f"ruolo sconosciuto «{role}» (ammessi: {', '.join(ROLES)})")
    _check_scope(role, scope)
    services = list(session.scalars(select(Servizio).where(Servizio.slug.in_(scope)).order_by(Servizio.slug)))
    if role in ("responsabile", "rilevatore") and not services:
        raise UserError(f"il ruolo «{role}» richiede almeno un servizio nell'ambito")
    if actor is not None and actor.id == user.id and role != "admin":
        raise UserError("un amministratore non può togliersi il ruolo da solo")
    firm = canonical_firm(session, firm or "") or None if role == "rilevatore" else None
    _check_firm(role, firm)
    before = {"ruolo": user.ruolo, "servizi": [s.slug for s in user.servizi], "societa": user.societa}
    user.ruolo, user.servizi, user.societa = role, services, firm
    after = {"ruolo": role, "servizi": [s.slug for s in services], "societa": firm}
    if before != after:
        if before["ruolo"] != role:
            user.end_sessions()  # a role taken away takes effect now, not at the next login
        _audit(session, actor, "utente.modifica", user, prima=before, dopo=after)
    session.commit()
