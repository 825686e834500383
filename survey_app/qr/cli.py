"""`flask qr poster SLUG [--sede CODE] --out FILE` and `flask qr all --out FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Servizio
from ..settings import is_loopback, public_base_url
from .posters import WRITERS, poster_pdf
from .service import PosterError, all_posters_zip, poster_for, posters_for

qr_cli = AppGroup("qr", help="Codici QR e locandine.")


def _check_address() -> None:
    """A printed code must lead citizens to the site: in production an address only this machine reaches is refused,
    elsewhere (trying the app out) it is written with a warning."""
    base = public_base_url()
    if not is_loopback(base):
        return
    problem = (f"PUBLIC_BASE_URL non è impostato o indica questo computer: il codice QR porterebbe a {base}, che i "
               "cittadini non raggiungono. Impostare PUBLIC_BASE_URL con l'indirizzo pubblico del sito "
               "(per esempio https://soddisfazione.comune.example.it)")
    if current_app.config["SURVEY_ENV"] == "production":
        raise click.ClickException(f"locandine non scritte: {problem}.")
    click.echo(f"Attenzione: {problem} prima di stampare.", err=True)


def _check_out(out: Path, suffixes: tuple[str, ...], allowed: str) -> str:
    """The output's suffix, once it is one we write and its folder exists: errors come before any work."""
    suffix = out.suffix.lower()
    if suffix not in suffixes:
        raise click.ClickException(f"formato «{out.suffix or out.name}» non previsto per --out: usare {allowed}")
    if not out.parent.is_dir():
        raise click.ClickException(f"la cartella «{out.parent}» non esiste")
    return suffix


@qr_cli.command("poster")
@click.argument("slug")
@click.option("--sede", default=None, help="Codice dello sportello (finisce nel codice QR).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="File .svg, .png o .pdf")
def poster_command(slug: str, sede: str | None, out: Path) -> None:
    """Scrive la locandina A4 del servizio SLUG con il codice QR."""
    suffix = _check_out(out, tuple(WRITERS), "un file .svg, .png o .pdf")
    servizio = db.session.scalar(select(Servizio).filter_by(slug=slug))
    if servizio is None:
        raise click.ClickException(f"servizio sconosciuto «{slug}»")
    _check_address()
    try:
        poster = poster_for(servizio, sede)
    except PosterError as exc:
        raise click.ClickException(str(exc)) from None
    # Render first, write once: a failure leaves no half-written file behind.
    data = WRITERS[suffix][1](poster)
    out.write_bytes(data)
    click.echo(f"Scritta {out} ({poster.url})")


@qr_cli.command("all")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="File .pdf (una pagina per locandina) o .zip (un PDF per locandina)")
def all_command(out: Path) -> None:
    """Tutte le locandine, servizio per servizio e sportello per sportello."""
    suffix = _check_out(out, (".pdf", ".zip"), "un file .pdf (una pagina per locandina) o .zip")
    _check_address()
    services = db.session.scalars(select(Servizio).options(selectinload(Servizio.sedi)).order_by(Servizio.slug))
    posters = posters_for(list(services))
    if not posters:
        raise click.ClickException("nessun servizio nel catalogo: caricarlo con `flask catalogue load`")
    data = poster_pdf(posters) if suffix == ".pdf" else all_posters_zip(posters)
    out.write_bytes(data)
    click.echo(f"Scritte {len(posters)} locandine in {out}")
