"""The admin's questionnaire pages: the shipped sets, their versions, and the wording of their questions.

Saving goes through the catalogue loader's own ``apply_questionnaire``: while the current version has no answers
it is updated; once it has answers, the new wording makes a new version and the answered one stays as it was.
Structure (questions, types, options, branching) changes only through the YAML and ``flask catalogue load``.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from wtforms import FieldList, Form, FormField, HiddenField, StringField, TextAreaField

from ..catalogue import LoadReport, apply_questionnaire
from ..catalogue.export import questionnaire_entry
from ..catalogue.schema import QuestionarioIn
from ..extensions import db
from ..models import Compilazione, Questionario, QuestionarioVersione, Servizio
from . import bp
from .access import ADMINS, roles_required
from .catalogue_forms import audit, judge, length, optional, strip

TEXTS = ("testo", "aiuto")


class QuestionTextForm(Form):
    """The wording of one question; its place, type and options are the YAML's."""

    codice = HiddenField()  # which question the page showed here, in case the YAML changed them since
    testo_it = TextAreaField(_l("Testo (italiano)"), filters=[strip])
    testo_en = TextAreaField(_l("Testo (inglese)"), filters=[strip],
                             description=_l("Facoltativo: se manca, in inglese si mostra il testo italiano."))
    aiuto_it = TextAreaField(_l("Aiuto (italiano)"), filters=[strip],
                             description=_l("Facoltativo: la nota sotto la domanda."))
    aiuto_en = TextAreaField(_l("Aiuto (inglese)"), filters=[strip], description=_l("Facoltativo."))


class QuestionnaireForm(FlaskForm):
    titolo_it = StringField(_l("Titolo (italiano)"), filters=[strip], validators=[length(200)])
    titolo_en = StringField(_l("Titolo (inglese)"), filters=[strip], validators=[length(200)],
                            description=_l("Facoltativo."))
    introduzione_it = TextAreaField(_l("Introduzione (italiano)"), filters=[strip], description=_l("Facoltativa."))
    introduzione_en = TextAreaField(_l("Introduzione (inglese)"), filters=[strip], description=_l("Facoltativa."))

    entry: dict
    model: QuestionarioIn | None = None

    def edited(self) -> dict:
        """The current questionnaire as the YAML holds it, with the wording from the form."""
        def pair(it, en, required: bool = False) -> dict | None:
            return None if not (it or en or required) else {"it": it or "", "en": optional(en)}

        entry = {**self.entry, "titolo": {"it": self.titolo_it.data or "", "en": optional(self.titolo_en.data)},
                 "introduzione": pair(self.introduzione_it.data, self.introduzione_en.data)}
        entry["domande"] = [{**question, **{name: pair(sub[f"{name}_it"].data, sub[f"{name}_en"].data,
                                                       required=name == "testo") for name in TEXTS}}
                            for question, sub in zip(self.entry["domande"], self.domande, strict=True)]
        entry["domande"] = [{k: v for k, v in q.items() if v is not None} for q in entry["domande"]]
        return {k: v for k, v in entry.items() if v is not None}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if [sub.codice.data for sub in self.domande] != [q["codice"] for q in self.entry["domande"]]:
            self.form_errors.append(_("Le domande del questionario sono cambiate dopo l'apertura di questa pagina: "
                                      "ricaricarla e ripetere le modifiche."))
            return False
        where = {("titolo",): self.titolo_it, ("titolo", "en"): self.titolo_en,
                 ("introduzione",): self.introduzione_it, ("introduzione", "en"): self.introduzione_en}
        for i, sub in enumerate(self.domande):
            where |= {("domande", i): sub.testo_it, ("domande", i, "testo"): sub.testo_it,
                      ("domande", i, "testo", "en"): sub.testo_en, ("domande", i, "aiuto"): sub.aiuto_it,
                      ("domande", i, "aiuto", "en"): sub.aiuto_en}
        self.model = judge(QuestionarioIn, self.edited(), where, self.titolo_it)
        return ok and self.model is not None


def _form(questionario: Questionario) -> QuestionnaireForm:
    """A form with one set of wording fields per question of the current version, never more nor fewer."""
    entry = questionnaire_entry(questionario)
    entry.setdefault("domande", [])
    n = len(entry["domande"])
    form_class = type("EditQuestionnaireForm", (QuestionnaireForm,),
                      {"domande": FieldList(FormField(QuestionTextForm), min_entries=n, max_entries=n)})
    if request.method == "POST":
        form = form_class()
    else:
        def fields(item: dict, names) -> dict[str, str]:
            return {f"{name}_{lang}": (item.get(name) or {}).get(lang) or "" for name in names for lang in ("it", "en")}

        data = {**fields(entry, ("titolo", "introduzione")),
                "domande": [{"codice": q["codice"], **fields(q, TEXTS)} for q in entry["domande"]]}
        form = form_class(formdata=None, data=data)
    form.entry = entry
    return form


