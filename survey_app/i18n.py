"""Language choice: ?lang= on any page, remembered in the session; Italian by default."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale, refresh


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    requested = request.args.get("lang")
    if requested in languages:
        session["lang"] = requested
        return requested
    if session.get("lang") in languages:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def lang_query(code: str) -> str:
    """The current query string with the language switched (channel and counter are kept)."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return urlencode({**args, "lang": code})


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["lang_query"] = lang_query
    # Every page knows its language (<html lang>), whether or not its view passes it.
    app.context_processor(lambda: {"lang": str(get_locale() or "it")})
    # The locale is cached on the app context; a request must never inherit another request's choice.
    app.before_request(refresh)
