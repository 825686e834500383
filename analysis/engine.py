"""The analyses built on the question statistics: services, breakdowns, trends, quadrants, standards.

Every function reads counts through ``analysis.queries`` and derives its figures with
``analysis.questions``, so dashboard, CLI and exports share one source for each number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from sqlalchemy import Connection

from . import queries
from .filters import NO_FILTERS, Filters
from .indicators import finish_table, match_standards, period_rows
from .questions import GROUP_KEYS, option_shares, question_stats
from .services import RATED_TYPES, overall_question, service_row
from .suppression import check_threshold, suppress

SUPPRESSED_FIGURES = ["media", "sd", "mediana", "quota_soddisfatti", "ic95_inf", "ic95_sup", "media_ic95_inf",
                      "media_ic95_sup", "quota_verde", "quota_giallo", "quota_rosso", "promotori_pct",
                      "passivi_pct", "detrattori_pct", "nps"]
NON_VALUTABILE = "non valutabile"


@dataclass(frozen=True)
class Period:
    """The answers a figure is computed on: those of [start, end), narrowed by ``filters``."""

    start: datetime
    end: datetime
    label: str
    filters: Filters = NO_FILTERS

    @property
    def standards_year(self) -> int:
        """The year whose carta dei servizi judges the period: that of its last day."""
        return (self.end - timedelta(microseconds=1)).year

    @classmethod
    def year(cls, year: int, filters: Filters = NO_FILTERS) -> Period:
        start, end = queries.year_bounds(year)
        return cls(start, end, str(year), filters)

    def previous(self) -> Period:
        """The period of the same length just before this one, same filters: the previous year for a year, the same
        number of whole months before for whole months (Mar–Jun against Nov–Feb, not 30 Oct–28 Feb), else as many
        days."""
        if self.start.month == 1 and self.start.day == 1 and self.end == self.start.replace(year=self.start.year + 1):
            return Period.year(self.start.year - 1, self.filters)
        if self.start.day == 1 and self.end.day == 1 and self.start.time() == self.end.time() == time.min:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
            first = _months_before(self.start, months)
            last = _months_before(self.start, 1)
            label = f"{first:%m/%Y}" if months == 1 else f"{first:%m/%Y}–{last:%m/%Y}"  # as the months chosen read
            return Period(first, self.start, label, self.filters)
        length = self.end - self.start
        first, last = self.start - length, self.start - timedelta(days=1)  # the end is exclusive: its last day
        return Period(self.start - length, self.start, f"{first:%d/%m/%Y}–{last:%d/%m/%Y}", self.filters)


def _months_before(day: datetime, months: int) -> datetime:
    """The first of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def _own(stats: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """Rows of each service's own questionnaire, with the service's details."""
    merged = stats.merge(services.rename(columns={"questionario": "questionario_servizio"}), on="servizio_id")
    return merged[merged["questionario"] == merged["questionario_servizio"]]


def question_statistics(conn: Connection, period: Period, service: str | None = None, by: str | None = None,
                        threshold: int = 5) -> pd.DataFrame:
    """Full per-question statistics (optionally broken down), suppressed, with service details."""
    check_threshold(threshold)
    numeric, _ = queries.load_question_counts(conn, period.start, period.end, service, by, period.filters)
    questions = queries.load_questions(conn)
    extra = ["gruppo"] if by else None
    stats = question_stats(numeric, questions, extra)
    stats = stats.merge(queries.load_services(conn)[["servizio_id", "slug", "nome_it", "ente"]], on="servizio_id")
    stats["periodo"] = period.label
    # Breakdown cells of one service × question add up to its published total: suppress them together.
    return suppress(stats, GROUP_KEYS, threshold, SUPPRESSED_FIGURES)


def importance_table(conn: Connection, period: Period, service: str | None = None) -> pd.DataFrame:
    importance = queries.load_importance(conn, period.start, period.end, service, period.filters)
    merged = importance.merge(queries.load_questions(conn), on="domanda_id")
    grouped = merged.groupby(["servizio_id", "questionario", "codice"], as_index=False)[
        ["n_importanza", "somma_importanza"]].sum()
    grouped["importanza_media"] = grouped["somma_importanza"] / grouped["n_importanza"]
    return grouped


def service_table(conn: Connection, period: Period, service: str | None = None, threshold: int = 5) -> pd.DataFrame:
    """One row per service with answers: overall satisfaction, ICS, margin of error, sample needed."""
    check_threshold(threshold)
    numeric, _ = queries.load_question_counts(conn, period.start, period.end, service, filters=period.filters)
    questions = queries.load_questions(conn)
    services = queries.load_services(conn)
    stats = _own(question_stats(numeric, questions), services)
    importance = importance_table(conn, period, service)
    submissions = queries.load_submission_counts(conn, period.start, period.end, service, period.filters) \
        .set_index("servizio_id")["compilazioni"]
    # Plain records split once by service: pandas filters per service would cost seconds over hundreds of them.
    latest_questions = {code: group[group["numero"] == group["numero"].max()]
                        for code, group in questions.groupby("questionario")}
    overall = {code: overall_question(group) for code, group in latest_questions.items()}
    stats_by_service: dict[int, list[dict]] = {}
    for record in stats[["servizio_id", "codice", "tipo", "n", "media", "quota_soddisfatti", "ic95_inf", "ic95_sup",
                         "scala_min", "scala_max"]].to_dict(orient="records"):
        stats_by_service.setdefault(record["servizio_id"], []).append(record)
    stated: dict[tuple, dict[str, float]] = {}
    for record in importance[["servizio_id", "questionario", "codice", "importanza_media"]].to_dict(orient="records"):
        stated.setdefault((record["servizio_id"], record["questionario"]), {})[record["codice"]] = \
            record["importanza_media"]
    rows = []
    for svc in services[services["servizio_id"].isin(submissions.index)].to_dict(orient="records"):
        key = svc["servizio_id"]
        rows.append(service_row(svc, stats_by_service.get(key, []), stated.get((key, svc["questionario"])),
                                int(submissions[key]), overall.get(svc["questionario"]), threshold))
    table = pd.DataFrame(rows)
    if not table.empty:
        table.insert(0, "periodo", period.label)
        table = table.sort_values(["ente", "servizio_codice"]).reset_index(drop=True)
    return table


# The normal approximation holds when each group expects at least this many satisfied and not satisfied.
MIN_EXPECTED = 5


def two_proportion_test(k1: float, n1: float, k2: float, n2: float) -> tuple[float, float]:
    """Two-sided test that two shares are equal: (z, p-value). The pooled two-proportion z-test where each group
    expects at least ``MIN_EXPECTED`` satisfied and not satisfied under the pooled share; Fisher's exact test on the
    2 × 2 table otherwise (z is then NaN): 0 of 5 against 54 of 128 gave a z-test's p = 0,060, which its
    approximation does not support."""
    if min(n1, n2) <= 0:
        return float("nan"), float("nan")
    pooled = (k1 + k2) / (n1 + n2)
    if min(n1, n2) * min(pooled, 1 - pooled) < MIN_EXPECTED:
        k1, n1, k2, n2 = (round(v) for v in (k1, n1, k2, n2))
        return float("nan"), float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def trend(conn: Connection, period: Period, service: str | None = None, threshold: int = 5,
          alpha: float = 0.05) -> pd.DataFrame:
    """Quota this period against the previous one, per service × question, with a significance flag."""
    before = period.previous()
    keys = [*GROUP_KEYS, "slug", "nome_it", "ente"]
    now = question_statistics(conn, period, service, threshold=threshold)
    then = question_statistics(conn, before, service, threshold=threshold)
    merged = now.merge(then[[*keys, "n", "soddisfatti", "quota_soddisfatti", "soppresso"]], on=keys,
                       how="left", suffixes=("", "_prec"))
    merged = merged[merged["tipo"] != "nps"]
    comparable = ~merged["soppresso"] & ~merged["soppresso_prec"].astype("boolean").fillna(True).astype(bool)
    tests = [two_proportion_test(k1, n1, k2, n2) if ok else (np.nan, np.nan)
             for k1, n1, k2, n2, ok in zip(merged["soddisfatti"], merged["n"], merged["soddisfatti_prec"],
                                          merged["n_prec"], comparable, strict=True)]
    merged["z"] = [t[0] for t in tests]
    merged["p_value"] = [t[1] for t in tests]
    merged["differenza"] = merged["quota_soddisfatti"] - merged["quota_soddisfatti_prec"]
    merged["significativo"] = merged["p_value"] < alpha
    merged["periodo_prec"] = before.label
    return merged[[*keys, "periodo", "periodo_prec", "n", "quota_soddisfatti", "n_prec", "quota_soddisfatti_prec",
                   "differenza", "z", "p_value", "significativo"]].reset_index(drop=True)


QUADRANTS = {
    (True, False): "priorità di intervento",
    (True, True): "punto di forza",
    (False, True): "da mantenere",
    (False, False): "secondario",
}


def quadrants(conn: Connection, period: Period, service: str, threshold: int = 5) -> pd.DataFrame:
    """Importance–satisfaction quadrants of one service's rated items, split at the means."""
    stats = question_statistics(conn, period, service, threshold=threshold)
    importance = importance_table(conn, period, service)
    items = stats[stats["tipo"].isin(RATED_TYPES) & ~stats["soppresso"]].merge(
        importance[["questionario", "codice", "importanza_media", "n_importanza"]], on=["questionario", "codice"])
    items = items[items["n_importanza"] >= threshold]
    if items.empty:
        return items.assign(quadrante=pd.Series(dtype=str), priorita=pd.Series(dtype=bool))
    rescaled = (items["media"] - items["scala_min"]) / (items["scala_max"] - items["scala_min"]) * 100
    items = items.assign(soddisfazione=rescaled)
    high_importance = items["importanza_media"] >= items["importanza_media"].mean()
    high_satisfaction = items["soddisfazione"] >= items["soddisfazione"].mean()
    items["quadrante"] = [QUADRANTS[(i, s)] for i, s in zip(high_importance, high_satisfaction, strict=True)]
    items["priorita"] = high_importance & ~high_satisfaction
    return items[["slug", "questionario", "codice", "n", "media", "soddisfazione", "importanza_media",
                  "quadrante", "priorita"]].reset_index(drop=True)


def standards_results(conn: Connection, period: Period, service: str | None = None,
                      threshold: int = 5) -> pd.DataFrame:
    """Each standard of each service against its published figure: raggiunto, non raggiunto, or non valutabile.

    The same matching and the same rounded figures as the published table's esito_standard; a standard that
    found no answered question at all is listed as non valutabile with n = 0, so no target silently vanishes.
    """
    check_threshold(threshold)
    services = queries.load_services(conn)
    standards = queries.load_standards(conn, period.standards_year) \
        .sort_values(["servizio_id", "domanda_codice", "indicatore", "soglia"])
    if service:
        standards = standards[standards["servizio_id"].isin(services.loc[services["slug"] == service, "servizio_id"])]
    rows = period_rows(conn, period.start, period.end, service, threshold, period.filters)
    columns = ["servizio_codice", "domanda_codice", "indicatore", "soglia", "n", "valore", "esito", "generale",
               "descrizione"]
    results = []
    if rows is not None:
        matched = match_standards(rows, standards)
        cells = rows.loc[matched["index"].to_numpy(), ["slug", "domanda_codice", "n"]].to_dict(orient="records")
        for m, cell in zip(matched.itertuples(), cells, strict=True):
            esito = NON_VALUTABILE if not m.valutabile else ("raggiunto" if m.raggiunto else "non raggiunto")
            results.append({"servizio_codice": cell["slug"], "domanda_codice": cell["domanda_codice"],
                            "indicatore": m.indicatore, "soglia": float(m.soglia), "n": int(cell["n"]),
                            "valore": None if pd.isna(m.valore) else float(m.valore), "esito": esito,
                            "generale": not m.standard_domanda, "descrizione": m.descrizione})
    found = {(r["servizio_codice"], r["indicatore"], r["soglia"], "" if r["generale"] else r["domanda_codice"])
             for r in results}
    slugs = services.set_index("servizio_id")["slug"]
    for std in standards.itertuples():
        key = (slugs[std.servizio_id], std.indicatore, float(std.soglia), std.domanda_codice)
        if key not in found:
            results.append({"servizio_codice": key[0], "domanda_codice": std.domanda_codice,
                            "indicatore": std.indicatore, "soglia": float(std.soglia), "n": 0, "valore": None,
                            "esito": NON_VALUTABILE, "generale": not std.domanda_codice,
                            "descrizione": std.descrizione})
    return pd.DataFrame(results, columns=columns).sort_values(
        ["servizio_codice", "domanda_codice", "indicatore", "soglia"], kind="stable").reset_index(drop=True)


def option_table(conn: Connection, period: Period, service: str | None = None, threshold: int = 5) -> pd.DataFrame:
    """How many chose each option of each choice question (e.g. the reasons after a red face), with shares.

    A question answered by fewer than ``threshold`` people keeps its counts hidden.
    """
    check_threshold(threshold)
    _, respondents = queries.load_question_counts(conn, period.start, period.end, service, filters=period.filters)
    options = queries.load_option_counts(conn, period.start, period.end, service, period.filters)
    table = option_shares(options, respondents,
                          queries.load_questions(conn), queries.load_options(conn))
    table = table.merge(queries.load_services(conn)[["servizio_id", "slug"]], on="servizio_id")
    table["soppresso"] = table["rispondenti"] < threshold
    table.loc[table["soppresso"], ["n", "quota"]] = np.nan
    return table


def period_table(conn: Connection, period: Period, service: str | None = None, threshold: int = 5) -> pd.DataFrame:
    """The question table (DESIGN.md's columns) of any period and filters; ``anno`` holds the period's label."""
    rows = period_rows(conn, period.start, period.end, service, threshold, period.filters)
    return finish_table(rows, queries.load_standards(conn, period.standards_year), period.label)