def _answers(version: QuestionarioVersione | None) -> int:
    if version is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Compilazione)
                             .where(Compilazione.versione_id == version.id))


def _wording(entry: dict) -> dict:
    """Title, introduction and each question's texts, for the audit's before and after."""
    return {"titolo": entry.get("titolo"), "introduzione": entry.get("introduzione"),
            "domande": {q["codice"]: {name: q.get(name) for name in TEXTS} for q in entry["domande"]}}


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what changed: the audit stays readable on a long questionnaire."""
    old, new = {}, {}
    for key in ("titolo", "introduzione"):
        if before[key] != after[key]:
            old[key], new[key] = before[key], after[key]
    codes = [c for c in after["domande"] if before["domande"].get(c) != after["domande"][c]]
    if codes:
        old["domande"] = {c: before["domande"].get(c) for c in codes}
        new["domande"] = {c: after["domande"][c] for c in codes}
    return old, new


def _save(questionario: Questionario, form: QuestionnaireForm) -> bool:
    """Apply the wording as the load would, audit and commit, and say which way the version went."""
    before, report = _wording(form.entry), LoadReport()
    number = questionario.versione_corrente.numero if questionario.versione_corrente else 0
    try:
        apply_questionnaire(db.session, report, form.model)
        old, new = _changes(before, _wording(questionnaire_entry(questionario)))
        if not old and not new:
            flash(_("Nessuna modifica da salvare."), "info")
            return True
        current = questionario.versione_corrente.numero
        audit("questionario.modifica", f"questionario {questionario.codice}",
              {"prima": old, "dopo": new, "versione": {"prima": number, "dopo": current},
               "nuova_versione": bool(report.created["versioni"])})
        db.session.commit()
    except IntegrityError:  # someone else made the same new version meanwhile
        db.session.rollback()
        form.form_errors.append(_("Il questionario è stato salvato da qualcun altro nel frattempo: ricaricare la "
                                  "pagina e ripetere le modifiche."))
        return False
    if report.created["versioni"]:
        flash(_("Salvato nella nuova versione %(new)d: la versione %(old)d ha già risposte e resta com'era, "
                "con le domande a cui quelle risposte si riferiscono.", new=current, old=number), "success")
    elif report.updated["versioni"]:
        flash(_("Versione %(n)d aggiornata: non aveva ancora risposte.", n=current), "success")
    else:
        flash(_("Titolo e introduzione aggiornati; le domande non sono cambiate."), "success")
    return True


@bp.route("/catalogo/questionari/")
@roles_required(*ADMINS)
def catalogue_questionnaires():
    questionnaires = db.session.scalars(select(Questionario).order_by(Questionario.titolo_it)).all()
    used = dict(db.session.execute(select(Servizio.questionario_id, func.count())
                                   .group_by(Servizio.questionario_id)).all())
    kiosk = dict(db.session.execute(select(Servizio.questionario_chiosco_id, func.count())
                                    .group_by(Servizio.questionario_chiosco_id)).all())
    rows = [{"q": q, "version": q.versione_corrente, "questions": len(q.versione_corrente.domande)
             if q.versione_corrente else 0, "answers": _answers(q.versione_corrente),
             "services": used.get(q.id, 0), "kiosks": kiosk.get(q.id, 0)} for q in questionnaires]
    return render_template("staff/catalogue/questionnaires.html", rows=rows)


@bp.route("/catalogo/questionari/<code>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def catalogue_questionnaire(code: str):
    questionario = db.first_or_404(select(Questionario).filter_by(codice=code))
    version = questionario.versione_corrente
    answers = _answers(version)
    form = _form(questionario)
    if request.method == "POST" and form.validate_on_submit() and _save(questionario, form):
        return redirect(url_for(".catalogue_questionnaire", code=code))
    questions = list(version.domande) if version else []
    return render_template("staff/catalogue/questionnaire.html", questionario=questionario, version=version,
                           answers=answers, form=form, questions=list(zip(questions, form.domande, strict=True))), \
        400 if request.method == "POST" else 200
