"""Kiosk at the counter: one tap on a face records, the reasons follow a red face, then it resets.

No login and nothing that identifies the person: the cool-down against double taps and the
pending submission waiting for its reasons live in the signed session cookie of the tablet,
never in the database.
"""

from __future__ import annotations

import time

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from .. import errors, legal
from ..extensions import db
from ..models import FACES, Compilazione, Domanda, QuestionarioVersione, Servizio
from ..public.submission import item_rows, resolve_channel, store_submission
from . import bp
from .forms import TapForm, reasons_form

CHANNEL = "chiosco"
RED = 1
# The reasons page accepts its answer for fifteen minutes after the face: its 60 s, or once ten times that
# ("Mi serve più tempo", WCAG 2.2.1) from a press as late as the 59th second, fit inside.
PENDING_SECONDS = 900
REASONS_RESET_SECONDS = 60  # an abandoned reasons page goes back to the faces (the face stays stored)
ERROR_RESET_SECONDS = 10  # an error page never strands a locked-down tablet: it goes back to the faces
IDLE_RELOAD_SECONDS = 1800  # well inside WTF_CSRF_TIME_LIMIT, so an idle kiosk never posts an expired token
LEGAL_RESET_SECONDS = 180  # time to read the privacy notice, then the tablet is back on the faces for the next person
LAST, PENDING = "kiosk_last", "kiosk_pending"


def _lang() -> str:
    return str(get_locale() or "it")


def kiosk_version(servizio: Servizio) -> QuestionarioVersione | None:
    """The kiosk's questionnaire: the service's kiosk one, else its own if it opens with faces."""
    for questionario in (servizio.questionario_chiosco, servizio.questionario):
        versione = questionario.versione_corrente if questionario else None
        if versione and versione.domande and versione.domande[0].tipo == "faccine":
            return versione
    return None


def reasons_question(versione: QuestionarioVersione) -> Domanda | None:
    """The choice question that follows a red face (its `mostra_se` holds for rosso)."""
    faces = versione.domande[0]
    return next((d for d in versione.domande[1:] if d.tipo in ("scelta_multipla", "scelta_singola")
                 and d.mostra_se and d.shown_for({faces.codice: RED})), None)


def _setup(slug: str) -> tuple[Servizio, QuestionarioVersione, Domanda, Domanda | None, str | None]:
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug))
    versione = kiosk_version(servizio) if servizio else None
    if versione is None:
        abort(404)
    return servizio, versione, versione.domande[0], reasons_question(versione), _counter(servizio)


def _counter(servizio: Servizio) -> str | None:
    """The kiosk's counter code. A code the service does not have is refused with a page that says so: a tablet set
    up with a mistyped address would otherwise store every tap without its counter, and nobody would see it."""
    code = request.values.get("sede")
    counter = _known_counter(servizio)
    codes = ", ".join(sorted(s.codice for s in servizio.sedi)) or _("nessuna")
    if code and counter is None:
        _refuse(_("Sede sconosciuta"), _("Il servizio non ha la sede «%(code)s». Chi prepara il tablet controlli "
                                         "l'indirizzo del chiosco: le sedi del servizio sono %(codes)s.",
                                         code=code[:40], codes=codes))
    if not code and servizio.sedi:  # the same for a missing one, where the service has counters to choose from
        _refuse(_("Sede mancante"), _("L'indirizzo del chiosco non indica la sede. Chi prepara il tablet aggiunga "
                                      "«?sede=» e il codice della sede dove si trova: le sedi del servizio sono "
                                      "%(codes)s.", codes=codes))
    return counter


def _refuse(title: str, message: str) -> None:
    abort(current_app.make_response((render_template("public/message.html", title=title, lang=_lang(),
                                                     message=message), 404)))


def _known_counter(servizio: Servizio) -> str | None:
    """The counter code of the request if the service has it (error pages: they never refuse again)."""
    _channel, counter = resolve_channel(servizio, CHANNEL, request.values.get("sede"), (CHANNEL,))
    return counter.codice if counter else None


