"""`flask qr poster SLUG [--sede CODE] --out FILE` and `flask qr all --out FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Servizio
from .posters import WRITERS, poster_pdf
from .service import PosterError, all_posters_zip, poster_for, posters_for

qr_cli = AppGroup("qr", help="Codici QR e locandine.")


@qr_cli.command("poster")
@click.argument("slug")
@click.option("--sede", default=None, help="Codice dello sportello (finisce nel codice QR).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="File .svg, .png o .pdf")
def poster_command(slug: str, sede: str | None, out: Path) -> None:
    """Scrive la locandina A4 del servizio SLUG con il codice QR."""
    if out.suffix.lower() not in WRITERS:
        raise click.BadParameter(f"formato «{out.suffix}» non previsto: usare .svg, .png o .pdf", param_hint="--out")
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug))
    if servizio is None:
        raise click.ClickException(f"servizio sconosciuto «{slug}»")
    try:
        poster = poster_for(servizio, sede)
    except PosterError as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(WRITERS[out.suffix.lower()][1](poster))
    click.echo(f"Scritta {out} ({poster.url})")


@qr_cli.command("all")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="File .pdf o .zip")
def all_command(out: Path) -> None:
    """Tutte le locandine, servizio per servizio e sportello per sportello."""
    if out.suffix.lower() not in (".pdf", ".zip"):
        raise click.BadParameter("usare un file .pdf (una pagina per locandina) o .zip", param_hint="--out")
    posters = posters_for(list(db.session.scalars(select(Servizio).order_by(Servizio.slug))))
    out.write_bytes(poster_pdf(posters) if out.suffix.lower() == ".pdf" else all_posters_zip(posters))
    click.echo(f"Scritte {len(posters)} locandine in {out}")
