"""The admin's catalogue pages: services with their counters (sedi) and carta dei servizi standards.

The pages are where the catalogue is edited; ``flask catalogue export`` writes it back to YAML (docs/catalogue.md,
"Which source wins"). Every write is audited with what was and what is. A counter with answers is never deleted
(the answers point at it), and its code stays: the printed QR posters and the data carry it.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from wtforms import Field

from ..catalogue.checks import published_past_years
from ..catalogue.schema import years_text
from ..extensions import db
from ..models import AzioneMiglioramento, Compilazione, Ente, Questionario, Sede, Servizio, Standard, Ufficio
from ..transparency.formatting import local_today
from . import bp
from .access import ADMINS, confirmed, roles_required
from .catalogue_forms import (
    INDICATORS,
    NewServiceForm,
    SedeForm,
    ServiceForm,
    StandardForm,
    audit,
)


def _questionnaires() -> list[Questionario]:
    return db.session.scalars(select(Questionario).order_by(Questionario.titolo_it)).all()


def _service(slug: str) -> Servizio:
    return db.first_or_404(select(Servizio).filter_by(slug=slug))


def _part(model: type, part_id: int, servizio: Servizio):
    obj = db.session.get(model, part_id)
    if obj is None or obj.servizio_id != servizio.id:
        abort(404)
    return obj


def _answers_per_counter(servizio: Servizio) -> dict[int, int]:
    return dict(db.session.execute(select(Compilazione.sede_id, func.count()).where(
        Compilazione.sede_id.in_([s.id for s in servizio.sedi])).group_by(Compilazione.sede_id)).all())


def service_snapshot(s: Servizio) -> dict:
    return {"nome_it": s.nome_it, "nome_en": s.nome_en, "descrizione_it": s.descrizione_it,
            "descrizione_en": s.descrizione_en, "utenti_annui": s.utenti_annui, "questionario": s.questionario.codice,
            "questionario_chiosco": s.questionario_chiosco.codice if s.questionario_chiosco else None}


def sede_snapshot(s: Sede) -> dict:
    return {"codice": s.codice, "nome": s.nome, "indirizzo": s.indirizzo,
            "comune": s.comune.codice if s.comune else None}


def standard_snapshot(s: Standard) -> dict:
    return {"indicatore": s.indicatore, "soglia": float(s.soglia), "domanda": s.domanda_codice or None,
            "descrizione": s.descrizione, "dal": s.anno_dal, "al": s.anno_al}


def _standard_subject(servizio: Servizio, s: Standard) -> str:
    return f"standard {servizio.slug}/{s.indicatore}" + (f"/{s.domanda_codice}" if s.domanda_codice else "") + (
        f" ({years_text(s.anno_dal, s.anno_al)})" if s.anno_dal or s.anno_al else "")


def _service_form(servizio: Servizio, submitted: bool) -> ServiceForm:
    if submitted:
        return ServiceForm().setup(servizio, _questionnaires())
    snapshot = service_snapshot(servizio)
    data = {**snapshot, "utenti_annui": str(servizio.utenti_annui or ""),
            "questionario_chiosco": snapshot["questionario_chiosco"] or ""}
    return ServiceForm(formdata=None, data=data).setup(servizio, _questionnaires())


def _render_service(servizio: Servizio, service_form: ServiceForm | None = None, sede_form: SedeForm | None = None,
                    standard_form: StandardForm | None = None, status: int = 200):
    version = servizio.questionario.versione_corrente
    return render_template(
        "staff/catalogue/service.html", servizio=servizio, answers=_answers_per_counter(servizio),
        questions={d.codice: d for d in (version.domande if version else [])}, indicators=INDICATORS,
        form=service_form or _service_form(servizio, submitted=False),
        sede_form=sede_form or SedeForm(formdata=None).setup(servizio),
        standard_form=standard_form or StandardForm(formdata=None).setup(servizio)), status


@bp.route("/catalogo/", methods=["GET", "POST"])
@roles_required(*ADMINS)
def catalogue():
    offices = db.session.scalars(select(Ufficio).join(Ufficio.ente).order_by(Ente.nome, Ufficio.nome)).all()
    form = NewServiceForm().setup(offices, _questionnaires())
    if request.method == "POST" and form.validate_on_submit():
        m, ufficio = form.model, form.offices[form.ufficio.data]
        servizio = Servizio(slug=m.slug, nome_it=m.nome.it, ufficio=ufficio,
                            questionario=form.questionnaires[m.questionario])
        db.session.add(servizio)
        audit("servizio.crea", f"servizio {servizio.slug}",
              {"ente": ufficio.ente.codice, "ufficio": ufficio.codice, **service_snapshot(servizio)})
        try:
            db.session.commit()
        except IntegrityError:  # the same slug saved meanwhile by someone else
            db.session.rollback()
            form.slug.errors.append(_("%(field)s: esiste già un servizio «%(slug)s».", field=form.slug.label.text,
                                      slug=m.slug))
        else:
            flash(_("Servizio «%(name)s» creato: completarlo qui sotto con sedi e standard.", name=m.nome.it),
                  "success")
            return redirect(url_for(".catalogue_service", slug=servizio.slug))
    groups = [(ente, [(u, u.servizi) for u in sorted(ente.uffici, key=lambda u: u.nome) if u.servizi])
              for ente in db.session.scalars(select(Ente).order_by(Ente.nome))]
    return render_template("staff/catalogue/index.html", groups=[g for g in groups if g[1]], form=form), \
        400 if request.method == "POST" else 200


@bp.route("/catalogo/servizi/<slug>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def catalogue_service(slug: str):
    servizio = _service(slug)
    form = _service_form(servizio, submitted=request.method == "POST")
    if request.method == "POST" and form.validate_on_submit():
        m, before = form.model, service_snapshot(servizio)
        servizio.nome_it, servizio.nome_en = m.nome.it, m.nome.en
        servizio.descrizione_it = m.descrizione.it if m.descrizione else None
        servizio.descrizione_en = m.descrizione.en if m.descrizione else None
        servizio.utenti_annui = m.utenti_annui
        servizio.questionario = form.questionnaires[m.questionario]
        servizio.questionario_chiosco = form.questionnaires.get(m.questionario_chiosco)
        after = service_snapshot(servizio)
        if before == after:
            flash(_("Nessuna modifica da salvare."), "info")
        else:
            audit("servizio.modifica", f"servizio {servizio.slug}", {"prima": before, "dopo": after})
            db.session.commit()
            flash(_("Servizio «%(name)s» aggiornato.", name=servizio.nome_it), "success")
        return redirect(url_for(".catalogue_service", slug=servizio.slug))
    return _render_service(servizio, service_form=form, status=400 if request.method == "POST" else 200)


def _save_part(action: str, subject: str, before: dict | None, after: dict, key: Field) -> bool:
    """Audit and commit one counter or standard.

    False, with the error on ``key`` (the field of its unique key), if the same key was saved meanwhile.
    """
    if before == after:
        flash(_("Nessuna modifica da salvare."), "info")
        return True
    audit(action, subject, {"dopo": after} if before is None else {"prima": before, "dopo": after})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        key.errors.append(_("%(field)s: un altro salvataggio ha appena usato gli stessi valori: riprovare.",
                            field=key.label.text))
        return False
    return True


def _apply_sede(form: SedeForm, sede: Sede) -> None:
    m = form.model
    sede.codice, sede.nome, sede.indirizzo = m.codice, m.nome, m.indirizzo
    sede.comune = form.comuni.get(m.comune) if m.comune else None


@bp.post("/catalogo/servizi/<slug>/sedi")
@roles_required(*ADMINS)
def catalogue_sede_add(slug: str):
    servizio = _service(slug)
    form = SedeForm().setup(servizio)
    if form.validate_on_submit():
        sede = Sede(servizio_id=servizio.id)
        _apply_sede(form, sede)
        db.session.add(sede)
        if _save_part("sede.crea", f"sede {servizio.slug}/{sede.codice}", None, sede_snapshot(sede), form.codice):
            flash(_("Sede «%(name)s» aggiunta.", name=sede.nome), "success")
            return redirect(url_for(".catalogue_service", slug=slug, _anchor="sedi"))
    return _render_service(servizio, sede_form=form, status=400)


@bp.route("/catalogo/servizi/<slug>/sedi/<int:sede_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def catalogue_sede(slug: str, sede_id: int):
    servizio = _service(slug)
    sede = _part(Sede, sede_id, servizio)
    answers = _answers_per_counter(servizio).get(sede.id, 0)
    if request.method == "POST":
        form = SedeForm().setup(servizio, sede, answers)
    else:
        form = SedeForm(formdata=None, data={**sede_snapshot(sede), "comune": sede_snapshot(sede)["comune"] or ""}
                        ).setup(servizio, sede, answers)
    if request.method == "POST" and form.validate_on_submit():
        before = sede_snapshot(sede)
        _apply_sede(form, sede)
        if _save_part("sede.modifica", f"sede {servizio.slug}/{before['codice']}", before, sede_snapshot(sede),
                      form.codice):
            if before != sede_snapshot(sede):
                flash(_("Sede «%(name)s» aggiornata.", name=sede.nome), "success")
            return redirect(url_for(".catalogue_service", slug=slug, _anchor="sedi"))
    return render_template("staff/catalogue/part.html", servizio=servizio, form=form, kind="sede", item=sede,
                           anchor="sedi", answers=answers, heading=_("Sede «%(name)s»", name=sede.nome)), \
        400 if request.method == "POST" else 200


@bp.post("/catalogo/servizi/<slug>/sedi/<int:sede_id>/elimina")
@roles_required(*ADMINS)
def catalogue_sede_delete(slug: str, sede_id: int):
    servizio = _service(slug)
    sede = _part(Sede, sede_id, servizio)
    answers = _answers_per_counter(servizio).get(sede.id, 0)
    if not confirmed():
        return redirect(url_for(".catalogue_service", slug=slug, _anchor="sedi"))
    if answers:
        flash(ngettext("La sede «%(name)s» ha già %(num)d questionario raccolto, che resta collegato a lei: non si "
                       "può eliminare.",
                       "La sede «%(name)s» ha già %(num)d questionari raccolti, che restano collegati a lei: non si "
                       "può eliminare.", answers, name=sede.nome), "error")
    else:
        name = sede.nome
        audit("sede.elimina", f"sede {servizio.slug}/{sede.codice}", {"prima": sede_snapshot(sede)})
        db.session.delete(sede)
        db.session.commit()
        flash(_("Sede «%(name)s» eliminata.", name=name), "success")
    return redirect(url_for(".catalogue_service", slug=slug, _anchor="sedi"))


def _apply_standard(form: StandardForm, standard: Standard) -> None:
    m = form.model
    standard.indicatore, standard.domanda_codice = m.indicatore, m.domanda or ""
    standard.soglia = Decimal(str(m.soglia)).quantize(Decimal("0.01"))  # as the YAML load stores it
    standard.descrizione = m.descrizione
    standard.anno_dal, standard.anno_al = m.dal, m.al


@bp.post("/catalogo/servizi/<slug>/standard")
@roles_required(*ADMINS)
def catalogue_standard_add(slug: str):
    servizio = _service(slug)
    form = StandardForm().setup(servizio)
    if form.validate_on_submit():
        standard = Standard(servizio_id=servizio.id)
        _apply_standard(form, standard)
        db.session.add(standard)
        if _save_part("standard.crea", _standard_subject(servizio, standard), None, standard_snapshot(standard),
                      form.domanda):
            flash(_("Standard aggiunto."), "success")
            return redirect(url_for(".catalogue_service", slug=slug, _anchor="standard"))
    return _render_service(servizio, standard_form=form, status=400)


@bp.route("/catalogo/servizi/<slug>/standard/<int:standard_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def catalogue_standard(slug: str, standard_id: int):
    servizio = _service(slug)
    standard = _part(Standard, standard_id, servizio)
    if request.method == "POST":
        form = StandardForm().setup(servizio, standard)
    else:
        snapshot = standard_snapshot(standard)
        data = {**snapshot, "domanda": snapshot["domanda"] or "", "soglia": f"{standard.soglia.normalize():f}".replace(".", ","),
                "dal": str(standard.anno_dal or ""), "al": str(standard.anno_al or "")}
        form = StandardForm(formdata=None, data=data).setup(servizio, standard)
    if request.method == "POST" and form.validate_on_submit():
        before, subject = standard_snapshot(standard), _standard_subject(servizio, standard)
        _apply_standard(form, standard)
        if _save_part("standard.modifica", subject, before, standard_snapshot(standard), form.domanda):
            if before != standard_snapshot(standard):
                flash(_("Standard aggiornato."), "success")
            return redirect(url_for(".catalogue_service", slug=slug, _anchor="standard"))
    heading = _("Standard: %(indicator)s", indicator=INDICATORS.get(standard.indicatore, standard.indicatore)) + (
        f" · {standard.domanda_codice}" if standard.domanda_codice else "")
    return render_template("staff/catalogue/part.html", servizio=servizio, form=form, kind="standard",
                           item=standard, anchor="standard", heading=heading), 400 if request.method == "POST" else 200


@bp.post("/catalogo/servizi/<slug>/standard/<int:standard_id>/elimina")
@roles_required(*ADMINS)
def catalogue_standard_delete(slug: str, standard_id: int):
    servizio = _service(slug)
    standard = _part(Standard, standard_id, servizio)
    published = [y for y in published_past_years(db.session).get(slug, []) if standard.applies_to(y)]
    if not confirmed():
        return redirect(url_for(".catalogue_service", slug=slug, _anchor="standard"))
    if published:  # those years were published judged by it: deleting it would change their verdicts
        this_year = local_today().year
        flash(ngettext("Lo standard non è stato eliminato: il %(years)s è già pubblicato con questo standard. Per "
                       "non applicarlo più, chiuderlo con «Fino all'anno» %(last)d.",
                       "Lo standard non è stato eliminato: gli anni %(years)s sono già pubblicati con questo "
                       "standard. Per non applicarlo più, chiuderlo con «Fino all'anno» %(last)d.", len(published),
                       years=", ".join(map(str, published)),
                       last=this_year - 1), "error")
        return redirect(url_for(".catalogue_service", slug=slug, _anchor="standard"))
    # The actions it prompted stay, with their indicator and question; SQLite does not enforce ON DELETE SET NULL.
    actions = db.session.execute(update(AzioneMiglioramento).where(AzioneMiglioramento.standard_id == standard.id)
                                 .values(standard_id=None)).rowcount
    audit("standard.elimina", _standard_subject(servizio, standard), {"prima": standard_snapshot(standard)})
    db.session.delete(standard)
    db.session.commit()
    flash(_("Standard eliminato."), "success")
    if actions:
        flash(ngettext("%(num)d azione di miglioramento lo citava: resta, con il suo indicatore e la sua domanda.",
                       "%(num)d azioni di miglioramento lo citavano: restano, con il loro indicatore e la loro "
                       "domanda.", actions), "info")
    return redirect(url_for(".catalogue_service", slug=slug, _anchor="standard"))
