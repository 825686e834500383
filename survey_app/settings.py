"""Configuration: defaults, instance file, environment; fail fast in production."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask


class ConfigurationError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it was given."""


class Defaults:
    SURVEY_ENV = "development"
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY: str | None = None
    # Cells with fewer valid answers than this are suppressed in every published figure.
    # finalise() refuses anything below 5, whatever the instance asks for.
    SUPPRESSION_THRESHOLD = 5
    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")
    # Answers are stored with their local hour, never finer (anonymity).
    SURVEY_TIMEZONE = "Europe/Rome"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Staff sessions end after an hour idle and after a working day (checked on the server, not only by the cookie).
    STAFF_IDLE_MINUTES = 60
    STAFF_SESSION_HOURS = 10
    PERMANENT_SESSION_LIFETIME = 10 * 3600
    # Failed logins per client address (an office behind one address logs in often); per account, attempts since
    # the last right password, counted before the password is checked.
    LOGIN_RATE_LIMIT_CLIENT = "20 per 15 minutes"
    LOGIN_RATE_LIMIT_ACCOUNT = "5 per 15 minutes"
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Flask-Limiter: memory by default; RATELIMIT_STORAGE_URI=redis://… shares the counts between workers.
    RATELIMIT_STORAGE_URI = "memory://"
    # No X-RateLimit-* headers on every answer (each costs a round trip to the store): a 429 says Retry-After.
    RATELIMIT_HEADERS_ENABLED = False
    SUBMIT_RATE_LIMIT = "20 per minute;200 per hour"
    KIOSK_RATE_LIMIT = "60 per minute"
    # The firms' import API, per token (per address without one).
    API_RATE_LIMIT = "60 per minute;1000 per hour"
    # Kiosk: the same face posted again from the same page within this many seconds is a double tap, stored once
    # (the faces shown afresh are the next person's); the thank-you page goes back to the faces after
    # KIOSK_RESET_SECONDS.
    KIOSK_COOLDOWN_SECONDS = 10
    KIOSK_RESET_SECONDS = 5
    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/Proto/Host are believed, so each
    # citizen gets their own rate-limit bucket behind the proxy; 0 believes no such header (a client could forge it).
    TRUSTED_PROXIES = 0
    # Staff figures (overview, service pages) are kept this long; bulk writes clear them at once (figures_cache.py).
    # CACHE_REDIS_URL=redis://… shares them between workers and hosts.
    FIGURES_CACHE_SECONDS = 120
    # Public base URL printed on QR posters and in the published files; empty: the address the request came to
    # (and http://127.0.0.1:5000 outside a request, e.g. the CLI). Production publishing requires it.
    PUBLIC_BASE_URL = ""
    # Free-text comments are kept this many months after the answer's date, then deleted by `flask purge` (the
    # privacy notice states the same figure). Scores, counts and choices are anonymous and kept.
    COMMENT_RETENTION_MONTHS = 24
    # The privacy notice and the accessibility statement (shapes in survey_app/legal.py). Empty: the pages say
    # "non ancora indicato" instead of inventing a contact or a date.
    LEGAL_ENTI: dict = {}  # ente codice -> {"indirizzo", "pec", "email", "dpo_nome", "dpo_email", "dpo_pec"}
    LEGAL_RESPONSABILI: list = []  # data processors: [{"nome": ..., "attivita": ...}]
    ACCESSIBILITY: dict = {}  # {"ente", "stato", "data_dichiarazione", "data_revisione", "feedback", ...}


MIN_SUPPRESSION_THRESHOLD = 5


def apply_environment(config: dict, environ: Mapping[str, str]) -> None:
    """Environment variables override the instance file."""
    if environ.get("SURVEY_ENV"):
        config["SURVEY_ENV"] = environ["SURVEY_ENV"]
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = environ["RATELIMIT_STORAGE_URI"]
    if environ.get("PUBLIC_BASE_URL"):
        config["PUBLIC_BASE_URL"] = environ["PUBLIC_BASE_URL"]
    if environ.get("CACHE_REDIS_URL"):
        config["CACHE_REDIS_URL"] = environ["CACHE_REDIS_URL"]
    if environ.get("TRUSTED_PROXIES"):
        config["TRUSTED_PROXIES"] = int(environ["TRUSTED_PROXIES"])


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def finalise(app: Flask) -> None:
    config = app.config
    instance = Path(app.instance_path)
    production = config["SURVEY_ENV"] == "production"
    if production:
        missing = [name for name, key in (("SECRET_KEY", "SECRET_KEY"), ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"))
                   if not config.get(key)]
        if missing:
            # For the person deploying (Italian, as every message they read): what to set, SQLite's form included.
            raise ConfigurationError(
                f"SURVEY_ENV=production: {'mancano' if len(missing) > 1 else 'manca'} nell'ambiente "
                + " e ".join(missing) + "; l'app non parte con valori "
                "generati o predefiniti. SECRET_KEY: una stringa casuale lunga (per esempio `python -c \"import "
                "secrets; print(secrets.token_hex(32))\"`). DATABASE_URL: postgresql://utente@host/database, oppure "
                f"SQLite con il percorso assoluto, sqlite:///{Path(app.instance_path) / 'survey.sqlite3'} (docs/deploy.md)."
            )
        config["SESSION_COOKIE_SECURE"] = True
        if config["RATELIMIT_STORAGE_URI"].startswith("memory://") and os.environ.get("WEB_CONCURRENCY") != "1":
            raise ConfigurationError(
                "SURVEY_ENV=production con i limiti di invio in memoria: ogni processo conterebbe per conto suo. "
                "Impostare RATELIMIT_STORAGE_URI=redis://… (oppure WEB_CONCURRENCY=1 per un solo processo)."
            )
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'survey.sqlite3'}"
    _private_sqlite_file(config["SQLALCHEMY_DATABASE_URI"], instance)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance)
    if int(config["SUPPRESSION_THRESHOLD"]) < MIN_SUPPRESSION_THRESHOLD:
        raise ConfigurationError(
            f"SUPPRESSION_THRESHOLD deve essere almeno {MIN_SUPPRESSION_THRESHOLD}: "
            "gruppi più piccoli permetterebbero di riconoscere chi ha risposto."
        )


def _private_sqlite_file(url: str, instance: Path) -> None:
    """A SQLite database not yet created is created empty, readable by its owner only: it holds the citizens'
    comments and the staff's password hashes, and sqlite3 would create it readable by all (0644 under the usual
    umask). Its -wal and -shm files take the same permissions."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or database in (None, "", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    if not path.is_absolute():  # Flask-SQLAlchemy reads a relative path under the instance folder
        path = instance / path
    if not path.exists() and path.parent.is_dir():
        path.touch(mode=0o600)


def _instance_secret(instance: Path) -> str:
    """Create the secret once, readable by the owner only, and reuse it on every start."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def is_loopback(url: str) -> bool:
    """An address only this machine can reach (or none at all): never one to print or to publish."""
    host = urlsplit(url).hostname or ""
    return host in ("", "localhost", "::1") or host.startswith("127.")


def public_base_url() -> str:
    """The site's public address without a trailing slash: PUBLIC_BASE_URL, else the request's own host."""
    from flask import current_app, has_request_context, request

    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    return request.host_url.rstrip("/") if has_request_context() else "http://127.0.0.1:5000"
