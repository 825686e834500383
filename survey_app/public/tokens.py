"""Signed one-time form tokens. The database keeps only a hash and a day, never linked to an answer."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from ..models import FormToken

MAX_AGE = 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="form-token")


def issue() -> str:
    return _serializer().dumps(secrets.token_urlsafe(16))


def payload(token: str | None) -> str | None:
    """The random value a valid token carries, or None.

    Spending records this value, not the token's text: a token with characters appended or changed that the
    decoder tolerates carries the same value, so it is the same token and can be spent once.
    """
    if not token:
        return None
    try:
        value = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def is_valid(token: str | None) -> bool:
    return payload(token) is not None


_cleared_on: date | None = None  # this process last dropped the spent tokens older than MAX_AGE on this day


def spend(session: Session, token: str) -> None:
    """Record the token as used, in the caller's transaction: a second use violates the primary key.

    Tokens spent more than two days ago can no longer come back (they expire after a day), so each process drops
    them once a day, not on every submission."""
    global _cleared_on
    value = payload(token)
    if value is None:
        raise ValueError("a token is checked before it is spent")
    today = date.today()
    if _cleared_on != today:
        session.execute(delete(FormToken).where(FormToken.giorno < today - timedelta(days=2)))
        _cleared_on = today
    session.execute(insert(FormToken), {"impronta": hashlib.sha256(value.encode()).hexdigest(), "giorno": today})
