"""API tokens: created and revoked by an admin, stored as a SHA-256, scoped to a firm's services."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..imports.firms import canonical_firm
from ..models import ApiToken, AuditLog, Servizio, User
from ..models.base import utcnow

PREFIX = "cs_"
CACHE_KEY = "survey_app.api_token"


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message is in Italian."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, name: str, firm: str, scope: Iterable[str], *,
                 user: User | None = None) -> tuple[ApiToken, str]:
    """A new token for a firm and some services; returns it with its secret, which is never stored."""
    name, firm, scope = " ".join(name.split()), canonical_firm(session, firm), sorted(set(scope))
    if not name:
        raise TokenError("indicare un nome per il token")
    if not firm:
        raise TokenError("indicare la società a cui è dato il token")
    services = list(session.scalars(select(Servizio).where(Servizio.slug.in_(scope))))
    unknown = sorted(set(scope) - {s.slug for s in services})
    if unknown:
        raise TokenError(f"servizi sconosciuti: {', '.join(unknown)}")
    if not services:
        raise TokenError("indicare almeno un servizio per cui la società può inviare dati")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(nome=name[:120], fonte=firm[:200], impronta=digest(secret), prefisso=secret[:10],
                     creato_da=user.id if user else None, servizi=services)
    session.add(token)
    session.flush()
    session.add(AuditLog(utente_id=user.id if user else None, azione="token.crea", oggetto=f"token {token.id}",
                         dettagli={"nome": token.nome, "fonte": token.fonte, "servizi": scope}))
    session.commit()
    return token, secret


def revoke_token(session: Session, token_id: int, *, user: User | None = None, actor: str | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenError(f"token {token_id} inesistente")
    if token.revocato_il is not None:
        raise TokenError(f"il token {token_id} è già stato revocato il {token.revocato_il:%d/%m/%Y}")
    token.revocato_il, token.revocato_da = utcnow(), user.email if user else (actor or "riga di comando")
    session.add(AuditLog(utente_id=user.id if user else None, azione="token.revoca", oggetto=f"token {token.id}",
                         dettagli={"nome": token.nome, "fonte": token.fonte, "da": token.revocato_da}))
    session.commit()
    return token


def request_token(session: Session) -> ApiToken | None:
    """The live token the request carries as ``Authorization: Bearer …``, looked up once per request.

    Kept in the request's environ rather than ``g``: the rate limiter asks first, then the view.
    """
    if CACHE_KEY not in request.environ:
        found = None
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() == "bearer" and secret.startswith(PREFIX) and len(secret) < 200:
            token = session.scalar(select(ApiToken).filter_by(impronta=digest(secret)))
            if token is not None and token.attivo:
                found = token
        request.environ[CACHE_KEY] = found
    return request.environ[CACHE_KEY]
