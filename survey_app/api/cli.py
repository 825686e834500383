"""`flask api-tokens create|list|revoke`: the firms' API tokens, from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken
from ..transparency.formatting import local_time
from .auth import TokenError, create_token, revoke_token

api_tokens_cli = AppGroup("api-tokens", help="Token dell'API di importazione delle società di rilevazione.")


@api_tokens_cli.command("create")
@click.argument("name")
@click.option("--firm", required=True, help="Società a cui è dato il token (la fonte dei suoi lotti).")
@click.option("--scope", multiple=True, required=True, help="Slug di un servizio per cui può inviare dati (ripetibile).")
def create_command(name: str, firm: str, scope: tuple[str, ...]) -> None:
    """Crea un token e lo stampa una volta: non è conservato, solo la sua impronta."""
    try:
        token, secret = create_token(db.session, name, firm, scope)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Creato il token {token.id} «{token.nome}» per {token.fonte} "
               f"({', '.join(s.slug for s in token.servizi)}).")
    click.echo(f"Token (mostrato solo ora): {secret}")


@api_tokens_cli.command("list")
def list_command() -> None:
    """Elenca i token, il più recente per primo."""
    for token in db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())):
        state = f"revocato il {token.revocato_il:%d/%m/%Y} da {token.revocato_da}" if token.revocato_il else "attivo"
        used = f"usato il {local_time(token.ultimo_uso)}" if token.ultimo_uso else "mai usato"
        click.echo(f"{token.id}\t{token.prefisso}…\t{token.nome}\t{token.fonte}\t"
                   f"{','.join(s.slug for s in token.servizi)}\t{state}\t{used}")


@api_tokens_cli.command("revoke")
@click.argument("token_id", type=int)
@click.option("--by", "actor", default=None, help="Chi revoca il token (registrato nel registro delle attività).")
def revoke_command(token_id: int, actor: str | None) -> None:
    """Revoca il token TOKEN_ID: da subito ogni richiesta con esso riceve 401."""
    try:
        revoke_token(db.session, token_id, actor=actor)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {token_id} revocato.")
