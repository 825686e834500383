"""The admin's pages for staff accounts (list, create, role, scope, firm, password reset, deactivation) and the
audit log with its filters and CSV download."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from analysis.publish import neutralise_formula

from ..errors import bad_parameter, typed_range
from ..extensions import db
from ..imports.firms import firm_of
from ..models import ROLES, ROLES_SEEING_ALL, AuditLog, Servizio, User
from ..staff.access import ADMINS, ROLE_LABELS, confirmed, named_choice, roles_required
from ..staff.forms import ServicesField
from ..staff.selection import FIRST_YEAR, LAST_YEAR
from ..transparency.formatting import local_time, plain_text
from . import UserError, create_user, reset_password, set_active, update_user

bp = Blueprint("users", __name__, url_prefix="/staff")
AUDIT_PAGE = 100
AUDIT_FILTERS = ("azione", "utente", "dal", "al")
PAGE = re.compile(r"[0-9]{1,6}")
NO_STORE = {"Cache-Control": "no-store"}


class UserForm(FlaskForm):
    ruolo = SelectField(_l("Ruolo"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    servizi = ServicesField(_l("Servizi nell'ambito"), description=_l(
        "Obbligatori per responsabile di servizio e società di rilevazione; gli altri ruoli vedono tutto. Per "
        "sceglierne più d'uno: Ctrl (o Cmd) e clic; con la tastiera, Maiuscolo e frecce per voci di seguito, Ctrl e "
        "frecce poi Ctrl e spazio per voci sparse."))
    societa = StringField(_l("Società di rilevazione"), validators=[Length(max=200), plain_text],
                          description=_l("Obbligatoria per il ruolo società di rilevazione, e solo per quello: i lotti "
                                         "di ogni società sono tenuti separati con questo nome."))

    def validate_servizi(self, field):
        """Said under the services, with the role's name (it came under the e-mail, with the role's code)."""
        if self.ruolo.data not in ROLES_SEEING_ALL and not field.data:
            raise ValidationError(_("Il ruolo «%(role)s» vede solo i servizi del suo ambito: sceglierne almeno uno.",
                                    role=ROLE_LABELS.get(self.ruolo.data, self.ruolo.data)))


    def validate_societa(self, field):
        if self.ruolo.data == "rilevatore" and not (field.data or "").strip():
            raise ValidationError(_("Indicare la società di rilevazione dell'account: il dominio dell'email non "
                                    "basta, due società possono usare lo stesso servizio di posta."))


class NewUserForm(UserForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Indicare l'email.")),
                                                Email(_l("Email non valida."), check_deliverability=False)])


def _with_services(form: UserForm) -> UserForm:
    form.servizi.choices = [named_choice(s.slug, s, "nome", f" ({s.slug})")
                            for s in db.session.scalars(select(Servizio).order_by(Servizio.nome_it))]
    return form


def _index(form: NewUserForm, password: str | None = None, created: User | None = None, status: int = 200):
    users = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("staff/users/index.html", users=users, form=form, password=password,
                           created=created), status, NO_STORE


def _sentence(exc: UserError) -> str:
    """The command line's message ("non si può disattivare il proprio account") as a sentence on a page."""
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@bp.get("/utenti/")
@roles_required(*ADMINS)
def index():
    return _index(_with_services(NewUserForm()))


@bp.post("/utenti/")
@roles_required(*ADMINS)
def create():
    form = _with_services(NewUserForm())
    if not form.validate_on_submit():
        return _index(form, status=400)
    try:
        user, password = create_user(db.session, form.email.data, form.ruolo.data, _scope(form),
                                     firm=form.societa.data if form.ruolo.data == "rilevatore" else None,
                                     actor=current_user)
    except UserError as exc:
        db.session.rollback()
        form.email.errors = [_sentence(exc)]
        return _index(form, status=400)
    return _index(_with_services(NewUserForm(formdata=None)), password=password, created=user)


def _scope(form) -> list[str]:
    """The services ticked, for the roles limited to them: the form says the others see everything, so a tick left
    from an earlier role is dropped, as the firm is for every role but the firms'."""
    return [] if form.ruolo.data in ROLES_SEEING_ALL else form.servizi.data


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/utenti/<int:user_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit(user_id: int):
    user = _user_or_404(user_id)
    form = _with_services(UserForm(obj=None if request.method == "POST" else user))
    if request.method == "GET":
        form.servizi.data = [s.slug for s in user.servizi]
        if user.ruolo == "rilevatore" and not user.societa:
            # An account from before the firm's name was required: its batches and ids are filed under its e-mail's
            # domain, which saving keeps; another name would leave them behind.
            form.societa.data = firm_of(user)
    elif form.validate_on_submit():
        try:
            update_user(db.session, user, form.ruolo.data, _scope(form), form.societa.data, actor=current_user)
        except UserError as exc:
            db.session.rollback()
            form.ruolo.errors = [_sentence(exc)]
        else:
            flash(_("Utente %(email)s aggiornato.", email=user.email), "success")
            return redirect(url_for(".index"))
    return render_template("staff/users/edit.html", user=user, form=form), 400 if form.errors else 200


