from __future__ import annotations

import time

import redis
from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from .. import errors, legal
from ..extensions import csrf, db
from ..models import Ente, Ufficio
from ..ratelimit import count_submission
from . import bp, tokens
from .duration import estimate_minutes, minutes_by_questionnaire
from .forms import (
    answers_by_code,
    blank_questions_html,
    check_required,
    importance_name,
    questionnaire_form,
    unknown_answers,
)
from .lookup import PublicService, public_service
from .submission import store_submission

FACE_NAMES = {1: _l("faccina rossa"), 2: _l("faccina gialla"), 3: _l("faccina verde")}


def _lang() -> str:
    return str(get_locale() or "it")


def _service_or_404(slug: str) -> PublicService:
    servizio = public_service(db.session, slug, read_only=request.method == "GET")
    if servizio is None:
        abort(404)
    return servizio


@bp.get("/")
def index():
    enti = db.session.scalars(
        select(Ente).where(Ente.uffici.any()).order_by(Ente.nome)
        .options(selectinload(Ente.uffici).selectinload(Ufficio.servizi))
    ).all()
    minutes = minutes_by_questionnaire(db.session, {s.questionario_id for e in enti for u in e.uffici for s in u.servizi})
    return render_template("public/index.html", enti=enti, lang=_lang(), minutes=minutes)


SENT = "inviati"  # in the signed session cookie only: service slug -> when this browser last sent its answers
SENT_MINUTES = 30


def _recently_sent(slug: str) -> bool:
    return time.time() - session.get(SENT, {}).get(slug, 0) < SENT_MINUTES * 60


def _remember_sent(slug: str) -> None:
    """Kept in the browser's cookie, never on the server: the Back button then finds the notice, not a new form."""
    now = time.time()
    sent = {k: v for k, v in session.get(SENT, {}).items() if now - v < SENT_MINUTES * 60}
    sent[slug] = int(now)
    session[SENT] = sent


@bp.route("/s/<slug>", methods=["GET", "POST"])
@csrf.exempt  # checked below: a failed check sends the answers back to be sent again, never a bare 400
def questionnaire(slug: str):
    servizio = _service_or_404(slug)
    versione = servizio.versione
    if versione is None:
        abort(404)
    if request.method == "POST":
        count_submission()
    if request.method == "GET" and _recently_sent(slug) and not request.args.get("nuovo"):
        # Back after sending: say so, with a way to answer again on purpose (another person at a shared tablet).
        again = url_for("public.questionnaire", slug=slug, nuovo=1,
                        **{k: v for k, v in request.args.items() if k in ("canale", "sede", "lang")})
        response = current_app.make_response(render_template(
            "public/already_sent.html", servizio=servizio, lang=_lang(), again=again, ente_name=servizio.ente_name))
        response.headers["Cache-Control"] = "no-store"
        return response
    lang = _lang()
    domande, form_class = questionnaire_form(db.engine, versione, lang)
    if request.method == "GET":
        return _blank_page(servizio, domande, form_class, lang), 200, NO_STORE
    form = form_class()
    canale = request.values.get("canale")
    sede = request.values.get("sede")
    try:
        csrf.protect()
        forged_or_expired = False
    except CSRFError as exc:
        errors.log_refused_form(exc)
        # A session cookie gone (the browser restarted) or older than its limit, or a POST from elsewhere: nothing
        # is stored, and the answers come back with a fresh token, as an expired form's do (they were lost).
        forged_or_expired = True
    # Answers to questions this questionnaire does not have are refused, never silently dropped.
    unknown = unknown_answers(form, request.form)
    if form.validate_on_submit() and not unknown and not forged_or_expired:
        token = tokens.payload(form.form_token.data)
        if token is None:
            form.form_token.errors = [_("Il modulo è scaduto.")]
        elif check_required(form, domande):
            if not form.sito_web.data:
                _remember_sent(slug)
                store_submission(
                    db.session, servizio, versione,
                    answers=answers_by_code(form, domande),
                    importance={d.codice: form[importance_name(d)].data for d in domande if d.importanza},
                    canale=canale, sede=sede, lingua=lang, timezone=current_app.config["SURVEY_TIMEZONE"],
                    once=lambda session: tokens.spend(session, token), domande=domande,
                )
            return redirect(url_for("public.thanks", slug=slug, lang=request.args.get("lang")))
    if forged_or_expired:
        form.form_token.errors = [_("Il modulo è scaduto.")]
    if not tokens.is_valid(form.form_token.data):
        form.form_token.data = tokens.issue()
    # Sent back with errors: the answers given and the messages, so rendered afresh.
    page = _questionnaire_page(servizio, domande, form, lang, canale=canale, sede=sede, unknown=unknown,
                               csrf=generate_csrf())
    return page, 400 if forged_or_expired else 422, NO_STORE


