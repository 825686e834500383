"""A page per question of a service: how its answers are distributed, its figures, and the same question by
channel, counter, comune, language and provenance, with the service page's period and filters."""

from __future__ import annotations

import math

import pandas as pd
from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from analysis import charts
from analysis.engine import Period, option_table, period_table, question_statistics
from analysis.queries import reuse_results

from ..extensions import db
from ..models import FACES, Domanda, Questionario, QuestionarioVersione, Servizio
from ..transparency.labels import DIMENSIONS
from . import bp
from .access import RESULT_READERS, localised, roles_required
from .breakdowns import breakdowns, checked_selection, hidden_groups_known, refused_options
from .downloads import table_download
from .service_page import html, scoped_service

NUMERIC = ("scala", "faccine", "nps", "si_no")
CHOICES = ("scelta_singola", "scelta_multipla")


def find_question(servizio: Servizio, code: str) -> tuple[Questionario, Domanda]:
    """``D1`` in the service's own questionnaire, ``other.D1`` in another one it has answers from (the kiosk's);
    the newest version that has the question."""
    questionnaire_code, _dot, question_code = code.rpartition(".")
    questionnaire = servizio.questionario if not questionnaire_code else db.session.scalar(
        select(Questionario).filter_by(codice=questionnaire_code))
    if questionnaire is None or questionnaire.id not in {servizio.questionario_id, servizio.questionario_chiosco_id}:
        abort(404)
    question = db.session.scalar(
        select(Domanda).join(QuestionarioVersione)
        .where(QuestionarioVersione.questionario_id == questionnaire.id, Domanda.codice == question_code)
        .order_by(QuestionarioVersione.numero.desc()).limit(1))
    if question is None:
        abort(404)
    return questionnaire, question


# The page's words for a question's type and a face, in its language.
TYPE_LABELS = {"scala": _l("scala"), "faccine": _l("faccine"), "nps": "NPS", "si_no": _l("sì/no"),
               "scelta_singola": _l("scelta singola"), "scelta_multipla": _l("scelta multipla"), "testo": _l("testo")}
FACE_LABELS = {1: _l("rosso"), 2: _l("giallo"), 3: _l("verde")}


def value_label(question: Domanda, value: int) -> str:
    if question.tipo == "faccine":
        return str(FACE_LABELS.get(value, value))
    if question.tipo == "si_no":
        return _("sì") if value == 1 else _("no")
    if question.tipo == "scala":
        end = "min" if value == question.scala_min else "max" if value == question.scala_max else None
        label = question.etichetta(end, str(get_locale() or "it")) if end else None
        return f"{value} ({label})" if label else str(value)
    return str(value)


def distribution(question: Domanda, stats: pd.Series | None, threshold: int) -> pd.DataFrame:
    """Each possible value with its count and share; the counts hidden when fewer than ``threshold`` answered."""
    low, high = (question.scala_min, question.scala_max) if question.scala_min is not None else (0, 10)
    counts = stats["distribuzione"] if stats is not None else {}
    total = sum(counts.values())
    hidden = total < threshold
    rows = []
    for value in range(low, high + 1):
        n = counts.get(value, 0)
        rows.append({"valore": value, "etichetta": value_label(question, value),
                     "n": None if hidden else n, "quota": None if hidden or not total else n / total * 100})
    return pd.DataFrame(rows, columns=["valore", "etichetta", "n", "quota"])


