"""Language choice: ?lang= on any page, remembered in the session; Italian by default."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, session, url_for
from flask_babel import Babel, get_locale, gettext, refresh

from analysis import charts

from .models.base import italian_part
from .urls import safe_local_url

# A published row (a dict, transparency/labels.py) lists under this key the fields still in Italian on a page in
# another language.
UNTRANSLATED = "non_tradotti"


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


def said(source, name: str):
    """A catalogue text for a page's body in the page's language, marked ``lang="it"`` where an English page shows
    the Italian for want of a translation (WCAG 3.1.2): a catalogue entity's field (``Bilingual.said``) or a
    published row's (``UNTRANSLATED``). Never in a <title> or an attribute, which take text only."""
    if isinstance(source, dict):
        return italian_part(source.get(name), name in source.get(UNTRANSLATED, ()))
    return source.said(name, str(get_locale() or "it"))


def italian(text: str | None):
    """Text that only exists in Italian (a name typed in the catalogue's Italian field, an action's title), marked
    ``lang="it"`` on a page in another language."""
    return italian_part(text, str(get_locale() or "it") != "it")


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    charts.use_translator(gettext)  # chart labels in the page's language (Italian outside a request)
    app.jinja_env.globals["lang_query"] = lang_query
    app.jinja_env.globals["lang_url"] = lang_url
    app.jinja_env.filters["said"] = said
    app.jinja_env.filters["italian"] = italian
    # Every page knows its language (<html lang>), whether or not its view passes it.
    app.context_processor(lambda: {"lang": str(get_locale() or "it")})
    # The locale is cached on the app context; a request must never inherit another request's choice.
    app.before_request(refresh)
