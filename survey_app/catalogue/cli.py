"""`flask catalogue load PATH`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from . import CatalogueError, load_catalogue

catalogue_cli = AppGroup("catalogue", help="Catalogo di enti, servizi e questionari.")


@catalogue_cli.command("load")
@click.argument("path", type=click.Path(path_type=Path))
def load_command(path: Path) -> None:
    """Valida e carica il catalogo YAML in PATH (file o cartella)."""
    try:
        report = load_catalogue(db.session, path)
    except CatalogueError as exc:
        click.echo(f"Catalogo rifiutato, nulla è stato scritto ({len(exc.messages)} errori):", err=True)
        for message in exc.messages:
            click.echo(f"  - {message}", err=True)
        raise SystemExit(1) from None
    for line in report.lines():
        click.echo(line)
    click.echo("Catalogo caricato." if report.changed else "Catalogo già aggiornato: nessuna modifica.")
