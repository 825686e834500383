from __future__ import annotations

import hmac
import time

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, login_manager
from ..models import ROLES_SEEING_ALL, AuditLog, Servizio, Ufficio, User
from ..models.base import utcnow
from ..ratelimit import account_attempt, account_success
from ..urls import safe_local_url
from ..users.passwords import guessable
from . import bp
from .forms import LoginForm, PasswordForm

# Checked for unknown e-mails too, so that a wrong address takes as long as a wrong password.
DUMMY_HASH = generate_password_hash("no account has this password")


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    """The cookie names the account and its session token: a token renewed since (logout, new password) is void."""
    user_id, _sep, token = cookie_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.attivo or not user.token_sessione \
            or not hmac.compare_digest(user.token_sessione, token):
        if user is not None and has_request_context() and request.path.startswith("/staff/"):
            # Said once on the login page it leads to (it came without a word): the cookie is dropped with it.
            session.pop("_user_id", None)
            flash(_("La sessione è terminata: la password è stata cambiata o reimpostata, oppure l'account è stato "
                    "modificato o disattivato. Accedere di nuovo."), "info")
        return None
    return user


@bp.before_app_request
def session_timeout():
    """A staff session ends after a while idle and after a working day, whatever the cookie says."""
    if "_user_id" not in session:
        return None
    now = time.time()
    config = current_app.config
    if now - session.get("visto", 0) > config["STAFF_IDLE_MINUTES"] * 60 \
            or now - session.get("dal", 0) > config["STAFF_SESSION_HOURS"] * 3600:
        logout_user()
        _fresh_session()
        flash(_("La sessione è scaduta: accedere di nuovo."), "info")
        return None
    if now - session.get("visto", 0) > 60:
        session["visto"] = now
    return None


def _fresh_session() -> None:
    """A new session (and CSRF token) keeping only the language."""
    lang = session.get("lang")
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the signed token per app context
    if lang:
        session["lang"] = lang


def visible_services():
    """A Select of the services the current user may see: all for admin/trasparenza, else their scope."""
    # The pages name each service's ufficio and ente: loaded with it, not one query per service.
    query = select(Servizio).options(joinedload(Servizio.ufficio).joinedload(Ufficio.ente)).order_by(Servizio.nome_it)
    if current_user.ruolo not in ROLES_SEEING_ALL:
        query = query.where(Servizio.id.in_([s.id for s in current_user.servizi]))
    return query


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        if not account_attempt():
            abort(429)  # the login page says why (errors.handle)
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).filter_by(email=email))
        valid = check_password_hash(user.password_hash if user else DUMMY_HASH, form.password.data)
        if user is not None and user.attivo and valid:
            account_success()
            _fresh_session()
            if not user.token_sessione:
                user.end_sessions()
            user.ultimo_accesso = utcnow()
            db.session.add(AuditLog(utente_id=user.id, azione="accesso", oggetto=f"utente {user.email}"))
            db.session.commit()
            login_user(user)
            session.permanent = True
            session["dal"] = session["visto"] = time.time()
            return redirect(safe_local_url(request.args.get("next"), url_for("staff.dashboard")))
        db.session.add(AuditLog(utente_id=user.id if user else None, azione="accesso.fallito",
                                oggetto=f"email {email}"[:200]))
        db.session.commit()
        flash(_("Email o password non corretti."), "error")
    return render_template("staff/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():
    """The session ends here and on every copy of its cookie (the account's session token is renewed)."""
    current_user.end_sessions()
    db.session.add(AuditLog(utente_id=current_user.id, azione="uscita", oggetto=f"utente {current_user.email}"))
    db.session.commit()
    logout_user()
    _fresh_session()
    # Said on the login page, so that whoever sits next at a shared PC sees the session is closed.
    flash(_("Sessione chiusa. Per rientrare nell'area riservata, accedi di nuovo."), "success")
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Every account, survey firms included, changes its own password (the current one asked again)."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.attuale.data):
            form.attuale.errors = [_("La password attuale non è corretta.")]
        elif form.nuova.data == form.attuale.data:
            form.nuova.errors = [_("La nuova password deve essere diversa da quella attuale.")]
        elif guessable(db.session, form.nuova.data, current_user.email):
            form.nuova.errors = [_("La nuova password è facile da indovinare (parole comuni, sequenze, ripetizioni, "
                                   "date o il proprio indirizzo email): usare una frase di tre o quattro parole "
                                   "non ovvie, o una password generata da un gestore di password.")]
        else:
            user = current_user._get_current_object()
            user.set_password(form.nuova.data)  # every other session of the account ends…
            db.session.add(AuditLog(utente_id=user.id, azione="utente.password", oggetto=f"utente {user.email}"))
            db.session.commit()
            login_user(user)  # …this one goes on, with the new session token
            flash(_("Password cambiata."), "success")
            return redirect(url_for("staff.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/password.html", form=form), status
