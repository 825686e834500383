"""What a year's publication contains, as data: the tables every file and page of the publication is made from.

``build_publication`` reads the database once through the engine (the same functions as the CLI and the
dashboard), and returns plain records; ``to_data``/``from_data`` turn them into the JSON the platform keeps
with each frozen version, so the public pages show what was published, not what the database holds today.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from . import queries
from . import tables as t
from .engine import NON_VALUTABILE, Period, service_table, standards_results, trend
from .indicators import QUESTION_COLUMNS, RAGGIUNTO, indicator_table
from .stats import round_half_up

NON_RAGGIUNTO = "non raggiunto"
INDICATOR_LABELS = {"quota_soddisfatti": "% soddisfatti", "media": "media", "ics": "ICS", "nps": "NPS"}
STATE_LABELS = {"pianificata": "pianificata", "in_corso": "in corso", "completata": "completata",
                "annullata": "annullata"}
CHANNEL_LABELS = {"web": "web (link)", "qr": "codice QR allo sportello", "chiosco": "tablet allo sportello",
                  "sportello": "allo sportello", "telefono": "telefono", "carta": "questionario cartaceo",
                  "email": "email"}
METHOD_LABELS = {"CATI": "interviste telefoniche (CATI)", "PAPI": "questionari cartacei (PAPI)",
                 "CAWI": "questionari web della società (CAWI)"}
TYPE_LABELS = {"scala": "scala", "faccine": "faccine", "nps": "NPS", "si_no": "sì/no",
               "scelta_singola": "scelta singola", "scelta_multipla": "scelta multipla", "testo": "testo libero"}

SUMMARY_FIELDS = ["ente", "ufficio", "servizio_codice", "servizio", "compilazioni", "n", "quota_soddisfatti",
                  "ic95_inf", "ic95_sup", "media", "scala_min", "scala_max", "ics", "nps", "margine_errore",
                  "utenti_annui", "standard", "esito", "esiti", "soppresso"]
ACTION_FIELDS = ["ente", "ufficio", "servizio_codice", "servizio", "titolo", "descrizione", "riferimento",
                 "data_inizio", "data_scadenza", "stato", "esito"]


@dataclass
class Publication:
    year: int
    threshold: int
    questions: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    method: dict[str, Any]
    enti: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    published_at: datetime | None = None
    publisher: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why this version was published, in the publisher's words (empty: not said)
    # Each ente's own Nota metodologica (its channels and firms), by ente code, when the year has services of more
    # than one ente: each body publishes its own files in its own Amministrazione trasparente.
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The ente this publication was narrowed to (``of_ente``), else None.
    ente: dict[str, Any] | None = None

    def questions_frame(self) -> pd.DataFrame:
        """The question table with DESIGN.md's columns and dtypes, as the CSV writer wants it."""
        frame = pd.DataFrame(self.questions, columns=QUESTION_COLUMNS)
        for name in ("media", "quota_soddisfatti", "ic95_inf", "ic95_sup"):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        return frame.astype({"anno": "int64", "n": "int64", "scala_min": "Int64", "scala_max": "Int64",
                             "soppresso": "bool"})

    def service(self, slug: str) -> dict[str, Any] | None:
        return next((row for row in self.summary if row["servizio_codice"] == slug), None)

    def entities(self) -> list[dict[str, Any]]:
        """The enti with services in the Sintesi, in its order (code, name, type)."""
        names = list(dict.fromkeys(row["ente"] for row in self.summary))
        by_name = {e["nome"]: e for e in self.enti}
        return [by_name[name] for name in names if name in by_name]

    def of_ente(self, code: str) -> Publication | None:
        """Only one ente's services, actions and Nota metodologica, or None if it has no service in the year.
        Versions published before each ente's methodology was kept keep the whole instance's (its period is
        the same; its channel counts are not the ente's)."""
        ente = next((e for e in self.entities() if e["codice"] == code), None)
        if ente is None:
            return None
        name = ente["nome"]
        return replace(self, questions=[q for q in self.questions if q["ente"] == name],
                       summary=[r for r in self.summary if r["ente"] == name],
                       actions=[a for a in self.actions if a["ente"] == name],
                       method=self.methods.get(code, self.method), methods={}, ente=ente,
                       enti=[e for e in self.enti if name in (e["nome"], e.get("unione"))])


