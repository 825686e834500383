"""The Nucleo di valutazione's annual report: each service's result against its standards, as data and as XLSX.

``build_report`` reads the figures through the same engine functions as the publication and the dashboard
(``service_table``, ``standards_results``, ``service_trend``, ``load_actions``, ``methodology``), so the report
cannot disagree with what is published; it only regroups them per ente, ufficio and servizio. Figures are
kept rounded as published (quota 1 decimal, media 2) and formatted by each writer; the PDF writer lives in
``analysis.relazione_pdf``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from . import queries
from .engine import MIN_EXPECTED, NON_VALUTABILE, Period, service_table, standards_results
from .indicators import NON_RAGGIUNTO, RAGGIUNTO, indicator_table
from .publication import (
    INDICATOR_LABELS,
    load_actions,
    methodology,
    nps_by_service,
    overall_result,
    period_text,
    readable_standard,
    service_trend,
    standard_text,
    state_as_of,
)
from .services import overall_question
from .sheets import FORMULAS
from .stats import round_half_up
from .suppression import check_threshold

ESITI = (RAGGIUNTO, NON_RAGGIUNTO, NON_VALUTABILE)
ALPHA = 0.05  # the significance level service_trend flags differences at
DIGITS = {"quota_soddisfatti": 1, "media": 2}


@dataclass
class StandardResult:
    indicatore: str  # quota_soddisfatti or media
    soglia: float
    domanda_codice: str  # the item assessed; "" for a service-wide standard that nothing could be assessed on
    valore: float | None  # as published; None when not assessable
    n: int
    esito: str
    generale: bool = False  # a service-wide standard (no question of its own), assessed on each rated item
    descrizione: str = ""  # the standard as the carta dei servizi words it, where the catalogue gives it
    domanda: str = ""  # the text of the question assessed

    @property
    def etichetta(self) -> str:
        return INDICATOR_LABELS.get(self.indicatore, self.indicatore)

    @property
    def testo(self) -> str:
        """The standard as the carta dei servizi states it, with Italian decimals: 'media ≥ 3,8 (D3)'."""
        return standard_text(self.indicatore, self.soglia, "" if self.generale else self.domanda_codice, decimal=",")


@dataclass
class Trend:
    anno_prec: int
    quota: float
    n: int
    quota_prec: float
    n_prec: int
    differenza: float  # percentage points, rounded to 1 decimal from the unrounded shares
    p_value: float  # two-sided: pooled two-proportion z-test, or Fisher's exact test on small counts
    significativo: bool


@dataclass
class Action:
    titolo: str
    descrizione: str
    riferimento: str
    ufficio: str  # the ufficio responsible for the action (may differ from the service's)
    data_inizio: date
    data_scadenza: date
    stato: str
    esito: str


@dataclass
class ServiceReport:
    codice: str
    nome: str
    ente: str
    ufficio: str
    compilazioni: int
    domanda_complessiva: str | None
    n: int  # valid answers to the overall item
    quota_soddisfatti: float | None  # None when suppressed or without answers
    # The other figures the method note defines, as published (None where suppressed or not asked).
    ic95_inf: float | None = None
    ic95_sup: float | None = None
    ics: float | None = None
    nps: float | None = None
    margine_errore: float | None = None
    standards: list[StandardResult] = field(default_factory=list)
    trend: Trend | None = None  # None when not comparable with the previous year
    actions: list[Action] = field(default_factory=list)

    def chart_standard(self) -> float | None:
        """The % satisfied target of the overall item (or the service-wide one), for the PDF's marker line."""
        quota = [s for s in self.standards if s.indicatore == "quota_soddisfatti"]
        own = [s.soglia for s in quota if not s.generale and s.domanda_codice == self.domanda_complessiva]
        return own[0] if own else next((s.soglia for s in quota if s.generale), None)


@dataclass
class OfficeReport:
    ente: str
    ufficio: str
    services: list[ServiceReport]


