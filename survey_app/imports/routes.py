"""The survey firm's pages: templates, the upload with a dry-run preview before confirming, its own batches."""

from __future__ import annotations

import csv
import hashlib
import io
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from analysis.publish import neutralise_formula

from ..extensions import db
from ..models import ImportBatch, Questionario, Servizio
from ..staff.access import IMPORTERS, named_choice, roles_required
from ..staff.routes import visible_services
from ..staff.selection import CHANNEL_NAMES, named
from ..transparency.formatting import plain_text
from . import pending, template
from .firms import firm_of, known_firms
from .load import (
    ALL_ERRORS,
    EXCLUDED_KEPT,
    MAX_LISTED_ERRORS,
    ImportRefused,
    ImportReport,
    import_file,
    published_years,
    safe_file_name,
)

bp = Blueprint("imports", __name__, url_prefix="/staff/importazioni")

UPLOAD_LIMIT = 10 * 1024 * 1024
METHODS = [SelectChoice("CATI", _l("Interviste telefoniche (CATI)")), SelectChoice("PAPI", _l("Questionari cartacei (PAPI)")),
           SelectChoice("CAWI", _l("Questionari web della società (CAWI)"))]
SHA = re.compile(r"^[0-9a-f]{64}$")
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _questionnaires() -> dict[str, tuple[Questionario, list[Servizio]]]:
    """The questionnaires of the services in the user's scope, each with those services."""
    found: dict[str, tuple[Questionario, list[Servizio]]] = {}
    for servizio in db.session.scalars(visible_services()):
        q = servizio.questionario
        found.setdefault(q.codice, (q, []))[1].append(servizio)
    return dict(sorted(found.items()))


@bp.get("/modello/<code>.<fmt>")
@roles_required(*IMPORTERS)
def template_file(code: str, fmt: str):
    found = _questionnaires().get(code)
    if found is None or fmt not in FORMATS or found[0].versione_corrente is None:
        abort(404)  # a questionnaire outside the scope looks the same as an unknown one
    q, services = found
    data = template.to_csv(q.versione_corrente) if fmt == "csv" else template.to_xlsx(q.versione_corrente, services)
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt], as_attachment=True,
                     download_name=f"modello-{code}.{fmt}")


class UploadForm(FlaskForm):
    file = FileField(_l("File da importare (CSV, XLSX o ODS)"), validators=[FileRequired(_l("Scegliere un file."))])
    questionario = SelectField(_l("Questionario"))
    metodo = SelectField(_l("Metodo di rilevazione"), choices=METHODS)
    # Asked of the office uploading for a firm (an admin): a firm's own account files its data under its name.
    societa = StringField(_l("Società che ha raccolto i dati"), validators=[Length(max=200), plain_text],
                          description=_l("Il nome con cui la società compare nella nota metodologica pubblicata e tra "
                                         "i lotti: scegliere dall'elenco una società già registrata."))


class ConfirmForm(FlaskForm):
    sha256 = HiddenField(validators=[DataRequired(), Regexp(SHA)])
    questionario = HiddenField(validators=[DataRequired()])
    metodo = HiddenField(validators=[DataRequired()])
    societa = HiddenField(validators=[Optional(), Length(max=200)])
    escludi_non_valide = BooleanField(_l("Importa solo le righe valide ed escludi le altre"))


def names_firm() -> bool:
    """Whether the uploader says which firm the file comes from: the office (an admin) uploads for any firm."""
    return current_user.ruolo == "admin"


def _source(named: str | None) -> str:
    return named if names_firm() else firm_of(current_user)


def _scope() -> set[int] | None:
    return None if current_user.ruolo == "admin" else {s.id for s in db.session.scalars(visible_services())}


def _check(data: bytes, name: str, code: str, method: str, firm: str | None, *, dry_run: bool,
           skip_invalid: bool = False, listed: int = MAX_LISTED_ERRORS) -> ImportReport:
    return import_file(db.session, data, name, code, source=_source(firm), method=method, user=current_user,
                       dry_run=dry_run, skip_invalid=skip_invalid, allowed_services=_scope(), listed=listed)


