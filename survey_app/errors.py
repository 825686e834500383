"""Error pages in the visitor's language, and JSON for the API: one handler per status, for the whole app.

Blueprint handlers (the kiosk's) still win for their own routes; addresses under /api/ answer JSON even when no
route matches them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn

import click
from flask import Flask, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, NotFound

PAGES = {
    400: (_l("Richiesta non valida"),
          _l("Il modulo è scaduto o non è valido. Torna alla pagina del questionario e invialo di nuovo.")),
    403: (_l("Accesso non consentito"), _l("Il tuo account non può aprire questa pagina.")),
    404: (_l("Pagina non trovata"), _l("La pagina che cerchi non esiste o il servizio non è più attivo.")),
    405: (_l("Operazione non consentita"), _l("Questo indirizzo non accetta l'operazione richiesta.")),
    413: (_l("File o modulo troppo grande"), _l("Quanto inviato supera la dimensione massima accettata.")),
    429: (_l("Troppi invii"), _l("Abbiamo ricevuto troppe risposte in poco tempo da questa connessione. "
                                  "Riprova tra qualche minuto.")),
}


# The staff's own wording where the citizens' would mislead ("il modulo è scaduto", "il servizio non è più attivo").
STAFF_PAGES = {
    400: _l("La richiesta non è valida: un valore nell'indirizzo o nel modulo non è accettato. Torna alla pagina "
            "precedente e riprova."),
    404: _l("La pagina o il dato che cerchi non esiste, oppure non rientra nei servizi del tuo account."),
}
SERVER_ERROR = (_l("Errore del server"), _l("Qualcosa non ha funzionato da parte nostra. Riprova tra qualche minuto: "
                                              "se il problema resta, avvisa l'ufficio."))
CONTROL_CHARACTERS = _l("L'indirizzo o il modulo contiene caratteri di controllo, che non sono ammessi. Torna alla "
                        "pagina precedente e riprova.")


class BadParameter(BadRequest):
    """A 400 whose page names the URL parameter that is wrong."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.parameter = name


class NoSuchValue(NotFound):
    """A 404 for a well-formed filter or year that the page's answers do not have: the page says which."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__()
        self.parameter, self.value = name, value


class NarrowComplement(Forbidden):
    """A 403 for filters that leave out a handful of answers: the page minus the unfiltered one would show them."""

    def __init__(self, left_out: int, threshold: int, within: str | None = None) -> None:
        super().__init__()
        self.left_out, self.threshold = left_out, threshold
        self.within = within  # the year of a longer period where they are left out (None: the period itself)


class HiddenGroupFilter(Forbidden):
    """A 403 for a filter that selects a group the page without filters hides: it was hidden so that a smaller one
    could not be worked out, and the filtered page would show its figures. ``label``: the value as the filter
    offers it ("italiano" for "it")."""

    def __init__(self, parameter: str, value: str, threshold: int, label: str | None = None,
                 question: str | None = None, within: str | None = None) -> None:
        super().__init__()
        self.parameter, self.value, self.threshold = parameter, value, threshold
        self.label = label or value
        self.question = question  # the question whose breakdown hides it (the overall one may show it)
        self.within = within  # the year of a longer period where it is hidden (None: the period itself)


def no_such_value(name: str, value: str) -> NoReturn:
    raise NoSuchValue(name, value)


class ControlCharacters(BadRequest):
    """A 400 for a NUL or another control character in the path, the query or a form field."""


def bad_parameter(name: str) -> NoReturn:
    raise BadParameter(name)


def typed_range(names: tuple[str, str], parse: Callable[[str], Any], page: bool,
                reversed_message: str) -> tuple[Any, Any, dict[str, str]]:
    """Two fields of a range typed by a person (months, days): each parsed by ``parse`` (ValueError with what to
    write), and the end not before the start. A ``page`` gets what is wrong with each field, to show beside it (the
    field then counts as empty); anything else (a download, which must not give another range) a 400."""
    found, errors = {}, {}
    for name in names:
        try:
            found[name] = parse(name)
        except ValueError as exc:
            if not page:
                bad_parameter(name)
            found[name], errors[name] = None, str(exc)
    first, last = found[names[0]], found[names[1]]
    if first and last and last < first:
        if not page:
            bad_parameter(names[1])
        errors[names[1]] = reversed_message
    return first, last, errors


def init_app(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, handle)
    app.register_error_handler(500, server_error)
    app.before_request(refuse_control_characters)


def _controls(text: str | None, allowed: str = "") -> bool:
    """Whether ``text`` has a control character (a multipart part without a usable name gives None: no text)."""
    return any((ord(c) < 32 or c == "\x7f") and c not in allowed for c in text or "")


def refuse_control_characters() -> None:
    """No database stores a NUL, and no path or query needs a control character: refused before any view runs.

    Form fields may hold line breaks and tabs (a comment), never a NUL.
    """
    if _controls(request.path) or any(_controls(k) or _controls(v) for k, v in request.args.items(multi=True)):
        raise ControlCharacters()
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") \
            and any(_controls(k) or "\x00" in (v or "") for k, v in request.form.items(multi=True)):
        raise ControlCharacters()


NO_SCHEMA = ("il database non ha ancora le tabelle dell'app: eseguire prima `flask --app survey_app db upgrade` "
             "(con le stesse SURVEY_INSTANCE e DATABASE_URL), poi riprovare")


def missing_schema(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it wraps) is a query on a table the database does not have: `db upgrade` not run,
    or run with another SURVEY_INSTANCE or DATABASE_URL."""
    while exc is not None:
        if isinstance(exc, OperationalError | ProgrammingError):
            text = str(exc.orig)
            return "no such table" in text or ("relation" in text and "does not exist" in text)
        exc = getattr(exc, "original_exception", None) or exc.__cause__
    return False


