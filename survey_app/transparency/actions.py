"""Improvement actions (programmi di miglioramento): a responsabile manages those of their own services.

Every write lands in the audit log with what changed; trasparenza reads them all, the survey firms none.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..catalogue.schema import years_text
from ..extensions import db
from ..models import AuditLog, AzioneMiglioramento, Servizio, Ufficio
from ..staff.access import (
    ACTION_EDITORS,
    ACTION_READERS,
    can_edit_actions,
    confirmed,
    named_choice,
    roles_required,
)
from ..staff.forms import plausible_day
from ..staff.routes import visible_services
from .formatting import ACTION_STATES as STATE_LABELS
from .formatting import local_today, plain_text

bp = Blueprint("actions", __name__, url_prefix="/staff/azioni")

INDICATOR_LABELS = {"quota_soddisfatti": _l("% soddisfatti"), "media": _l("media"),
                    "ics": _l("indice di customer satisfaction"), "nps": _l("Net Promoter Score")}
AUDITED = ("titolo", "descrizione", "standard_id", "indicatore", "domanda_codice", "ufficio_id", "data_inizio",
           "data_scadenza", "stato", "esito")


class ActionForm(FlaskForm):
    titolo = StringField(_l("Azione"), validators=[DataRequired(_l("Dare un titolo all'azione.")), Length(max=200)])
    descrizione = TextAreaField(_l("Descrizione"), validators=[DataRequired(_l("Descrivere l'azione.")),
                                                               Length(max=5000)])
    riferimento = SelectField(_l("Indicatore o standard che l'ha motivata"))
    domanda_codice = StringField(_l("Codice della domanda (facoltativo)"), validators=[Optional(), Length(max=40)])
    ufficio = SelectField(_l("Ufficio responsabile"), coerce=int)
    data_inizio = DateField(_l("Inizio"), validators=[DataRequired(_l("Indicare una data valida."))])
    data_scadenza = DateField(_l("Scadenza"), validators=[DataRequired(_l("Indicare una data valida."))])
    stato = SelectField(_l("Stato"), choices=[SelectChoice(k, v) for k, v in STATE_LABELS.items()])
    esito = TextAreaField(_l("Esito (a conclusione)"), validators=[Optional(), Length(max=5000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in (self.titolo, self.descrizione, self.domanda_codice, self.esito):
            try:  # checked even where another check failed: both are said beside the field
                plain_text(self, field)
            except ValidationError as exc:
                field.errors = [*field.errors, *exc.args]
                ok = False
        if self.stato.data == "completata" and not (self.esito.data or "").strip():
            # The outcome is what the published programme says of a finished action: never left blank.
            self.esito.errors = [*self.esito.errors, _l("Descrivere l'esito: per un'azione completata è pubblicato "
                                                        "nei programmi di miglioramento.")]
            ok = False
        ok = self._check_standards_question() and ok
        start = self.data_inizio.data
        if self.stato.data in ("in_corso", "completata") and start and start > local_today():
            # A programme published with an action done before it began reads as a made-up one.
            self.stato.errors = [*self.stato.errors, _l(
                "Un'azione che inizia il %(day)s non può essere già «%(state)s»: correggere la data di inizio o lo "
                "stato.", day=start.strftime("%d/%m/%Y"), state=STATE_LABELS[self.stato.data])]
            ok = False
        return ok

    def _check_standards_question(self) -> bool:
        """A standard of the carta names its own question, or none (the whole service): another one typed beside it
        was saved and never published (the published reference is the standard's)."""
        kind, _sep, key = (self.riferimento.data or "").partition("-")
        typed = (self.domanda_codice.data or "").strip()
        own = self._standards.get(key) if kind == "standard" else None
        if own is None or not typed or self.domanda_codice.errors or typed == own:
            return True
        message = _l("Lo standard scelto riguarda la domanda %(own)s: lasciare vuoto il codice o scrivere %(own)s "
                     "(per un'altra domanda scegliere un indicatore).", own=own) if own else _l(
            "Lo standard scelto riguarda tutto il servizio, non una domanda: lasciare vuoto il codice (per una "
            "domanda scegliere un indicatore).")
        self.domanda_codice.errors = [*self.domanda_codice.errors, message]
        return False

    def validate_data_inizio(self, field):
        plausible_day(self, field)

    def validate_data_scadenza(self, field):
        plausible_day(self, field)
        if self.data_inizio.data and field.data and field.data < self.data_inizio.data:
            raise ValidationError(_l("La scadenza non può precedere l'inizio."))

    def validate_domanda_codice(self, field):
        if not field.data:
            return
        # Typed as the indicator table shows it, in any case ("d4" is D4).
        found = {code.casefold(): code for code in self._codes}.get(field.data.strip().casefold())
        if found is None:
            raise ValidationError(_l("Il questionario del servizio non ha la domanda «%(code)s»: i codici sono "
                                     "%(codes)s.", code=field.data.strip()[:40],
                                     codes=", ".join(sorted(self._codes, key=_natural))))
        field.data = found


def _natural(code: str) -> tuple:
    """D2 before D10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code))


def _form(servizio: Servizio, action: AzioneMiglioramento | None = None) -> ActionForm:
    form = ActionForm(obj=action)
    form._codes = {d.codice for d in servizio.questionario.versione_corrente.domande} \
        if servizio.questionario.versione_corrente else set()
    form._standards = {str(s.id): s.domanda_codice or "" for s in servizio.standard}
    form.riferimento.choices = [SelectChoice(f"standard-{s.id}", _("Standard: %(text)s", text=_standard_label(s)))
                                for s in servizio.standard] + \
                               [SelectChoice(f"indicatore-{k}", _("Indicatore: %(name)s", name=v))
                                for k, v in INDICATOR_LABELS.items()]
    offices = db.session.scalars(select(Ufficio).filter_by(ente_id=servizio.ufficio.ente_id).order_by(Ufficio.nome))
    form.ufficio.choices = [named_choice(u.id, u, "nome") for u in offices]
    if request.method == "GET":
        if action is None:
            form.ufficio.data = servizio.ufficio_id
        else:
            form.ufficio.data = action.ufficio_id
            form.riferimento.data = (f"standard-{action.standard_id}" if action.standard_id
                                     else f"indicatore-{action.indicatore}")
    return form


def _standard_label(standard) -> str:
    value = f"{float(standard.soglia):g}".replace(".", ",")
    name = INDICATOR_LABELS.get(standard.indicatore, standard.indicatore)
    years = years_text(standard.anno_dal, standard.anno_al)
    return f"{name} ≥ {value}" + (f" ({standard.domanda_codice})" if standard.domanda_codice else "") + (
        f", {years}" if years else "")


def _apply(form: ActionForm, action: AzioneMiglioramento, servizio: Servizio) -> None:
    kind, _sep, key = form.riferimento.data.partition("-")
    standard = next((s for s in servizio.standard if kind == "standard" and str(s.id) == key), None)
    action.standard_id = standard.id if standard else None
    action.indicatore = standard.indicatore if standard else key
    action.domanda_codice = (form.domanda_codice.data or "").strip() or (standard.domanda_codice if standard else "")
    action.titolo = form.titolo.data.strip()
    action.descrizione = form.descrizione.data.strip()
    action.ufficio_id = form.ufficio.data
    action.data_inizio, action.data_scadenza = form.data_inizio.data, form.data_scadenza.data
    action.stato = form.stato.data
    action.esito = (form.esito.data or "").strip() or None


def _snapshot(action: AzioneMiglioramento) -> dict:
    return {name: str(getattr(action, name)) if getattr(action, name) is not None else None for name in AUDITED}


def _service(slug: str | None) -> Servizio:
    servizio = db.session.scalar(visible_services().where(Servizio.slug == slug)) if slug else None
    if servizio is None:
        abort(404)  # out of scope looks the same as unknown
    return servizio


def _action(action_id: int) -> AzioneMiglioramento:
    action = db.session.get(AzioneMiglioramento, action_id)
    if action is None or db.session.scalar(visible_services().where(Servizio.id == action.servizio_id)) is None:
        abort(404)
    return action


@bp.get("/")
@roles_required(*ACTION_READERS)
def index():
    services = db.session.scalars(visible_services()).all()
    chosen = request.args.get("servizio")
    ids = [s.id for s in services if not chosen or s.slug == chosen]
    actions = db.session.scalars(select(AzioneMiglioramento).where(AzioneMiglioramento.servizio_id.in_(ids))
                                 .order_by(AzioneMiglioramento.data_inizio.desc(), AzioneMiglioramento.id)).all()
    today = local_today()
    # Past its due date and neither completed nor cancelled: said beside its state, so it is followed up.
    overdue = {a.id for a in actions if a.stato in ("pianificata", "in_corso") and a.data_scadenza < today}
    return render_template("staff/actions/index.html", actions=actions, services=services, chosen=chosen,
                           editable=[s for s in services if can_edit_actions(s)],
                           can_edit=can_edit_actions, overdue=overdue, reference=_reference)


def _reference(action: AzioneMiglioramento) -> str:
    """What prompted the action, as the form's choice names it."""
    if action.standard is not None:
        return _("Standard: %(text)s", text=_standard_label(action.standard))
    name = INDICATOR_LABELS.get(action.indicatore, action.indicatore)
    return _("Indicatore: %(name)s", name=name) + (f" ({action.domanda_codice})" if action.domanda_codice else "")


@bp.route("/nuova", methods=["GET", "POST"])
@roles_required(*ACTION_EDITORS)
def create():
    servizio = _service(request.args.get("servizio"))
    if not can_edit_actions(servizio):
        abort(403)
    form = _form(servizio)
    if form.validate_on_submit():
        action = AzioneMiglioramento(servizio_id=servizio.id)
        _apply(form, action, servizio)
        db.session.add(action)
        db.session.flush()
        db.session.add(AuditLog(utente_id=current_user.id, azione="azione.crea", oggetto=f"azione {action.id}",
                                dettagli={"servizio": servizio.slug, **_snapshot(action)}))
        db.session.commit()
        flash(_("Azione registrata."), "success")
        return redirect(url_for(".index", servizio=servizio.slug))
    return render_template("staff/actions/form.html", form=form, servizio=servizio, action=None), \
        400 if request.method == "POST" else 200


@bp.route("/<int:action_id>", methods=["GET", "POST"])
@roles_required(*ACTION_EDITORS)
def edit(action_id: int):
    action = _action(action_id)
    servizio = action.servizio
    if not can_edit_actions(servizio):
        abort(403)
    form = _form(servizio, action)
    if form.validate_on_submit():
        before = _snapshot(action)
        _apply(form, action, servizio)
        after = _snapshot(action)
        changed = {k: {"prima": before[k], "dopo": after[k]} for k in AUDITED if before[k] != after[k]}
        if changed:
            db.session.add(AuditLog(utente_id=current_user.id, azione="azione.modifica",
                                    oggetto=f"azione {action.id}", dettagli={"servizio": servizio.slug, **changed}))
        db.session.commit()
        flash(_("Azione aggiornata."), "success")
        return redirect(url_for(".index", servizio=servizio.slug))
    return render_template("staff/actions/form.html", form=form, servizio=servizio, action=action), \
        400 if request.method == "POST" else 200


@bp.post("/<int:action_id>/elimina")
@roles_required(*ACTION_EDITORS)
def delete(action_id: int):
    action = _action(action_id)
    if not can_edit_actions(action.servizio):  # CSRFProtect has already checked the token of this POST
        abort(403)
    slug = action.servizio.slug
    if not confirmed():
        return redirect(url_for(".edit", action_id=action.id))
    db.session.add(AuditLog(utente_id=current_user.id, azione="azione.elimina", oggetto=f"azione {action.id}",
                            dettagli={"servizio": slug, **_snapshot(action)}))
    db.session.delete(action)
    db.session.commit()
    flash(_("Azione eliminata."), "success")
    return redirect(url_for(".index", servizio=slug))