@bp.route("/carica", methods=["GET", "POST"])
@roles_required(*IMPORTERS)
def upload():
    form = UploadForm()
    form.questionario.choices = [named_choice(code, q, "titolo", f" ({code})")
                                 for code, (q, _s) in _questionnaires().items()]
    firms = known_firms(db.session) if names_firm() else []
    if not names_firm():
        del form.societa
    try:
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        submitted = False
        form.file.errors = [_("Il file supera il limite di %(mb)d MB: dividerlo in più file.", mb=UPLOAD_LIMIT >> 20)]
    if submitted and names_firm() and not (form.societa.data or "").strip():
        submitted = False
        form.societa.errors = [_("%(field)s: indicare la società che ha raccolto i dati di questo file.",
                                 field=form.societa.label.text)]
    if not submitted:
        return render_template("imports/upload.html", form=form, firms=firms), \
            400 if request.method == "POST" else 200
    data = form.file.data.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        form.file.errors = [_("Il file supera il limite di %(mb)d MB: dividerlo in più file.", mb=UPLOAD_LIMIT >> 20)]
        return render_template("imports/upload.html", form=form, firms=firms), 400
    name = safe_file_name(form.file.data.filename)
    firm = form.societa.data if names_firm() else None
    try:
        report = _check(data, name, form.questionario.data, form.metodo.data, firm, dry_run=True)
    except ImportRefused as exc:
        form.file.errors = [str(exc)]
        return render_template("imports/upload.html", form=form, firms=firms), 400
    sha256 = hashlib.sha256(data).hexdigest()
    pending.keep(db.session, current_user, sha256, name, data)
    confirm = ConfirmForm(formdata=None, sha256=sha256, questionario=form.questionario.data,
                          metodo=form.metodo.data, societa=firm)
    return render_template("imports/preview.html", report=report, confirm=confirm, firm=report.source,
                           types=_question_types(form.questionario.data),
                           published=published_years(db.session, report.years))


def _question_types(code: str) -> dict[str, str]:
    questionnaire = db.session.scalar(select(Questionario).filter_by(codice=code))
    version = questionnaire.versione_corrente if questionnaire else None
    return {d.codice: d.tipo for d in version.domande} if version else {}


@bp.app_template_filter("preview_answers")
def preview_answers(parsed, types: dict[str, str]) -> str:
    """A previewed row's answers as they will be stored and read: "D1: 5 (importanza 4); D5: no; D6: a, b" (a yes/no
    showed as 0 or 1 and the importance given was left out)."""
    parts = []
    for code, value in parsed.answers.items():
        if value in (None, "", [], ()):
            continue
        if types.get(code) == "si_no":
            text = _("sì") if int(value) == 1 else _("no")
        elif isinstance(value, list | tuple | set):
            text = ", ".join(map(str, value))
        else:
            text = str(value)
        if parsed.importance.get(code) is not None:
            text += " " + _("(importanza %(value)s)", value=parsed.importance[code])
        parts.append(f"{code}: {text}")
    return "; ".join(parts)


@bp.app_template_filter("preview_when")
def preview_when(moment) -> str:
    """An answer's date, with its hour unless it is 00:00: a firm's row with a date alone read as a real midnight
    (the preview, the comments)."""
    return moment.strftime("%d/%m/%Y" if (moment.hour, moment.minute) == (0, 0) else "%d/%m/%Y %H:%M")


@bp.app_template_filter("channel_name")
def channel_name(code: str) -> str:
    return named(CHANNEL_NAMES, code)


