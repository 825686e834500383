"""Every service at a glance, for the staff overview: satisfaction with its interval, mean, ICS and NPS, each
standard's esito, the trend against the previous period with its significance, and the open campaign's progress.

Built only from the functions the published figures come from (``service_table``, ``question_statistics``,
``standards_results``), so the overview and the publication never disagree.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection

from . import queries
from .engine import Period, question_statistics, service_table, standards_results, two_proportion_test
from .stats import round_half_up

ALPHA = 0.05
COLUMNS = ["servizio_id", "ente", "ufficio", "servizio_codice", "servizio", "domanda_complessiva", "compilazioni", "n",
           "quota_soddisfatti",
           "ic95_inf", "ic95_sup", "media", "ics", "nps", "quota_prec", "n_prec", "differenza", "p_value",
           "significativo", "esito", "standard", "campagna", "campagna_obiettivo", "campagna_raccolti",
           "campagna_raccolti_totale", "campagna_servizi", "campagna_avanzamento", "campagna_fine", "soppresso"]
# The summary of a service's standards: any target missed, else any reached, else nothing to judge.
SUMMARY_ORDER = ("non raggiunto", "raggiunto", "non valutabile")


def overview_table(conn: Connection, period: Period, threshold: int = 5, today: date | None = None) -> pd.DataFrame:
    """One row per service of the catalogue (with or without answers), ordered by ente, ufficio and service."""
    with queries.reuse_results(conn):  # the functions below ask for the same counts: one read each
        return _overview_table(conn, period, threshold, today)


def _overview_table(conn: Connection, period: Period, threshold: int, today: date | None) -> pd.DataFrame:
    services = queries.load_services(conn)
    now = service_table(conn, period, None, threshold)
    now = now.set_index("servizio_id") if len(now) else pd.DataFrame(index=pd.Index([], name="servizio_id"))
    before = service_table(conn, period.previous(), None, threshold)
    before = before.set_index("servizio_id") if len(before) else before
    stats = question_statistics(conn, period, threshold=threshold)
    nps = stats[(stats["tipo"] == "nps") & ~stats["soppresso"]].groupby("servizio_id")["quota_soddisfatti"].first()
    standards = standards_results(conn, period, None, threshold)
    by_service: dict[str, list[dict]] = {}
    for record in standards.to_dict(orient="records"):  # one conversion, not one per service
        by_service.setdefault(record["servizio_codice"], []).append(
            {key: record[key] for key in ("domanda_codice", "indicatore", "soglia", "valore", "esito", "n")})
    campaigns = period_campaigns(conn, period, today or date.today())
    rows = []
    for svc in services.itertuples():
        row = {"servizio_id": svc.servizio_id, "ente": svc.ente, "ufficio": svc.ufficio, "servizio_codice": svc.slug,
               "servizio": svc.nome_it, "compilazioni": 0, "n": 0, "soppresso": True}
        if svc.servizio_id in now.index:
            figures = now.loc[svc.servizio_id]
            row.update({key: _value(figures[key]) for key in ("domanda_complessiva", "compilazioni", "n",
                                                               "quota_soddisfatti", "ic95_inf", "ic95_sup", "media",
                                                               "ics", "soppresso")})
        row["nps"] = _value(nps.get(svc.servizio_id))
        if len(before) and svc.servizio_id in before.index and not row["soppresso"]:
            previous = before.loc[svc.servizio_id]
            if not previous["soppresso"]:
                row.update(_trend(row, previous))
        targets = by_service.get(svc.slug)
        if targets:
            row["standard"] = [{**t, "valore": _value(t["valore"])} for t in targets]
            row["esito"] = next((e for e in SUMMARY_ORDER if any(t["esito"] == e for t in targets)), None)
        if svc.servizio_id in campaigns.index:
            campaign = campaigns.loc[svc.servizio_id]
            target = _value(campaign["campagna_obiettivo"])
            collected = int(campaign["campagna_raccolti_totale"])
            row.update({"campagna": campaign["campagna_titolo"], "campagna_obiettivo": target,
                        "campagna_fine": campaign["campagna_fine"],
                        "campagna_raccolti": int(campaign["campagna_raccolti"]), "campagna_raccolti_totale": collected,
                        "campagna_servizi": int(campaign["campagna_servizi"]),
                        "campagna_avanzamento": min(100.0, collected / target * 100) if target else None})
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["standard"] = table["standard"].apply(lambda v: v if isinstance(v, list) else [])
    # Counts stay whole numbers where some services have none (no campaign, no target): not 0.0 in a download.
    table = table.astype({"compilazioni": "Int64", "n": "Int64", "campagna_obiettivo": "Int64",
                          "campagna_raccolti": "Int64", "campagna_raccolti_totale": "Int64", "campagna_servizi": "Int64"})
    return table.sort_values(["ente", "ufficio", "servizio"], kind="stable").reset_index(drop=True)


def period_campaigns(conn: Connection, period: Period, today: date) -> pd.DataFrame:
    """Per service, the campaign of the period: the one running today (the soonest to end, if several), else the
    last one that ran in the period (a past year's view showed whatever campaign was running today)."""
    last_day = min(today, (period.end - timedelta(days=1)).date())
    found = queries.load_campaigns(conn, period.start.date(), last_day)
    running = found[found["campagna_fine"] >= today]
    ended = found[found["campagna_fine"] < today].iloc[::-1]
    return pd.concat([running, ended]).drop_duplicates("servizio_id").set_index("servizio_id")


def _trend(row: dict, previous: pd.Series) -> dict:
    """The overall quota against the previous period: difference and the pooled two-proportion test."""
    n1, n2 = row["n"], int(previous["n"])
    q1, q2 = row["quota_soddisfatti"], float(previous["quota_soddisfatti"])
    _, p_value = two_proportion_test(round(q1 * n1 / 100), n1, round(q2 * n2 / 100), n2)
    # The difference of the shares as shown (one decimal each): "+16,4" beside 52,1% and 35,6% read as a slip.
    shown = round_half_up(round_half_up(q1, 1) - round_half_up(q2, 1), 1)
    return {"quota_prec": q2, "n_prec": n2, "differenza": shown, "p_value": p_value,
            "significativo": bool(p_value < ALPHA)}


def _value(value):
    """Plain Python numbers for templates and exports: NaN and None are None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        return None if isinstance(value, float) and value != value else value
    return value


def overall_target(standards: list[dict], overall: str | None) -> float | None:
    """The % satisfied target the overview's figure stands against: the standard on the overall question, else one
    set for every question of the service. Another question's target (a service can have several) is not it."""
    targets = [t for t in standards if t["indicatore"] == "quota_soddisfatti"]
    own = next((t["soglia"] for t in targets if overall and t.get("domanda_codice") == overall), None)
    return own if own is not None else next((t["soglia"] for t in targets if not t.get("domanda_codice")), None)
