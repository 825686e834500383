"""Role checks for staff routes: who may do what, in one place."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..models import Servizio

PUBLISHERS = ("admin", "trasparenza")
ACTION_EDITORS = ("admin", "responsabile")
ACTION_READERS = ("admin", "trasparenza", "responsabile")
# Results, charts, comments and QR posters: never the survey firms (rilevatore), who only upload.
RESULT_READERS = ("admin", "trasparenza", "responsabile")
IMPORTERS = ("admin", "rilevatore")
# The imported batches: a firm its own, an office manager those with answers to their services (imports/batches.py).
BATCH_READERS = ("admin", "trasparenza", "responsabile", "rilevatore")
ADMINS = ("admin",)
EVERYONE = ("admin", "trasparenza", "responsabile", "rilevatore")

ROLE_LABELS = {"admin": _l("Amministratore"), "trasparenza": _l("Responsabile della trasparenza"),
               "responsabile": _l("Responsabile di servizio"), "rilevatore": _l("Società di rilevazione")}

# The staff menu: endpoint, label, the roles that see it (the routes check the same roles).
MENU = [
    ("staff.dashboard", _l("Panoramica"), RESULT_READERS),
    ("staff.comments", _l("Commenti"), RESULT_READERS),
    ("staff.campaigns", _l("Rilevazioni"), ADMINS),
    ("staff.catalogue", _l("Catalogo"), ADMINS),
    ("actions.index", _l("Programmi di miglioramento"), ACTION_READERS),
    ("publishing.index", _l("Pubblicazione"), PUBLISHERS),
    ("qr.index", _l("Locandine QR"), RESULT_READERS),
    ("imports.index", _l("Importazioni"), BATCH_READERS),
    ("users.index", _l("Utenti"), ADMINS),
    ("users.audit", _l("Registro attività"), ADMINS),
    ("api_tokens.index", _l("Token API"), ADMINS),
    ("staff.password", _l("Password"), EVERYONE),
]


# Pages that belong to a menu entry of a blueprint shared with other entries (staff, users).
SUB_PAGES = {"staff.dashboard": ("staff.service", "staff.overview_download", "staff.service_download", "staff.question",
                                  "staff.question_download"),
             "staff.campaigns": ("staff.campaign",),
             "staff.catalogue": ("staff.catalogue_service", "staff.catalogue_sede_add", "staff.catalogue_sede",
                                 "staff.catalogue_sede_delete", "staff.catalogue_standard_add",
                                 "staff.catalogue_standard", "staff.catalogue_standard_delete",
                                 "staff.catalogue_questionnaires", "staff.catalogue_questionnaire"),
             "users.index": ("users.edit",)}
SHARED_BLUEPRINTS = ("staff", "users")


def _active(endpoint: str) -> bool:
    here = request.endpoint or ""
    if here == endpoint or here in SUB_PAGES.get(endpoint, ()):
        return True
    blueprint = endpoint.split(".")[0]
    return blueprint not in SHARED_BLUEPRINTS and here.split(".")[0] == blueprint


def staff_menu() -> list[tuple[str, str, bool]]:
    """The menu entries the logged-in user's role may open, each with whether it is the current page's."""
    if not current_user.is_authenticated:
        return []
    return [(endpoint, label, _active(endpoint)) for endpoint, label, roles in MENU
            if current_user.ruolo in roles and endpoint in current_app.view_functions]


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def localised(entity, name: str) -> str:
    """A catalogue text in the page's language (a service's name, a question's text), Italian where the catalogue
    has no English: the staff area in English kept them Italian though the catalogue had both."""
    return entity.localised(name, str(get_locale() or "it"))


def named_choice(value, entity, name: str, suffix: str = "", optgroup: str | None = None) -> SelectChoice:
    """A list's option naming a catalogue entity in the page's language, with ``lang="it"`` where an English page
    shows its Italian (an option holds text only: the attribute goes on the option itself)."""
    english = str(get_locale() or "it") != "it"
    untranslated = english and not getattr(entity, f"{name}_en", None)
    return SelectChoice(value, localised(entity, name) + suffix, render_kw={"lang": "it"} if untranslated else {},
                        optgroup=optgroup)


def confirmed(refusal: str | None = None) -> bool:
    """Whether the form carries the second click of an action that cannot be undone (templates: staff/_confirm.html),
    or its ticked confirmation box; if not, the page says nothing was done (``refusal``, or the second button's
    wording)."""
    if request.form.get("conferma") == "1":
        return True
    flash(refusal or _("Nessuna modifica: l'operazione non si può annullare e va confermata con il secondo pulsante."),
          "error")
    return False


def roles_required(*roles: str):
    """Login first (anonymous users go to the login page), then the role: anyone else gets a 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.ruolo not in roles:
                abort(403)
            return view(*args, **kwargs)
        wrapped.roles = roles  # read by the route matrix test, which builds its expectations from the URL map
        return wrapped
    return decorator


def can_edit_actions(servizio: Servizio) -> bool:
    """Admin for every service; a responsabile for the services in their scope."""
    if current_user.ruolo == "admin":
        return True
    return current_user.ruolo == "responsabile" and any(s.id == servizio.id for s in current_user.servizi)
