"""Per-client rate limits on the public POST routes, without tracking people.

One Limiter per app (the limiter keeps state from its first app, so a shared module-level
object would mix tests and instances). The key is the client address: it lives only in the
limiter's storage (memory, or Redis with RATELIMIT_STORAGE_URI) and never next to an answer.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LIMITED_ENDPOINTS = {
    "public.questionnaire": "SUBMIT_RATE_LIMIT",
}
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


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        app.view_functions[endpoint] = limiter.limit(_configured(setting), methods=["POST"])(
            app.view_functions[endpoint])
    for name, setting in LIMITED_BLUEPRINTS.items():
        limiter.limit(_configured(setting), methods=["POST"])(app.blueprints[name])
    limiter.limit(_configured("API_RATE_LIMIT"), key_func=api_key)(app.blueprints["api"])
    login = app.view_functions["staff.login"]
    login = limiter.limit(_configured("LOGIN_RATE_LIMIT_CLIENT"), methods=["POST"], deduct_when=_failed)(login)
    # Per account every attempt counts, before the password is checked: guesses sent in parallel cannot slip
    # through between the check and the count.
    login = limiter.limit(_configured("LOGIN_RATE_LIMIT_ACCOUNT"), methods=["POST"], key_func=login_account)(login)
    app.view_functions["staff.login"] = login
    return limiter
