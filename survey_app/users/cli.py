"""`flask users create|list|reset-password|deactivate`."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import ROLES, User
from ..transparency.formatting import local_time
from . import UserError, create_user, find_user, reset_password, set_active

users_cli = AppGroup("users", help="Utenti dell'area riservata.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--scope", multiple=True, help="Slug di un servizio visibile all'utente (ripetibile).")
@click.option("--firm", default=None, help="Per il ruolo rilevatore, obbligatoria: la società di rilevazione.")
def create_command(email: str, role: str, scope: tuple[str, ...], firm: str | None) -> None:
    """Crea un utente e stampa una volta la sua password."""
    try:
        user, password = create_user(db.session, email, role, scope, firm=firm)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Creato {user.email} ({user.ruolo}). Password (mostrata solo ora): {password}")


@users_cli.command("list")
def list_command() -> None:
    """Elenca gli utenti: email, ruolo, società, servizi, stato, ultimo accesso."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "attivo" if user.attivo else "disattivato"
        last = local_time(user.ultimo_accesso) if user.ultimo_accesso else "mai entrato"
        click.echo(f"{user.email}\t{user.ruolo}\t{user.societa or '-'}\t"
                   f"{','.join(s.slug for s in user.servizi) or '-'}\t{state}\t{last}")


@users_cli.command("reset-password")
@click.argument("email")
def reset_password_command(email: str) -> None:
    """Genera una nuova password per EMAIL, la stampa una volta e chiude ogni sua sessione aperta."""
    try:
        password = reset_password(db.session, find_user(db.session, email))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Nuova password per {email.strip().lower()} (mostrata solo ora): {password}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Disattiva EMAIL: non può più entrare e le sue sessioni aperte finiscono subito."""
    try:
        set_active(db.session, find_user(db.session, email), False)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Utente {email.strip().lower()} disattivato.")