@dataclass(frozen=True)
class PublishedVersion:
    """The year's latest version in Amministrazione trasparente: its number, day and published service rows."""

    version: int
    published_on: date
    summary: list[dict[str, Any]]
    final: bool = True  # published after its year ended: then its services are the year's (queries.offered_in)

    @property
    def services(self) -> set[str] | None:
        return {row["servizio_codice"] for row in self.summary} if self.final else None


@dataclass
class Report:
    year: int
    threshold: int
    offices: list[OfficeReport]
    method: list[tuple[str, str]]
    generated: date = field(default_factory=lambda: date.today())  # looked up when built, not when imported
    ente: str | None = None  # the ente whose Nucleo reads it; None: every ente of the instance
    publication: str = ""  # how its figures stand against the published version (publication_note)
    period: dict[str, Any] = field(default_factory=dict)  # the answers' period (publication.period_of)

    def services(self) -> list[ServiceReport]:
        return [svc for office in self.offices for svc in office.services]

    @property
    def totals(self) -> dict[str, int]:
        counts = dict.fromkeys(ESITI, 0)
        for svc in self.services():
            for std in svc.standards:
                counts[std.esito] += 1
        return counts


def _num(value: Any, digits: int) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return round_half_up(float(value), digits)


def _standards(results: pd.DataFrame, slug: str, texts: dict[str, str]) -> list[StandardResult]:
    """The engine's results for one service (a standard it could not assess at all comes with n = 0), with the
    carta's wording and the text of each question assessed (``texts``: code to text)."""
    own = results[results["servizio_codice"] == slug]
    return [StandardResult(r.indicatore, float(r.soglia), r.domanda_codice,
                           _num(r.valore, DIGITS.get(r.indicatore, 2)), int(r.n), r.esito, generale=bool(r.generale),
                           descrizione=r.descrizione or "", domanda=texts.get(r.domanda_codice, ""))
            for r in own.itertuples()]


def _trend(row: pd.Series | None, quota: float | None, n: int, year: int) -> Trend | None:
    if row is None or quota is None or pd.isna(row["p_value"]):
        return None  # suppressed in one of the years, or no answers the year before
    before = _num(row["quota_soddisfatti_prec"], 1)
    # The difference of the shares as the report prints them: "+5,9" beside 45,1% and 39,1% read as a slip.
    return Trend(anno_prec=year - 1, quota=quota, n=n, quota_prec=before,
                 n_prec=int(row["n_prec"]), differenza=_num(quota - before, 1), p_value=float(row["p_value"]),
                 significativo=bool(row["significativo"]))


def _actions(frame: pd.DataFrame, slug: str, as_of: date) -> list[Action]:
    # The reference's threshold with a decimal comma, as the report's other figures ("media ≥ 3,8 (D9)").
    return [Action(a.titolo, a.descrizione or "", readable_standard(a.riferimento, ","), a.ufficio,
                   date.fromisoformat(a.data_inizio),
                   date.fromisoformat(a.data_scadenza), state_as_of(a.stato, a.data_scadenza, as_of), a.esito or "")
            for a in frame[frame["servizio_codice"] == slug].itertuples()]