def _questionnaire_page(servizio: PublicService, domande, form, lang: str, *, canale: str | None,
                        sede: str | None, unknown: list[str], csrf: str, questions_html=None) -> str:
    """The questionnaire page, blank (its questions rendered once, ``questions_html``) or sent back with errors."""
    return render_template("public/questionnaire.html", servizio=servizio, questionario=servizio.questionario,
                           domande=domande, form=form, lang=lang, canale=canale, sede=sede, unknown=unknown,
                           csrf=csrf, questions_html=questions_html, ente_name=servizio.ente_name,
                           minutes=estimate_minutes(domande))


# Not kept by the browser: Back after sending asks again, and finds the notice above instead of a fresh form.
NO_STORE = {"Cache-Control": "no-store"}
# Stand-ins for the two tokens in a kept page: letters and dashes only, so escaping leaves them as they are.
CSRF_SLOT, FORM_TOKEN_SLOT = "csrf-token-slot-c4e1", "form-token-slot-c4e1"
MAX_KEPT_PAGES = 256


def _blank_page(servizio: PublicService, domande, form_class, lang: str) -> str:
    """A blank questionnaire page, rendered once and kept per process: from one citizen to the next only its two
    tokens change, and they go into the kept text.

    The key holds everything the page shows: the service as read this request (its names, its ente, its current
    version and that version's fingerprint), the language, and the address with its query (the channel, the
    counter, the language links). An edit to any of them is a new key, never a stale page.
    """
    pages = current_app.extensions.setdefault("questionnaire_pages", {})
    key = (servizio, lang, request.script_root, request.full_path)
    page = pages.get(key)
    if page is None:
        form = form_class(formdata=None)
        form.form_token.data = FORM_TOKEN_SLOT
        page = _questionnaire_page(servizio, domande, form, lang, canale=request.args.get("canale"),
                                   sede=request.args.get("sede"), unknown=[], csrf=CSRF_SLOT,
                                   questions_html=blank_questions_html(servizio.versione, lang, form, domande))
        if len(pages) >= MAX_KEPT_PAGES:
            pages.clear()
        pages[key] = page
    return page.replace(CSRF_SLOT, generate_csrf(), 1).replace(FORM_TOKEN_SLOT, tokens.issue(), 1)


@bp.get("/s/<slug>/grazie")
def thanks(slug: str):
    servizio = _service_or_404(slug)
    return render_template("public/thanks.html", servizio=servizio, lang=_lang(), ente_name=servizio.ente_name)


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", lang=_lang(), **legal.privacy_context(db.session))


@bp.get("/accessibilita")
def accessibility():
    return render_template("public/accessibility.html", lang=_lang(), **legal.accessibility_context())


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the same icon as the pages' link."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.get("/healthz")
def healthz():
    """For the proxy and the monitoring: the database answers, and Redis too where the app uses it."""
    checks = {"database": _check(lambda: db.session.execute(text("SELECT 1")))}
    config = current_app.config
    for url in {config["RATELIMIT_STORAGE_URI"], config.get("CACHE_REDIS_URL") or ""}:
        if url.startswith(("redis://", "rediss://")):
            checks["redis"] = _check(lambda url=url: redis.Redis.from_url(url, socket_timeout=2,
                                                                          socket_connect_timeout=2).ping())
    healthy = all(value == "ok" for value in checks.values())
    response = jsonify(status="ok" if healthy else "errore", **checks)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def _check(probe) -> str:
    try:
        probe()
    except Exception:  # noqa: BLE001 - any failure means unhealthy; the reason goes to the log, not to the client
        current_app.logger.exception("healthz")
        db.session.rollback()
        return "non raggiungibile"
    return "ok"


@bp.app_template_filter("face_name")
def face_name(value):
    """Branching values as a reader knows them: faces by colour, everything else as written."""
    return str(FACE_NAMES[value]) if isinstance(value, int) and value in FACE_NAMES else value


