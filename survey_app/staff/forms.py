from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .selection import FIRST_YEAR, LAST_YEAR

FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)


def plausible_day(form, field) -> None:
    """A date of a real programme or campaign: 1900 or 9999 were saved (9999-12-31 then broke every later save of
    a campaign: the day after it does not exist)."""
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_l("Indicare una data tra il %(first)s e il %(last)s.",
                                 first=FIRST_DAY.strftime("%d/%m/%Y"), last=LAST_DAY.strftime("%d/%m/%Y")))


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
