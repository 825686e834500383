"""Numbers and dates as the reader's language writes them (58,5 in Italian, 58.5 in English), for every page."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from flask import current_app, has_request_context, request
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from analysis.publication import OPEN_STATES, readable_standard
from analysis.publish import CONTROL

from . import bp
from .changes import IDENTITY_FIELDS


def plain_text(form, field) -> None:
    """A form field's validator: no control character in what a person typed (``CONTROL``)."""
    if field.data and CONTROL.search(field.data):
        raise ValidationError(_l("Il testo contiene caratteri di controllo non ammessi: ricopiarlo senza "
                                 "formattazione."))

QUOTA_TARGET = re.compile(r"quota_soddisfatti ≥ (\d+(?:\.\d+)?)")
ACTION_STATES = {"pianificata": _l("pianificata"), "in_corso": _l("in corso"), "completata": _l("completata"),
                 "annullata": _l("annullata")}
ESITI = {"raggiunto": _l("raggiunto"), "non raggiunto": _l("non raggiunto"), "non valutabile": _l("non valutabile")}


@bp.app_template_filter("num")
def number(value, digits: int = 1) -> str:
    """A figure with fixed decimals and grouping in the page's language; empty for a missing one.

    The same text as Babel's ``format_decimal(value, "#,##0.0…")`` (half-even on the decimal value, the locale's
    symbols), without its pattern parsing: a page of 200 services formats thousands of figures.
    """
    if value is None or value != value:  # None or NaN
        return ""
    return f"{rounded(value, digits):,f}".translate(_symbols(page_language()))


def rounded(value, digits: int) -> Decimal:
    """``value`` as the pages round it (half-even on its decimal text): the downloads hold the same figure."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def page_language() -> str:
    """The page's language, looked up once per request (a page of figures asks thousands of times)."""
    if not has_request_context():
        return str(get_locale() or "it")
    language = getattr(request, "cs_language", None)
    if language is None:  # on the request, not on g: a test's app context can outlive several requests
        language = request.cs_language = str(get_locale() or "it")
    return language


@lru_cache(maxsize=8)
def _symbols(locale: str) -> dict[int, str]:
    symbols = Locale.parse(locale).number_symbols["latn"]
    return str.maketrans({",": symbols["group"], ".": symbols["decimal"], "-": symbols["minusSign"]})


def local_today() -> date:
    """Today in the instance's time zone (the server may run on UTC: at 00:30 in Rome it is still yesterday there)."""
    return datetime.now(ZoneInfo(current_app.config["SURVEY_TIMEZONE"])).date()


def in_local_time(value: datetime) -> datetime:
    """A stored UTC time (naive on SQLite) in the instance's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(ZoneInfo(current_app.config["SURVEY_TIMEZONE"]))


@bp.app_template_filter("local_time")
def local_time(value: datetime | None) -> str:
    """A stored UTC time in the instance's time zone, dd/mm/yyyy hh:mm."""
    return in_local_time(value).strftime("%d/%m/%Y %H:%M") if value is not None else ""


@bp.app_template_filter("it_date")
def it_date(value: str | None) -> str:
    return "" if not value else f"{value[8:10]}/{value[5:7]}/{value[:4]}"


@bp.app_template_filter("decimals")
def decimals(text: str | None) -> str:
    """A published text ('quota_soddisfatti ≥ 80; media ≥ 4.5') with people's names and the reader's decimals, in
    the reader's language."""
    language = page_language()
    return _decimals(text, language == "it", () if language == "it" else _standard_words(language))


SHARE, MEAN = re.compile(r"% soddisfatti\b"), re.compile(r"\bmedia\b")


# Each target's verdict after its colon, where a figure has two ("media ≥ 4.0: non raggiunto; …"); "non raggiunto"
# is replaced before "raggiunto".
VERDICTS = [(re.compile(rf"(?<=: ){word}\b"), word) for word in ("non raggiunto", "non valutabile", "raggiunto")]


@lru_cache(maxsize=8)
def _standard_words(language: str) -> tuple:
    """The indicators' names and the targets' verdicts ("media ≥ 4.0: non raggiunto", where a figure has two
    targets) in ``language`` (the request's: gettext answers in it), looked up once per language."""
    return ((SHARE, gettext("% soddisfatti")), (MEAN, gettext("media")),
            *((pattern, str(ESITI[word])) for pattern, word in VERDICTS))


