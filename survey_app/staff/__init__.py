"""Staff area: login required, role and scope checked on every route."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import routes, service_page  # noqa: E402,F401
