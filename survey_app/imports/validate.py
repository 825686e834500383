"""Every row of a firm's file checked before anything is written: each problem named by row, column, value, reason."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from ..models import Domanda, QuestionarioVersione, Rilevazione, Servizio
from .columns import (
    CHANNEL_METHOD,
    DEFAULT_CHANNEL,
    FIRM_CHANNELS,
    IMPORTANCE_SUFFIX,
    METHOD_CHANNELS,
    allowed_text,
    normal,
    value_labels,
)

EXCEL_EPOCH = datetime(1899, 12, 30)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")
TIME_SUFFIX = re.compile(r"^(?P<date>\S+)(?:[ T](?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?)?$")
MULTI_SEPARATORS = re.compile(r"\s*[;|]\s*")
ITALIAN_DATE = re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks are text; NUL and the rest not
ISO_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})")
# ISO 8601 as JSON serialisers write it: 2026-11-15T10:30:00, with Z or an offset when they know the zone
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")

# A row whose id_esterno this firm sent before: skipped, neither written again nor an error.
ALREADY_IMPORTED = "id_esterno già importato da questa fonte"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class Parsed:
    """A valid row, ready to be stored."""

    row: int
    servizio: Servizio
    sede_id: int | None
    canale: str
    data_ora: datetime
    answers: dict[str, Any]
    importance: dict[str, int]
    external_hash: str
    rilevazione_id: int | None


@dataclass
class Context:
    versione: QuestionarioVersione
    services: dict[str, Servizio]  # every service, by slug (to tell "unknown" from "not using this questionnaire")
    campaigns: list[Rilevazione]
    known_ids: set[str]  # hashes of this firm's external ids already imported
    source: str
    method: str
    today: date
    seen_ids: set[str] = field(default_factory=set)
    # The services a firm's account or API token may load answers for (None: any, from the command line).
    allowed_services: set[int] | None = None

    def __post_init__(self):
        self.questions: list[Domanda] = list(self.versione.domande)
        self.labels = {d.codice: value_labels(d) for d in self.questions}
        # Plain values read once: ORM attribute access per question per row adds up over 100,000 rows.
        self.items = [(d, d.codice, d.importanza, d.obbligatoria, bool(d.mostra_se)) for d in self.questions]
        self.questionario_id = self.versione.questionario_id
        self.campaign_periods = [(c.id, c.data_inizio, c.data_fine, {s.id for s in c.servizi}, c.titolo)
                                 for c in self.campaigns]


def external_hash(source: str, value: str) -> str:
    """The firm's row id as kept: a hash, per firm, so nobody can read it back or link it to an answer."""
    return hashlib.sha256(f"{normal(source)}\x00{value}".encode()).hexdigest()