@lru_cache(maxsize=1024)
def _decimals(text: str | None, comma: bool, words: tuple) -> str:
    text = readable_standard(text, "," if comma else ".")
    for pattern, word in words:
        text = pattern.sub(word, text)
    return text


@bp.app_template_filter("chart_row")
def chart_row(question: dict) -> dict:
    """A question's bar: its % satisfied, interval and the % targets named in its standard."""
    targets = [float(v) for v in QUOTA_TARGET.findall(question.get("standard") or "")]
    return {**question, "targets": targets}


@bp.app_template_filter("esito")
def esito(value: str | None) -> str:
    return _esiti(page_language()).get(value, value or "")


@lru_cache(maxsize=8)
def _esiti(locale: str) -> dict[str, str]:
    """The esiti in one language, translated once (a page of 200 services shows hundreds)."""
    return {key: str(label) for key, label in ESITI.items()}


VERBATIM_FIELDS = frozenset(IDENTITY_FIELDS.values())
CHANGE_WORDS = frozenset(("assente", "aggiunto", "aggiunta", "presente", "rimosso", "rimossa", "assenti", "aggiunti"))


ACTION_CHANGE = re.compile(r"azione «(?P<title>.*)»(?:: (?P<field>[^«»]+))?")


@bp.app_template_filter("change_field")
def change_field(label: str) -> str:
    """What changed, as the stored record names it in Italian (changes.py), in the page's language; an action's
    own title ("azione «…»: stato") stays as written, its field is translated."""
    action = ACTION_CHANGE.fullmatch(label or "")
    if action:
        named = gettext("azione «%(title)s»", title=action["title"])
        return f"{named}: {gettext(action['field'])}" if action["field"] else named
    return gettext(label) if label else label


@bp.app_template_filter("change_value")
def change_value(value, campo: str = "") -> str:
    """An old or new value in the list of changes between versions, with the decimals the files give its field
    (``campo``, the change's field label): a mean 2 ("4,10 → 3,14", not "4,1"), the other figures 1."""
    if value is None:
        return "—"
    if campo in VERBATIM_FIELDS:
        return value  # an address or a code: no decimal commas
    if isinstance(value, str) and value in ESITI:
        return esito(value)
    if isinstance(value, str) and campo.endswith(": stato"):
        return action_state(value)
    if isinstance(value, str) and value in CHANGE_WORDS:
        return gettext(value)
    if isinstance(value, bool):
        return str(_l("sì") if value else _l("no"))
    if campo == "media" and isinstance(value, int | float):
        return number(value, 2)
    if isinstance(value, int):
        return number(value, 0)
    if isinstance(value, float):
        return number(value, 1)
    return decimals(str(value))


@bp.app_template_filter("action_status")
def action_status(action: dict, published: datetime) -> str:
    """An action's state in a version, with "scadenza superata" when it was still open after its deadline on the
    day the version was published (as its files say)."""
    state = action_state(action["stato"])
    if action["stato"] in OPEN_STATES and action["data_scadenza"] < in_local_time(published).date().isoformat():
        late = gettext("scadenza superata")
        return f"{state} · {late}"
    return state


@bp.app_template_filter("action_state")
def action_state(value: str) -> str:
    """An action's state in the reader's language, from its code or from its Italian label in published data."""
    found = ACTION_STATES.get(value) or ACTION_STATES.get(value.replace(" ", "_"))
    return str(found or value)


GROUPS = {"(nessuna)": _l("(nessuna)"), "cittadino": _l("cittadino")}
FIRM = "ditta "


@bp.app_template_filter("group_label")
def group_label(value) -> str:
    """A breakdown's group as analysis/queries.py names it in Italian ("(nessuna)", "cittadino", "ditta CATI"), in
    the page's language; counters, comuni, channels and languages are codes or names and stay as they are."""
    text = str(value)
    if text in GROUPS:
        return str(GROUPS[text])
    if text.startswith(FIRM):
        return str(_l("ditta %(method)s", method=text[len(FIRM):]))
    return text