@bp.post("/conferma")
@roles_required(*IMPORTERS)
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    upload = pending.find(db.session, current_user, form.sha256.data)
    if upload is None:
        # Confirmed already (a second tab, a double click): say where it went rather than "upload it again".
        batch = db.session.scalar(select(ImportBatch).filter_by(sha256=form.sha256.data, utente_id=current_user.id,
                                                                annullato_il=None).order_by(ImportBatch.id.desc()))
        if batch is not None:
            flash(_("Questo file è già stato importato nel lotto %(batch)d: nessuna riga scritta di nuovo.",
                    batch=batch.id), "info")
            return redirect(url_for(".index"))
        flash(_("Il file non è più disponibile: caricarlo di nuovo."), "error")
        return redirect(url_for(".upload"))
    try:
        report = _check(upload.dati, upload.nome_file, form.questionario.data, form.metodo.data,
                        form.societa.data, dry_run=False, skip_invalid=form.escludi_non_valide.data,
                        listed=EXCLUDED_KEPT)  # the batch keeps the rows it leaves out
    except ImportRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for(".upload"))
    if not report.written:
        flash(_("Nessuna riga scritta: il file contiene righe non valide. Per importare solo quelle valide, spuntare "
                "«%(box)s»; oppure correggere il file e caricarlo di nuovo.", box=form.escludi_non_valide.label.text)
              if report.valid else _("Nessuna riga scritta: nessuna riga nuova da importare."), "error")
        return render_template("imports/preview.html", report=report, confirm=form,
                               types=_question_types(form.questionario.data),
                               published=published_years(db.session, report.years)), 400
    pending.discard(db.session, current_user, form.sha256.data)  # the import's audit entry came with the batch
    db.session.commit()
    # The batch's own page, which says what came in and offers the left-out rows to fix (a link on the list's
    # count was easy to miss).
    parts = [ngettext("Importata %(num)d riga nel lotto %(batch)d.", "Importate %(num)d righe nel lotto %(batch)d.",
                      report.written, batch=report.batch_id)]
    if report.invalid_rows:
        parts.append(ngettext("%(num)d riga non valida è stata esclusa: il suo elenco con il motivo si scarica da "
                              "questa pagina.", "%(num)d righe non valide sono state escluse: il loro elenco con i "
                              "motivi si scarica da questa pagina.", report.invalid_rows))
    if report.skipped:
        parts.append(ngettext("%(num)d riga era già stata importata in un lotto precedente: saltata.",
                              "%(num)d righe erano già state importate in lotti precedenti: saltate.", report.skipped))
    flash(" ".join(parts), "success")
    return redirect(url_for(".batch", batch_id=report.batch_id))


@bp.get("/errori/<sha256>.csv")
@roles_required(*IMPORTERS)
def errors_csv(sha256: str):
    """The preview's errors as a CSV the firm can sort and fix from (semicolons, UTF-8 with BOM for Excel)."""
    upload = pending.find(db.session, current_user, sha256) if SHA.match(sha256) else None
    if upload is None:
        abort(404)
    try:
        report = _check(upload.dati, upload.nome_file, request.args.get("questionario", ""),
                        request.args.get("metodo", "CATI"), request.args.get("societa"), dry_run=True,
                        listed=ALL_ERRORS)
    except ImportRefused:
        abort(404)
    left = sum(report.reasons.values()) - len(report.errors)
    stem = upload.nome_file.rsplit(".", 1)[0] or "file"
    more = (("un altro errore non elencato" if left == 1 else f"altri {left} errori non elencati")
            + ": correggere questi e ricaricare il file") if left else None
    return _errors_file([(e.row, report.ids.get(e.row, ""), e.column, e.value, e.reason) for e in report.errors],
                        f"errori-{stem}.csv", more, with_ids=True)


def _errors_file(errors: list, name: str, more: str | None = None, with_ids: bool = False):
    """Errors as a CSV the firm can sort and fix from: riga;colonna;valore;motivo, and ``with_ids`` the id_esterno
    after riga, where the errors come from a file still in hand (a batch keeps none) (UTF-8 with BOM for Excel), and
    ``more`` on a last line when the list is not whole (never silently short)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["riga", "id_esterno", "colonna", "valore", "motivo"] if with_ids
                    else ["riga", "colonna", "valore", "motivo"])
    for row, *texts, reason in errors:
        writer.writerow([row, *map(neutralise_formula, texts), reason])
    if more:
        writer.writerow(["", "", "", *([""] if with_ids else []), more])
    return send_file(io.BytesIO(("\ufeff" + buffer.getvalue()).encode("utf-8")), mimetype="text/csv",
                     as_attachment=True, download_name=name)


from . import batches  # noqa: E402, F401 - the batches' pages, on this blueprint
