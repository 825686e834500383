"""QR codes and A4 posters for each service and counter."""

from flask import Blueprint

bp = Blueprint("qr", __name__, url_prefix="/staff/qr")

from . import routes  # noqa: E402,F401