def _clean(value: Any) -> Any:
    """JSON-safe scalars: None for NaN/NA, plain int/float/bool."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame[columns].to_dict(orient="records")]


def standard_text(indicatore: str, soglia: float, domanda: str = "", decimal: str = ".") -> str:
    """'% soddisfatti ≥ 80 (D9)' as people read it (dot decimals unless ``decimal`` says otherwise: pages and
    files format them)."""
    value = f"{soglia:g}" if indicatore == "quota_soddisfatti" else f"{soglia:.2f}".rstrip("0").rstrip(".")
    value = value.replace(".", decimal)
    return f"{INDICATOR_LABELS.get(indicatore, indicatore)} ≥ {value}" + (f" ({domanda})" if domanda else "")


DECIMAL_POINT = re.compile(r"(\d)\.(\d)")


def standard_outcomes(esiti: list[dict[str, Any]], decimal: str = ".") -> str:
    """Each standard with the figure it was compared with and its result, as a file's cell says it:
    'media ≥ 4 (D1): 4,20, raggiunto; % soddisfatti ≥ 80 (D9): 78,3%, non raggiunto'."""
    return readable_standard("; ".join(f"{e['standard']}: {outcome(e)}" for e in esiti), decimal)


def outcome(esito: dict[str, Any]) -> str:
    """One standard's figure and result ('78.3%, non raggiunto'); without a figure, the answers it had."""
    value = esito.get("valore")
    if value is None:
        return f"{esito['esito']} (n = {esito.get('n', 0)})"
    figure = f"{value:.1f}%" if esito.get("indicatore") == "quota_soddisfatti" else f"{value:.2f}"
    return f"{figure}, {esito['esito']}"


def readable_standard(text: str | None, decimal: str = ".") -> str:
    """The CSV's standard ('quota_soddisfatti ≥ 80; media ≥ 4.0') with people's names for the figures, and
    ``decimal`` between a number's units and decimals."""
    text = (text or "").replace("quota_soddisfatti", INDICATOR_LABELS["quota_soddisfatti"])
    return DECIMAL_POINT.sub(rf"\g<1>{decimal}\g<2>", text) if decimal != "." else text


def overall_result(results: pd.DataFrame) -> str:
    """One word per service: every standard met, one missed, or one that could not be assessed."""
    if results.empty:
        return ""
    if (results["esito"] == NON_RAGGIUNTO).any():
        return NON_RAGGIUNTO
    if (results["esito"] == NON_VALUTABILE).any():
        return NON_VALUTABILE
    return RAGGIUNTO


def nps_by_service(questions: pd.DataFrame) -> dict[str, float]:
    """Each service's NPS, from the published question table: its own questionnaire's NPS item, where shown."""
    shown = questions[(questions["tipo"] == "nps") & ~questions["domanda_codice"].str.contains(".", regex=False)
                      & ~questions["soppresso"] & questions["quota_soddisfatti"].notna()]
    return {slug: float(value) for slug, value in zip(shown["servizio_codice"], shown["quota_soddisfatti"], strict=True)}