def _it_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def method_rows(method: dict[str, Any], year: int, threshold: int,
                previous: tuple[date, date] | None = None) -> list[tuple[str, str]]:
    """The Nota metodologica as (voce, descrizione) pairs, shared by the XLSX and the PDF; ``previous``, the first and
    last day with answers in the year before (the trend compares with them)."""
    before = (f"Nel {year - 1} le risposte vanno dal {_it_date(previous[0])} al {_it_date(previous[1])}."
              if previous else f"Nessuna risposta nel {year - 1}.")
    campaigns = "; ".join(f"{c['titolo']}, dal {_it_date(c['inizio'])} al {_it_date(c['fine'])}: {_sample(c)}"
                          for c in method.get("rilevazioni", [])) or "nessuna rilevazione programmata nell'anno"
    channels = "; ".join(f"{c['canale']}: {c['compilazioni']}" for c in method["canali"]) or "nessuno"
    batches = "; ".join(f"{b['fonte']}, {b['metodo']}: {b['compilazioni']}" for b in method["lotti"]) or "nessuna"
    scales = "; ".join(s["tipo"] + (f" {s['min']}–{s['max']}" if s["min"] is not None else "")
                       for s in method["scale"]) or "nessuna"
    rows = [
        ("Anno di riferimento", str(year)),
        ("Periodo delle risposte", period_text(method["periodo"], method.get("risposte"))),
        ("Canali di risposta dei cittadini (questionari)", channels),
        ("Rilevazioni di società incaricate (questionari)", batches),
        ("Scale di risposta", scales),
        ("Anonimato", "Le risposte sono anonime: non sono registrati indirizzo IP, browser né l'ora esatta."),
        ("Regola di soppressione", f"I dati con meno di {threshold} risposte valide non sono mostrati, per non "
                                   "rendere riconoscibili i rispondenti; gli standard relativi risultano "
                                   "«non valutabile», con il numero di risposte raccolte."),
        ("Domanda complessiva", "Per ogni servizio, la domanda di valutazione obbligatoria del questionario "
                                "(altrimenti l'ultima domanda a scala o a faccine)."),
        ("Valutazione degli standard", "Ogni standard della carta dei servizi è confrontato con il dato della "
                                       "domanda indicata; uno standard senza domanda è confrontato con ogni "
                                       "domanda a scala o a faccine del servizio. «Non valutabile» con n = 0: "
                                       "nessuna risposta nell'anno."),
        ("Andamento rispetto all'anno precedente",
         f"Differenza in punti percentuali della quota di soddisfatti alla domanda complessiva tra {year} e "
         f"{year - 1}; test z bilaterale per due proporzioni (varianza combinata), o test esatto di Fisher quando "
         f"in un anno i soddisfatti o i non soddisfatti attesi sono meno di {MIN_EXPECTED}; differenza significativa "
         f"se p < {str(ALPHA).replace('.', ',')}. Non confrontabile se in uno dei due anni le risposte sono meno "
         f"di {threshold}. {before}"),
        ("Rilevazioni programmate e campione raccolto", campaigns[0].upper() + campaigns[1:] + "."),
        ("Azioni di miglioramento", f"Le azioni il cui periodo di attuazione comprende almeno un giorno del "
                                    f"{year}, con il loro stato."),
    ]
    return rows + list(FORMULAS)


MAX_NAMED_CHANGES = 10


def publication_note(year: int, services: list[ServiceReport], published: PublishedVersion | None) -> str:
    """Whether the report's figures, computed from the answers stored today, are those published: answers that
    arrive or a batch rolled back after publishing move them, and the Nucleo must know which ones to trust."""
    if published is None:
        return (f"L'anno {year} non è ancora pubblicato in Amministrazione trasparente: le cifre sono quelle delle "
                "risposte registrate alla data della relazione.")
    where = f"versione {published.version} pubblicata il {_it_date(published.published_on)}"
    before = {row["servizio_codice"]: row for row in published.summary}
    moved = []
    for svc in services:
        row = before.pop(svc.codice, None)
        if row is None:
            moved.append(f"{svc.nome} (non pubblicato)")
            continue
        parts = [f"{label} da {_it_figure(row.get(key))} a {_it_figure(now)}"
                 for label, key, now in (("questionari", "compilazioni", svc.compilazioni),
                                         ("risposte", "n", svc.n),
                                         ("% soddisfatti", "quota_soddisfatti", svc.quota_soddisfatti))
                 if _it_figure(row.get(key)) != _it_figure(now)]
        # A standard of the year may have been edited since (rather than replaced from a later year): the report
        # judges by the year's standards as they are stored today.
        standards = _published_standards(svc)
        if (row.get("standard") or "") != standards:
            parts.append(f"standard da «{_it_standard(row.get('standard'))}» a «{_it_standard(standards)}»")
        verdict = overall_result(pd.DataFrame({"esito": [std.esito for std in svc.standards]}))
        if (row.get("esito") or "") != verdict:
            parts.append(f"esito da «{row.get('esito') or '—'}» a «{verdict or '—'}»")
        if parts:
            moved.append(f"{svc.nome} ({', '.join(parts)})")
    moved += [f"{row['servizio']} (pubblicato, non più nel catalogo)" for row in before.values()]
    if not moved:
        return f"Le cifre coincidono con la {where} in Amministrazione trasparente."
    named = "; ".join(moved[:MAX_NAMED_CHANGES]) + (f"; e altri {len(moved) - MAX_NAMED_CHANGES}"
                                                    if len(moved) > MAX_NAMED_CHANGES else "")
    services_word = "servizio" if len(moved) == 1 else "servizi"
    return (f"Le cifre sono calcolate dalle risposte e dagli standard registrati alla data della relazione e "
            f"differiscono dalla "
            f"{where} in Amministrazione trasparente per {len(moved)} {services_word}: {named}. Pubblicare una nuova "
            "versione dell'anno per allinearle.")