def question_data(conn, servizio: Servizio, code: str, period: Period, threshold: int) -> dict:
    questionnaire, question = find_question(servizio, code)
    stats = question_statistics(conn, period, servizio.slug, threshold=threshold)
    row = stats[(stats["questionario"] == questionnaire.codice) & (stats["codice"] == question.codice)
                & (stats["tipo"] == question.tipo)]
    table = period_table(conn, period, servizio.slug, threshold)
    published = table[table["domanda_codice"] == code]
    found = {"questionnaire": questionnaire, "question": question, "code": code,
             "published": published.iloc[0] if len(published) else None,
             "stats": row.iloc[0] if len(row) else None, "frame": None, "figure": None, "breakdowns": {}}
    label = f"{code} – {period.label}"
    if question.tipo in NUMERIC:
        frame = distribution(question, found["stats"], threshold)
        found["frame"] = frame
        if found["stats"] is not None and not found["stats"]["soppresso"] and question.tipo == "faccine":
            # The faces in their colours and by their names, as on the service's page (it drew "Valore 3 2 1").
            faces = pd.DataFrame({"faccia": [FACES[v] for v in frame["valore"]], "n": frame["n"].astype(int)})
            found["figure"] = html(charts.faces_bar(faces, period.label, threshold, title=localised(question, "testo")))
        elif found["stats"] is not None and not found["stats"]["soppresso"]:
            drawn = pd.DataFrame({"domanda": code, "valore": frame["valore"], "n": frame["n"].astype(int)})
            names = {v: value_label(question, v) for v in frame["valore"]} if question.tipo == "si_no" else None
            found["figure"] = html(charts.stacked_distribution(drawn, label, threshold, names=names))
        found["breakdowns"] = breakdowns(conn, servizio, period, question.codice, threshold, questionnaire.codice)
    elif question.tipo in CHOICES:
        options = option_table(conn, period, servizio.slug, threshold)
        rows = options[(options["questionario"] == questionnaire.codice) & (options["codice"] == question.codice)]
        frame = pd.DataFrame({"opzione": rows["opzione"], "etichetta": rows["testo_opzione"],
                              "n": rows["n"], "quota": rows["quota"]})
        found["frame"] = frame
        found["respondents"] = int(rows["rispondenti"].max()) if len(rows) else 0
        if len(rows) and not rows["soppresso"].any():
            drawn = rows.rename(columns={"testo_opzione": "motivo"})[["motivo", "n"]]
            found["figure"] = html(charts.reasons_bar(drawn, label, threshold, respondents=found["respondents"],
                                                      title=question.codice, axis=_("Risposta")))
    return found


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@bp.get("/servizi/<slug>/domande/<codice>")
@roles_required(*RESULT_READERS)
def question(slug: str, codice: str):
    servizio = scoped_service(slug)
    selection = checked_selection(servizio, page=True)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    conn = db.session.connection()
    with reuse_results(conn):
        data = question_data(conn, servizio, codice, selection.period, threshold)
    selection.refused = refused_options(servizio, selection.period, selection.options, threshold, hidden_groups_known(
        servizio, selection.period, threshold, data["breakdowns"]))
    kind = data["question"].tipo
    return render_template("staff/question.html", servizio=servizio, selection=selection, missing=_is_missing,
                           type_label=str(TYPE_LABELS.get(kind, kind)),
                           dimension=str(DIMENSIONS.get(data["question"].dimensione or "", "")) or None, **data)


@bp.get("/servizi/<slug>/domande/<codice>/dati.<fmt>")
@roles_required(*RESULT_READERS)
def question_download(slug: str, codice: str, fmt: str):
    """The question's distribution (or its options) as shown on its page."""
    servizio = scoped_service(slug)
    selection = checked_selection(servizio)
    conn = db.session.connection()
    with reuse_results(conn):
        data = question_data(conn, servizio, codice, selection.period, current_app.config["SUPPRESSION_THRESHOLD"])
    if data["frame"] is None:
        abort(404)  # a free-text question: its answers are comments, read in the staff area only
    frame = data["frame"].assign(periodo=selection.period.label)
    name = f"{servizio.slug}-{codice}-{selection.period.label}".replace("/", "-").replace("–", "-")
    # An option's share is of the people who answered (several options each): the heading says so.
    titles = {"quota": "Quota di chi ha risposto (%)"} if data["question"].tipo in CHOICES else {}
    return table_download(frame, name, fmt, titles=titles)