def summary_table(conn: Connection, year: int, threshold: int, questions: pd.DataFrame,
                  listed: set[str] | None = None) -> pd.DataFrame:
    """One row per service of the catalogue (with or without answers), in ente, ufficio, servizio order."""
    period = Period.year(year)
    figures = service_table(conn, period, threshold=threshold)
    services = queries.offered_in(queries.load_services(conn),
                                  set(figures["servizio_codice"]) if len(figures) else set(), listed)
    results = standards_results(conn, period, threshold=threshold)
    standards = queries.load_standards(conn, year).merge(services[["servizio_id", "slug"]], on="servizio_id")
    # One NPS, one list of standards and one set of results per service, looked up rather than filtered
    # again for each of hundreds of services.
    nps = nps_by_service(questions)
    standards_by_service: dict[str, list[str]] = {}
    for std in standards.sort_values(["domanda_codice", "indicatore", "soglia"]).itertuples():
        standards_by_service.setdefault(std.slug, []).append(
            standard_text(std.indicatore, float(std.soglia), std.domanda_codice))
    results_by_service = dict(tuple(results.groupby("servizio_codice")))
    no_results = results.iloc[0:0]
    figure_rows = {r["servizio_codice"]: r for r in figures.to_dict(orient="records")}
    # The overall question's scale, beside its mean: 2.40 on faces (1–3) is not 2.40 on stars (1–5).
    scales = {(r.servizio_codice, r.domanda_codice): (r.scala_min, r.scala_max)
              for r in questions[["servizio_codice", "domanda_codice", "scala_min", "scala_max"]].itertuples()}
    rows = []
    for svc in services.sort_values(["ente", "ufficio", "nome_it"]).itertuples():
        row = {"ente": svc.ente, "ufficio": svc.ufficio, "servizio_codice": svc.slug, "servizio": svc.nome_it,
               "compilazioni": 0, "n": 0, "soppresso": True,
               "utenti_annui": None if pd.isna(svc.utenti_annui) else int(svc.utenti_annui)}
        found = figure_rows.get(svc.slug)
        if found is not None:
            row.update({name: found[name] for name in ("compilazioni", "n", "quota_soddisfatti", "ic95_inf",
                                                       "ic95_sup", "media", "ics", "margine_errore", "soppresso")})
            low, high = scales.get((svc.slug, found["domanda_complessiva"]), (None, None))
            if row["media"] is not None and not pd.isna(row["media"]) and not pd.isna(low) and not pd.isna(high):
                row["scala_min"], row["scala_max"] = int(low), int(high)
        for name, digits in (("quota_soddisfatti", 1), ("ic95_inf", 1), ("ic95_sup", 1), ("media", 2), ("ics", 1),
                             ("margine_errore", 1)):
            row[name] = None if row.get(name) is None or pd.isna(row.get(name)) else round_half_up(row[name], digits)
        row["nps"] = nps.get(svc.slug)
        row["standard"] = "; ".join(standards_by_service.get(svc.slug, []))
        # Every standard is in the results, unassessable ones as non valutabile: none can drop out of the esito.
        own = results_by_service.get(svc.slug, no_results)
        row["esito"] = overall_result(own)
        # And each with its own figure and result: one word for several targets hid which one was missed.
        row["esiti"] = [{"standard": standard_text(r.indicatore, r.soglia, r.domanda_codice),
                         "valore": None if r.valore is None or pd.isna(r.valore) else float(r.valore),
                         "indicatore": r.indicatore, "n": int(r.n), "esito": r.esito} for r in own.itertuples()]
        rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_FIELDS)


OPEN_STATES = frozenset((STATE_LABELS["pianificata"], STATE_LABELS["in_corso"]))


def state_as_of(state: str, deadline: str | date, as_of: date) -> str:
    """An action's state as published, with "(scadenza superata)" when it was still open after its deadline on
    ``as_of`` (the day of the version or report): the Nucleo sees a late action as late, not just "pianificata"."""
    day = date.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    return f"{state} (scadenza superata)" if state in OPEN_STATES and day < as_of else state


def load_actions(conn: Connection, year: int) -> pd.DataFrame:
    """The improvement actions whose period overlaps the year, with what prompted them."""
    a, s, u, e, st = t.azioni, t.servizi, t.uffici, t.enti, t.standard
    owner = t.uffici.alias("ufficio_servizio")
    query = select(e.c.nome.label("ente"), u.c.nome.label("ufficio"), s.c.slug.label("servizio_codice"),
                   s.c.nome_it.label("servizio"), a.c.titolo, a.c.descrizione, a.c.indicatore, a.c.domanda_codice,
                   st.c.indicatore.label("std_indicatore"), st.c.soglia.label("std_soglia"),
                   st.c.domanda_codice.label("std_domanda"), a.c.data_inizio, a.c.data_scadenza, a.c.stato,
                   a.c.esito) \
        .select_from(a.join(s, s.c.id == a.c.servizio_id).join(owner, owner.c.id == s.c.ufficio_id)
                     .join(e, e.c.id == owner.c.ente_id).join(u, u.c.id == a.c.ufficio_id)
                     .outerjoin(st, st.c.id == a.c.standard_id)) \
        .where(and_(a.c.data_inizio <= date(year, 12, 31), a.c.data_scadenza >= date(year, 1, 1))) \
        .order_by(e.c.nome, s.c.nome_it, a.c.data_inizio, a.c.id)
    frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(columns=ACTION_FIELDS)
    frame["riferimento"] = [
        ("standard " + standard_text(si, float(ss), sd)) if pd.notna(si)
        else INDICATOR_LABELS.get(ind, ind) + (f" ({dc})" if dc else "")
        for si, ss, sd, ind, dc in zip(frame["std_indicatore"], frame["std_soglia"], frame["std_domanda"],
                                       frame["indicatore"], frame["domanda_codice"], strict=True)]
    frame["stato"] = frame["stato"].map(STATE_LABELS)
    frame["esito"] = frame["esito"].fillna("")
    for name in ("data_inizio", "data_scadenza"):
        frame[name] = [d.isoformat() if hasattr(d, "isoformat") else str(d) for d in frame[name]]
    return frame[ACTION_FIELDS]


