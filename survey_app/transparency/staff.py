"""Staff pages of the publication: publish a year (trasparenza, admin), the versions, the Nucleo's report."""

from __future__ import annotations

import io
import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import extract, select
from sqlalchemy.orm import defer, selectinload
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from analysis.publication import answer_span, period_of, short_span

from ..extensions import db
from ..models import Compilazione, Pubblicazione, PubblicazioneFile
from ..settings import public_base_url
from ..staff.access import PUBLISHERS, confirmed, roles_required
from .formatting import it_date, local_today, plain_text
from .labels import changes_in_page_language
from .publishing import (
    REASON_LENGTH,
    PublicationConflict,
    PublicationSettingsError,
    file_names,
    next_version,
    one_line,
    period,
    publish_year,
    report_entities,
    running_until,
)

bp = Blueprint("publishing", __name__, url_prefix="/staff/trasparenza")
YEAR = re.compile(r"[0-9]{4}")


class PublishForm(FlaskForm):
    anno = SelectField(_l("Anno da pubblicare"), coerce=int)
    # Why this version (a correction, the paper questionnaires of December): on its public page and in its files.
    motivo = TextAreaField(_l("Motivo della versione (facoltativo)"), filters=[one_line], description=_l(
        "Per esempio «aggiunti i questionari cartacei di dicembre» o «corretto un lotto importato per errore»: "
        "compare nella pagina pubblica e nella nota metodologica dei file, e non si potrà più modificare."),
        validators=[
        Length(max=REASON_LENGTH, message=_l("Il motivo può avere al massimo %(max)d caratteri.")), plain_text])


def years_with_answers() -> list[int]:
    """Years that have answers or a publication, newest first (at least the current year)."""
    answered = db.session.scalars(select(extract("year", Compilazione.data_ora)).distinct()).all()
    published = db.session.scalars(select(Pubblicazione.anno).distinct()).all()
    years = {int(y) for y in [*answered, *published] if y is not None} or {local_today().year}
    return sorted((y for y in years if y <= local_today().year), reverse=True)


def _form() -> PublishForm:
    form = PublishForm()
    years = years_with_answers()
    form.anno.choices = [SelectChoice(y, str(y)) for y in years]
    if form.anno.data is None:
        # A year is published once it is over: the previous year, when it has answers.
        form.anno.data = local_today().year - 1 if local_today().year - 1 in years else years[0]
    return form


@bp.get("/")
@roles_required(*PUBLISHERS)
def index():
    return _index_page(_form())


def _index_page(form: PublishForm, status: int = 200):
    records = db.session.scalars(select(Pubblicazione).options(
        defer(Pubblicazione.dati), selectinload(Pubblicazione.file).defer(PubblicazioneFile.contenuto))
                                 .order_by(Pubblicazione.anno.desc(), Pubblicazione.versione.desc())).all()
    years = years_with_answers()
    entities = report_entities()
    return render_template("staff/transparency/index.html", form=form, records=records, years=years,
                           entities=entities, public_pages=_public_pages(entities, records), spans=_spans(years),
                           running_year=local_today().year if local_today().year in years else None), status


def _spans(years: list[int]) -> list[dict]:
    """Each year's first and last day with answers, and whether they leave more than a month of it out: the
    publisher sees before publishing a year that is not a whole year's survey (the Nota metodologica says so)."""
    conn = db.session.connection()
    found = []
    for year in years:
        span = answer_span(conn, year)
        if span is not None:
            period = period_of(year, running_until(year))
            found.append({"year": year, "first": span["prima"], "last": span["ultima"],
                          "short": short_span(period, span)})
    return found


