from __future__ import annotations

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Domanda, Ente, QuestionarioVersione, Servizio, Ufficio
from . import bp
from .forms import answers_by_code, build_form_class, check_required, importance_name
from .submission import store_submission


def _lang() -> str:
    return str(get_locale() or "it")


def _service_or_404(slug: str) -> Servizio:
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug))
    if servizio is None:
        abort(404)
    return servizio


def _questions(versione: QuestionarioVersione) -> list[Domanda]:
    return list(db.session.scalars(
        select(Domanda).filter_by(versione_id=versione.id).options(selectinload(Domanda.opzioni))
        .order_by(Domanda.posizione)
    ))


@bp.get("/")
def index():
    enti = db.session.scalars(
        select(Ente).where(Ente.uffici.any()).order_by(Ente.nome)
        .options(selectinload(Ente.uffici).selectinload(Ufficio.servizi))
    ).all()
    return render_template("public/index.html", enti=enti, lang=_lang())


@bp.route("/s/<slug>", methods=["GET", "POST"])
def questionnaire(slug: str):
    servizio = _service_or_404(slug)
    versione = servizio.questionario.versione_corrente
    if versione is None:
        abort(404)
    domande = _questions(versione)
    lang = _lang()
    form = build_form_class(domande, lang)()
    canale = request.values.get("canale")
    sede = request.values.get("sede")
    if form.validate_on_submit() and check_required(form, domande):
        if not form.sito_web.data:
            store_submission(
                db.session, servizio, versione,
                answers=answers_by_code(form, domande),
                importance={d.codice: form[importance_name(d)].data for d in domande if d.importanza},
                canale=canale, sede=sede, lingua=lang, timezone=current_app.config["SURVEY_TIMEZONE"],
            )
        return redirect(url_for("public.thanks", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("public/questionnaire.html", servizio=servizio, questionario=servizio.questionario,
                           domande=domande, form=form, lang=lang, canale=canale, sede=sede), status


@bp.get("/s/<slug>/grazie")
def thanks(slug: str):
    servizio = _service_or_404(slug)
    return render_template("public/thanks.html", servizio=servizio, lang=_lang())


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


FACE_NAMES = {1: "rossa", 2: "gialla", 3: "verde"}


@bp.app_template_filter("face_name")
def face_name(value):
    """Branching values as a reader knows them: faces by colour, everything else as written."""
    return FACE_NAMES.get(value, value) if isinstance(value, int) else value
