"""The kiosk's two forms: the tap (only its CSRF token) and the reasons after a red face."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..models import Domanda
from ..public.forms import ChoiceField, MultiCheckboxField


class TapForm(FlaskForm):
    """Only the CSRF token: the face comes from the button that was pressed."""


def reasons_form(question: Domanda, lang: str) -> FlaskForm:
    """Checkboxes for a multiple choice, radio buttons for a single one; unknown codes are refused."""
    choices = [SelectChoice(o.codice, o.said("testo", lang)) for o in question.opzioni]
    field_class = MultiCheckboxField if question.tipo == "scelta_multipla" else ChoiceField

    class ReasonsForm(FlaskForm):
        motivi = field_class(question.testo(lang), choices=choices, validators=[Optional()])

    return ReasonsForm()