@bp.post("/utenti/<int:user_id>/password")
@roles_required(*ADMINS)
def reset(user_id: int):
    user = _user_or_404(user_id)
    if not confirmed():
        return redirect(url_for(".edit", user_id=user.id))
    password = reset_password(db.session, user, actor=current_user)
    form = _with_services(UserForm(obj=user))
    form.servizi.data = [s.slug for s in user.servizi]
    return render_template("staff/users/edit.html", user=user, form=form, password=password), 200, NO_STORE


@bp.post("/utenti/<int:user_id>/stato")
@roles_required(*ADMINS)
def toggle(user_id: int):
    user = _user_or_404(user_id)
    if user.attivo and not confirmed():  # reactivating needs no second thought
        return redirect(url_for(".edit", user_id=user.id))
    try:
        set_active(db.session, user, not user.attivo, actor=current_user)
    except UserError as exc:
        flash(_sentence(exc), "error")
    else:
        flash(_("Utente %(email)s riattivato.", email=user.email) if user.attivo
              else _("Utente %(email)s disattivato: le sue sessioni sono chiuse.", email=user.email), "success")
    return redirect(url_for(".index"))


def _day(name: str) -> date | None:
    """The day of field ``name``: ISO as the date picker sends it, or gg/mm/aaaa as typed where the browser gives a
    text box. ValueError, with what to write, for anything else."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if "-" in value else datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(_("«%(typed)s» non è una data: scrivere per esempio 25/11/2026.", typed=value[:20])) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # beyond, the bounds below would overflow
        raise ValueError(_("L'anno deve essere tra %(first)d e %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
    return day


def _audit_query(page: bool = False):
    """The log filtered by the query string: azione, utente (part of the e-mail), dal, al (dates, local). A wrong
    date is a 400 for the CSV (it must not give other entries than asked); the ``page`` shows it beside its field,
    with the entries unfiltered by it, in ``filters["errori"]``."""
    zone = ZoneInfo(current_app.config["SURVEY_TIMEZONE"])
    query = select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.utente_id)
    start, end, errors = typed_range(("dal", "al"), _day, page, _(
        "La data finale viene prima di quella iniziale: scambiarle o correggerne una."))
    filters = {"azione": request.args.get("azione", ""), "utente": request.args.get("utente", "").strip(),
               "dal": start, "al": None if "al" in errors else end, "errori": errors}
    if filters["azione"]:
        query = query.where(AuditLog.azione == filters["azione"])
    if filters["utente"]:
        query = query.where(func.lower(User.email).contains(filters["utente"].lower(), autoescape=True))
    if filters["dal"]:
        query = query.where(AuditLog.created_at >= datetime.combine(filters["dal"], time(), zone).astimezone(UTC))
    if filters["al"]:
        end = datetime.combine(filters["al"] + timedelta(days=1), time(), zone)
        query = query.where(AuditLog.created_at < end.astimezone(UTC))
    return query.order_by(AuditLog.id.desc()), filters


@bp.get("/registro")
@roles_required(*ADMINS)
def audit():
    query, filters = _audit_query(page=True)
    page = request.args.get("pagina", "1")
    if not PAGE.fullmatch(page) or int(page) < 1:
        bad_parameter("pagina")
    page = int(page)
    rows = db.session.execute(query.limit(AUDIT_PAGE + 1).offset((page - 1) * AUDIT_PAGE)).all()
    actions = db.session.scalars(select(AuditLog.azione).distinct().order_by(AuditLog.azione)).all()
    args = {k: v for k, v in request.args.items() if k in AUDIT_FILTERS}  # nothing else reaches url_for
    return render_template("staff/users/audit.html", rows=rows[:AUDIT_PAGE], more=len(rows) > AUDIT_PAGE, page=page,
                           filters=filters, actions=actions, args=args)


@bp.get("/registro.csv")
@roles_required(*ADMINS)
def audit_csv():
    query, _filters = _audit_query()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["quando", "utente", "azione", "oggetto", "dettagli"])
    for entry, email in db.session.execute(query):
        details = audit_details(entry.dettagli)
        writer.writerow([local_time(entry.created_at), neutralise_formula(audit_actor(entry, email)),
                         entry.azione, neutralise_formula(entry.oggetto or ""), neutralise_formula(details)])
    return send_file(io.BytesIO(("\ufeff" + buffer.getvalue()).encode("utf-8")), mimetype="text/csv",
                     as_attachment=True, download_name="registro-attivita.csv")


@bp.app_template_global("audit_actor")
def audit_actor(entry: AuditLog, email: str | None) -> str:
    """Who did it: the staff account, else the firm's API token for what came through the API, else the command
    line (an API import was put down to the command line)."""
    if email:
        return email
    details = entry.dettagli if isinstance(entry.dettagli, dict) else {}
    if details.get("via") == "API":
        return _("token API «%(name)s»", name=details.get("token") or "?")
    return _("riga di comando")


@bp.app_template_filter("audit_details")
def audit_details(details) -> str:
    """An audit entry's details as people read them: "Cuorgnè", not the escaped "Cuorgn\\u00e8" of plain JSON."""
    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""