def period_of(year: int, until: date | None = None) -> dict[str, Any]:
    """The answers' period: the whole year, or, for a year still running, its first day to ``until`` (the day the
    figures are taken), marked partial."""
    end = until if until is not None and until < date(year, 12, 31) else None
    return {"inizio": date(year, 1, 1).isoformat(), "fine": (end or date(year, 12, 31)).isoformat(),
            "parziale": end is not None}


def period_text(period: dict[str, Any], answered: dict[str, str] | None = None) -> str:
    """The period as the Nota metodologica states it: "dal 01/01/2026 al 24/11/2026 (anno in corso: dati parziali)",
    and the days the answers were given (``answered``: the method's ``risposte``, from ``answer_span``) where they
    cover less of it: a first year begun in November is not a year's survey."""
    start, end = (date.fromisoformat(period[key]).strftime("%d/%m/%Y") for key in ("inizio", "fine"))
    text = f"dal {start} al {end}" + (" (anno in corso: dati parziali)" if period.get("parziale") else "")
    if short_span(period, answered):
        first, last = (date.fromisoformat(answered[key]).strftime("%d/%m/%Y") for key in ("prima", "ultima"))
        text += f"; risposte raccolte solo dal {first} al {last}"
    return text


SPAN_GAP_DAYS = 31  # answers starting or stopping more than a month inside the period are said to


def answer_span(conn: Connection, year: int, services: list[int] | None = None) -> dict[str, str] | None:
    """The first and last day with answers in the year (ISO dates), None without answers."""
    days = queries.answer_days(conn, year, services)
    return None if days is None else {"prima": days[0].isoformat(), "ultima": days[1].isoformat()}


def short_span(period: dict[str, Any], answered: dict[str, str] | None) -> bool:
    """Whether the answers began or stopped more than a month inside the period."""
    if not answered:
        return False
    gap_start = date.fromisoformat(answered["prima"]) - date.fromisoformat(period["inizio"])
    gap_end = date.fromisoformat(period["fine"]) - date.fromisoformat(answered["ultima"])
    return max(gap_start.days, gap_end.days) > SPAN_GAP_DAYS


def methodology(conn: Connection, year: int, questions: pd.DataFrame, until: date | None = None,
                services: list[int] | None = None) -> dict[str, Any]:
    """Channels, collection methods (the firms' batches too), scales in use: the facts of the Nota metodologica.

    ``until``: the day the figures are taken, for a year still running (``period_of``); ``services``: only these
    services' questionnaires (one ente's report)."""
    start, end = queries.year_bounds(year)
    c, b = t.compilazioni, t.import_batches
    within = and_(c.c.data_ora >= start, c.c.data_ora < end)
    if services is not None:
        within = and_(within, c.c.servizio_id.in_(services))
    # One pass over the year's questionnaires (citizens' channels and firms' batches together).
    counts = conn.execute(select(c.c.canale, c.c.import_batch_id, func.count()).where(within)
                          .group_by(c.c.canale, c.c.import_batch_id)).all()
    by_channel: dict[str, int] = {}
    by_batch: dict[int, int] = {}
    for canale, batch, n in counts:
        if batch is None:
            by_channel[canale] = by_channel.get(canale, 0) + n
        else:
            by_batch[batch] = by_batch.get(batch, 0) + n
    firms: dict[tuple[str, str], int] = {}
    if by_batch:
        for batch, fonte, metodo in conn.execute(select(b.c.id, b.c.fonte, b.c.metodo)
                                                 .where(b.c.id.in_(list(by_batch)))).all():
            firms[(fonte, metodo)] = firms.get((fonte, metodo), 0) + by_batch[batch]
    channels = sorted(by_channel.items())
    batches = [(fonte, metodo, n) for (fonte, metodo), n in sorted(firms.items())]
    scales = questions[questions["tipo"].isin(["scala", "nps", "faccine", "si_no"])] \
        .drop_duplicates(["tipo", "scala_min", "scala_max"]).sort_values(["tipo", "scala_min", "scala_max"])
    return {
        "periodo": period_of(year, until),
        "risposte": answer_span(conn, year, services),
        "canali": [{"canale": CHANNEL_LABELS.get(name, name), "compilazioni": int(n)} for name, n in channels],
        "lotti": [{"fonte": fonte, "metodo": METHOD_LABELS.get(metodo, metodo), "compilazioni": int(n)}
                  for fonte, metodo, n in batches],
        "scale": [{"tipo": TYPE_LABELS.get(row.tipo, row.tipo),
                   "min": None if pd.isna(row.scala_min) else int(row.scala_min),
                   "max": None if pd.isna(row.scala_max) else int(row.scala_max)} for row in scales.itertuples()],
    }


