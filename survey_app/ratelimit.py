"""Per-client rate limits on the public POST routes, without tracking people.

One Limiter per app (the limiter keeps state from its first app, so a shared module-level
object would mix tests and instances). The key is the client address: it lives only in the
limiter's storage (memory, or Redis with RATELIMIT_STORAGE_URI) and never next to an answer.
"""

from __future__ import annotations

from flask import Flask, current_app
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


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        app.view_functions[endpoint] = limiter.limit(_configured(setting), methods=["POST"])(
            app.view_functions[endpoint])
    for name, setting in LIMITED_BLUEPRINTS.items():
        limiter.limit(_configured(setting), methods=["POST"])(app.blueprints[name])
    return limiter
