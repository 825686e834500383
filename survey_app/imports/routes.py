"""The survey firm's pages: the templates to fill in and its own batches (the upload form comes next)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, send_file
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import ImportBatch, Questionario, Servizio
from ..staff.access import IMPORTERS, roles_required
from ..staff.routes import visible_services
from . import template

bp = Blueprint("imports", __name__, url_prefix="/staff/importazioni")

FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _questionnaires() -> dict[str, tuple[Questionario, list[Servizio]]]:
    """The questionnaires of the services in the user's scope, each with those services."""
    found: dict[str, tuple[Questionario, list[Servizio]]] = {}
    for servizio in db.session.scalars(visible_services()):
        q = servizio.questionario
        found.setdefault(q.codice, (q, []))[1].append(servizio)
    return dict(sorted(found.items()))


@bp.get("/")
@roles_required(*IMPORTERS)
def index():
    batches = select(ImportBatch).order_by(ImportBatch.id.desc())
    if current_user.ruolo != "admin":
        batches = batches.filter_by(utente_id=current_user.id)  # a firm sees its own batches, no one else's
    return render_template("imports/index.html", questionnaires=_questionnaires(),
                           batches=db.session.scalars(batches.limit(200)).all())


@bp.get("/modello/<code>.<fmt>")
@roles_required(*IMPORTERS)
def template_file(code: str, fmt: str):
    found = _questionnaires().get(code)
    if found is None or fmt not in FORMATS or found[0].versione_corrente is None:
        abort(404)  # a questionnaire outside the scope looks the same as an unknown one
    q, services = found
    data = template.to_csv(q.versione_corrente) if fmt == "csv" else template.to_xlsx(q.versione_corrente, services)
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt], as_attachment=True,
                     download_name=f"modello-{code}.{fmt}")
