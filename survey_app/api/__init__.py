"""The survey firms' token API: ``/api/v1/imports`` and its OpenAPI description."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401  (registers the views on bp)
