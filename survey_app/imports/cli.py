"""`flask responses template …` and `flask responses import …`: thin commands over ``template`` and ``load``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import IMPORT_METHODS, ImportBatch, Questionario, Servizio
from ..transparency.formatting import local_time
from . import template
from .load import ImportRefused, ImportReport, import_file, published_years
from .rollback import rollback_batch

responses_cli = AppGroup("responses", help="Risposte raccolte da società di rilevazione.")


def _questionnaire(code: str) -> Questionario:
    q = db.session.scalar(select(Questionario).filter_by(codice=code))
    if q is None or q.versione_corrente is None:
        raise click.ClickException(f"questionario sconosciuto «{code}»")
    return q


@responses_cli.command("template")
@click.argument("questionnaire")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
def template_command(questionnaire: str, fmt: str, out: Path) -> None:
    """Scrive il modello da compilare per il questionario QUESTIONNAIRE."""
    q = _questionnaire(questionnaire)
    if not out.parent.is_dir():
        raise click.ClickException(f"la cartella «{out.parent}» non esiste")
    services = list(db.session.scalars(select(Servizio).filter_by(questionario_id=q.id).order_by(Servizio.slug)))
    data = template.to_csv(q.versione_corrente) if fmt == "csv" else template.to_xlsx(q.versione_corrente, services)
    out.write_bytes(data)
    click.echo(f"Scritto {out}")


def print_report(report: ImportReport) -> None:
    for error in report.errors:
        where = f"riga {error.row}" + (f", colonna {error.column}" if error.column else "")
        value = f" (valore «{error.value}»)" if error.value else ""
        click.echo(f"{where}{value}: {error.reason}", err=True)
    total = sum(report.reasons.values())
    if total > len(report.errors):
        click.echo(f"… e altri {total - len(report.errors)} errori. Totali per motivo:", err=True)
        for reason, count in report.reasons.most_common():
            click.echo(f"  {count} × {reason}", err=True)


UNNAMED = "controllo senza --source"  # a dry run's firm without --source: it has no ids of its own


@responses_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--questionnaire", required=True, help="Codice del questionario delle risposte.")
@click.option("--source", default=None,
              help="Società che ha raccolto i dati, sempre con lo stesso nome: un id_esterno già importato dalla "
                   "stessa società non viene importato di nuovo. Obbligatoria per importare; senza, --dry-run "
                   "controlla il file ma non gli id_esterno già importati.")
@click.option("--method", type=click.Choice(IMPORT_METHODS), default="CATI", show_default=True,
              help="CATI (telefono), PAPI (carta) o CAWI (web della società).")
@click.option("--dry-run", is_flag=True, help="Controlla il file senza scrivere nulla.")
@click.option("--skip-invalid", is_flag=True, help="Importa solo le righe valide e dice quali ha escluso.")
def import_command(file: Path, questionnaire: str, source: str | None, method: str, dry_run: bool,
                   skip_invalid: bool) -> None:
    """Importa FILE (CSV, XLSX o ODS): tutte le righe valide, o nessuna."""
    if not (source or "").strip() and not dry_run:
        # The firm was the file's name by default, so a corrected file under another name imported its ids again.
        raise click.UsageError("indicare la società con --source, sempre con lo stesso nome: è così che un "
                               "id_esterno già importato non viene importato di nuovo", ctx=click.get_current_context())
    data = file.read_bytes()
    with click.progressbar(length=max(data.count(b"\n"), 1), label="Controllo delle righe", file=sys.stderr,
                           show_pos=True) if sys.stderr.isatty() else _NoBar() as bar:
        try:
            report = import_file(db.session, data, file.name, questionnaire, source=source or UNNAMED,
                                 method=method, dry_run=dry_run, skip_invalid=skip_invalid, progress=bar.update)
        except ImportRefused as exc:
            raise click.ClickException(f"{exc}") from None
    print_report(report)
    if not source:
        click.echo("Senza --source gli id_esterno non sono stati confrontati con quelli già importati.", err=True)
    if report.columns_refused:
        if report.other_questionnaire:
            click.echo(f"Molte colonne del file non sono del questionario «{report.other_questionnaire}»: è quello "
                       "giusto per questo file (--questionnaire)?", err=True)
        click.echo("Nessuna riga scritta: il file è stato rifiutato per le sue colonne (le righe non sono state "
                   "controllate).", err=True)
        sys.exit(1)
    if report.absent_columns:
        click.echo(f"Colonne assenti dal file, lette come vuote in ogni riga: {', '.join(report.absent_columns)}.")
    for year, version in (published_years(db.session, report.years) if report.written or dry_run else {}).items():
        click.echo(f"Il {year} è già pubblicato in Amministrazione trasparente (versione {version}): le righe di "
                   "quell'anno entreranno nei dati pubblicati solo con una nuova versione.", err=True)
    invalid = report.invalid_rows
    skipped = f"; {_rows(report.skipped, 'già importata', 'già importate')} in un lotto precedente, " \
        f"{'saltata' if report.skipped == 1 else 'saltate'}" if report.skipped else ""
    if report.written:
        left_out = f"; {_rows(invalid, 'esclusa', 'escluse')} perché non {'valida' if invalid == 1 else 'valide'}" \
            if invalid else ""
        click.echo(f"{'Importata' if report.written == 1 else 'Importate'} {_rows(report.written)} su {report.rows} "
                   f"nel lotto {report.batch_id}{left_out}{skipped}.")
        return
    if report.skipped and not report.valid and not report.errors:
        click.echo(f"Nessuna riga nuova: {_rows(report.skipped, 'già importata', 'già importate')} da questa fonte "
                   "in lotti precedenti; nulla è stato scritto.")
        return
    if not report.rows:  # with or without --dry-run --skip-invalid: an empty file is never a completed check
        click.echo("Nessuna riga scritta: il file non ha righe di dati.", err=True)
        sys.exit(1)
    if report.errors and not (dry_run and skip_invalid):
        click.echo(f"Nessuna riga scritta: {_rows(invalid, 'non valida', 'non valide')} su {report.rows}.", err=True)
        sys.exit(1)
    click.echo(f"Controllo completato: {_rows(report.valid, 'valida', 'valide')} su {report.rows}{skipped}; "
               "nulla è stato scritto.")


def _rows(n: int, one: str = "", many: str = "") -> str:
    """'1 riga valida', '3 righe valide': Italian agrees the noun and its adjective with the number."""
    return " ".join(filter(None, (str(n), "riga" if n == 1 else "righe", one if n == 1 else many)))


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass


@responses_cli.command("batches")
def batches_command() -> None:
    """Elenca i lotti importati, il più recente per primo."""
    for batch in db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())):
        state = f"annullato il {batch.annullato_il:%d/%m/%Y} da {batch.annullato_da}" if batch.annullato_il else \
            _rows(batch.righe_importate, "importata", "importate")
        click.echo(f"{batch.id}\t{local_time(batch.created_at)}\t{batch.fonte} ({batch.metodo})\t"
                   f"{batch.nome_file}\t{state}")


@responses_cli.command("rollback")
@click.argument("batch_id", type=int)
@click.option("--by", "actor", default=None, help="Chi annulla il lotto (registrato nel registro delle attività).")
def rollback_command(batch_id: int, actor: str | None) -> None:
    """Annulla per intero il lotto BATCH_ID: le sue risposte e i loro conteggi vengono tolti."""
    try:
        removed = rollback_batch(db.session, batch_id, actor=actor)
    except ImportRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Lotto {batch_id} annullato: tolti {removed} questionari.")