def _public_pages(entities: dict[str, str], records: list[Pubblicazione]) -> list[dict]:
    """The addresses each body links from its "Servizi erogati": its own page where the instance serves several
    (the whole one otherwise), and the newest published year's CSV, which keeps its address across versions."""
    base = public_base_url()
    newest = records[0] if records else None
    stored = {f.nome for f in newest.file} if newest else set()
    pages = []
    for code, name in (entities.items() if len(entities) > 1 else [(None, None)]):
        csv = file_names(newest.anno, code)["csv"] if newest else None
        pages.append({"nome": name, "url": base + url_for("transparency.index", ente=code),
                      "year": newest.anno if newest else None,
                      "csv": base + url_for("transparency.service_or_file", anno=newest.anno, name=csv)
                      if csv in stored else None})
    return pages


@bp.post("/pubblica")
@roles_required(*PUBLISHERS)
def publish():
    form = _form()
    if not form.validate_on_submit():
        if form.motivo.errors and not form.anno.errors:  # sent back with the text as written, beside the field
            return _index_page(form, 422)
        flash(_("Scegliere un anno tra quelli proposti."), "error")
        return redirect(url_for(".index"))
    if not confirmed(_("Nessuna versione pubblicata: spuntare la conferma che la versione non si potrà più "
                       "modificare.")):  # frozen for good: the box says so, and must be ticked
        return redirect(url_for(".index"))
    try:
        outcome = publish_year(db.session, form.anno.data, user=current_user, reason=form.motivo.data)
    except PublicationSettingsError as exc:
        flash(_("Pubblicazione non eseguita: %(problem)s.", problem=str(exc)), "error")
        return redirect(url_for(".index"))
    except PublicationConflict:
        flash(_("Un'altra pubblicazione dello stesso anno è appena stata registrata: controllare l'elenco e "
                "riprovare se serve."), "error")
        return redirect(url_for(".index"))
    record = outcome.publication
    if outcome.created:
        flash(_("Pubblicata la versione %(v)d dell'anno %(year)d.", v=record.versione, year=record.anno), "success")
        covered = period(record.dati)
        if covered.get("parziale"):
            flash(_("L'anno %(year)d è in corso: la versione riporta i dati parziali, fino al %(day)s.",
                    year=record.anno, day=it_date(covered["fine"])), "warning")
        answered = record.dati["metodologia"].get("risposte")
        if short_span(covered, answered):
            flash(_("Nel %(year)d le risposte sono state raccolte solo dal %(first)s al %(last)s: la nota "
                    "metodologica della versione lo dice.", year=record.anno, first=it_date(answered["prima"]),
                    last=it_date(answered["ultima"])), "warning")
    else:
        flash(_("Nessun dato è cambiato rispetto alla versione %(v)d dell'anno %(year)d: non è stata creata una "
                "nuova versione.", v=record.versione, year=record.anno), "info")
    return redirect(url_for(".index", _anchor=f"anno-{record.anno}"))


@bp.get("/anteprima")
@roles_required(*PUBLISHERS)
def preview():
    """What publishing a year now would change, before anyone ticks "Ho controllato": nothing is written."""
    raw = request.args.get("anno", "")
    years = years_with_answers()
    if not YEAR.fullmatch(raw) or int(raw) not in years:  # ("²".isdigit() is true, and int("²") a ValueError)
        abort(404)
    draft = next_version(db.session, int(raw))
    form = _form()
    form.anno.data = int(raw)
    changes = changes_in_page_language({0: draft.changes})[0]
    return render_template("staff/transparency/preview.html", draft=draft, year=int(raw), form=form,
                           changes=changes, services=len(draft.data["sintesi"]),
                           answers=sum(row["compilazioni"] or 0 for row in draft.data["sintesi"]),
                           spans=_spans([int(raw)]))


@bp.get("/relazione/<int:anno>.<fmt>")
@roles_required(*PUBLISHERS)
def report(anno: int, fmt: str):
    from .report import FORMATS, report_bytes

    ente = request.args.get("ente") or None
    if fmt not in FORMATS or anno not in years_with_answers() or (ente and ente not in report_entities()):
        abort(404)
    data = report_bytes(db.session, anno, fmt, current_app.config["SUPPRESSION_THRESHOLD"], ente)
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt][0], as_attachment=True,
                     download_name=f"relazione-nucleo-{anno}{'-' + ente if ente else ''}.{fmt}")