def cell_text(value: Any) -> str:
    """A cell as text: 5.0 from a spreadsheet is "5", a spreadsheet's date as people write it ("01/10/2026", with
    the time when it has one), not "2026-10-01T00:00:00"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M}" if value.time() != datetime.min.time() else f"{value:%d/%m/%Y}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value).strip()


def parse_date(value: Any) -> datetime | None:
    """A real date, an Excel serial number or text (ISO or dd/mm/yyyy, optionally with hh:mm; ISO 8601's
    2026-11-15T10:30 too, an offset or Z turned into the Comune's time), to the hour."""
    if isinstance(value, datetime):
        return value.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{5}(\.\d+)?", value.strip())):
        serial = float(value)
        if not 20000 < serial < 80000:  # 1954–2119: anything else is not a date someone typed
            return None
        return (EXCEL_EPOCH + timedelta(days=serial)).replace(minute=0, second=0, microsecond=0)
    if isinstance(value, str) and ISO_DATE_TIME.fullmatch(value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is not None:  # the Comune's own time, as every other date of the file
                zone = current_app.config["SURVEY_TIMEZONE"] if has_app_context() else "Europe/Rome"
                moment = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        except (ValueError, OverflowError):  # OverflowError: an offset that moves year 1 or 9999 off the calendar
            return None
        return moment.replace(minute=0, second=0, microsecond=0)
    match = TIME_SUFFIX.match(str(value).strip())
    if not match:
        return None
    hour = int(match["h"]) if match["h"] else 0
    quick = ITALIAN_DATE.fullmatch(match["date"]) or ISO_DATE.fullmatch(match["date"])
    if quick and hour < 24:  # the two usual forms without strptime, which is slow over 100,000 rows
        try:
            return datetime(int(quick["y"]), int(quick["m"]), int(quick["d"]), hour)
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(match["date"], fmt)
        except ValueError:
            continue
        return day.replace(hour=hour) if hour < 24 else None
    return None


def _answer(domanda: Domanda, labels: dict[str, object], raw: str) -> tuple[Any, str | None]:
    """(value to store, reason when refused)."""
    if domanda.tipo == "testo":
        if CONTROL.search(raw):
            return None, "testo con caratteri di controllo non ammessi"
        if domanda.max_lunghezza and len(raw) > domanda.max_lunghezza:
            return None, f"testo troppo lungo (al massimo {domanda.max_lunghezza} caratteri)"
        return raw, None
    if domanda.tipo == "scelta_multipla":
        chosen = [labels.get(normal(part)) for part in MULTI_SEPARATORS.split(raw) if part]
        if not chosen or any(c is None for c in chosen):
            return None, f"valore non ammesso: {allowed_text(domanda)}"
        return list(dict.fromkeys(chosen)), None
    found = labels.get(normal(raw))
    if found is None:
        return None, f"valore non ammesso: {allowed_text(domanda)}"
    return found, None


def check_row(ctx: Context, number: int, headers: list[str], values: list[Any],
              found: Iterable[RowError] = ()) -> tuple[Parsed | None, list[RowError]]:
    """One data row: the parsed row when it is valid, or every problem it has.

    ``found``: the row's problems already known (a JSON row's unknown keys), listed first; they make it invalid.
    """
    if len(values) > len(headers) and any(cell_text(v) for v in values[len(headers):]):
        return None, [RowError(number, "", cell_text(values[len(headers)]), "più valori che colonne")]
    cells = {name: values[i] if i < len(values) else None for i, name in enumerate(headers)}
    errors: list[RowError] = list(found)
    if not any(cell_text(v) for v in cells.values()):
        return None, errors or [RowError(number, "", "", "riga vuota")]

    def fail(column: str, value: Any, reason: str) -> None:
        errors.append(RowError(number, column, cell_text(value), reason))

    ext = cell_text(cells.get("id_esterno"))
    digest = external_hash(ctx.source, ext) if ext else ""
    if not ext:
        fail("id_esterno", "", "id_esterno mancante")
    elif digest in ctx.seen_ids:
        fail("id_esterno", ext, "id_esterno ripetuto nel file")
    elif digest in ctx.known_ids:
        ctx.seen_ids.add(digest)
        if not errors:  # it came in with an earlier batch: left as it is (a whole corrected file sent again)
            return None, [RowError(number, "id_esterno", ext, ALREADY_IMPORTED)]
        fail("id_esterno", ext, ALREADY_IMPORTED)
    if digest:
        ctx.seen_ids.add(digest)

    slug = cell_text(cells.get("servizio"))
    servizio = ctx.services.get(slug)
    if not slug:
        fail("servizio", "", "servizio mancante")
    elif servizio is None:
        fail("servizio", slug, "servizio sconosciuto")
    elif servizio.questionario_id != ctx.questionario_id:
        fail("servizio", slug, "il servizio non usa questo questionario")
        servizio = None
    elif ctx.allowed_services is not None and servizio.id not in ctx.allowed_services:
        fail("servizio", slug, "servizio non assegnato a questo account o token")
        servizio = None

    canale = normal(cell_text(cells.get("canale"))) or DEFAULT_CHANNEL[ctx.method]
    if canale not in FIRM_CHANNELS:
        fail("canale", cells.get("canale"), "canale non ammesso (telefono, carta, web, email, sportello)")
    elif canale not in METHOD_CHANNELS[ctx.method]:
        # The method note would publish these rows under the batch's method (paper questionnaires as phone calls).
        fail("canale", cells.get("canale"), f"canale diverso dal metodo del lotto, {ctx.method} "
                                            f"({' o '.join(METHOD_CHANNELS[ctx.method])}): le righe «{canale}» vanno "
                                            f"caricate in un file a parte con il metodo {CHANNEL_METHOD[canale]}")

    sede_id = None
    sede_code = cell_text(cells.get("sede"))
    if sede_code and servizio is not None:
        sede = next((s for s in servizio.sedi if s.codice == sede_code), None)
        if sede is None:
            fail("sede", sede_code, "sede sconosciuta per il servizio")
        else:
            sede_id = sede.id

    raw_date = cells.get("data")
    when = parse_date(raw_date) if cell_text(raw_date) else None
    rilevazione_id = None
    if not cell_text(raw_date):
        fail("data", "", "data mancante")
    elif when is None:
        fail("data", raw_date, "data non valida (usare gg/mm/aaaa o aaaa-mm-gg, con l'ora se serve: "
                                   "gg/mm/aaaa hh:mm o aaaa-mm-ggThh:mm)")
    elif when.date() > ctx.today:
        fail("data", raw_date, "data nel futuro")
    elif servizio is not None:
        covering = [c for c in ctx.campaign_periods if servizio.id in c[3]]
        matching = [c for c in covering if c[1] <= when.date() <= c[2]]
        if covering and not matching:
            # Once a service has campaigns of this questionnaire, its imported rows belong to one of them.
            periods = "; ".join(f"«{c[4]}» dal {c[1]:%d/%m/%Y} al {c[2]:%d/%m/%Y}" for c in covering)
            # Said to whoever imports: a firm cannot plan campaigns itself, the administration can.
            fail("data", raw_date, f"data fuori dal periodo della rilevazione ({periods}): correggere la data, "
                                   "o chiedere all'amministrazione di pianificare una rilevazione che la comprenda")
        rilevazione_id = matching[0][0] if matching else None

    answers: dict[str, Any] = {}
    importance: dict[str, int] = {}
    refused: set[str] = set()  # answers named wrong once: not missing, and no reason to doubt their follow-ups
    for domanda, code, asks_importance, _required, _conditional in ctx.items:
        raw = cell_text(cells.get(code))
        if raw:
            value, reason = _answer(domanda, ctx.labels[code], raw)
            if reason:
                fail(code, raw, reason)
                refused.add(code)
            else:
                answers[code] = value
        if asks_importance:
            column = code + IMPORTANCE_SUFFIX
            raw_imp = cell_text(cells.get(column))
            if raw_imp:
                if raw_imp in {"1", "2", "3", "4", "5"}:
                    importance[code] = int(raw_imp)
                else:
                    fail(column, raw_imp, "importanza non ammessa: un numero da 1 a 5")
    for domanda, code, _importance, required, conditional in ctx.items:
        given = code in answers
        if code in refused or (conditional and domanda.mostra_se["domanda"] in refused):
            continue
        if given and conditional and not domanda.shown_for(answers):
            fail(code, cells.get(code), "risposta a una domanda che non andava posta "
                                        f"(condizione su {domanda.mostra_se['domanda']})")
        elif not given and required and (not conditional or domanda.shown_for(answers)):
            fail(code, "", "risposta obbligatoria mancante")
    if not answers and not errors:
        fail("", "", "nessuna risposta nella riga")
    if errors:
        return None, errors
    return Parsed(number, servizio, sede_id, canale, when, answers, importance, digest, rilevazione_id), []

