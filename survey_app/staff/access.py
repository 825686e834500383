"""Role checks for staff routes: who may do what, in one place."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..models import Servizio

PUBLISHERS = ("admin", "trasparenza")
ACTION_EDITORS = ("admin", "responsabile")
ACTION_READERS = ("admin", "trasparenza", "responsabile")
# Results, charts, comments and QR posters: never the survey firms (rilevatore), who only upload.
RESULT_READERS = ("admin", "trasparenza", "responsabile")
IMPORTERS = ("admin", "rilevatore")


def roles_required(*roles: str):
    """Login first (anonymous users go to the login page), then the role: anyone else gets a 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.ruolo not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def can_edit_actions(servizio: Servizio) -> bool:
    """Admin for every service; a responsabile for the services in their scope."""
    if current_user.ruolo == "admin":
        return True
    return current_user.ruolo == "responsabile" and any(s.id == servizio.id for s in current_user.servizi)
