"""Staff figures kept for a while: the overview and the service pages read a whole year of answer counts, which
takes seconds on a million answers in SQLite, so each result is kept for FIGURES_CACHE_SECONDS and the page says
when it was computed.

Citizens' answers show within that time. Writes that change figures in bulk (a firm's batch imported or rolled
back, the catalogue, its standards and questionnaires, campaigns) clear the cache when they commit, so they show
at once. With CACHE_REDIS_URL the cache is shared by every worker and host (and so is the clearing); otherwise each
process keeps its own. FIGURES_CACHE_SECONDS = 0 turns it off.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_caching import Cache
from sqlalchemy import event
from sqlalchemy.orm import Session

from .models import (
    Domanda,
    Ente,
    ImportBatch,
    Opzione,
    Questionario,
    QuestionarioVersione,
    Rilevazione,
    Sede,
    Servizio,
    Standard,
    Ufficio,
)

cache = Cache()
BULK_CHANGES = (Ente, Ufficio, Servizio, Sede, Standard, Questionario, QuestionarioVersione, Domanda, Opzione,
                Rilevazione, ImportBatch)
FLAG = "figures_changed"


def init_app(app: Flask) -> None:
    seconds = app.config["FIGURES_CACHE_SECONDS"]
    # Hosts of one installation share its database, and so its figures; another installation on the same Redis
    # has another database, and so other keys.
    database = hashlib.sha256(str(app.config["SQLALCHEMY_DATABASE_URI"]).encode()).hexdigest()[:16]
    config = {"CACHE_DEFAULT_TIMEOUT": seconds, "CACHE_KEY_PREFIX": f"cs-figures:{database}:", "CACHE_THRESHOLD": 500}
    if not seconds:
        config["CACHE_TYPE"] = "NullCache"
    elif app.config.get("CACHE_REDIS_URL"):
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=app.config["CACHE_REDIS_URL"])
    else:
        config["CACHE_TYPE"] = "SimpleCache"
    cache.init_app(app, config=config)


def cached(key: str, compute: Callable[[], Any]) -> tuple[Any, datetime]:
    """``compute()``'s result for ``key`` and when it was computed (UTC): kept, or computed now and kept."""
    found = cache.get(key)
    if found is None:
        found = (compute(), datetime.now(UTC))
        cache.set(key, found)
    return found


def per_request(name: str) -> dict:
    """A dict kept on the current request (a fresh one outside a request), for what one page asks for many times
    and the figures cache may not keep (it can be off). On the request, not on g: a test's app context can outlive
    several requests."""
    if not has_request_context():
        return {}
    memo = getattr(request, f"cs_{name}", None)
    if memo is None:
        memo = {}
        setattr(request, f"cs_{name}", memo)
    return memo


def enabled() -> bool:
    return bool(current_app.config["FIGURES_CACHE_SECONDS"])


@event.listens_for(Session, "after_flush")
def _note_bulk_changes(session: Session, _context) -> None:
    if any(isinstance(obj, BULK_CHANGES) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[FLAG] = True


@event.listens_for(Session, "after_commit")
def _clear_after_bulk_changes(session: Session) -> None:
    if session.info.pop(FLAG, False):
        with suppress(RuntimeError):  # outside an app context (a script on the bare engine): no cache to clear
            cache.clear()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session: Session) -> None:
    session.info.pop(FLAG, None)
