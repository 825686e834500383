"""A service's page for its office: the published figures and the charts, from the same functions as the CLI,
for a year, a campaign or a range of months, narrowed by channel, counter, comune, language and provenance."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from analysis import charts
from analysis.engine import Period, option_table, period_table, quadrants, question_statistics, service_table
from analysis.queries import BREAKDOWNS, reuse_results

from .. import figures_cache
from ..extensions import db
from ..figures_cache import cached
from ..models import FACES, AzioneMiglioramento, Servizio
from . import bp
from .access import RESULT_READERS, can_edit_actions, localised, roles_required
from .breakdowns import (
    BREAKDOWN_COLUMNS,
    breakdowns,
    checked_selection,
    filters_give_away,
    hidden_groups_known,
    refused_options,
)
from .chart_tables import chart_table
from .downloads import table_download
from .routes import visible_services

CHOICE_TYPES = ("scelta_singola", "scelta_multipla")
TABLE_COLUMNS = ["domanda_codice", "domanda", "tipo", "n", "media", "quota_soddisfatti", "ic95_inf", "ic95_sup",
                 "standard", "esito_standard", "soppresso"]


def html(fig: go.Figure) -> Markup:
    return Markup(charts.figure_to_html(fig, str(get_locale() or "it")))  # noqa: S704 - plotly's own markup


def short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def service_figures(conn, servizio: Servizio, period: Period, threshold: int) -> dict[str, tuple[pd.DataFrame, go.Figure]]:
    """Each chart of the page with the data it draws (offered for download beside it)."""
    stats = question_statistics(conn, period, servizio.slug, threshold=threshold)
    own = stats[stats["questionario"] == servizio.questionario.codice]
    texts = question_texts(servizio)
    found: dict[str, tuple[pd.DataFrame, go.Figure]] = {}

    scale = own[own["tipo"] == "scala"]
    if len(scale):
        # The question's whole text: the chart wraps and shortens its labels, the download keeps them whole. A
        # question whose figures are suppressed (fewer answers than the threshold, or hidden to protect another
        # group) is one row without values or counts: its answers, one by one, were in the table and the files.
        rows = []
        for r in scale.itertuples():
            label = f"{r.codice} {texts.get(r.codice, '')}".strip()
            if _hidden(r, threshold):
                rows.append({"domanda": label, "valore": None, "n": None})
            else:
                rows += [{"domanda": label, "valore": v, "n": n} for v, n in sorted(r.distribuzione.items())]
        frame = pd.DataFrame(rows, columns=["domanda", "valore", "n"])
        found["distribuzione"] = (frame, charts.stacked_distribution(frame, period.label, threshold))

    faces = stats[stats["tipo"] == "faccine"]
    if len(faces):
        totals: dict[int, int] = {}
        for distribution in faces["distribuzione"]:
            for value, n in distribution.items():
                totals[value] = totals.get(value, 0) + n
        # Summed over faces questions: one of them hidden takes the sum with it (a question without answers adds
        # nothing to hide).
        hidden = any(_hidden(r, threshold) and sum(r.distribuzione.values()) for r in faces.itertuples()) \
            or sum(totals.values()) < threshold
        frame = pd.DataFrame({"faccia": [FACES[v] for v in sorted(FACES)],
                              "n": [None if hidden else totals.get(v, 0) for v in sorted(FACES)]})
        # Named after the questionnaire the faces come from (a Comune's own kiosk questionnaire, not always the
        # demo's "Mettiamoci la faccia"); faces from two questionnaires are just "Faccine".
        titles = {q.codice: localised(q, "titolo") for q in (servizio.questionario, servizio.questionario_chiosco) if q}
        codes = set(faces["questionario"])
        title = titles.get(next(iter(codes))) if len(codes) == 1 else None
        found["faccine"] = (frame, charts.faces_bar(frame, period.label, threshold, title=title))

    trend = trend_frame(conn, servizio, period, threshold)
    if trend is not None:
        frame, _overall = trend
        found["andamento"] = (frame, charts.trend_line(frame, f"{frame['periodo'].iloc[0]} – {period.label}",
                                                       threshold))

    quadrant = quadrants(conn, period, servizio.slug, threshold)
    if len(quadrant):
        frame = quadrant.rename(columns={"codice": "domanda", "importanza_media": "importanza"})
        frame = frame.assign(soddisfazione=frame["media"])[["domanda", "importanza", "soddisfazione", "n"]]
        found["quadranti"] = (frame, charts.importance_scatter(frame, period.label, threshold))

    options = option_table(conn, period, servizio.slug, threshold)
    # In a faces questionnaire the choice question is the reasons after a red face.
    if str(get_locale() or "it") != "it":  # the options as the catalogue gives them in English
        english = option_texts(servizio)
        options = options.assign(testo_opzione=[
            english.get((q, code, option)) or text for q, code, option, text in zip(
                options["questionario"], options["codice"], options["opzione"], options["testo_opzione"], strict=True)])
    # A chart whose every option is suppressed would draw bare axes: it is left out.
    reasons = options[options["questionario"].isin(set(faces["questionario"]))]
    if len(reasons) and reasons["n"].fillna(0).sum():
        frame = reasons.rename(columns={"testo_opzione": "motivo"})[["motivo", "n"]].fillna({"n": 0})
        found["motivi"] = (frame, charts.reasons_bar(frame, period.label, threshold,
                                                     respondents=int(reasons["rispondenti"].max())))
    # A faces questionnaire's choice question is its reasons, drawn above: not a second time.
    own_options = options[(options["questionario"] == servizio.questionario.codice)
                          & ~options["questionario"].isin(set(faces["questionario"]))]
    for code, rows in own_options.groupby("codice", sort=False):
        if not rows["n"].fillna(0).sum():
            continue
        frame = rows.rename(columns={"testo_opzione": "motivo"})[["motivo", "n"]].fillna({"n": 0})
        title = f"{code} {short(texts.get(code, ''), 60)}".strip()
        found[f"scelte-{code}"] = (frame, charts.reasons_bar(frame, period.label, threshold,
                                                            respondents=int(rows["rispondenti"].max()),
                                                            title=title, axis=_("Risposta")))
    return found


def _hidden(row, threshold: int) -> bool:
    """Whether a question's figures are suppressed on the page (too few answers, or protecting another group)."""
    return bool(row.soppresso) or sum(row.distribuzione.values()) < threshold