def guard_commands(command: click.Command) -> None:
    """Each of the app's commands answers a database without tables with one Italian line, not a traceback."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard_commands(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "schema_guarded", False):  # every create_app registers them again
        return

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            if missing_schema(exc):
                raise click.ClickException(NO_SCHEMA) from None
            raise

    guarded.schema_guarded = True
    command.callback = guarded


def server_error(exc: Exception):
    """A fault of ours: JSON for the API, otherwise an Italian page (and never the details)."""
    if missing_schema(exc):  # the operator's mistake, said once in the log in words, not only as a traceback
        current_app.logger.error("Pagina non servita: %s.", NO_SCHEMA)
    if request.path.startswith("/api/"):
        from .api.routes import error

        return error(500, "errore interno del server: riprovare più tardi")
    title, message = SERVER_ERROR
    try:
        page = render_template("public/message.html", title=title, message=message, lang=str(get_locale() or "it"))
    except Exception:  # noqa: BLE001 - the page itself failed (the database is down…): plain text, still Italian
        page = f"{title}. {message}"
    return page, 500


def log_refused_form(exc: CSRFError) -> None:
    """A form refused by the CSRF check, in the log with the check's own reason: an expired session looks the same to
    the person as a proxy that drops the port from ``Host`` (every form "scaduto"), and only this line tells them
    apart (no address, no token: the reason alone)."""
    current_app.logger.warning("modulo rifiutato dal controllo CSRF: %s", exc.description)


def handle(exc: HTTPException):
    if isinstance(exc, CSRFError):
        log_refused_form(exc)
    if request.path.startswith("/api/"):
        from .api.routes import http_error

        return http_error(exc)
    headers = [h for h in exc.get_headers() if h[0].lower() != "content-type"]
    if exc.code == 429 and request.endpoint == "staff.login":
        from .staff.forms import LoginForm

        return render_template("staff/login.html", form=LoginForm(formdata=None), throttled=True), 429, headers
    title, message = PAGES[exc.code]
    if request.path.startswith("/staff/") and exc.code in STAFF_PAGES:
        message = STAFF_PAGES[exc.code]
    if isinstance(exc, ControlCharacters):
        message = CONTROL_CHARACTERS
    if isinstance(exc, NoSuchValue):
        message = (_l("Nessuna risposta di questo servizio ha «%(name)s» uguale a «%(value)s». Torna alla pagina del "
                      "servizio e scegli uno dei valori offerti.", name=exc.parameter, value=exc.value[:40])
                   if request.view_args and "slug" in request.view_args else
                   _l("Nessuna risposta ha «%(name)s» uguale a «%(value)s». Torna alla pagina precedente e scegli uno "
                      "dei valori offerti.", name=exc.parameter, value=exc.value[:40]))
    if isinstance(exc, NarrowComplement):
        message = _l("Con questi filtri restano fuori solo %(n)d questionari, meno di %(k)d, rispetto alla stessa "
                     "pagina senza filtri o con un filtro in meno: confrontandole si leggerebbero le loro risposte. "
                     "Togli un filtro o scegli un periodo più ampio.", n=exc.left_out, k=exc.threshold)
        if exc.within:
            message = _l("Con questi filtri, nel %(year)s restano fuori solo %(n)d questionari, meno di %(k)d, "
                         "rispetto alla stessa pagina senza filtri o con un filtro in meno: togliendo dal periodo "
                         "scelto gli altri anni si leggerebbero le loro risposte. Scegli un periodo dentro un solo "
                         "anno o togli un filtro.", year=exc.within, n=exc.left_out, k=exc.threshold)
    if isinstance(exc, HiddenGroupFilter):
        from .staff.selection import FILTER_TITLES

        title_of = FILTER_TITLES.get(exc.parameter, exc.parameter)
        message = _l("Il filtro «%(name)s» = «%(value)s» non si può usare in questo periodo: nella pagina della "
                     "domanda %(question)s, tabella «%(name)s», quel gruppo è nascosto perché dal totale non si "
                     "ricavino le risposte di un gruppo con meno di %(k)d questionari, e la pagina filtrata ne "
                     "mostrerebbe i dati. I gruppi che si possono confrontare sono nelle tabelle per gruppo della "
                     "pagina senza filtri; oppure scegli un periodo più ampio.", question=exc.question or "?",
                     name=title_of, value=exc.label[:40], k=exc.threshold)
        if exc.within:
            message = _l("Il filtro «%(name)s» = «%(value)s» non si può usare in un periodo che comprende il "
                         "%(year)s: in quell'anno, nella pagina della domanda %(question)s, tabella «%(name)s», quel "
                         "gruppo è nascosto perché dal totale non si ricavino le risposte di un gruppo con meno di "
                         "%(k)d questionari, e togliendo dal periodo scelto gli altri anni se ne ricaverebbero i dati. "
                         "Scegli un periodo dentro un solo anno.", year=exc.within, question=exc.question or "?",
                         name=title_of, value=exc.label[:40], k=exc.threshold)
    if isinstance(exc, BadParameter):
        message = _l("Il valore del parametro «%(name)s» nell'indirizzo non è valido. Torna alla pagina precedente "
                     "e scegli di nuovo.", name=exc.parameter)
    links = _without_filters(exc) if isinstance(exc, NarrowComplement | HiddenGroupFilter) else []
    response = render_template("public/message.html", title=title, message=message, lang=str(get_locale() or "it"),
                               links=links, staff_frame=request.path.startswith("/staff/")
                               and request.endpoint != "staff.login")
    return response, exc.code, headers


def _without_filters(exc: NarrowComplement | HiddenGroupFilter) -> list[tuple[str, str]]:
    """A refused filter's ways back: the same service or question page, same period, without the filter the refusal
    names (or, for a combination, without each of its filters in turn, and without any). A download's refusal leads
    to the service's page."""
    from .staff.selection import FILTER_NAMES, FILTER_TITLES, PERIOD_NAMES

    endpoint = request.endpoint if request.endpoint in ("staff.service", "staff.question") else "staff.service"
    path = {k: v for k, v in (request.view_args or {}).items()
            if k == "slug" or k == "codice" and endpoint == "staff.question"}
    if "slug" not in path or endpoint == "staff.question" and "codice" not in path:
        return []
    # Only what the page reads (period, filters, language): any other argument ("slug", "_external") stays out.
    args = {k: v for k, v in request.args.items() if k in (*PERIOD_NAMES, *FILTER_NAMES, "lang")}
    chosen = [name for name in FILTER_NAMES if args.get(name)]
    dropped = [exc.parameter] if isinstance(exc, HiddenGroupFilter) else chosen
    links = [(url_for(endpoint, **path, **{k: v for k, v in args.items() if k != name}),
              _l("La stessa pagina senza il filtro «%(name)s»", name=FILTER_TITLES[name]))
             for name in dropped if name in chosen]
    if len(chosen) > 1 or not links:
        links.append((url_for(endpoint, **path, **{k: v for k, v in args.items() if k not in FILTER_NAMES}),
                      _l("La stessa pagina senza filtri")))
    question = getattr(exc, "question", None)
    if question and path.get("codice") != question:  # where the group is hidden, and why, in its table
        links.append((url_for("staff.question", slug=path["slug"], codice=question,
                              **{k: v for k, v in args.items() if k not in FILTER_NAMES}),
                      _l("La pagina della domanda %(question)s, senza filtri", question=question)))
    return links
