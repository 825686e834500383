"""The admin's page for the firms' API tokens: list, create (the secret shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import ApiToken, Servizio, User
from ..staff.access import confirmed, named_choice, roles_required
from ..staff.forms import ServicesField
from ..transparency.formatting import plain_text
from .auth import TokenError, create_token, revoke_token

bp = Blueprint("api_tokens", __name__, url_prefix="/staff/token-api")


class TokenForm(FlaskForm):
    nome = StringField(_l("Nome del token"), validators=[DataRequired(_l("Indicare un nome.")), Length(max=120),
                                                              plain_text],
                       description=_l("Per esempio: «Demoskopika, sistema CATI»."))
    societa = StringField(_l("Società di rilevazione"), validators=[DataRequired(_l("Indicare la società.")),
                                                                    Length(max=200), plain_text],
                          description=_l("Lo stesso nome dei suoi account: lotti e identificativi sono condivisi."))
    servizi = ServicesField(_l("Servizi per cui può inviare dati"),
                                  validators=[DataRequired(_l("Scegliere almeno un servizio."))],
                                  description=_l("Per sceglierne più d'uno: Ctrl (o Cmd) e clic; con la tastiera, "
                                                 "Maiuscolo e frecce per voci di seguito, Ctrl e frecce poi Ctrl e "
                                                 "spazio per voci sparse."))


def _form(blank: bool = False) -> TokenForm:
    """The form, read from the request unless ``blank`` (after a token is made: kept filled, it invited a copy)."""
    form = TokenForm(formdata=None) if blank else TokenForm()
    form.servizi.choices = [named_choice(s.slug, s, "nome", f" ({s.slug})")
                            for s in db.session.scalars(select(Servizio).order_by(Servizio.nome_it))]
    return form


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    tokens = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
    firms = sorted(set(db.session.scalars(select(User.societa).where(User.societa.is_not(None))))
                   | {t.fonte for t in tokens})
    response = render_template("staff/api_tokens.html", form=form, tokens=tokens, firms=firms, secret=secret)
    # The page that shows a new secret must not stay in a cache.
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/")
@roles_required("admin")
def index():
    return _page(_form())


@bp.post("/")
@roles_required("admin")
def create():
    form = _form()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        token, secret = create_token(db.session, form.nome.data, form.societa.data, form.servizi.data,
                                     user=current_user)
    except TokenError as exc:
        form.nome.errors = [str(exc)]
        return _page(form, status=400)
    flash(_("Creato il token %(id)d per %(firm)s: copiarlo ora, non sarà più mostrato.", id=token.id,
            firm=token.fonte), "success")
    return _page(_form(blank=True), secret=secret)


@bp.post("/<int:token_id>/revoca")
@roles_required("admin")
def revoke(token_id: int):
    if db.session.get(ApiToken, token_id) is None:
        abort(404)
    if not confirmed():
        return redirect(url_for(".index"))
    try:
        revoke_token(db.session, token_id, user=current_user)
    except TokenError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Token %(id)d revocato: le richieste con esso ricevono ora 401.", id=token_id), "success")
    return redirect(url_for(".index"))
