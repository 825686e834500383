"""Staff area: login required, role and scope checked on every route."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import (  # noqa: E402,F401
    campaigns,
    catalogue_pages,
    catalogue_questionnaires,
    comments,
    overview,
    question_page,
    routes,
    service_page,
)
from .access import localised, role_label, staff_menu  # noqa: E402
from .forms import form_error_list  # noqa: E402
from .selection import this_page  # noqa: E402

bp.add_app_template_global(staff_menu)
bp.add_app_template_filter(role_label)
bp.add_app_template_filter(localised)
bp.add_app_template_global(this_page)
bp.add_app_template_global(form_error_list)
