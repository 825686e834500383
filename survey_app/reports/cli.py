"""`flask report indicators --year YYYY [--service SLUG] [--format json|csv]`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from analysis.indicators import indicator_table
from analysis.publish import to_csv, to_json

from ..extensions import db
from ..models import Servizio

report_cli = AppGroup("report", help="Indicatori e report.")
WRITERS = {"csv": to_csv, "json": to_json}


@report_cli.command("indicators")
@click.option("--year", type=int, required=True, help="Anno solare delle risposte.")
@click.option("--service", "service", default=None, help="Solo questo servizio (slug).")
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="csv", show_default=True)
def indicators_command(year: int, service: str | None, fmt: str) -> None:
    """Stampa la tabella degli indicatori per domanda (colonne di DESIGN.md)."""
    if service and db.session.scalar(select(Servizio.id).filter_by(slug=service)) is None:
        raise click.BadParameter(f"servizio sconosciuto «{service}»", param_hint="--service")
    table = indicator_table(db.session.connection(), year, service,
                            threshold=current_app.config["SUPPRESSION_THRESHOLD"])
    click.echo(WRITERS[fmt](table), nl=False)
