"""What a service page shows: the period (a year, a campaign or a range of months) and the filters, read from the
URL and checked against what the service really has, so that every link can be shared and bookmarked.

A malformed value is a 400 naming the parameter; a well-formed one the service does not have (a counter of another
service, a year without answers) is a 404, as an unknown page would be. The months are typed by people (a text box
where the browser has no month picker): a page shows a wrong month beside its field, with the period it was on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from analysis.engine import Period
from analysis.filters import CITIZENS, METHOD_PREFIX, Filters
from analysis.queries import load_submission_counts

from ..errors import bad_parameter, no_such_value, typed_range
from ..extensions import db
from ..figures_cache import per_request
from ..models import ImportBatch, RiepilogoRisposte, Rilevazione, Servizio
from ..transparency.formatting import local_today

YEAR = re.compile(r"[0-9]{4}")
PREVIOUS_MONTHS = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])/([0-9]{4})-(0[1-9]|1[0-2])")
MONTH_TYPED = re.compile(r"\s*(?:([0-9]{4})\s*[-/.]\s*([0-9]{1,2})|([0-9]{1,2})\s*[-/.]\s*([0-9]{4}))\s*")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a person may type in a staff form (months, days, actions)
CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
NUMBER = re.compile(r"[0-9]{1,9}")
FILTER_NAMES = ("canale", "sede", "comune", "lingua", "provenienza")
# What the filters and the breakdowns show for the codes the answers carry.
CHANNEL_NAMES = {"web": _l("web (link)"), "qr": _l("codice QR"), "chiosco": _l("tablet allo sportello"),
                 "sportello": _l("allo sportello"), "email": _l("email"), "telefono": _l("telefono"),
                 "carta": _l("questionario cartaceo")}
LANGUAGE_NAMES = {"it": _l("italiano"), "en": _l("inglese")}
FILTER_TITLES = {"canale": _l("Canale"), "sede": _l("Sede"), "comune": _l("Comune"), "lingua": _l("Lingua"),
                 "provenienza": _l("Provenienza")}
PERIOD_NAMES = ("anno", "rilevazione", "da", "a")
MAX_MONTHS = 60


@dataclass
class Selection:
    """The chosen period and filters, what the service offers for each, and the URL parameters that say so."""

    period: Period
    kind: str  # "anno", "rilevazione" or "mesi"
    year: int | None
    years: list[int]
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    campaigns: list[Rilevazione] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # a month field's name → what is wrong with what was typed
    typed: dict[str, str] = field(default_factory=dict)  # the months as typed, shown again beside their error
    # Each filter's values the page would refuse with the other filters chosen (breakdowns.refused_options): the
    # form offers them disabled, saying why (offered, they led to a 403 page).
    refused: dict[str, set[str]] = field(default_factory=dict)

    titles = FILTER_TITLES  # each filter's name, as the form and the refusals show it

    @property
    def filters(self) -> Filters:
        return self.period.filters

    def with_year(self, year: int) -> dict[str, str]:
        """These filters on another year (the year links)."""
        return {**self.filters.as_args(), "anno": str(year)}

    def period_args(self) -> dict[str, str]:
        """The period alone (the link that drops the filters)."""
        return {k: v for k, v in self.args.items() if k in PERIOD_NAMES}

    def chosen_labels(self) -> list[tuple[str, str]]:
        """Each active filter as (parameter, the option's label), for the page to say what it shows."""
        labels = []
        for name, value in self.filters.as_args().items():
            labels.append((name, dict(self.options.get(name, [])).get(value, value)))
        return labels


def named(names: dict, code: str) -> str:
    """A code's name from ``names`` (CHANNEL_NAMES, LANGUAGE_NAMES), the code itself when it has none."""
    return str(names.get(code, code))


def this_page(**params: str) -> str:
    """This page (its endpoint and path arguments) with other URL parameters."""
    return url_for(request.endpoint, **request.view_args, **params)


def data_years(service_ids: list[int] | None) -> list[int]:
    """The years with answers for these services (None: every service), newest first.

    The first and last day come from the index on the day; each year between is then one indexed probe, so the
    answer counts are never scanned in full.
    """
    r = RiepilogoRisposte
    # Two queries: SQLite reads a lone min() or max() from the index, not both in one.
    first, last = db.session.scalar(select(func.min(r.giorno))), db.session.scalar(select(func.max(r.giorno)))
    if first is None or service_ids == []:
        return []
    found = []
    for year in range(last.year, first.year - 1, -1):
        probe = exists().where(r.giorno >= date(year, 1, 1), r.giorno < date(year + 1, 1, 1))
        if service_ids is not None:
            probe = probe.where(r.servizio_id.in_(service_ids))
        if db.session.scalar(select(probe)):
            found.append(year)
    return found


def filter_options(servizio: Servizio) -> dict[str, list[tuple[str, str]]]:
    """The values each filter can take for this service: those its answers have, as (value, label)."""
    r = RiepilogoRisposte
    found = db.session.execute(select(r.canale, r.lingua, r.sede_id, r.import_batch_id)
                               .where(r.servizio_id == servizio.id)
                               .group_by(r.canale, r.lingua, r.sede_id, r.import_batch_id)).all()
    counters = {s.id: s for s in servizio.sedi}
    batches = {b.id: b for b in db.session.scalars(
        select(ImportBatch).where(ImportBatch.id.in_({row[3] for row in found} - {0})))}
    comuni = {servizio.ufficio.ente.codice: servizio.ufficio.ente.nome}
    for sede_id in {row[2] for row in found} - {None}:
        sede = counters.get(sede_id)
        if sede is not None and sede.comune is not None:
            comuni[sede.comune.codice] = sede.comune.nome
    provenances = [(CITIZENS, _("Cittadini (online, QR, chiosco)"))] if any(row[3] == 0 for row in found) else []
    provenances += [(str(b.id), _("Lotto %(id)d · %(metodo)s · %(fonte)s", id=b.id, metodo=b.metodo, fonte=b.fonte))
                    for b in sorted(batches.values(), key=lambda b: b.id)]
    return {
        "canale": sorted({(row[0], named(CHANNEL_NAMES, row[0])) for row in found}, key=lambda option: option[1]),
        "sede": sorted({(counters[row[2]].codice, counters[row[2]].nome) for row in found if row[2] in counters},
                       key=lambda option: option[1]),
        "comune": sorted(comuni.items(), key=lambda option: option[1]) if len(comuni) > 1 else [],
        "lingua": sorted({(row[1], named(LANGUAGE_NAMES, row[1])) for row in found}, key=lambda option: option[1]),
        "provenienza": provenances,
    }


def _filters(options: dict[str, list[tuple[str, str]]]) -> Filters:
    values = {}
    for name in FILTER_NAMES:
        raw = request.args.get(name, "")
        if not raw:
            continue
        pattern = NUMBER if name == "provenienza" and raw != CITIZENS else CODE
        if not pattern.fullmatch(raw):
            bad_parameter(name)
        if raw not in {value for value, _label in options[name]}:
            no_such_value(name, raw)  # well formed, but this service has no such answers
        values[name] = raw
    return Filters(**values)


def _month(name: str) -> date | None:
    """The month of field ``name``: 2025-03 as the month picker sends it, or as typed (03/2025, 3-2025, 2025/3).
    ValueError, with what to write, for anything else."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    match = MONTH_TYPED.fullmatch(raw)
    year, month = (match[1], match[2]) if match and match[1] else (match[4], match[3]) if match else (None, None)
    if year is None or not 1 <= int(month) <= 12:
        raise ValueError(_("«%(typed)s» non è un mese: scrivere anno e mese, per esempio 2025-03 o 03/2025.",
                           typed=raw[:20]))
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValueError(_("L'anno deve essere tra %(first)d e %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
    return date(int(year), int(month), 1)


def _months_before() -> tuple[date | None, date | None]:
    """The months a months page was on, which its form sends along as ``periodo`` (2025-01/2025-03): a month typed
    wrong there keeps that period rather than the year's."""
    match = PREVIOUS_MONTHS.fullmatch(request.args.get("periodo", ""))
    if not match:
        return None, None
    first, last = date(int(match[1]), int(match[2]), 1), date(int(match[3]), int(match[4]), 1)
    if not (first.year >= FIRST_YEAR and last.year <= LAST_YEAR and 1 <= _month_count(first, last) <= MAX_MONTHS):
        return None, None
    return first, last


def _months(page: bool) -> tuple[date | None, date | None, dict[str, str]]:
    """The months asked for, and what is wrong with each (a page shows it; a download is a 400)."""
    first, last, errors = typed_range(("da", "a"), _month, page, _(
        "Il mese finale viene prima di quello iniziale: scambiarli o correggerne uno."))
    if first and last and _month_count(first, last) > MAX_MONTHS:
        errors["a"] = _("Al massimo %(n)d mesi (5 anni): scegliere un intervallo più breve.", n=MAX_MONTHS)
    if errors and not page:
        bad_parameter(next(iter(errors)))
    return first, last, errors


def _month_count(first: date, last: date) -> int:
    """How many months from ``first`` to ``last``, both counted (March to May: 3)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def read_selection(servizio: Servizio, page: bool = False) -> Selection:
    """The period and filters of the URL, read; 400 or 404 otherwise. A ``page`` shows wrong months beside their
    fields (``Selection.errors``) with the period it was on, where a download, which must not silently give another
    period, is a 400. Whether the filters may be shown at all is ``breakdowns.checked_selection``'s check (a handful
    left out, a hidden group chosen)."""
    return _read_selection(servizio, page)


def handful_left_out(servizio: Servizio, period, chosen: Filters, threshold: int) -> int:
    """How many questionnaires the filters leave out against a page a reader sets beside it, when they are fewer
    than ``threshold`` (0 otherwise): the pages without filters, with one of its filters dropped (web among citizens
    against web: a firm's 3 CAWI answers), and a single batch against all the batches of its method (which the
    provenance breakdown shows as one group)."""
    conn = db.session.connection()
    # Counted once per request: the filter form asks for each value beside the same pages (the unfiltered count
    # above all).
    memo = per_request("counts")

    def count(filters: Filters | None) -> int:
        key = (servizio.slug, period.start, period.end, filters)
        if key not in memo:
            memo[key] = int(load_submission_counts(conn, period.start, period.end, servizio.slug, filters)
                            ["compilazioni"].sum())
        return memo[key]

    wider: list[Filters | None] = [None]
    if len(chosen.as_args()) > 1:
        wider += [replace(chosen, **{name: None}) for name in chosen.as_args()]
    if chosen.provenienza not in (None, CITIZENS):
        method = db.session.scalar(select(ImportBatch.metodo).filter_by(id=int(chosen.provenienza)))
        wider.append(replace(chosen, provenienza=METHOD_PREFIX + method))
    mine = count(chosen)
    for other in wider:
        left_out = count(other) - mine
        if 0 < left_out < threshold:
            return left_out
    return 0


def _read_selection(servizio: Servizio, page: bool) -> Selection:
    years = data_years([servizio.id]) or [local_today().year]
    options = filter_options(servizio)
    filters = _filters(options)
    campaigns = list(db.session.scalars(select(Rilevazione).where(Rilevazione.servizi.contains(servizio))
                                        .order_by(Rilevazione.data_inizio.desc())))
    args = filters.as_args()
    chosen = [name for name in PERIOD_NAMES if request.args.get(name)]
    errors: dict[str, str] = {}
    if "da" in chosen or "a" in chosen:
        first, last, errors = _months(page)
        if errors:  # the period the page was on (its form sends it along), the months shown again with their error
            first, last = _months_before()
            chosen = ["da", "a"] if first else [name for name in chosen if name not in ("da", "a")]
        else:  # the page's form sends the months with the year or campaign it was on: months given set the period
            chosen = [name for name in chosen if name in ("da", "a")]
    typed = {name: request.args.get(name, "")[:20] for name in ("da", "a")} if errors else {}
    if "rilevazione" in chosen:
        if len(chosen) > 1:
            bad_parameter("rilevazione")
        code = request.args["rilevazione"]
        if not CODE.fullmatch(code):
            bad_parameter("rilevazione")
        campaign = next((c for c in campaigns if c.codice == code), None)
        if campaign is None:
            abort(404)
        period = Period(datetime.combine(campaign.data_inizio, time.min),
                        datetime.combine(campaign.data_fine + timedelta(days=1), time.min), campaign.titolo, filters)
        return Selection(period, "rilevazione", None, years, options, campaigns, {**args, "rilevazione": code},
                         errors, typed)
    if "da" in chosen or "a" in chosen:
        if last is None:  # "from March": up to this month, or that month alone if it is still to come
            this_month = local_today().replace(day=1)
            last = max(first, min(this_month, _months_later(first, MAX_MONTHS - 1)))
        if first is None:  # "up to May": from the January of that year
            first = last.replace(month=1)
        months = _month_count(first, last)
        start, end = datetime.combine(first, time.min), datetime.combine(_month_after(last), time.min)
        label = f"{first:%m/%Y}" if months == 1 else f"{first:%m/%Y}–{last:%m/%Y}"
        return Selection(Period(start, end, label, filters), "mesi", None, years, options, campaigns,
                         {**args, "da": f"{first:%Y-%m}", "a": f"{last:%Y-%m}"}, errors, typed)
    raw_year = request.args.get("anno", str(years[0]))
    if not YEAR.fullmatch(raw_year):
        bad_parameter("anno")  # "-1", "2025a": not a year
    year = int(raw_year)
    if year not in years:
        no_such_value("anno", raw_year)  # a year without answers for this service has no page
    return Selection(Period.year(year, filters), "anno", year, years, options, campaigns, {**args, "anno": str(year)},
                     errors, typed)
