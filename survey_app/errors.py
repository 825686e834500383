"""Error pages in the visitor's language, and JSON for the API: one handler per status, for the whole app.

Blueprint handlers (the kiosk's) still win for their own routes; addresses under /api/ answer JSON even when no
route matches them.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Flask, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

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


class BadParameter(BadRequest):
    """A 400 whose page names the URL parameter that is wrong."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.parameter = name


def bad_parameter(name: str) -> NoReturn:
    raise BadParameter(name)


def init_app(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, handle)
    app.register_error_handler(500, server_error)


def server_error(exc: Exception):
    """A fault of ours: JSON for the API, otherwise Flask's page (issue 11 gives it an Italian one)."""
    if request.path.startswith("/api/"):
        from .api.routes import error

        return error(500, "errore interno del server: riprovare più tardi")
    return exc if isinstance(exc, HTTPException) else InternalServerError()


def handle(exc: HTTPException):
    if request.path.startswith("/api/"):
        from .api.routes import http_error

        return http_error(exc)
    headers = [h for h in exc.get_headers() if h[0].lower() != "content-type"]
    if exc.code == 429 and request.endpoint == "staff.login":
        from .staff.forms import LoginForm

        return render_template("staff/login.html", form=LoginForm(formdata=None), throttled=True), 429, headers
    title, message = PAGES[exc.code]
    if isinstance(exc, BadParameter):
        message = _l("Il valore del parametro «%(name)s» nell'indirizzo non è valido. Torna alla pagina precedente "
                     "e scegli di nuovo.", name=exc.parameter)
    response = render_template("public/message.html", title=title, message=message, lang=str(get_locale() or "it"))
    return response, exc.code, headers
