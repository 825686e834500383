from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, FieldList, FormField, PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .selection import FIRST_YEAR, LAST_YEAR

FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)


class ServicesField(SelectMultipleField):
    """A choice of services: each once (one sent twice was recorded twice), and a value not offered named in
    Italian (WTForms' Italian has no words for it: "'nope' is not a valid choice for this field")."""

    def process_formdata(self, valuelist):
        super().process_formdata(list(dict.fromkeys(valuelist)))

    def pre_validate(self, form) -> None:
        offered = {str(choice[0]) for choice in self.iter_choices()}
        unknown = [value for value in self.data or [] if str(value) not in offered]
        if unknown:
            raise ValidationError(_l("Servizio non tra quelli proposti: «%(value)s».", value=str(unknown[0])[:40]))


def plausible_day(form, field) -> None:
    """A date of a real programme or campaign: 1900 or 9999 were saved (9999-12-31 then broke every later save of
    a campaign: the day after it does not exist)."""
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_l("Indicare una data tra il %(first)s e il %(last)s.",
                                 first=FIRST_DAY.strftime("%d/%m/%Y"), last=LAST_DAY.strftime("%d/%m/%Y")))


def form_error_list(form) -> list[tuple[str | None, str]]:
    """A form's errors for the summary above it (templates: staff/_field.html): the form's own, then each field's
    (a list's entries' fields too) with the field's id, its name put before a message that does not start with it."""
    found: list[tuple[str | None, str]] = [(None, str(message)) for message in getattr(form, "form_errors", ())]

    def walk(fields) -> None:
        for field in fields:
            if field.name == "csrf_token" or field.name.endswith("-csrf_token"):
                continue
            if isinstance(field, FieldList | FormField):
                walk(field)
                continue
            for error in field.errors:
                label = str(field.label.text)
                text = str(error)
                found.append((field.id, text if text.startswith(label) else f"{label}: {text}"))

    walk(form)
    return found


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class PasswordForm(FlaskForm):
    attuale = PasswordField(_l("Password attuale"), validators=[DataRequired(_l("Inserire la password attuale."))])
    nuova = PasswordField(_l("Nuova password"), description=_l("Almeno 12 caratteri, non facili da indovinare: per esempio una frase di tre o quattro parole."),
                          validators=[DataRequired(_l("Inserire la nuova password.")),
                                      Length(min=12, max=200, message=_l("La nuova password è troppo corta: servono almeno 12 caratteri."))])
    # The same length as the new password's box: a long paste cut in one box and not the other read as a mismatch.
    conferma = PasswordField(_l("Ripeti la nuova password"),
                             validators=[Length(max=200), EqualTo("nuova", message=_l("Le due password non coincidono."))])
