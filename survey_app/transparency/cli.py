"""`flask export transparency --year YYYY --out DIR` and `flask export relazione --year YYYY --out FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from analysis.publication import short_span

from ..extensions import db
from ..settings import is_loopback, public_base_url
from .formatting import it_date, local_today
from .publishing import (
    PublicationConflict,
    PublicationSettingsError,
    clean_reason,
    period,
    publish_year,
    report_entities,
)

export_cli = AppGroup("export", help="Pubblicazioni e relazioni.")


def check_year(value: int) -> int:
    """A year someone may mean: from 2000 to this one (shared by the commands that take --year)."""
    this_year = local_today().year  # the body's year: at 00:30 on 1 January in Rome the server's UTC is still in December
    if not 2000 <= value <= this_year:
        raise click.BadParameter(f"anno {value} fuori intervallo (2000–{this_year})", param_hint="--year")
    return value


@export_cli.command("transparency")
@click.option("--year", type=int, required=True, help="Anno solare da pubblicare.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Cartella dove scrivere i file della versione.")
@click.option("--by", "actor", default=None, help="Chi pubblica (nome o email), registrato con la versione.")
@click.option("--motivo", "reason", default=None,
              help="Perché si pubblica questa versione (facoltativo): compare nella pagina pubblica e nei file.")
def transparency_command(year: int, out: Path, actor: str | None, reason: str | None) -> None:
    """Pubblica l'anno come nuova versione congelata e ne scrive i file (XLSX, ODS, CSV, datapackage, DCAT)."""
    check_year(year)
    try:
        reason = clean_reason(reason)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--motivo") from None
    try:  # the folder first: a version is published once, and must not be published with no files written
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".scrivibile"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise click.ClickException(f"pubblicazione non eseguita: impossibile scrivere nella cartella {out} "
                                   f"({exc.strerror})") from None
    base = public_base_url()
    if is_loopback(base) and current_app.config["SURVEY_ENV"] != "production":  # production refuses (check_settings)
        click.echo(f"Attenzione: PUBLIC_BASE_URL non è impostato o indica questo computer: i file della versione "
                   f"(DCAT-AP_IT, datapackage) porteranno per sempre l'indirizzo {base}, che i cittadini non "
                   "raggiungono. Per una pubblicazione vera impostare PUBLIC_BASE_URL con l'indirizzo pubblico del "
                   "sito e pubblicare di nuovo: la nuova versione porterà l'indirizzo giusto.", err=True)
    try:
        outcome = publish_year(db.session, year, actor=actor, reason=reason)
    except PublicationSettingsError as exc:
        raise click.ClickException(f"pubblicazione non eseguita: {exc}") from None
    except PublicationConflict:
        raise click.ClickException(f"un'altra pubblicazione dell'anno {year} è appena stata registrata: "
                                   "riprovare") from None
    record = outcome.publication
    for item in record.file:
        (out / item.nome).write_bytes(item.contenuto)
    if outcome.created:
        changes = len(record.modifiche)
        compared = "" if record.versione == 1 else (
            f" ({changes} {'modifica' if changes == 1 else 'modifiche'} rispetto alla precedente)")
        click.echo(f"Pubblicata la versione {record.versione} dell'anno {year}{compared}.")
    else:
        click.echo(f"Nessuna modifica rispetto alla versione {record.versione} dell'anno {year}: "
                   "nessuna nuova versione, scritti i file di quella in vigore.")
    for item in record.file:
        click.echo(f"  {out / item.nome}  sha256 {item.sha256}")
    covered = period(record.dati)
    if covered.get("parziale"):
        click.echo(f"Attenzione: l'anno {year} è in corso; la versione riporta i dati parziali, fino al "
                   f"{it_date(covered['fine'])}.", err=True)
    answered = record.dati["metodologia"].get("risposte")
    if short_span(covered, answered):
        click.echo(f"Attenzione: nel {year} le risposte sono state raccolte solo dal {it_date(answered['prima'])} al "
                   f"{it_date(answered['ultima'])}; la nota metodologica della versione lo dice.", err=True)
    if not any(row["compilazioni"] for row in record.dati["sintesi"]):
        click.echo(f"Attenzione: nessun questionario nell'anno {year}; la versione pubblica tabelle vuote.", err=True)


@export_cli.command("relazione")
@click.option("--year", type=int, required=True, help="Anno della relazione.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="File .pdf o .xlsx")
@click.option("--ente", default=None, help="Codice dell'ente: solo i suoi servizi, per il suo Nucleo di valutazione.")
def relazione_command(year: int, out: Path, ente: str | None) -> None:
    """Relazione annuale per il Nucleo di valutazione: ogni servizio rispetto ai suoi standard."""
    check_year(year)
    from .report import report_bytes  # fpdf2 and the report tables load only when a report is asked for

    if ente is not None:
        codes = report_entities()
        if ente not in codes:
            raise click.BadParameter(f"ente «{ente}» sconosciuto o senza servizi: usare uno di "
                                     f"{', '.join(sorted(codes))}", param_hint="--ente")
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise click.BadParameter(f"formato «{out.suffix or out.name}» non previsto: usare .pdf o .xlsx",
                                 param_hint="--out")
    if not out.parent.is_dir():
        raise click.ClickException(f"la cartella «{out.parent}» non esiste")
    data = report_bytes(db.session, year, suffix[1:], current_app.config["SUPPRESSION_THRESHOLD"], ente)
    out.write_bytes(data)
    click.echo(f"Scritta {out}")
