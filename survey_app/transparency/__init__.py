"""Publication in Amministrazione trasparente > Servizi erogati: frozen yearly versions, public pages, downloads.

The public pages (`/trasparenza`) show only what a version froze; the staff pages publish and manage the
improvement actions; `flask export` writes the same files from the command line.
"""

from flask import Blueprint

bp = Blueprint("transparency", __name__, url_prefix="/trasparenza")

from . import formatting, routes  # noqa: E402,F401