def _url(endpoint: str, slug: str, sede: str | None) -> str:
    # The language travels in the URL, never in the session (see _language_from_the_url_only).
    return url_for(endpoint, slug=slug, sede=sede, lang=request.args.get("lang"))


def _fresh_pending(slug: str) -> dict | None:
    pending = session.get(PENDING)
    if pending and pending.get("slug") == slug and time.time() - pending.get("t", 0) < PENDING_SECONDS:
        return pending
    return None


@bp.before_request
def _language_from_the_url_only():
    """A shared tablet: a language chosen by one visitor (on a linked page) must not stay for the next.

    The kiosk's language is the one in its URL; the remembered choice of the public site is forgotten.
    """
    if "lang" not in request.args and "lang" in session:
        session.pop("lang")


@bp.get("/<slug>")
def faces(slug: str):
    servizio, _versione, question, _reasons, sede = _setup(slug)
    # A new visitor: whatever the previous one left unanswered is no longer theirs to complete, and their tap is
    # theirs, not a double tap of the previous one's (a queue of green faces kept one in two).
    for key in (PENDING, LAST):
        if key in session:
            session.pop(key)
    return render_template("kiosk/faces.html", servizio=servizio, domanda=question, sede=sede, form=TapForm(),
                           lang=_lang(), reset_url=_url("kiosk.faces", slug, sede),
                           reset_seconds=IDLE_RELOAD_SECONDS)


@bp.post("/<slug>")
def tap(slug: str):
    servizio, versione, question, reasons, sede = _setup(slug)
    if not TapForm().validate_on_submit():
        abort(400)
    face = request.form.get(question.codice, "")
    if not face.isdigit() or int(face) not in FACES:
        abort(400)
    now = time.time()
    key = f"{slug}|{sede or ''}"
    last = session.get(LAST)
    cooldown = current_app.config["KIOSK_COOLDOWN_SECONDS"]
    if last and last.get("key") == key and last.get("face") == face and 0 <= now - last.get("t", 0) < cooldown:
        # A double tap: the same face posted again from the same page (a new page forgets the last tap), stored
        # once. A red double tap still lands on the reasons of the submission it stored.
        if reasons is not None and int(face) == RED and _fresh_pending(slug):
            return redirect(_url("kiosk.reasons", slug, sede))
        return redirect(_url("kiosk.thanks", slug, sede))
    session.pop(PENDING, None)
    stored = store_submission(
        db.session, servizio, versione, answers={question.codice: face}, importance={}, canale=CHANNEL,
        sede=sede, lingua=_lang(), timezone=current_app.config["SURVEY_TIMEZONE"], channels=(CHANNEL,))
    session[LAST] = {"key": key, "face": face, "t": now}
    if stored is not None and reasons is not None and reasons.shown_for({question.codice: face}):
        # Only until the reasons are posted (or skipped), and for a few minutes at most.
        session[PENDING] = {"id": stored, "slug": slug, "t": now}
        return redirect(_url("kiosk.reasons", slug, sede))
    return redirect(_url("kiosk.thanks", slug, sede))


def _add_reasons(servizio: Servizio, faces: Domanda, question: Domanda, compilazione_id: int, chosen) -> None:
    """The chosen reasons, added to the submission that stored the face, at most once."""
    compilazione = db.session.get(Compilazione, compilazione_id)
    if (compilazione is None or compilazione.servizio_id != servizio.id or compilazione.canale != CHANNEL
            or compilazione.versione_id != question.versione_id
            or any(r.domanda_id == question.id for r in compilazione.risposte)):
        return
    face = next((r.valore for r in compilazione.risposte if r.domanda_id == faces.id), None)
    rows = item_rows([question], {faces.codice: face, question.codice: chosen}, {})
    if rows:
        compilazione.risposte.extend(rows)
        db.session.commit()


