"""Per-client rate limits on the public POST routes, without tracking people.

One Limiter per app (the limiter keeps state from its first app, so a shared module-level
object would mix tests and instances). The key is the client address: it lives only in the
limiter's storage (memory, or Redis with RATELIMIT_STORAGE_URI) and never next to an answer.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

LIMITED_BLUEPRINTS = {
    "kiosk": "KIOSK_RATE_LIMIT",
}


def _configured(name: str):
    return lambda: current_app.config[name]


def api_key() -> str:
    """The API counts per token (a firm's scripts may share an address); requests without a valid one, per address."""
    from .api.auth import request_token
    from .extensions import db

    token = request_token(db.session) if request.headers.get("Authorization") else None
    return f"token:{token.id}" if token is not None else f"ip:{get_remote_address()}"


def login_account() -> str:
    """The account a login names (hashed: addresses never sit in the limiter's storage)."""
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _failed(response) -> bool:
    return response.status_code == 401


def account_attempt() -> bool:
    """Count a login attempt on its account before the password is checked (parallel guesses cannot slip through
    between a test and a later count); False when the account has run out of attempts."""
    limiter = current_app.extensions["survey_limiter"]
    return all(limiter.limiter.hit(item, "login-account", login_account())
               for item in parse_many(current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"]))


def account_success() -> None:
    """A right password clears its account's count: only failures in a row lock an account."""
    limiter = current_app.extensions["survey_limiter"]
    for item in parse_many(current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"]):
        limiter.limiter.clear(item, "login-account", login_account())


@functools.lru_cache(maxsize=16)
def _parsed(limits: str) -> tuple:
    return tuple(parse_many(limits))


def count_submission() -> None:
    """Count a citizen's questionnaire sent from this address (SUBMIT_RATE_LIMIT); over the limit, a 429 that says
    when to try again.

    The same ``limits`` strategy and storage as Flask-Limiter, called directly: this is the path every citizen
    takes, and the extension's decorator (re-reading the setting, evaluating scopes, keeping request state) cost
    more than the round trip to Redis itself.
    """
    limiter = current_app.extensions["survey_limiter"]
    if not limiter.enabled:
        return
    identity = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", "submit", get_remote_address())
    for item in _parsed(current_app.config["SUBMIT_RATE_LIMIT"]):
        if not limiter.limiter.hit(item, *identity):
            reset = limiter.limiter.get_window_stats(item, *identity).reset_time
            raise TooManyRequests(retry_after=max(1, min(math.ceil(reset - time.time()), item.get_expiry())))


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    # The citizens' pages have one limit, counted by count_submission: the extension need not look at them.
    limiter.exempt(app.blueprints["public"])
    limiter.request_filter(_citizens_page)  # ...and its per-request pass stops at once, before resolving limits
    for name, setting in LIMITED_BLUEPRINTS.items():
        limiter.limit(_configured(setting), methods=["POST"])(app.blueprints[name])
    limiter.limit(_configured("API_RATE_LIMIT"), key_func=api_key)(app.blueprints["api"])
    login = app.view_functions["staff.login"]
    login = limiter.limit(_configured("LOGIN_RATE_LIMIT_CLIENT"), methods=["POST"], deduct_when=_failed)(login)
    app.view_functions["staff.login"] = login
    app.extensions["survey_limiter"] = limiter
    app.after_request(_retry_after)
    return limiter


def _citizens_page() -> bool:
    return request.blueprint == "public"


def _retry_after(response):
    """A refused request says when to try again: the limit it broke resets then (its window, read only now)."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        broken = current_app.extensions["survey_limiter"].current_limit
        if broken is not None:
            seconds = min(broken.reset_at - int(time.time()), broken.limit.get_expiry())  # reset_at rounds up
            response.headers["Retry-After"] = str(max(1, seconds))
    return response