def trend_frame(conn, servizio: Servizio, period: Period, threshold: int) -> tuple[pd.DataFrame, str] | None:
    """The overall item's % satisfied over this period and the two before it (same length, same filters)."""
    periods = [period.previous().previous(), period.previous(), period]
    rows, overall = [], None
    for p in periods:
        table = service_table(conn, p, servizio.slug, threshold)
        if len(table):
            row = table.iloc[0]
            overall = row["domanda_complessiva"]
            if p is not period and filters_give_away(servizio, p, threshold):
                # The page's filters were checked for its own period only: in an earlier one they may choose a
                # group hidden there (web, hidden beside 2 phone answers in 2024), whose point would give it away.
                row = row.copy()
                row[["quota_soddisfatti", "ic95_inf", "ic95_sup"]] = None
            # The target on the overall item (or a service-wide one) in force in that period: each year is drawn
            # against its own carta dei servizi.
            standard = next((float(s.soglia) for s in servizio.standard if s.indicatore == "quota_soddisfatti"
                             and s.domanda_codice in (overall, "") and s.applies_to(p.standards_year)), None)
            rows.append({"periodo": p.label, "quota": row["quota_soddisfatti"], "ic95_inf": row["ic95_inf"],
                         "ic95_sup": row["ic95_sup"], "n": row["n"], "standard_quota": standard})
    if not rows:
        return None
    frame = pd.DataFrame(rows).astype({"quota": float, "ic95_inf": float, "ic95_sup": float,
                                       "standard_quota": float})
    return frame, overall


def option_texts(servizio: Servizio) -> dict[tuple[str, str, str], str]:
    """(questionnaire, question, option) to the option's text in the page's language, for the service's two
    questionnaires (its own and the kiosk's) as they are now."""
    lang = str(get_locale() or "it")
    return {(q.codice, d.codice, o.codice): o.localised("testo", lang)
            for q in (servizio.questionario, servizio.questionario_chiosco) if q and q.versione_corrente
            for d in q.versione_corrente.domande for o in d.opzioni}


def _current_questions(servizio: Servizio):
    """(code as the tables give it, question) of the service's questionnaires as they are now: its own questions by
    their code, the kiosk's as "faccine.D1"."""
    kiosk = servizio.questionario_chiosco
    for q, prefix in ((servizio.questionario, ""), (kiosk, f"{kiosk.codice}." if kiosk else "")):
        if q is not None and q.versione_corrente is not None:
            yield from ((prefix + d.codice, d) for d in q.versione_corrente.domande)


def question_texts(servizio: Servizio) -> dict[str, str]:
    """Code to text, in the page's language, of the questions of the service's current questionnaire versions (the
    kiosk's too: its questions stayed Italian on the English page)."""
    return {code: localised(d, "testo") for code, d in _current_questions(servizio)}


def untranslated_questions(servizio: Servizio) -> set[str]:
    """The codes whose text an English page shows in Italian, for want of a translation (marked lang="it")."""
    if str(get_locale() or "it") == "it":
        return set()
    return {code for code, d in _current_questions(servizio) if not d.testo_en}


def scoped_service(slug: str) -> Servizio:
    servizio = db.session.scalar(visible_services().where(Servizio.slug == slug))
    if servizio is None:
        abort(404)  # out of scope looks the same as unknown
    return servizio


