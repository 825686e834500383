from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from ..extensions import db, login_manager
from ..models import ROLES_SEEING_ALL, AuditLog, Compilazione, Servizio, User
from . import bp
from .forms import LoginForm, PasswordForm


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def visible_services():
    """A Select of the services the current user may see: all for admin/trasparenza, else their scope."""
    query = select(Servizio).order_by(Servizio.nome_it)
    if current_user.ruolo not in ROLES_SEEING_ALL:
        query = query.where(Servizio.id.in_([s.id for s in current_user.servizi]))
    return query


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(email=form.email.data.strip().lower()))
        if user is not None and user.attivo and user.check_password(form.password.data):
            login_user(user)
            target = request.args.get("next", "")
            # Only local paths: an absolute URL in ?next= would be an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("staff.dashboard")
            return redirect(target)
        flash(_("Email o password non corretti."), "error")
    return render_template("staff/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("public.index"))


@bp.get("/")
@login_required
def dashboard():
    if current_user.ruolo == "rilevatore":
        return redirect(url_for("imports.index"))  # a survey firm's home is its uploads, never the results
    services = db.session.scalars(visible_services()).all()
    counts = dict(db.session.execute(
        select(Compilazione.servizio_id, func.count()).where(Compilazione.servizio_id.in_([s.id for s in services]))
        .group_by(Compilazione.servizio_id)
    ).all())
    return render_template("staff/dashboard.html", services=services, counts=counts)


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
        else:
            current_user.set_password(form.nuova.data)
            db.session.add(AuditLog(utente_id=current_user.id, azione="utente.password",
                                    oggetto=f"utente {current_user.id}"))
            db.session.commit()
            flash(_("Password cambiata."), "success")
            return redirect(url_for("staff.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/password.html", form=form), status
