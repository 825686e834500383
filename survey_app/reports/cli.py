"""`flask report indicators --year YYYY [--service SLUG] [--format json|csv]`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from analysis.engine import Period, service_table
from analysis.indicators import indicator_table
from analysis.publish import to_csv, to_records

from ..extensions import db
from ..models import Servizio
from ..transparency.cli import check_year

report_cli = AppGroup("report", help="Indicatori e report.")


@report_cli.command("indicators")
@click.option("--year", type=int, required=True, help="Anno solare delle risposte.")
@click.option("--service", "service", default=None, help="Solo questo servizio (slug).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
def indicators_command(year: int, service: str | None, fmt: str) -> None:
    """Stampa la tabella per domanda (colonne di DESIGN.md); in JSON anche la tabella per servizio."""
    check_year(year)
    if service and db.session.scalar(select(Servizio.id).filter_by(slug=service)) is None:
        raise click.BadParameter(f"servizio sconosciuto «{service}»", param_hint="--service")
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    conn = db.session.connection()
    table = indicator_table(conn, year, service, threshold=threshold)
    if table.empty:  # the header alone is still printed: a script reading the table finds its columns
        click.echo(f"Attenzione: nessuna risposta nell'anno {year}" + (f" per il servizio «{service}»" if service else "")
                   + ": la tabella è vuota.", err=True)
    if fmt == "csv":
        click.echo(to_csv(table), nl=False)
        return
    services = service_table(conn, Period.year(year), service, threshold=threshold)
    payload = {"anno": year, "soglia_soppressione": threshold, "domande": to_records(table),
               "servizi": json.loads(services.to_json(orient="records", force_ascii=False))}
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=_plain))


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value))
