"""Signed one-time form tokens. The database keeps only a hash and a day, never linked to an answer."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, insert
from sqlalchemy.orm import Session

from ..models import FormToken

MAX_AGE = 24 * 3600
_tokens = FormToken.__table__
FORGET_OLD = delete(_tokens).where(_tokens.c.giorno < bindparam("before"))
SPEND = insert(_tokens)


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


def spend(session: Session, value: str) -> None:
    """Record a token as used by its payload (``payload``), in the caller's transaction: a second use violates the
    primary key.

    Tokens spent more than two days ago can no longer come back (they expire after a day): the first spend of the
    day in each process drops them, in the same transaction, through the index on the day. (Should that transaction
    roll back, the next day's first spend drops them: an old token left a day longer does no harm.)"""
    today = date.today()
    connection = session.connection()
    if current_app.extensions.get("form_tokens_dropped_on") != today:
        connection.execute(FORGET_OLD, {"before": today - timedelta(days=2)})
        current_app.extensions["form_tokens_dropped_on"] = today
    connection.execute(SPEND, {"impronta": hashlib.sha256(value.encode()).hexdigest(), "giorno": today})
