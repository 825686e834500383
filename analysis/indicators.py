"""The question table: one row per ente × servizio × domanda × anno, as DESIGN.md defines it.

Pure functions on DataFrames: the SQL in ``analysis.queries`` reduces answers to value
counts, and everything here derives the published figures from those counts.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from . import queries
from .filters import Filters
from .questions import GROUP_KEYS, question_stats
from .stats import round_half_up

QUESTION_COLUMNS = [
    "anno", "ente", "ufficio", "servizio_codice", "servizio", "domanda_codice", "domanda", "dimensione", "tipo",
    "scala_min", "scala_max", "n", "media", "quota_soddisfatti", "ic95_inf", "ic95_sup", "standard",
    "esito_standard", "soppresso",
]
RAGGIUNTO, NON_RAGGIUNTO = "raggiunto", "non raggiunto"


LABEL_KEYS = ["questionario", "codice", "tipo", "scala_min", "scala_max"]


def labels_by_service(questions: pd.DataFrame, answered: pd.DataFrame) -> pd.DataFrame:
    """Text, position and dimension of each question of each service as worded in the newest version that service's
    respondents answered in the period (``answered``: servizio_id, domanda_id): a past year is published with the
    wording its respondents read, not one written since, and a service with the wording its own respondents read
    (one answer to a reworded D4 on one service relabelled D4 on every service sharing the questionnaire, whose
    respondents had all read the old wording: an administrator's walk-through)."""
    pairs = answered[["servizio_id", "domanda_id"]].drop_duplicates().merge(questions, on="domanda_id")
    # The newest version's row as it is (groupby's last() would take each column's last non-empty value: a dimension
    # dropped by version 2 would come back from version 1).
    latest = pairs.sort_values("numero", kind="stable").drop_duplicates(["servizio_id", *LABEL_KEYS], keep="last")
    return latest[["servizio_id", *LABEL_KEYS, "testo_it", "posizione", "dimensione"]]


def _standard_text(indicatore: str, soglia: float) -> str:
    value = f"{soglia:g}" if indicatore == "quota_soddisfatti" else f"{soglia:.2f}".rstrip("0").rstrip(".")
    if indicatore == "media" and "." not in value:
        value += ".0"
    return f"{indicatore} ≥ {value}"


def match_standards(table: pd.DataFrame, standards: pd.DataFrame) -> pd.DataFrame:
    """Each (published row, standard) pair that applies, with the figure compared and the result.

    A target with a question code applies to that question; one without applies to every
    scale (media and quota) and faces (quota) question of the service's own questionnaire,
    except where a target named for the question sets the same indicator. The comparison is on
    the published (rounded) figure, so what a reader sees and the result always agree.
    """
    columns = ["index", "indicatore", "soglia", "domanda_codice", "standard_domanda", "valore", "testo",
               "valutabile", "raggiunto", "descrizione"]
    if standards.empty or table.empty:
        return pd.DataFrame(columns=columns)
    rows = table.reset_index()[["index", "servizio_id", "domanda_codice", "tipo", "proprio", "media",
                                "quota_soddisfatti", "soppresso"]]
    named = standards[standards["domanda_codice"] != ""]
    explicit = rows.merge(named.assign(standard_domanda=named["domanda_codice"]),
                          on=["servizio_id", "domanda_codice"])
    generic = rows.merge(standards[standards["domanda_codice"] == ""].drop(columns="domanda_codice"),
                         on="servizio_id").assign(standard_domanda="")
    generic = generic[generic["proprio"] & (
        (generic["tipo"] == "scala") | ((generic["tipo"] == "faccine") & (generic["indicatore"] == "quota_soddisfatti"))
    )]
    # A target named for the question overrides the service-wide one for the same indicator.
    overridden = generic.merge(explicit[["index", "indicatore"]], on=["index", "indicatore"], how="left",
                               indicator=True)["_merge"].eq("both").to_numpy()
    matched = pd.concat([explicit, generic[~overridden]], ignore_index=True)
    if matched.empty:
        return pd.DataFrame(columns=columns)
    value = np.where(matched["indicatore"] == "media", matched["media"], matched["quota_soddisfatti"])
    matched = matched.assign(
        valore=value,
        testo=[_standard_text(i, s) for i, s in zip(matched["indicatore"], matched["soglia"], strict=True)],
        valutabile=~matched["soppresso"].astype(bool) & pd.notna(value),
        raggiunto=value >= matched["soglia"],
    ).sort_values(["index", "indicatore"], kind="stable")
    return matched[columns]


def apply_standards(table: pd.DataFrame, standards: pd.DataFrame) -> pd.DataFrame:
    """Fill standard and esito_standard from the service's targets, compared with the published figures."""
    table = table.copy()
    table["standard"] = ""
    table["esito_standard"] = ""
    matched = match_standards(table, standards)
    if matched.empty:
        return table
    # A figure with two targets (a mean and a share on the same question) may meet one and miss the other: each
    # target then carries its own verdict ("media ≥ 3.8: raggiunto; quota_soddisfatti ≥ 75: non raggiunto"), as in
    # the Sintesi, and esito_standard is "raggiunto" only when every one is.
    matched = matched.assign(con_esito=matched["testo"] + ": " + np.where(matched["raggiunto"], RAGGIUNTO,
                                                                          NON_RAGGIUNTO))
    per_row = matched.groupby("index", sort=False).agg(testo=("testo", "; ".join), con_esito=("con_esito", "; ".join),
                                                       quanti=("testo", "size"), valutabile=("valutabile", "all"),
                                                       raggiunto=("raggiunto", "all"))
    several = (per_row["quanti"] > 1) & per_row["valutabile"]
    table.loc[per_row.index, "standard"] = per_row["con_esito"].where(several, per_row["testo"]).to_numpy()
    assessed = per_row[per_row["valutabile"]]
    table.loc[assessed.index, "esito_standard"] = np.where(assessed["raggiunto"], RAGGIUNTO, NON_RAGGIUNTO)
    return table


def published_rows(numeric_counts: pd.DataFrame, other_counts: pd.DataFrame, questions: pd.DataFrame,
                   services: pd.DataFrame, threshold: int = 5) -> pd.DataFrame | None:
    """Per service × question, the figures rounded and suppressed as published, with the service's details."""
    figures = question_stats(numeric_counts, questions)
    other = other_counts.merge(questions, on="domanda_id").groupby(GROUP_KEYS, as_index=False, dropna=False)["n"].sum()
    rows = pd.concat([figures, other], ignore_index=True)
    if rows.empty:
        return None
    answered = pd.concat([numeric_counts[["servizio_id", "domanda_id"]], other_counts[["servizio_id", "domanda_id"]]])
    rows = rows.merge(labels_by_service(questions, answered), on=["servizio_id", *LABEL_KEYS], how="left")
    rows = rows.merge(services.rename(columns={"questionario": "questionario_servizio"}), on="servizio_id")
    rows["proprio"] = rows["questionario"] == rows["questionario_servizio"]
    rows["domanda_codice"] = rows["codice"].where(rows["proprio"], rows["questionario"] + "." + rows["codice"])
    rows["soppresso"] = rows["n"] < threshold
    for name, digits in (("media", 2), ("quota_soddisfatti", 1), ("ic95_inf", 1), ("ic95_sup", 1)):
        if name not in rows:
            rows[name] = np.nan
        rounded = [round_half_up(v, digits) for v in rows[name]]
        rows[name] = pd.array([np.nan if v is None else v for v in rounded], dtype="float64")
        rows.loc[rows["soppresso"], name] = np.nan
    # A mean means something only for scale-like items.
    rows.loc[~rows["tipo"].isin(["scala", "faccine", "nps", "si_no"]), ["media", "quota_soddisfatti"]] = np.nan
    return rows


def question_table(numeric_counts: pd.DataFrame, other_counts: pd.DataFrame, questions: pd.DataFrame,
                   services: pd.DataFrame, standards: pd.DataFrame, year: int, threshold: int = 5) -> pd.DataFrame:
    """The published question table with DESIGN.md's columns, figures rounded as published."""
    return finish_table(published_rows(numeric_counts, other_counts, questions, services, threshold), standards,
                        year)


def finish_table(rows: pd.DataFrame | None, standards: pd.DataFrame, year: int) -> pd.DataFrame:
    """Standards, labels, order and DESIGN.md's columns on the published rows."""
    if rows is None:
        return pd.DataFrame(columns=QUESTION_COLUMNS)
    rows = apply_standards(rows, standards)
    rows = rows.assign(anno=year, servizio_codice=rows["slug"], servizio=rows["nome_it"], domanda=rows["testo_it"],
                       dimensione=rows["dimensione"].fillna(""))
    rows = rows.sort_values(["ente", "servizio_codice", "proprio", "questionario", "posizione"],
                            ascending=[True, True, False, True, True])
    table = rows[QUESTION_COLUMNS].reset_index(drop=True)
    return table.astype({"n": "int64", "scala_min": "Int64", "scala_max": "Int64", "soppresso": "bool"})


def period_rows(conn: Connection, start: datetime, end: datetime, service: str | None = None,
                threshold: int = 5, filters: Filters | None = None) -> pd.DataFrame | None:
    """The published rows of a period from the database (computed once inside ``queries.reuse_results``)."""
    def compute():
        numeric, other = queries.load_question_counts(conn, start, end, service, filters=filters)
        return published_rows(numeric, other, queries.load_questions(conn), queries.load_services(conn), threshold)
    return queries.reused(conn, ("published_rows", start, end, service, threshold, filters), compute)


def indicator_table(conn: Connection, year: int, service: str | None = None, threshold: int = 5) -> pd.DataFrame:
    """Load the year's counts from the database and build the question table."""
    start, end = queries.year_bounds(year)
    return finish_table(period_rows(conn, start, end, service, threshold), queries.load_standards(conn, year), year)
