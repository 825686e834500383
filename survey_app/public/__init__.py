"""Public pages for citizens: no login, nothing that identifies the person is stored."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import routes  # noqa: E402,F401
