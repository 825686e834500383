"""Kiosk at the counter: full-screen faces, one tap records, no login."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/k")

from . import routes  # noqa: E402,F401
