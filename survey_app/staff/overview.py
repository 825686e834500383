"""The staff overview (/staff/): every service in the user's scope against its standards, for a year, with its
trend, its open campaign, a comparison chart, and the table as CSV or XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pandas as pd
from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from openpyxl import Workbook
from sqlalchemy import extract, select

from analysis import charts
from analysis.engine import Period
from analysis.overview import overview_table
from analysis.publish import neutralise_formula

from ..extensions import db
from ..models import RiepilogoRisposte
from . import bp
from .access import RESULT_READERS, roles_required
from .campaigns import local_today
from .routes import visible_services

YEAR = re.compile(r"[0-9]{4}")
SORTS = {"servizio": ["ente", "ufficio", "servizio"], "soddisfazione": ["quota_soddisfatti"],
         "andamento": ["differenza"], "compilazioni": ["compilazioni"], "esito": ["esito"]}
EXPORT_COLUMNS = {"ente": "ente", "ufficio": "ufficio", "servizio_codice": "servizio_codice", "servizio": "servizio",
                  "compilazioni": "compilazioni", "n": "n", "quota_soddisfatti": "quota_soddisfatti",
                  "ic95_inf": "ic95_inf", "ic95_sup": "ic95_sup", "media": "media", "ics": "ics", "nps": "nps",
                  "quota_prec": "quota_anno_precedente", "differenza": "differenza", "p_value": "p_value",
                  "esito": "esito_standard", "campagna": "campagna", "campagna_raccolti": "campagna_raccolti",
                  "campagna_obiettivo": "campagna_obiettivo"}


EXPORT_DECIMALS = {"quota_soddisfatti": 1, "ic95_inf": 1, "ic95_sup": 1, "media": 2, "ics": 1, "nps": 1,
                   "quota_prec": 1, "differenza": 1, "p_value": 4}


def data_years(service_ids: list[int]) -> list[int]:
    """The years with answers for these services, newest first."""
    year = extract("year", RiepilogoRisposte.giorno)  # the daily counts: far fewer rows than the answers
    return [int(y) for y in db.session.scalars(select(year).where(RiepilogoRisposte.servizio_id.in_(service_ids))
                                               .group_by(year).order_by(year.desc()))]


def _overview():
    """The filtered, sorted table and what the page needs to show how it was chosen; 400/404 on bad parameters."""
    services = db.session.scalars(visible_services()).all()
    ids = [s.id for s in services]
    years = data_years(ids) or [date.today().year]
    raw_year = request.args.get("anno", str(years[0]))
    if not YEAR.fullmatch(raw_year):  # isdigit() would take "²"
        abort(400)
    year = int(raw_year)
    if year not in years:
        abort(404)  # only years with answers are offered
    sort = request.args.get("ordina", "servizio")
    direction = request.args.get("verso", "asc")
    if sort not in SORTS or direction not in ("asc", "desc"):
        abort(400)
    entities = sorted({(s.ufficio.ente.codice, s.ufficio.ente.nome) for s in services}, key=lambda e: e[1])
    ente = request.args.get("ente", "")
    if ente and ente not in {code for code, _name in entities}:
        abort(404)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    table = overview_table(db.session.connection(), Period.year(year), threshold, today=local_today())
    table = table[table["servizio_id"].isin(ids)]
    if ente:
        names = {s.id for s in services if s.ufficio.ente.codice == ente}
        table = table[table["servizio_id"].isin(names)]
    table = table.sort_values(SORTS[sort], ascending=direction == "asc", na_position="last", kind="stable")
    return table, {"year": year, "years": years, "sort": sort, "direction": direction, "ente": ente,
                   "entities": entities}


def comparison_chart(table: pd.DataFrame, year: int) -> Markup | None:
    frame = table[table["n"] > 0]
    if frame.empty:
        return None
    targets = [next((s["soglia"] for s in standards if s["indicatore"] == "quota_soddisfatti"), None)
               for standards in frame["standard"]]
    data = pd.DataFrame({"servizio": frame["servizio"], "quota": frame["quota_soddisfatti"].astype(float),
                         "n": frame["n"], "standard": pd.Series(targets, index=frame.index, dtype=float)})
    fig = charts.service_comparison(data, str(year), current_app.config["SUPPRESSION_THRESHOLD"])
    return Markup(charts.figure_to_html(fig))  # noqa: S704 - plotly's own markup, no user input unescaped


@bp.get("/")
@login_required
def dashboard():
    if current_user.ruolo == "rilevatore":
        return redirect(url_for("imports.index"))  # a survey firm's home is its uploads, never the results
    if current_user.ruolo not in RESULT_READERS:
        abort(403)
    table, chosen = _overview()
    rows = table.to_dict(orient="records")
    return render_template("staff/dashboard.html", rows=rows, chart=comparison_chart(table, chosen["year"]),
                           **chosen)


@bp.get("/panoramica.<fmt>")
@roles_required(*RESULT_READERS)
def overview_download(fmt: str):
    """The table as shown (same filters and order), with the published column names."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    table, chosen = _overview()
    # The published table's decimals (media 2, shares 1), the same in both files.
    export = table[list(EXPORT_COLUMNS)].round(EXPORT_DECIMALS).rename(columns=EXPORT_COLUMNS)
    export.insert(0, "anno", chosen["year"])
    name = f"panoramica-{chosen['year']}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(export.columns)
        for record in export.itertuples(index=False):
            writer.writerow(["" if pd.isna(v) else neutralise_formula(v) if isinstance(v, str) else v
                             for v in record])
        return send_file(io.BytesIO(buffer.getvalue().encode("utf-8")), mimetype="text/csv", as_attachment=True,
                         download_name=name)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Panoramica")
    sheet.append(list(export.columns))
    for record in export.itertuples(index=False):
        sheet.append([None if pd.isna(v) else neutralise_formula(v) if isinstance(v, str) else v for v in record])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return send_file(io.BytesIO(buffer.getvalue()), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


