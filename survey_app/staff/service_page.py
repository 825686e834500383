"""A service's page for its office: the published figures and the charts, from the same functions as the CLI."""

from __future__ import annotations

from datetime import date

import pandas as pd
from flask import abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from analysis import charts
from analysis.engine import Period, option_table, quadrants, question_statistics, service_table
from analysis.indicators import indicator_table
from analysis.queries import BREAKDOWNS, reuse_results

from ..extensions import db
from ..models import FACES, AzioneMiglioramento, Servizio
from . import bp
from .access import RESULT_READERS, can_edit_actions, roles_required
from .overview import YEAR, data_years
from .routes import visible_services


def _html(fig) -> Markup:
    return Markup(charts.figure_to_html(fig))  # noqa: S704 - plotly's own markup, no user input unescaped


def service_charts(conn, servizio: Servizio, year: int, threshold: int) -> dict[str, Markup]:
    period = Period.year(year)
    label = str(year)
    stats = question_statistics(conn, period, servizio.slug, threshold=threshold)
    own = stats[stats["questionario"] == servizio.questionario.codice]
    found: dict[str, Markup] = {}

    scale = own[own["tipo"] == "scala"]
    if len(scale):
        rows = [{"domanda": f"{r.codice}", "valore": v, "n": n}
                for r in scale.itertuples() for v, n in sorted(r.distribuzione.items())]
        found["distribuzione"] = _html(charts.stacked_distribution(pd.DataFrame(rows), label, threshold))

    faces = stats[stats["tipo"] == "faccine"]
    if len(faces):
        totals: dict[int, int] = {}
        for distribution in faces["distribuzione"]:
            for value, n in distribution.items():
                totals[value] = totals.get(value, 0) + n
        frame = pd.DataFrame({"faccia": [FACES[v] for v in totals], "n": list(totals.values())})
        found["faccine"] = _html(charts.faces_bar(frame, label, threshold))

    years = [year - 2, year - 1, year]
    trend_rows, overall = [], None
    for y in years:
        table = service_table(conn, Period.year(y), servizio.slug, threshold)
        if len(table):
            row = table.iloc[0]
            overall = row["domanda_complessiva"]
            trend_rows.append({"periodo": str(y), "quota": row["quota_soddisfatti"], "ic95_inf": row["ic95_inf"],
                               "ic95_sup": row["ic95_sup"], "n": row["n"]})
    if trend_rows:
        # The target on the overall item (or a service-wide one) is the line to compare with.
        standard = next((float(s.soglia) for s in servizio.standard if s.indicatore == "quota_soddisfatti"
                         and s.domanda_codice in (overall, "")), None)
        found["andamento"] = _html(charts.trend_line(pd.DataFrame(trend_rows).astype({"quota": float, "ic95_inf": float,
                                                                                     "ic95_sup": float}),
                                                     f"{years[0]}–{year}", threshold, standard))

    quadrant = quadrants(conn, period, servizio.slug, threshold)
    if len(quadrant):
        frame = quadrant.rename(columns={"codice": "domanda", "importanza_media": "importanza"})
        frame = frame.assign(soddisfazione=frame["media"])[["domanda", "importanza", "soddisfazione", "n"]]
        found["quadranti"] = _html(charts.importance_scatter(frame, label, threshold))

    options = option_table(conn, period, servizio.slug, threshold)
    # In a faces questionnaire the choice question is the reasons after a red face.
    reasons = options[options["questionario"].isin(set(faces["questionario"]))]
    if len(reasons):
        frame = reasons.rename(columns={"testo_opzione": "motivo"})[["motivo", "n"]].fillna({"n": 0})
        found["motivi"] = _html(charts.reasons_bar(frame, label, threshold,
                                                   respondents=int(reasons["rispondenti"].max())))
    return found


@bp.get("/servizi/<slug>")
@roles_required(*RESULT_READERS)
def service(slug: str):
    servizio = db.session.scalar(visible_services().where(Servizio.slug == slug))
    if servizio is None:
        abort(404)  # out of scope looks the same as unknown
    years = data_years([servizio.id]) or [date.today().year]
    raw_year = request.args.get("anno", str(years[0]))
    if not YEAR.fullmatch(raw_year):
        abort(400)  # "-1", "2025a": not a year
    year = int(raw_year)
    if year not in years:
        abort(404)  # a year without answers for this service has no page
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    conn = db.session.connection()
    with reuse_results(conn):  # the table, the summary and the charts ask for the same counts: one read each
        return _page(conn, servizio, year, years, threshold)


def _page(conn, servizio: Servizio, year: int, years: list[int], threshold: int):
    slug = servizio.slug
    table = indicator_table(conn, year, slug, threshold)
    summary = service_table(conn, Period.year(year), slug, threshold)
    actions = db.session.scalars(select(AzioneMiglioramento).filter_by(servizio_id=servizio.id)
                                 .order_by(AzioneMiglioramento.data_inizio.desc())).all()
    overall = summary.iloc[0]["domanda_complessiva"] if len(summary) else None
    actions = [a for a in actions if a.in_year(year)]
    by_question: dict[str, list[AzioneMiglioramento]] = {}
    for action in actions:  # each action beside the indicator that prompted it
        if action.domanda_codice:
            by_question.setdefault(action.domanda_codice, []).append(action)
    return render_template("staff/service.html", servizio=servizio, year=year, years=years, table=table,
                           actions=actions, actions_by_question=by_question,
                           can_edit_actions=can_edit_actions(servizio),
                           summary=summary.iloc[0] if len(summary) else None,
                           breakdowns=breakdowns(conn, servizio, year, overall, threshold) if overall else {},
                           charts=service_charts(conn, servizio, year, threshold))


def breakdowns(conn, servizio: Servizio, year: int, overall: str, threshold: int) -> dict[str, list[dict]]:
    """The overall item by channel, counter, comune, language and provenance, small groups suppressed."""
    found = {}
    for by in BREAKDOWNS:
        stats = question_statistics(conn, Period.year(year), servizio.slug, by=by, threshold=threshold)
        rows = stats[(stats["codice"] == overall) & (stats["questionario"] == servizio.questionario.codice)]
        found[by] = rows.sort_values("gruppo")[["gruppo", "n", "media", "quota_soddisfatti", "ic95_inf", "ic95_sup",
                                                "soppresso"]].to_dict(orient="records")
    return found