@bp.get("/servizi/<slug>")
@roles_required(*RESULT_READERS)
def service(slug: str):
    servizio = scoped_service(slug)
    selection = checked_selection(servizio, page=True)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    # The charts' labels are in the page's language: kept per language. (The version in the key changes with what
    # the figures hide: none cached before a privacy fix is served after an upgrade.)
    key = f"service-v3:{servizio.slug}:{threshold}:{get_locale()}:{sorted(selection.args.items())}"
    figures, computed = cached(key, lambda: page_figures(servizio, selection.period, threshold))
    selection.refused = refused_options(servizio, selection.period, selection.options, threshold, hidden_groups_known(
        servizio, selection.period, threshold, figures["breakdowns"]))
    actions = period_actions(servizio, selection.period)
    by_question: dict[str, list[AzioneMiglioramento]] = {}
    for action in actions:  # each action beside the indicator that prompted it
        if action.domanda_codice:
            by_question.setdefault(action.domanda_codice, []).append(action)
    return render_template("staff/service.html", servizio=servizio, selection=selection, actions=actions,
                           actions_by_question=by_question, can_edit_actions=can_edit_actions(servizio),
                           italian_questions=untranslated_questions(servizio),
                           computed=computed if figures_cache.enabled() else None, **figures)


def page_figures(servizio: Servizio, period: Period, threshold: int) -> dict:
    """The page's tables and drawn charts (kept by figures_cache: all of it is data, none of it the user's)."""
    conn = db.session.connection()
    with reuse_results(conn):  # the table, the summary and the charts ask for the same counts: one read each
        table = period_table(conn, period, servizio.slug, threshold)
        if str(get_locale() or "it") != "it" and len(table):  # the questions as the catalogue gives them in English
            texts = question_texts(servizio)
            table = table.assign(domanda=[texts.get(code) or text
                                          for code, text in zip(table["domanda_codice"], table["domanda"], strict=True)])
        summary = service_table(conn, period, servizio.slug, threshold)
        overall = summary.iloc[0]["domanda_complessiva"] if len(summary) else None
        figures = service_figures(conn, servizio, period, threshold)
        return {"table": table, "summary": summary.iloc[0] if len(summary) else None,
                "breakdowns": breakdowns(conn, servizio, period, overall, threshold) if overall else {},
                "charts": {key: html(fig) for key, (_frame, fig) in figures.items()},
                "chart_tables": {key: chart_table(key, frame) for key, (frame, _fig) in figures.items()},
                "choice_charts": [key for key in figures if key.startswith("scelte-")]}


def period_actions(servizio: Servizio, period: Period) -> list[AzioneMiglioramento]:
    """The service's improvement actions running at some time in the period, newest first."""
    return list(db.session.scalars(
        select(AzioneMiglioramento).filter_by(servizio_id=servizio.id)
        .where(AzioneMiglioramento.data_inizio < period.end.date(),
               AzioneMiglioramento.data_scadenza >= period.start.date())
        .order_by(AzioneMiglioramento.data_inizio.desc())))


def breakdown_frame(rows: list[dict], by: str) -> pd.DataFrame:
    """A breakdown as its download: the group's code and, for counters and languages, its name (the download
    rounds as the page)."""
    frame = pd.DataFrame(rows, columns=["gruppo", "nome", *BREAKDOWN_COLUMNS[1:]])
    frame = frame.rename(columns={"gruppo": by, "nome": f"{by}_nome"}).astype({"n": "Int64"})
    if frame[f"{by}_nome"].isna().all():
        frame = frame.drop(columns=f"{by}_nome")
    return frame


# What a column counts where its generic heading would not say it (the XLSX headings; the CSV keeps the codes).
OVERALL_ANSWERS = "Risposte alla domanda complessiva"
DOWNLOAD_TITLES = {"andamento": {"quota": "Soddisfatti (%)", "n": OVERALL_ANSWERS},
                   "quadranti": {"domanda": "Codice domanda"}}


@bp.get("/servizi/<slug>/dati/<name>.<fmt>")
@roles_required(*RESULT_READERS)
def service_download(slug: str, name: str, fmt: str):
    """A table or a chart's data of the page, with the same period and filters."""
    servizio = scoped_service(slug)
    selection = checked_selection(servizio)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    conn = db.session.connection()
    period = selection.period
    titles = DOWNLOAD_TITLES.get(name, {})
    with reuse_results(conn):
        if name == "indicatori":
            frame = period_table(conn, period, servizio.slug, threshold)[TABLE_COLUMNS]
        elif name.startswith("per-") and name[4:] in BREAKDOWNS:
            summary = service_table(conn, period, servizio.slug, threshold)
            if summary.empty:
                abort(404)
            rows = breakdowns(conn, servizio, period, summary.iloc[0]["domanda_complessiva"], threshold)[name[4:]]
            frame = breakdown_frame(rows, name[4:])
            titles = {"n": OVERALL_ANSWERS}
        else:
            figures = service_figures(conn, servizio, period, threshold)
            if name not in figures:
                abort(404)
            frame = figures[name][0]
            if name.startswith("scelte-"):  # any multiple-choice question: its options are answers, not reasons
                frame = frame.rename(columns={"motivo": "risposta"})
    # The trend has a period per row (its years): kept; every other table is the page's period.
    own = {} if "periodo" in frame.columns else {"periodo": period.label}
    frame = frame.assign(**own, **{f"filtro_{k}": v for k, v in selection.filters.as_args().items()})
    return table_download(frame, f"{servizio.slug}-{name}-{period.label}".replace("/", "-").replace("–", "-"), fmt,
                          titles=titles)
