"""Campaigns (rilevazioni): the admin plans, follows, edits, closes and deletes them; every write is audited.

The import code links an answer to the campaign that covers its service and date, so two campaigns on the same
service may never overlap in time; answers already linked pin the campaign's services and period.
"""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, StopValidation, ValidationError

from analysis.services import sample_size

from ..campaigns import link_answers
from ..extensions import db
from ..models import AuditLog, Compilazione, Questionario, Rilevazione, Servizio
from ..transparency.formatting import local_today, plain_text
from . import bp
from .access import ADMINS, confirmed, localised, named_choice, roles_required
from .forms import ServicesField, plausible_day

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
STATES = {"programmata": _l("programmata"), "in_corso": _l("in corso"), "chiusa": _l("chiusa")}
PLANNER_HELP = _l("Se resta vuoto, lo calcola il pianificatore: la somma, sui servizi scelti con gli utenti annui "
                  "noti, del campione che dà un margine d'errore di ±3 punti con una confidenza del 95 per cento.")


def state(campaign: Rilevazione, today: date) -> str:
    if today < campaign.data_inizio:
        return "programmata"
    return "chiusa" if today > campaign.data_fine else "in_corso"


def planned(services: list[Servizio]) -> int:
    """The planner's target: each service's sample size for its yearly users, summed (services without, left out)."""
    return sum(sample_size(s.utenti_annui) for s in services if s.utenti_annui)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _whole_number(form, field):
    if field.data is None or not 1 <= field.data <= 1_000_000:
        field.errors[:] = []
        raise StopValidation(_l("Indicare un numero intero di questionari, da 1 a 1.000.000."))


class CampaignForm(FlaskForm):
    titolo = StringField(_l("Titolo"), filters=[lambda v: v.strip() if v else v],
                         validators=[DataRequired(_l("Dare un titolo alla rilevazione.")),
                                     Length(max=200, message=_l("Al massimo 200 caratteri.")), plain_text])
    servizi = ServicesField(_l("Servizi"), validators=[DataRequired(_l("Scegliere almeno un servizio."))])
    data_inizio = DateField(_l("Inizio"), validators=[DataRequired(_l("Indicare una data valida.")), plausible_day])
    data_fine = DateField(_l("Fine"), validators=[DataRequired(_l("Indicare una data valida.")), plausible_day])
    campione_obiettivo = IntegerField(_l("Campione obiettivo (questionari)"), validators=[Optional(), _whole_number])

    campaign: Rilevazione | None = None
    services: dict[str, Servizio]

    def validate_data_fine(self, field):
        if self.data_inizio.data and field.data and field.data < self.data_inizio.data:
            raise ValidationError(_l("La fine non può precedere l'inizio."))

    def questionnaire(self) -> Questionario | None:
        return self.campaign.questionario if self.campaign else None

    def chosen(self) -> list[Servizio]:
        return [self.services[slug] for slug in self.servizi.data or [] if slug in self.services]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self._check_plan()
        return ok and not (self.servizi.errors or self.data_inizio.errors or self.data_fine.errors)

    def _check_plan(self) -> None:
        """Questionnaire of the services, no overlap on a service, linked answers kept inside the campaign."""
        chosen, questionnaire, campaign = self.chosen(), self.questionnaire(), self.campaign
        ids, before = {s.id for s in chosen}, {s.id: s for s in campaign.servizi} if campaign else {}
        start, end = self.data_inizio.data, self.data_fine.data
        for s in chosen:
            if questionnaire and s.questionario_id != questionnaire.id and s.id not in before:
                self.servizi.errors.append(_("Il servizio %(name)s (%(slug)s) usa un altro questionario "
                                             "(«%(other)s»), non «%(this)s».", name=s.nome_it, slug=s.slug,
                                             other=s.questionario.titolo_it, this=questionnaire.titolo_it))
        if start and end and start <= end and ids:
            query = (select(Rilevazione).join(Rilevazione.servizi).distinct().order_by(Rilevazione.data_inizio)
                     .where(Servizio.id.in_(ids), Rilevazione.data_inizio <= end, Rilevazione.data_fine >= start,
                            Rilevazione.id != (campaign.id if campaign else -1)))
            for other in db.session.scalars(query):
                self.servizi.errors.append(_(
                    "Il periodo si sovrappone alla rilevazione «%(title)s» (%(code)s, dal %(start)s al %(end)s) "
                    "sui servizi: %(names)s. Le risposte non saprebbero a quale rilevazione andare.",
                    title=other.titolo, code=other.codice, start=_day(other.data_inizio), end=_day(other.data_fine),
                    names=", ".join(s.nome_it for s in other.servizi if s.id in ids)))
        if campaign is None:
            return
        linked = db.session.execute(select(Compilazione.servizio_id, func.count(), func.min(Compilazione.data_ora),
                                           func.max(Compilazione.data_ora))
                                    .where(Compilazione.rilevazione_id == campaign.id)
                                    .group_by(Compilazione.servizio_id)).all()
        for servizio_id, n, _first, _last in linked:
            if servizio_id in before and servizio_id not in ids:
                self.servizi.errors.append(ngettext(
                    "Il servizio %(name)s ha già %(num)d questionario in questa rilevazione: non si può togliere.",
                    "Il servizio %(name)s ha già %(num)d questionari in questa rilevazione: non si può togliere.",
                    n, name=before[servizio_id].nome_it))
        first, last = min((r[2] for r in linked), default=None), max((r[3] for r in linked), default=None)
        if first and start and start > first.date():
            self.data_inizio.errors.append(_("La rilevazione ha questionari dal %(day)s: l'inizio non può essere "
                                             "dopo.", day=_day(first.date())))
        if last and end and end < last.date():
            self.data_fine.errors.append(_("La rilevazione ha questionari fino al %(day)s: la fine non può essere "
                                           "prima.", day=_day(last.date())))


