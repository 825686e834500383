"""A WTForms form built from a questionnaire version, one field per question."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from babel import support
from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Domanda, QuestionarioVersione
from .lookup import CurrentVersion

NON_SO = "ns"
MAX_KEPT_FORMS = 256  # versions × languages a process keeps built; past that it starts again
DEFAULT_TEXT_LIMIT = 2000


INVALID_CHOICE = _l("Risposta non ammessa: scegli una delle risposte proposte.")


class ChoiceField(RadioField):
    """Radio buttons whose out-of-range values are refused in the interface's language."""

    def pre_validate(self, form) -> None:
        if self.data is not None and self.data not in {c.value for c in self.choices}:
            raise ValidationError(INVALID_CHOICE)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        allowed = {c.value for c in self.choices}
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(INVALID_CHOICE)


def field_name(domanda: Domanda) -> str:
    return domanda.codice


def importance_name(domanda: Domanda) -> str:
    return f"{domanda.codice}__importanza"


def _scale_choices(domanda: Domanda) -> list[SelectChoice]:
    if domanda.tipo == "faccine":
        return [SelectChoice(str(v), FACE_LABELS[v]) for v in (3, 2, 1)]
    if domanda.tipo == "si_no":
        return [SelectChoice("1", _l("Sì")), SelectChoice("0", _l("No"))]
    choices = [SelectChoice(str(v), str(v)) for v in range(domanda.scala_min, domanda.scala_max + 1)]
    if domanda.non_so:
        choices.append(SelectChoice(NON_SO, _l("Non so")))
    return choices


FACE_LABELS = {
    3: _l("Faccina verde: soddisfatto"),
    2: _l("Faccina gialla: né soddisfatto né insoddisfatto"),
    1: _l("Faccina rossa: non soddisfatto"),
}


@cache
def _wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages in one language, read once per process: Flask-WTF reads the catalogue again on every
    request, which was a tenth of the submit path's time."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class CachedTranslationsMeta(FlaskForm.Meta):
    def get_translations(self, form):
        if not current_app.config.get("WTF_I18N_ENABLED", True):
            return super().get_translations(form)
        return _wtforms_translations(str(get_locale() or "it"))


def _one_break(text: str | None) -> str | None:
    return text.replace("\r\n", "\n") if text else text


def build_form_class(domande: list[Domanda], lang: str) -> type[FlaskForm]:
    """One form class per questionnaire version and language."""

    class QuestionnaireForm(FlaskForm):
        class Meta(CachedTranslationsMeta):
            # CSRFProtect checks every POST before any view runs (a failure is a 400), so a field of the form's own
            # would sign a token on every form built and check it a second time; the page puts csrf_token() in.
            csrf = False

        # Honeypot: hidden from people, filled in by naive bots. A filled honeypot stores nothing.
        sito_web = StringField(validators=[Optional()])
        # One-time token: a second POST with the same token (reload, back button) stores nothing.
        form_token = HiddenField()

    for domanda in domande:
        label = domanda.testo(lang)
        if domanda.tipo in ("scala", "faccine", "nps", "si_no"):
            field = ChoiceField(label, choices=_scale_choices(domanda), validators=[Optional()])
        elif domanda.tipo == "scelta_singola":
            field = ChoiceField(label, choices=[SelectChoice(o.codice, o.said("testo", lang)) for o in domanda.opzioni],
                               validators=[Optional()])
        elif domanda.tipo == "scelta_multipla":
            field = MultiCheckboxField(label, choices=[SelectChoice(o.codice, o.said("testo", lang))
                                                       for o in domanda.opzioni], validators=[Optional()])
        else:
            limit = domanda.max_lunghezza or DEFAULT_TEXT_LIMIT
            # A browser counts a line break as one character against maxlength and sends it as two (CRLF): kept
            # as one, so that what the browser let through is not refused here.
            field = TextAreaField(label, filters=[_one_break], validators=[Optional(), Length(max=limit, message=_l(
                "Il testo può contenere al massimo %(max)d caratteri.", max=limit))])
        setattr(QuestionnaireForm, field_name(domanda), field)
        if domanda.importanza:
            setattr(QuestionnaireForm, importance_name(domanda), ChoiceField(
                _l("Quanto è importante per te questo aspetto?"),
                choices=[SelectChoice(str(v), str(v)) for v in range(1, 6)], validators=[Optional()]))
    return QuestionnaireForm


def answers_by_code(form: FlaskForm, domande: list[Domanda]) -> dict[str, Any]:
    """The submitted values keyed by question code, for branching."""
    return {d.codice: form[field_name(d)].data for d in domande}


def check_required(form: FlaskForm, domande: list[Domanda]) -> bool:
    """Required questions must be answered when shown; adds messages next to the fields."""
    answers = answers_by_code(form, domande)
    ok = True
    for domanda in domande:
        value = answers[domanda.codice]
        if domanda.obbligatoria and domanda.shown_for(answers) and value in (None, "", []):
            form[field_name(domanda)].errors = [*form[field_name(domanda)].errors,
                                                 str(_l("Questa domanda richiede una risposta."))]
            ok = False
    return ok



QUESTION_FIELD = re.compile(r"^[A-Z][A-Z0-9_]*(__importanza)?$")


def unknown_answers(form: FlaskForm, submitted) -> list[str]:
    """Posted names shaped like question codes that this questionnaire does not have."""
    return sorted(name for name in submitted if QUESTION_FIELD.match(name) and name not in form)


def blank_questions_html(versione: QuestionarioVersione | CurrentVersion, lang: str, form: FlaskForm,
                         domande: list[Domanda]) -> Markup:
    """The questions of a blank form as HTML, rendered once per version and language: on a GET nothing in them
    depends on the request (the tokens, the channel and the counter are outside them), and rendering the fields is
    most of the page's time."""
    pages = current_app.extensions.setdefault("questionnaire_html", {})
    key = (versione.id, versione.impronta, lang)
    html = pages.get(key)
    if html is None:
        if len(pages) >= MAX_KEPT_FORMS:
            pages.clear()
        html = render_template("public/_questions.html", form=form, domande=domande, lang=lang)
        html = pages[key] = Markup(html)  # noqa: S704 (an autoescaping template's output)
    return html


def questionnaire_form(engine, versione: QuestionarioVersione | CurrentVersion,
                       lang: str) -> tuple[list[Domanda], type[FlaskForm]]:
    """A version's questions and its form class, built once per process and language.

    The questions are read in a session of their own and kept detached, read-only, for every request. The key
    carries the version's fingerprint, which changes whenever its questions change (an unanswered version edited in
    place); an answered version never changes. Kept per app, so apps on different databases never share one.
    """
    forms = current_app.extensions.setdefault("questionnaire_forms", {})
    key = (versione.id, versione.impronta, lang)
    found = forms.get(key)
    if found is None:
        with Session(engine) as session:
            domande = list(session.scalars(
                select(Domanda).filter_by(versione_id=versione.id).options(selectinload(Domanda.opzioni))
                .order_by(Domanda.posizione)))
        if len(forms) >= MAX_KEPT_FORMS:
            forms.clear()
        found = forms[key] = (domande, build_form_class(domande, lang))
    return found