@bp.route("/<slug>/motivi", methods=["GET", "POST"])
def reasons(slug: str):
    servizio, _versione, faces_question, question, sede = _setup(slug)
    if question is None:
        abort(404)
    lang = _lang()
    form = reasons_form(question, lang)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        pending = _fresh_pending(slug)
        session.pop(PENDING, None)  # accepted once, whatever the button
        if pending and "invia" in request.form:
            _add_reasons(servizio, faces_question, question, pending["id"], form.motivi.data)
        return redirect(_url("kiosk.thanks", slug, sede))
    if not _fresh_pending(slug):
        return redirect(_url("kiosk.faces", slug, sede))
    return render_template("kiosk/reasons.html", servizio=servizio, domanda=question, sede=sede, form=form,
                           lang=lang, reset_url=_url("kiosk.faces", slug, sede),
                           reset_seconds=REASONS_RESET_SECONDS, show_timer=True, more_once=True)


@bp.get("/<slug>/grazie")
def thanks(slug: str):
    servizio, _versione, _faces, _reasons, sede = _setup(slug)
    return render_template("kiosk/thanks.html", servizio=servizio, sede=sede, lang=_lang(),
                           reset_seconds=current_app.config["KIOSK_RESET_SECONDS"],
                           reset_url=_url("kiosk.faces", slug, sede), show_timer=True)


def _error(status: int, title: str, message: str):
    """An error in the kiosk's own layout, with a way back: a locked-down tablet has no address bar."""
    slug = (request.view_args or {}).get("slug")
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug)) if slug else None
    if servizio is None or kiosk_version(servizio) is None:
        return render_template("kiosk/error.html", servizio=None, title=title, message=message,
                               lang=_lang()), status
    reset_url = _url("kiosk.faces", slug, _known_counter(servizio))
    return render_template("kiosk/error.html", servizio=servizio, title=title, message=message, lang=_lang(),
                           reset_url=reset_url, reset_seconds=ERROR_RESET_SECONDS, show_timer=True), status


@bp.errorhandler(400)
def bad_request(error):
    # An expired or missing CSRF token ends up here too (CSRFError is a 400).
    if isinstance(error, CSRFError):
        errors.log_refused_form(error)
    return _error(400, _("Richiesta non valida"), _("Il modulo è scaduto."))


@bp.errorhandler(404)
def not_found(error):
    """A service without a kiosk questionnaire says so to whoever sets the tablet up ("il servizio non è più
    attivo" sent them looking for a fault); any other 404 is the app's own page."""
    slug = (request.view_args or {}).get("slug")
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug)) if slug else None
    if servizio is None or kiosk_version(servizio) is not None or servizio.questionario.versione_corrente is None:
        return errors.handle(error)  # (a service with no questionnaire yet: its own page is a 404 too)
    return _error(404, _("Nessun tablet per questo servizio"), _(
        "Il servizio «%(name)s» non ha un questionario per il tablet allo sportello: si aggiunge nel catalogo del "
        "servizio (questionario_chiosco, un questionario che si apre con le faccine). Intanto i cittadini possono "
        "rispondere al suo questionario all'indirizzo %(url)s.", name=servizio.localised("nome", _lang()),
        url=url_for("public.questionnaire", slug=slug, _external=True)))


@bp.errorhandler(429)
def too_many(error):
    return _error(429, _("Troppi invii"), _("Abbiamo ricevuto troppe risposte in poco tempo da questa connessione. "
                                           "Riprova tra qualche minuto."))


LEGAL_PAGES = {"privacy": ("public/_privacy.html", legal.privacy_context),
               "accessibilita": ("public/_accessibility.html", lambda _session: legal.accessibility_context())}


@bp.get("/<slug>/<any(privacy, accessibilita):page>")
def legal_page(slug: str, page: str):
    """The privacy notice or the accessibility statement from the tablet: inside the kiosk, with the way back to the
    faces and a timer that takes it there for the next person."""
    servizio, _versione, _question, _reasons, sede = _setup(slug)
    notice, context = LEGAL_PAGES[page]
    title = _("Informativa privacy") if page == "privacy" else _("Dichiarazione di accessibilità")
    return render_template("kiosk/legal.html", servizio=servizio, sede=sede, lang=_lang(), notice=notice, kiosk=True,
                           title=title, reset_url=_url("kiosk.faces", slug, sede), reset_seconds=LEGAL_RESET_SECONDS,
                           show_timer=True, **context(db.session))