class NewCampaignForm(CampaignForm):
    codice = StringField(_l("Codice"), filters=[lambda v: v.strip() if v else v],
                         description=_l("Lettere minuscole, cifre e trattini, per esempio primavera-2025. "
                                        "Non si potrà cambiare."),
                         validators=[DataRequired(_l("Indicare un codice.")),
                                     Length(max=80, message=_l("Al massimo 80 caratteri.")),
                                     Regexp(SLUG, message=_l("Solo lettere minuscole, cifre e trattini singoli tra "
                                                             "l'una e l'altra parola (es. primavera-2025)."))])
    questionario = SelectField(_l("Questionario"), validators=[DataRequired(_l("Scegliere un questionario."))])

    questionnaires: dict[str, Questionario]

    def questionnaire(self) -> Questionario | None:
        return self.questionnaires.get(self.questionario.data)

    def validate_codice(self, field):
        if db.session.scalar(select(Rilevazione.id).filter_by(codice=field.data)) is not None:
            raise ValidationError(_l("Esiste già una rilevazione con questo codice."))


def _service_choice(s: Servizio, group: str | None = None) -> SelectChoice:
    hint = (_("campione suggerito %(n)d", n=sample_size(s.utenti_annui)) if s.utenti_annui
            else _("utenti annui non indicati"))
    return named_choice(s.slug, s, "nome", f" ({s.slug}) · {hint}", optgroup=group)


def _new_form() -> NewCampaignForm:
    form = NewCampaignForm()
    services = db.session.scalars(select(Servizio).join(Servizio.questionario)
                                  .order_by(Questionario.titolo_it, Servizio.nome_it)).all()
    form.services = {s.slug: s for s in services}
    form.questionnaires = {s.questionario.codice: s.questionario for s in services}
    form.questionario.choices = [named_choice(q.codice, q, "titolo") for q in form.questionnaires.values()]
    form.servizi.choices = [_service_choice(s, localised(s.questionario, "titolo")) for s in services]
    form.servizi.description = _l("Solo servizi che usano il questionario scelto. Per sceglierne più d'uno: "
                                  "Ctrl (o Cmd) e clic; con la tastiera, Maiuscolo e frecce per voci di seguito, "
                                  "Ctrl e frecce poi Ctrl e spazio per voci sparse.")
    form.campione_obiettivo.description = PLANNER_HELP
    return form