def _published_standards(svc: ServiceReport) -> str:
    """The service's standards as a publication's summary row lists them (publication.summary_table)."""
    stated = {(s.domanda_codice if not s.generale else "", s.indicatore, s.soglia) for s in svc.standards}
    return "; ".join(standard_text(indicatore, soglia, code) for code, indicatore, soglia in sorted(stated))


def _it_standard(text: str | None) -> str:
    return readable_standard(text, decimal=",") if text else "nessuno"


def year_campaigns(conn: Connection, year: int, services: set[int]) -> list[dict[str, Any]]:
    """The campaigns that ran in the year for any of ``services``, with their target and what they collected for
    those services; ``tutta`` holds the whole campaign's count where it also covered services of another ente (its
    target is for all its services)."""
    found = queries.load_campaigns(conn, date(year, 1, 1), date(year, 12, 31))
    found = found[found["servizio_id"].isin(services)]
    campaigns = []
    for _code, rows in found.sort_values(["campagna_inizio", "campagna"]).groupby("campagna", sort=False):
        first = rows.iloc[0]
        shared = len(rows) < int(first["campagna_servizi"])
        campaigns.append({"titolo": first["campagna_titolo"], "inizio": first["campagna_inizio"],
                          "fine": first["campagna_fine"],
                          "obiettivo": None if pd.isna(first["campagna_obiettivo"]) else int(first["campagna_obiettivo"]),
                          "raccolti": int(rows["campagna_raccolti"].sum()),
                          "tutta": int(first["campagna_raccolti_totale"]) if shared else None})
    return campaigns


def _sample(campaign: dict[str, Any]) -> str:
    """What a campaign collected against its target; for a campaign shared with services outside the report
    (another ente's), the report's questionnaires and the whole campaign's beside its target."""
    done, target, whole = campaign["raccolti"], campaign["obiettivo"], campaign.get("tutta")
    if whole is not None:
        return (f"{_it_int(done)} questionari per i servizi di questa relazione; la rilevazione, condivisa con altri "
                f"servizi, ne ha raccolti {_it_int(whole)}" + (f" su {_it_int(target)} previsti" if target else ""))
    if not target:
        return f"{_it_int(done)} questionari (nessun campione previsto)"
    return f"{_it_int(done)} questionari su {_it_int(target)} previsti ({_it_int(round(done / target * 100))}%)"


def _it_int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _it_figure(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)


def build_report(conn: Connection, year: int, threshold: int = 5,
                 published: PublishedVersion | None = None, until: date | None = None,
                 ente: str | None = None, today: date | None = None) -> Report:
    """Every service of the catalogue, grouped by ente and ufficio, with its standards, trend and actions; with
    ``published``, how its figures stand against that version; ``until``, the day taken, for a year still running;
    ``ente`` (its code), that ente's services alone: each body has its own Nucleo di valutazione. ``today`` is the
    report's day in the body's time zone (an action past its deadline is late from the day after); the server's date
    when not given."""
    check_threshold(threshold)
    with queries.reuse_results(conn):  # the tables below ask for the same counts: one read each, as a publication
        return _build_report(conn, year, threshold, published, until, ente, today or date.today())


