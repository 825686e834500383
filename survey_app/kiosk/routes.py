"""Kiosk at the counter: one tap on a face records, the reasons follow a red face, then it resets.

No login and nothing that identifies the person: the cool-down against double taps and the
pending submission waiting for its reasons live in the signed session cookie of the tablet,
never in the database.
"""

from __future__ import annotations

import time

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..models import Compilazione, Domanda, QuestionarioVersione, Risposta, Servizio
from ..public.forms import MultiCheckboxField
from ..public.submission import resolve_channel, store_submission
from . import bp

PENDING_SECONDS = 300  # the reasons page accepts its answer for five minutes after the face
REASONS_RESET_SECONDS = 60  # an abandoned reasons page goes back to the faces (the face stays stored)
IDLE_RELOAD_SECONDS = 1800


class TapForm(FlaskForm):
    """Only the CSRF token: the face comes from the button that was pressed."""


def _lang() -> str:
    return str(get_locale() or "it")


def kiosk_version(servizio: Servizio) -> QuestionarioVersione | None:
    """The kiosk's questionnaire: the service's kiosk one, else its own if it opens with faces."""
    for questionario in (servizio.questionario_chiosco, servizio.questionario):
        versione = questionario.versione_corrente if questionario else None
        if versione and versione.domande and versione.domande[0].tipo == "faccine":
            return versione
    return None


def _setup(slug: str) -> tuple[Servizio, QuestionarioVersione, Domanda, Domanda | None, str | None]:
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug))
    versione = kiosk_version(servizio) if servizio else None
    if versione is None:
        abort(404)
    faces = versione.domande[0]
    reasons = next((d for d in versione.domande[1:] if d.tipo in ("scelta_multipla", "scelta_singola")
                    and d.mostra_se and d.shown_for({faces.codice: 1})), None)
    _, counter = resolve_channel(servizio, "chiosco", request.values.get("sede"))
    return servizio, versione, faces, reasons, counter.codice if counter else None


def _start_url(slug: str, sede: str | None) -> str:
    return url_for("kiosk.faces", slug=slug, sede=sede, lang=request.args.get("lang"))


@bp.get("/<slug>")
def faces(slug: str):
    servizio, _, question, _, sede = _setup(slug)
    # An idle kiosk reloads itself every half hour so that its form token never expires.
    return render_template("kiosk/faces.html", servizio=servizio, domanda=question, sede=sede, form=TapForm(),
                           lang=_lang(), reset_url=_start_url(slug, sede), reset_seconds=IDLE_RELOAD_SECONDS)


@bp.post("/<slug>")
def tap(slug: str):
    servizio, versione, question, reasons, sede = _setup(slug)
    if not TapForm().validate_on_submit():
        abort(400)
    face = request.form.get(question.codice)
    if face not in ("1", "2", "3"):
        abort(400)
    now = time.time()
    key = f"{slug}|{sede or ''}"
    last = session.get("kiosk_last")
    cooldown = current_app.config["KIOSK_COOLDOWN_SECONDS"]
    if last and last["key"] == key and last["face"] == face and now - last["t"] < cooldown:
        # A double tap or a run of the same vote: stored once.
        return redirect(url_for("kiosk.thanks", slug=slug, sede=sede, lang=request.args.get("lang")))
    compilazione = store_submission(
        db.session, servizio, versione, answers={question.codice: face}, importance={}, canale="chiosco",
        sede=sede, lingua=_lang(), timezone=current_app.config["SURVEY_TIMEZONE"])
    session["kiosk_last"] = {"key": key, "face": face, "t": now}
    if compilazione is not None and reasons is not None and reasons.shown_for({question.codice: face}):
        session["kiosk_pending"] = {"id": compilazione.id, "slug": slug, "t": now}
        return redirect(url_for("kiosk.reasons", slug=slug, sede=sede, lang=request.args.get("lang")))
    return redirect(url_for("kiosk.thanks", slug=slug, sede=sede, lang=request.args.get("lang")))


def _reasons_form(question: Domanda, lang: str):
    class ReasonsForm(FlaskForm):
        motivi = MultiCheckboxField(question.testo(lang),
                                    choices=[SelectChoice(o.codice, o.testo(lang)) for o in question.opzioni])

    return ReasonsForm()


@bp.route("/<slug>/motivi", methods=["GET", "POST"])
def reasons(slug: str):
    servizio, _, _, question, sede = _setup(slug)
    if question is None:
        abort(404)
    lang = _lang()
    form = _reasons_form(question, lang)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        pending = session.pop("kiosk_pending", None)
        fresh = pending and pending["slug"] == slug and time.time() - pending["t"] < PENDING_SECONDS
        if fresh and "invia" in request.form and form.motivi.data:
            compilazione = db.session.get(Compilazione, pending["id"])
            if compilazione is not None:
                compilazione.risposte.extend(Risposta(domanda=question, opzione=code) for code in form.motivi.data)
                db.session.commit()
        return redirect(url_for("kiosk.thanks", slug=slug, sede=sede, lang=request.args.get("lang")))
    if not session.get("kiosk_pending"):
        return redirect(_start_url(slug, sede))
    return render_template("kiosk/reasons.html", servizio=servizio, domanda=question, sede=sede, form=form,
                           lang=lang, reset_url=_start_url(slug, sede), reset_seconds=REASONS_RESET_SECONDS,
                           show_timer=True)


@bp.get("/<slug>/grazie")
def thanks(slug: str):
    servizio, _, _, _, sede = _setup(slug)
    return render_template("kiosk/thanks.html", servizio=servizio, sede=sede, lang=_lang(),
                           reset_seconds=current_app.config["KIOSK_RESET_SECONDS"], reset_url=_start_url(slug, sede),
                           show_timer=True)