def _edit_form(campaign: Rilevazione) -> CampaignForm:
    form = CampaignForm(obj=None if request.method == "POST" else campaign)
    form.campaign = campaign
    services = db.session.scalars(select(Servizio).where(Servizio.questionario_id == campaign.questionario_id)
                                  .order_by(Servizio.nome_it)).all()
    services += [s for s in campaign.servizi if s not in services]  # one moved to another questionnaire since
    form.services = {s.slug: s for s in services}
    form.servizi.choices = [_service_choice(s) for s in services]
    form.campione_obiettivo.description = _("%(help)s Per i servizi attuali: %(n)d.", help=PLANNER_HELP,
                                            n=planned(campaign.servizi))
    if request.method == "GET":
        form.servizi.data = [s.slug for s in campaign.servizi]
    return form


def _rows(campaigns: list[Rilevazione]) -> list[dict]:
    """Each campaign with its state and the questionnaires linked to it, per service and in all."""
    today, counts = local_today(), {}
    for campaign_id, servizio_id, n in db.session.execute(
            select(Compilazione.rilevazione_id, Compilazione.servizio_id, func.count())
            .where(Compilazione.rilevazione_id.in_([c.id for c in campaigns]))
            .group_by(Compilazione.rilevazione_id, Compilazione.servizio_id)):
        counts.setdefault(campaign_id, {})[servizio_id] = n
    rows = []
    for c in campaigns:
        per_service = counts.get(c.id, {})
        total = sum(per_service.values())
        rows.append({"campaign": c, "state": state(c, today), "state_label": STATES[state(c, today)],
                     "can_close": c.data_inizio <= today < c.data_fine,
                     "services": [(s, per_service.get(s.id, 0)) for s in c.servizi], "total": total,
                     "pct": total / c.campione_obiettivo * 100 if c.campione_obiettivo else None})
    return rows


def _snapshot(c: Rilevazione) -> dict:
    return {"titolo": c.titolo, "servizi": [s.slug for s in c.servizi], "data_inizio": c.data_inizio.isoformat(),
            "data_fine": c.data_fine.isoformat(), "campione_obiettivo": c.campione_obiettivo}


def _audit(action: str, campaign: Rilevazione, details: dict) -> None:
    db.session.add(AuditLog(utente_id=current_user.id, azione=f"rilevazione.{action}",
                            oggetto=f"rilevazione {campaign.codice}"[:200], dettagli=details))


def _apply(form: CampaignForm, campaign: Rilevazione) -> str | None:
    """Copy the form onto the campaign; an empty target is the planner's, and the message that says so is returned."""
    campaign.titolo, campaign.servizi = form.titolo.data, sorted(form.chosen(), key=lambda s: s.slug)
    campaign.data_inizio, campaign.data_fine = form.data_inizio.data, form.data_fine.data
    campaign.campione_obiettivo = form.campione_obiettivo.data
    if campaign.campione_obiettivo is not None:
        return None
    campaign.campione_obiettivo = planned(campaign.servizi) or None
    missing = ", ".join(s.nome_it for s in campaign.servizi if not s.utenti_annui)
    if campaign.campione_obiettivo is None:
        return _("Nessun servizio scelto ha gli utenti annui: il campione obiettivo resta da indicare.")
    if missing:
        return _("Campione obiettivo calcolato dal pianificatore: %(n)s questionari (esclusi i servizi senza utenti "
                 "annui: %(missing)s).", n=format_decimal(campaign.campione_obiettivo), missing=missing)
    # As the table beside it writes it: "1.404", not "1404".
    return _("Campione obiettivo calcolato dal pianificatore: %(n)s questionari.",
             n=format_decimal(campaign.campione_obiettivo))