def build_publication(conn: Connection, year: int, threshold: int = 5, until: date | None = None,
                      listed: set[str] | None = None) -> Publication:
    """Everything a publication shows, computed once from the database; ``until`` for a year still running."""
    with queries.reuse_results(conn):
        questions = indicator_table(conn, year, threshold=threshold)
        summary = summary_table(conn, year, threshold, questions, listed)
        actions = load_actions(conn, year)
        method = methodology(conn, year, questions, until)
        methods = _methods_by_ente(conn, year, questions, summary, until)
    enti = conn.execute(select(t.enti.c.codice, t.enti.c.nome, t.enti.c.tipo,
                               t.enti.c.unione_id, t.enti.c.id).order_by(t.enti.c.nome)).mappings().all()
    names = {row["id"]: row["nome"] for row in enti}
    return Publication(
        methods=methods,
        year=year, threshold=threshold,
        questions=_records(questions, QUESTION_COLUMNS),
        summary=_records(summary, SUMMARY_FIELDS),
        actions=_records(actions, ACTION_FIELDS),
        method=method,
        enti=[{"codice": row["codice"], "nome": row["nome"], "tipo": row["tipo"],
               "unione": names.get(row["unione_id"])} for row in enti],
    )


def _methods_by_ente(conn: Connection, year: int, questions: pd.DataFrame, summary: pd.DataFrame,
                     until: date | None) -> dict[str, dict[str, Any]]:
    """Each ente's Nota metodologica, when the Sintesi lists services of more than one ente; else none."""
    listed = set(summary["ente"])
    if len(listed) < 2:
        return {}
    services = queries.load_services(conn)
    services = services[services["ente"].isin(listed)]
    return {code: methodology(conn, year, questions[questions["ente"] == group["ente"].iloc[0]], until,
                              services=[int(i) for i in group["servizio_id"]])
            for code, group in services.groupby("ente_codice")}


def service_trend(conn: Connection, year: int, threshold: int = 5) -> pd.DataFrame:
    """Per service, the overall item's % satisfied against the previous year, with its significance."""
    figures = service_table(conn, Period.year(year), threshold=threshold)
    changes = trend(conn, Period.year(year), threshold=threshold)
    if figures.empty or changes.empty:
        return pd.DataFrame(columns=["servizio_codice", "quota_soddisfatti_prec", "n_prec", "differenza", "p_value",
                                     "significativo"])
    overall = figures[["servizio_codice", "domanda_complessiva"]]
    services = queries.load_services(conn)[["slug", "questionario"]]
    merged = changes.merge(services, on="slug").merge(overall, left_on="slug", right_on="servizio_codice")
    merged = merged[(merged["questionario_x"] == merged["questionario_y"])
                    & (merged["codice"] == merged["domanda_complessiva"])]
    return merged[["servizio_codice", "quota_soddisfatti_prec", "n_prec", "differenza", "p_value", "significativo"]]


def to_data(publication: Publication) -> dict[str, Any]:
    """The JSON kept with the frozen version."""
    return {"anno": publication.year, "soglia": publication.threshold, "domande": publication.questions,
            "sintesi": publication.summary, "azioni": publication.actions, "metodologia": publication.method,
            "enti": publication.enti, **({"metodologia_enti": publication.methods} if publication.methods else {})}


def from_data(data: dict[str, Any], version: int = 0, published_at: datetime | None = None,
              publisher: dict[str, Any] | None = None, reason: str | None = None) -> Publication:
    return Publication(year=data["anno"], threshold=data["soglia"], questions=data["domande"],
                       summary=data["sintesi"], actions=data["azioni"], method=data["metodologia"],
                       enti=data.get("enti", []), version=version, published_at=published_at,
                       publisher=publisher or {}, methods=data.get("metodologia_enti", {}), reason=reason or "")
