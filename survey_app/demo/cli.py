"""`flask demo seed` and `flask demo setup` (what `make run` calls on every start)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import exists, select

from ..catalogue import CatalogueError, load_catalogue
from ..extensions import db
from ..models import Compilazione, Servizio, User
from ..transparency.publishing import publish_year
from ..users import create_user
from .actions import add_demo_actions, has_publication
from .seed import seed_responses

demo_cli = AppGroup("demo", help="Dati dimostrativi.")
DEMO_EMAIL = "demo@example.org"


@demo_cli.command("seed")
@click.option("--responses", default=3000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Ultimo giorno delle risposte (AAAA-MM-GG); predefinito oggi.")
def seed_command(responses: int, seed: int, end) -> None:
    """Aggiunge risposte sintetiche realistiche sugli ultimi 24 mesi (solo all'istanza demo, mai in produzione)."""
    refusal = _not_a_demo()
    if refusal:
        raise click.ClickException(refusal)
    try:
        written = seed_responses(db.session, responses, seed, end.date() if end else None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Scritte {written} compilazioni dimostrative.")


@demo_cli.command("setup")
@click.option("--responses", default=3000, show_default=True, type=click.IntRange(1, 5_000_000))
def setup_command(responses: int) -> None:
    """Carica il catalogo dell'istanza; la prima volta aggiunge risposte e un utente demo."""
    catalogue = Path(current_app.instance_path) / "catalogue"
    if catalogue.is_dir():
        try:
            report = load_catalogue(db.session, catalogue)
        except CatalogueError as exc:
            raise click.ClickException("catalogo non valido:\n" + "\n".join(exc.messages)) from None
        click.echo("Catalogo caricato." if report.changed else "Catalogo già aggiornato.")
    else:
        click.echo(f"Nessun catalogo in {catalogue}: caricarlo con `flask catalogue load PATH`.")
    refusal = _not_a_demo()
    if refusal:  # a Comune's own instance: its catalogue only, never synthetic answers, a publication or an account
        click.echo(refusal)
        return
    if not db.session.scalar(select(exists().where(Servizio.id.is_not(None)))):
        click.echo("Nessun servizio nel catalogo: nessuna risposta dimostrativa scritta.")
    elif not db.session.scalar(select(exists().where(Compilazione.id.is_not(None)))):
        written = seed_responses(db.session, responses, seed=1, end=date.today())
        click.echo(f"Scritte {written} compilazioni dimostrative.")
    last_year = date.today().year - 1
    if db.session.scalar(select(exists().where(Compilazione.id.is_not(None)))) and not has_publication(db.session):
        add_demo_actions(db.session, last_year)
        record = publish_year(db.session, last_year, actor="dimostrazione").publication
        click.echo(f"Pubblicata la versione {record.versione} dell'anno {last_year}: /trasparenza")
    if db.session.scalar(select(User).filter_by(email=DEMO_EMAIL)) is None:
        _, password = create_user(db.session, DEMO_EMAIL, "admin")
        click.echo(f"Utente demo per /staff: {DEMO_EMAIL} — password (mostrata solo ora): {password}")


def _not_a_demo() -> str | None:
    """Why this instance takes no demonstration data, or None for the demo: synthetic answers, a published year and
    an admin account written into a Comune's own instance (``make run`` with its SURVEY_INSTANCE set, as
    docs/deploy.md has the shell) would be published as its results."""
    instance, env = current_app.config["SURVEY_INSTANCE"], current_app.config["SURVEY_ENV"]
    if env == "production":
        return ("Nessun dato dimostrativo in produzione (SURVEY_ENV=production): risposte, pubblicazione e utente demo "
                "sono solo per l'istanza «demo» in sviluppo.")
    if instance != "demo":
        return (f"Istanza «{instance}»: nessun dato dimostrativo (risposte, pubblicazione, utente demo), che sono solo "
                "per l'istanza «demo».")
    return None