@bp.route("/rilevazioni/", methods=["GET", "POST"])
@roles_required(*ADMINS)
def campaigns():
    form = _new_form()
    if request.method == "POST" and form.validate_on_submit():
        campaign = Rilevazione(codice=form.codice.data, questionario_id=form.questionnaire().id)
        planner = _apply(form, campaign)
        db.session.add(campaign)
        _audit("crea", campaign, {"questionario": form.questionario.data, **_snapshot(campaign)})
        try:
            db.session.flush()
            link_answers(db.session.connection(), [campaign.id])  # answers already given in its days
            db.session.commit()
        except IntegrityError:  # the same code saved meanwhile by someone else
            db.session.rollback()
            form.codice.errors = [*form.codice.errors, _("Esiste già una rilevazione con questo codice.")]
        else:
            flash(_("Rilevazione «%(title)s» creata.", title=campaign.titolo), "success")
            if planner:
                flash(planner, "info")
            return redirect(url_for(".campaigns"))
    rows = _rows(db.session.scalars(select(Rilevazione).order_by(Rilevazione.data_inizio.desc(),
                                                                 Rilevazione.id.desc())).all())
    status = 400 if request.method == "POST" else 200
    return render_template("staff/campaigns/index.html", rows=rows, form=form), status


@bp.route("/rilevazioni/<int:campaign_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def campaign(campaign_id: int):
    campaign = db.get_or_404(Rilevazione, campaign_id)
    form = _edit_form(campaign)
    if request.method == "POST" and form.validate_on_submit():
        before = _snapshot(campaign)
        planner = _apply(form, campaign)
        after = _snapshot(campaign)
        if before != after:
            _audit("modifica", campaign, {"prima": before, "dopo": after})
            db.session.flush()
            link_answers(db.session.connection(), [campaign.id])  # a service or days added: their answers
        db.session.commit()
        flash(_("Rilevazione «%(title)s» aggiornata.", title=campaign.titolo), "success")
        if planner:
            flash(planner, "info")
        return redirect(url_for(".campaign", campaign_id=campaign.id))
    return render_template("staff/campaigns/edit.html", row=_rows([campaign])[0], form=form), \
        400 if request.method == "POST" else 200


@bp.post("/rilevazioni/<int:campaign_id>/chiudi")
@roles_required(*ADMINS)
def close_campaign(campaign_id: int):
    campaign = db.get_or_404(Rilevazione, campaign_id)
    today = local_today()
    current = state(campaign, today)
    if not confirmed():
        return redirect(url_for(".campaign", campaign_id=campaign.id))
    if current == "in_corso" and campaign.data_fine > today:
        _audit("chiudi", campaign, {"prima": {"data_fine": campaign.data_fine.isoformat()},
                                    "dopo": {"data_fine": today.isoformat()}})
        campaign.data_fine = today
        db.session.commit()
        flash(_("Rilevazione «%(title)s» chiusa oggi.", title=campaign.titolo), "success")
    elif current == "programmata":
        flash(_("La rilevazione non è ancora iniziata: non si può chiudere prima dell'inizio, si può eliminare."),
              "error")
    else:
        flash(_("La rilevazione è già chiusa o finisce oggi."), "info")
    return redirect(url_for(".campaign", campaign_id=campaign.id))


@bp.post("/rilevazioni/<int:campaign_id>/elimina")
@roles_required(*ADMINS)
def delete_campaign(campaign_id: int):
    campaign = db.get_or_404(Rilevazione, campaign_id)
    answers = db.session.scalar(select(func.count()).select_from(Compilazione)
                                .where(Compilazione.rilevazione_id == campaign.id))
    if not confirmed():
        return redirect(url_for(".campaign", campaign_id=campaign.id))
    if answers:
        flash(ngettext("La rilevazione ha già %(num)d questionario: non si può eliminare.",
                       "La rilevazione ha già %(num)d questionari: non si può eliminare.", answers), "error")
    elif state(campaign, local_today()) == "in_corso":
        flash(_("La rilevazione è in corso: si può chiudere, non eliminare."), "error")
    else:
        title = campaign.titolo
        _audit("elimina", campaign, {"questionario": campaign.questionario.codice, **_snapshot(campaign)})
        db.session.delete(campaign)
        db.session.commit()
        flash(_("Rilevazione «%(title)s» eliminata.", title=title), "success")
        return redirect(url_for(".campaigns"))
    return redirect(url_for(".campaign", campaign_id=campaign.id))