def _build_report(conn: Connection, year: int, threshold: int, published: PublishedVersion | None,
                  until: date | None, ente: str | None, today: date) -> Report:
    period = Period.year(year)
    questions = queries.load_questions(conn)
    figures = service_table(conn, period, threshold=threshold)
    catalogue = queries.load_services(conn)
    ente_name = None
    if ente is not None:
        catalogue = catalogue[catalogue["ente_codice"] == ente]
        if catalogue.empty:
            raise ValueError(f"ente sconosciuto o senza servizi: {ente}")
        ente_name = catalogue["ente"].iloc[0]
        published = published and dataclasses.replace(
            published, summary=[row for row in published.summary if row.get("ente") == ente_name])
    services = queries.offered_in(catalogue, set(figures["servizio_codice"]) if len(figures) else set(),
                                  published.services if published else None)
    service_ids = None if ente is None else [int(i) for i in services["servizio_id"]]
    figures = figures.set_index("servizio_codice") if len(figures) else pd.DataFrame()
    results = standards_results(conn, period, threshold=threshold)
    trends = service_trend(conn, year, threshold).set_index("servizio_codice")
    actions = load_actions(conn, year)
    rows = indicator_table(conn, year, threshold=threshold)
    nps = nps_by_service(rows)
    # Each service's questions as its respondents read them (the published table's wording), else the newest one.
    worded: dict[str, dict[str, str]] = {}
    for slug, code, text in zip(rows["servizio_codice"], rows["domanda_codice"], rows["domanda"], strict=True):
        worded.setdefault(slug, {})[code] = text
    offices: dict[tuple[str, str], list[ServiceReport]] = {}
    for svc in services.sort_values(["ente", "ufficio", "nome_it", "slug"]).itertuples():
        own = questions[questions["questionario"] == svc.questionario]
        latest = own[own["numero"] == own["numero"].max()]
        report = ServiceReport(codice=svc.slug, nome=svc.nome_it, ente=svc.ente, ufficio=svc.ufficio,
                               compilazioni=0, domanda_complessiva=overall_question(latest) if len(latest) else None,
                               n=0, quota_soddisfatti=None)
        if svc.slug in figures.index:
            found = figures.loc[svc.slug]
            report.compilazioni = int(found["compilazioni"])
            report.domanda_complessiva = found["domanda_complessiva"]
            report.n = int(found["n"])
            report.quota_soddisfatti = _num(found["quota_soddisfatti"], 1)
            for name, digits in (("ic95_inf", 1), ("ic95_sup", 1), ("ics", 1), ("margine_errore", 1)):
                setattr(report, name, _num(found[name], digits))
        report.nps = nps.get(svc.slug)
        report.standards = _standards(results, svc.slug, {**dict(zip(latest["codice"], latest["testo_it"], strict=True)),
                                                          **worded.get(svc.slug, {})})
        report.trend = _trend(trends.loc[svc.slug] if svc.slug in trends.index else None,
                              report.quota_soddisfatti, report.n, year)
        report.actions = _actions(actions, svc.slug, today)
        offices.setdefault((svc.ente, svc.ufficio), []).append(report)
    method = methodology(conn, year, rows if ente is None else rows[rows["ente"] == ente_name], until, service_ids)
    method["rilevazioni"] = year_campaigns(conn, year, set(services["servizio_id"]))
    note = publication_note(year, [svc for items in offices.values() for svc in items], published)
    return Report(year=year, threshold=threshold,
                  offices=[OfficeReport(body, ufficio, items) for (body, ufficio), items in offices.items()],
                  method=[*([("Ente", ente_name)] if ente_name else []), ("Pubblicazione in Amministrazione trasparente", note),
                          *method_rows(method, year, threshold, queries.answer_days(conn, year - 1, service_ids))],
                  publication=note, period=method["periodo"], ente=ente_name, generated=today)


# --- XLSX ------------------------------------------------------------------------------------------------------

# [$-410] ties a format to the Italian locale, so LibreOffice shows comma decimals whatever its own language.
