"""Language choice: ?lang= on any page, remembered in the session; Italian by default."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, session, url_for
from flask_babel import Babel, get_locale, gettext, refresh

from analysis import charts

from .urls import safe_local_url


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


def lang_url(code: str) -> str:
    """This page in another language: the header's link. The path comes from the request (a 404 page repeats
    whatever was asked), so it goes through the same check as a login's next=."""
    return f"{safe_local_url(request.path, url_for('public.index'))}?{lang_query(code)}"


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    charts.use_translator(gettext)  # chart labels in the page's language (Italian outside a request)
    app.jinja_env.globals["lang_query"] = lang_query
    app.jinja_env.globals["lang_url"] = lang_url
    # Every page knows its language (<html lang>), whether or not its view passes it.
    app.context_processor(lambda: {"lang": str(get_locale() or "it")})
    # The locale is cached on the app context; a request must never inherit another request's choice.
    app.before_request(refresh)
