"""The staff overview (/staff/): every service in the user's scope against its standards, for a year, with its
trend, its open campaign, a comparison chart, and the table as CSV or XLSX."""

from __future__ import annotations

import pandas as pd
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup

from analysis import charts
from analysis.engine import Period
from analysis.overview import overall_target, overview_table

from .. import figures_cache
from ..errors import bad_parameter, no_such_value
from ..extensions import db
from ..figures_cache import cached
from ..i18n import UNTRANSLATED
from ..models import ROLES_SEEING_ALL
from ..transparency.formatting import local_today
from . import bp
from .access import RESULT_READERS, roles_required
from .downloads import records, table_download
from .routes import visible_services
from .selection import YEAR, data_years

SORTS = {"servizio": ["ente", "ufficio", "servizio"], "soddisfazione": ["quota_soddisfatti"],
         "andamento": ["differenza"], "compilazioni": ["compilazioni"], "esito": ["esito"]}
EXPORT_COLUMNS = {"ente": "ente", "ufficio": "ufficio", "servizio_codice": "servizio_codice", "servizio": "servizio",
                  "compilazioni": "compilazioni", "n": "n", "quota_soddisfatti": "quota_soddisfatti",
                  "ic95_inf": "ic95_inf", "ic95_sup": "ic95_sup", "media": "media", "ics": "ics", "nps": "nps",
                  "quota_prec": "quota_anno_precedente", "differenza": "differenza", "p_value": "p_value",
                  "esito": "esito_standard", "campagna": "campagna", "campagna_raccolti": "campagna_raccolti_servizio",
                  "campagna_raccolti_totale": "campagna_raccolti_totale", "campagna_obiettivo": "campagna_obiettivo"}
# The XLSX headings the generic ones would leave vague (table_download rounds both files as the page).
EXPORT_TITLES = {"n": "Risposte alla domanda complessiva"}


def _standards_text(targets: list[dict]) -> str:
    """'D4 quota_soddisfatti ≥ 60 (50.0): non raggiunto; D9 media ≥ 4 (4.25): raggiunto' (a file's dot decimals)."""
    parts = []
    for t in targets:
        figure = "" if t["valore"] is None else f" ({t['valore']:.{2 if t['indicatore'] == 'media' else 1}f})"
        question = f"{t['domanda_codice']} " if t["domanda_codice"] else ""
        parts.append(f"{question}{t['indicatore']} ≥ {float(t['soglia']):g}{figure}: {t['esito'] or 'non valutabile'}")
    return "; ".join(parts)


def _overview():
    """The filtered, sorted table and what the page needs to show how it was chosen; 400/404 on bad parameters."""
    services = db.session.scalars(visible_services()).all()
    ids = [s.id for s in services]
    years = data_years(None if current_user.ruolo in ROLES_SEEING_ALL else ids) or [local_today().year]
    raw_year = request.args.get("anno", str(years[0]))
    if not YEAR.fullmatch(raw_year):  # isdigit() would take "²"
        bad_parameter("anno")
    year = int(raw_year)
    if year not in years:
        no_such_value("anno", raw_year)  # only years with answers are offered
    sort = request.args.get("ordina", "servizio")
    direction = request.args.get("verso", "asc")
    if sort not in SORTS:
        bad_parameter("ordina")
    if direction not in ("asc", "desc"):
        bad_parameter("verso")
    entities = sorted({(s.ufficio.ente.codice, s.ufficio.ente.nome) for s in services}, key=lambda e: e[1])
    ente = request.args.get("ente", "")
    if ente and ente not in {code for code, _name in entities}:
        no_such_value("ente", ente)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    today = local_today()
    # Every service's figures, computed for all and kept a while (figures_cache); the scope is applied after.
    table, computed = cached(f"overview:{year}:{threshold}:{today}", lambda: overview_table(
        db.session.connection(), Period.year(year), threshold, today=today))
    table = table[table["servizio_id"].isin(ids)]
    lang = str(get_locale() or "it")
    untranslated: dict[int, set[str]] = {}
    if lang != "it":  # the services' names as the catalogue gives them in the page's language
        untranslated = {s.id: {field for field, english in (("servizio", s.nome_en), ("ufficio", s.ufficio.nome_en))
                               if not english} for s in services}
        table = table.assign(servizio=table["servizio_id"].map({s.id: s.localised("nome", lang) for s in services}),
                             ufficio=table["servizio_id"].map({s.id: s.ufficio.localised("nome", lang)
                                                               for s in services}))
    if ente:
        names = {s.id for s in services if s.ufficio.ente.codice == ente}
        table = table[table["servizio_id"].isin(names)]
    table = table.sort_values(SORTS[sort], ascending=direction == "asc", na_position="last", kind="stable")
    return table, {"year": year, "years": years, "sort": sort, "direction": direction, "ente": ente, "today": today,
                   "entities": entities, "computed": computed if figures_cache.enabled() else None,
                   "untranslated": untranslated}


def comparison_chart(table: pd.DataFrame, year: int) -> Markup | None:
    frame = table[table["n"] > 0]
    if frame.empty:
        return None
    targets = [overall_target(standards, overall)
               for standards, overall in zip(frame["standard"], frame["domanda_complessiva"], strict=True)]
    data = pd.DataFrame({"servizio": frame["servizio"], "quota": frame["quota_soddisfatti"].astype(float),
                         "n": frame["n"], "standard": pd.Series(targets, index=frame.index, dtype=float)})
    fig = charts.service_comparison(data, str(year), current_app.config["SUPPRESSION_THRESHOLD"])
    return Markup(charts.figure_to_html(fig, str(get_locale() or "it")))  # noqa: S704 - plotly's own markup


@bp.get("/")
@login_required
def dashboard():
    if current_user.ruolo == "rilevatore":
        return redirect(url_for("imports.index"))  # a survey firm's home is its uploads, never the results
    if current_user.ruolo not in RESULT_READERS:
        abort(403)
    table, chosen = _overview()
    untranslated = chosen.pop("untranslated")  # the names an English page shows in Italian, marked as such
    rows = [{**row, UNTRANSLATED: untranslated.get(row["servizio_id"], ())} for row in records(table)]
    return render_template("staff/dashboard.html", rows=rows, chart=comparison_chart(table, chosen["year"]), **chosen)


@bp.get("/panoramica.<fmt>")
@roles_required(*RESULT_READERS)
def overview_download(fmt: str):
    """The table as shown (same filters and order), with the published column names."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    table, chosen = _overview()
    export = table[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
    export.insert(0, "anno", chosen["year"])
    # Each standard with its figure and result, as the page lists them: the one esito alone did not say which
    # target was missed.
    export.insert(export.columns.get_loc("esito_standard"), "standard", [_standards_text(t) for t in table["standard"]])
    return table_download(export, f"panoramica-{chosen['year']}", fmt, "Panoramica", EXPORT_TITLES)
