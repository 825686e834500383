"""`flask catalogue load PATH` and `flask catalogue export PATH`."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from flask.cli import AppGroup

from ..extensions import db
from . import CatalogueError, load_catalogue
from .export import counts, export_yaml
from .loader import how_many

catalogue_cli = AppGroup("catalogue", help="Catalogo di enti, servizi e questionari.")


def _refused(title: str, exc: CatalogueError) -> None:
    count = len(exc.messages)
    click.echo(f"{title} ({count} {'errore' if count == 1 else 'errori'}):", err=True)
    for message in exc.messages:
        click.echo(f"  - {message}", err=True)
    raise SystemExit(1) from None


@catalogue_cli.command("load")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Controlla il catalogo e dice che cosa cambierebbe, senza scrivere nulla.")
def load_command(path: Path, dry_run: bool) -> None:
    """Valida e carica il catalogo YAML in PATH (file o cartella)."""
    try:
        report = load_catalogue(db.session, path, dry_run=dry_run)
    except CatalogueError as exc:
        _refused("Catalogo rifiutato, nulla è stato scritto", exc)
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("Controllo completato, nulla è stato scritto: il caricamento farebbe le modifiche elencate."
                   if report.changed else "Controllo completato: il catalogo è già aggiornato, nessuna modifica.")
        return
    click.echo("Catalogo caricato." if report.changed else "Catalogo già aggiornato: nessuna modifica.")


@catalogue_cli.command("export")
@click.argument("path")
def export_command(path: str) -> None:
    """Scrive il catalogo del database in PATH (un file YAML; '-' per lo standard output).

    Il file segue lo schema di `flask catalogue load`: caricarlo riproduce il catalogo.
    """
    try:
        text = export_yaml(db.session)
    except CatalogueError as exc:
        _refused("Esportazione non valida, nessun file scritto", exc)
    if path == "-":
        click.echo(text, nl=False)
        return
    target = Path(path)
    if target.is_dir():
        raise click.BadParameter(f"{target} è una cartella: indicare il nome del file da scrivere", param_hint="PATH")
    if not target.parent.is_dir():
        raise click.BadParameter(f"la cartella {target.parent} non esiste", param_hint="PATH")
    target.write_text(text, encoding="utf-8")
    summary = ", ".join(how_many(n, kind) for kind, n in counts(yaml.safe_load(text)).items())
    click.echo(f"Catalogo esportato in {target}: {summary}.")
