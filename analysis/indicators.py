"""The question table: one row per ente × servizio × domanda × anno, as DESIGN.md defines it.

Pure functions on DataFrames: the SQL in ``analysis.queries`` reduces answers to value
counts, and everything here derives the published figures from those counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from . import queries
from .stats import round_half_up, wilson_interval

QUESTION_COLUMNS = [
    "anno", "ente", "ufficio", "servizio_codice", "servizio", "domanda_codice", "domanda", "dimensione", "tipo",
    "scala_min", "scala_max", "n", "media", "quota_soddisfatti", "ic95_inf", "ic95_sup", "standard",
    "esito_standard", "soppresso",
]
GROUP_KEYS = ["servizio_id", "questionario", "codice", "tipo", "scala_min", "scala_max"]
RAGGIUNTO, NON_RAGGIUNTO = "raggiunto", "non raggiunto"


def satisfied_mask(valore: pd.Series, scala_min: pd.Series, scala_max: pd.Series) -> pd.Series:
    """Strictly above the midpoint: 4–5 on 1–5, 3–4 on 1–4, 4–6 on 1–6, 6–10 on 1–10, green face, yes."""
    return valore > (scala_min + scala_max) / 2


def summarise_numeric(counts: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """Per service × question: n, mean, satisfied count, promoters and detractors, from value counts."""
    if counts.empty:
        return pd.DataFrame(columns=[*GROUP_KEYS, "n", "somma", "soddisfatti", "promotori", "detrattori"])
    data = counts.merge(questions, on="domanda_id", how="inner")
    n = data["n"]
    data = data.assign(
        somma=data["valore"] * n,
        soddisfatti=n.where(satisfied_mask(data["valore"], data["scala_min"], data["scala_max"]), 0),
        promotori=n.where(data["valore"] >= 9, 0),
        detrattori=n.where(data["valore"] <= 6, 0),
    )
    return data.groupby(GROUP_KEYS, as_index=False, dropna=False)[
        ["n", "somma", "soddisfatti", "promotori", "detrattori"]].sum()


def compute_figures(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean, quota (NPS for NPS items) and Wilson interval, unrounded."""
    n = summary["n"].astype(float)
    is_nps = summary["tipo"] == "nps"
    with np.errstate(divide="ignore", invalid="ignore"):
        media = summary["somma"] / n
        quota = np.where(is_nps, (summary["promotori"] - summary["detrattori"]) / n * 100,
                         summary["soddisfatti"] / n * 100)
    low, high = wilson_interval(summary["soddisfatti"], n)
    return summary.assign(
        media=media,
        quota_soddisfatti=quota,
        ic95_inf=np.where(is_nps, np.nan, low * 100),
        ic95_sup=np.where(is_nps, np.nan, high * 100),
    )


def latest_labels(questions: pd.DataFrame) -> pd.DataFrame:
    """Text, position and dimension of each question as worded in its newest version."""
    keys = ["questionario", "codice", "tipo", "scala_min", "scala_max"]
    latest = questions.sort_values("numero").groupby(keys, as_index=False, dropna=False).last()
    return latest[[*keys, "testo_it", "posizione", "dimensione"]]


def _standard_text(indicatore: str, soglia: float) -> str:
    value = f"{soglia:g}" if indicatore == "quota_soddisfatti" else f"{soglia:.2f}".rstrip("0").rstrip(".")
    if indicatore == "media" and "." not in value:
        value += ".0"
    return f"{indicatore} ≥ {value}"


def apply_standards(table: pd.DataFrame, standards: pd.DataFrame) -> pd.DataFrame:
    """Fill standard and esito_standard from the service's targets, compared with the published figures.

    A target with a question code applies to that question; one without applies to every
    scale (media and quota) and faces (quota) question of the service's own questionnaire.
    """
    table = table.copy()
    table["standard"] = ""
    table["esito_standard"] = ""
    if standards.empty or table.empty:
        return table
    rows = table.reset_index()[["index", "servizio_id", "domanda_codice", "tipo", "proprio", "media",
                                "quota_soddisfatti", "soppresso"]]
    explicit = rows.merge(standards[standards["domanda_codice"] != ""], on=["servizio_id", "domanda_codice"])
    generic = rows.merge(standards[standards["domanda_codice"] == ""].drop(columns="domanda_codice"),
                         on="servizio_id")
    generic = generic[generic["proprio"] & (
        (generic["tipo"] == "scala") | ((generic["tipo"] == "faccine") & (generic["indicatore"] == "quota_soddisfatti"))
    )]
    # A target named for the question overrides the service-wide one for the same indicator.
    overridden = generic.merge(explicit[["index", "indicatore"]], on=["index", "indicatore"], how="left",
                               indicator=True)["_merge"].eq("both").to_numpy()
    matched = pd.concat([explicit, generic[~overridden]], ignore_index=True)
    if matched.empty:
        return table
    value = np.where(matched["indicatore"] == "media", matched["media"], matched["quota_soddisfatti"])
    matched = matched.assign(
        testo=[_standard_text(i, s) for i, s in zip(matched["indicatore"], matched["soglia"], strict=True)],
        valutabile=~matched["soppresso"] & pd.notna(value),
        raggiunto=value >= matched["soglia"],
    ).sort_values(["index", "indicatore"], kind="stable")
    for index, group in matched.groupby("index"):
        table.at[index, "standard"] = "; ".join(group["testo"])
        if group["valutabile"].all():
            table.at[index, "esito_standard"] = RAGGIUNTO if group["raggiunto"].all() else NON_RAGGIUNTO
    return table


def question_table(numeric_counts: pd.DataFrame, other_counts: pd.DataFrame, questions: pd.DataFrame,
                   services: pd.DataFrame, standards: pd.DataFrame, year: int, threshold: int = 5) -> pd.DataFrame:
    """The published question table with DESIGN.md's columns, figures rounded as published."""
    figures = compute_figures(summarise_numeric(numeric_counts, questions))
    other = other_counts.merge(questions, on="domanda_id").groupby(GROUP_KEYS, as_index=False, dropna=False)["n"].sum()
    rows = pd.concat([figures, other], ignore_index=True)
    if rows.empty:
        return pd.DataFrame(columns=QUESTION_COLUMNS)
    rows = rows.merge(latest_labels(questions), on=["questionario", "codice", "tipo", "scala_min", "scala_max"],
                      how="left")
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
    rows = apply_standards(rows, standards)
    rows = rows.assign(anno=year, servizio_codice=rows["slug"], servizio=rows["nome_it"], domanda=rows["testo_it"],
                       dimensione=rows["dimensione"].fillna(""))
    rows = rows.sort_values(["ente", "servizio_codice", "proprio", "questionario", "posizione"],
                            ascending=[True, True, False, True, True])
    table = rows[QUESTION_COLUMNS].reset_index(drop=True)
    return table.astype({"n": "int64", "scala_min": "Int64", "scala_max": "Int64", "soppresso": "bool"})


def indicator_table(conn: Connection, year: int, service: str | None = None, threshold: int = 5) -> pd.DataFrame:
    """Load the year's counts from the database and build the question table."""
    start, end = queries.year_bounds(year)
    numeric, other = queries.load_question_counts(conn, start, end, service)
    return question_table(numeric, other, queries.load_questions(conn), queries.load_services(conn),
                          queries.load_standards(conn), year, threshold)
