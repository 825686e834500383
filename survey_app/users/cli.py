"""`flask users create EMAIL --role ROLE [--scope SLUG …]`."""

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
def create_command(email: str, role: str, scope: tuple[str, ...]) -> None:
    """Crea un utente e stampa una volta la sua password."""
    try:
        user, password = create_user(db.session, email, role, scope)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Creato {user.email} ({user.ruolo}). Password (mostrata solo ora): {password}")
