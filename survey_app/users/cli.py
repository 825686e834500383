"""`flask users create EMAIL --role ROLE [--scope SLUG …] [--firm NAME]`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import ROLES
from . import UserError, create_user

users_cli = AppGroup("users", help="Utenti dell'area riservata.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--scope", multiple=True, help="Slug di un servizio visibile all'utente (ripetibile).")
@click.option("--firm", default=None, help="Per il ruolo rilevatore: la società (predefinito: il dominio dell'email).")
def create_command(email: str, role: str, scope: tuple[str, ...], firm: str | None) -> None:
    """Crea un utente e stampa una volta la sua password."""
    try:
        user, password = create_user(db.session, email, role, scope, firm=firm)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Creato {user.email} ({user.ruolo}). Password (mostrata solo ora): {password}")
