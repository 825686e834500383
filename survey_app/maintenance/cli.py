"""`flask backup OUT`, `flask restore BACKUP`, `flask purge [--older-than MONTHS] [--dry-run]` and
`flask erase-order [--lock-timeout SECONDS]`.

Thin commands over ``sqlite``, ``postgres``, ``purge`` and ``order``; see docs/backup.md for cron and systemd timers.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy.engine import URL

from .. import figures_cache
from ..extensions import db
from ..models import AuditLog
from . import MaintenanceError, postgres, sqlite
from .order import LOCK_TIMEOUT_SECONDS, erase_order
from .purge import local_today, purge_comments

RESTORE_ACTION = "database.ripristinato"


def _database() -> tuple[URL, Path | None]:
    """The configured database's URL and, for SQLite, its file (Flask-SQLAlchemy resolved a relative path)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        return url, None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise click.ClickException("il database SQLite non è un file: niente da copiare o ripristinare")
    return url, Path(url.database)


def _revisions() -> tuple[set[str], str]:
    """Every schema revision this code's migrations know, and the newest."""
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    return {s.revision for s in script.walk_revisions()}, script.get_current_head()


def _size(size: int) -> str:
    for unit in ("byte", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "byte" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # not reached


@click.command("backup")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Sostituisce OUT se esiste già.")
@with_appcontext
def backup_command(out: Path, force: bool) -> None:
    """Copia coerente del database SQLite in OUT, anche con l'applicazione in funzione."""
    url, source = _database()
    if source is None:
        raise click.ClickException("con PostgreSQL il backup è una copia logica fatta da pg_dump: "
                                   f"{postgres.dump_command(url, out)} ({postgres.CREDENTIALS_HINT})")
    try:
        copy = sqlite.backup(source, out, force=force)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup scritto in {copy.path}: {_size(copy.size)}, {copy.compilazioni} compilazioni, "
               f"schema {copy.revision}, integrity_check ok.")


@click.command("restore")
@click.argument("backup_file", metavar="BACKUP", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Sostituisce anche un database che contiene già risposte.")
@with_appcontext
def restore_command(backup_file: Path, force: bool) -> None:
    """Ripristina il database SQLite dal file BACKUP (di `flask backup`), poi ne aggiorna lo schema se serve."""
    url, target = _database()
    if target is None:
        raise click.ClickException("con PostgreSQL si ripristina una copia di pg_dump -Fc: "
                                   f"{postgres.restore_command(url, backup_file)} ({postgres.CREDENTIALS_HINT})")
    known, head = _revisions()
    try:
        found = sqlite.check_backup(backup_file, known)
        present = 0 if force else sqlite.answers_in(target)
        if present:
            raise MaintenanceError(f"il database «{target}» contiene già {present} compilazioni: aggiungere --force "
                                   "per sostituirlo (e prima, se servono, salvarle con `flask backup`)")
        # No pooled connection may keep pages or a transaction of the database being replaced.
        db.session.remove()
        db.engine.dispose()
        sqlite.restore(backup_file, target)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from None
    if found.revision != head:
        click.echo(f"Il backup ha lo schema {found.revision}: aggiornamento a {head}.")
        upgrade()
    db.session.add(AuditLog(azione=RESTORE_ACTION, oggetto=f"da {backup_file.name}"[:200],
                            dettagli={"file": str(backup_file.resolve()), "revisione_backup": found.revision,
                                      "compilazioni": found.compilazioni}))
    db.session.commit()
    # This process's figures (and, with CACHE_REDIS_URL, everyone's) were computed on the replaced data.
    figures_cache.cache.clear()
    click.echo(f"Ripristinato {target} da {backup_file}: {found.compilazioni} compilazioni, schema {head}.")


@click.command("purge")
@click.option("--older-than", "months", type=int, default=None, metavar="MONTHS",
              help="Mesi di conservazione dei commenti (predefinito: COMMENT_RETENTION_MONTHS, come l'informativa).")
@click.option("--dry-run", is_flag=True, help="Conta i commenti da cancellare senza scrivere nulla.")
@with_appcontext
def purge_command(months: int | None, dry_run: bool) -> None:
    """Cancella il testo dei commenti liberi più vecchi di MONTHS mesi; punteggi, scelte e conteggi restano."""
    config = current_app.config
    months = int(config["COMMENT_RETENTION_MONTHS"]) if months is None else months
    try:
        report = purge_comments(db.session, months, today=local_today(config["SURVEY_TIMEZONE"]), dry_run=dry_run)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from None
    older = f"anteriori al {report.cutoff:%d/%m/%Y} (più di {report.months} mesi)"
    if dry_run:
        click.echo(f"Prova: {report.comments} commenti {older} da cancellare; nessuna modifica scritta.")
    else:
        click.echo(f"Cancellati {report.comments} commenti {older}; registrato nel log di audit.")


@click.command("erase-order")
@click.option("--lock-timeout", type=click.IntRange(1, 25), default=LOCK_TIMEOUT_SECONDS, show_default=True,
              metavar="SECONDS", help="Attesa massima per ciascuna tabella occupata, in secondi (al più 25: i "
                                      "cittadini in coda dietro l'attesa non devono superare i 30 s del server).")
@with_appcontext
def erase_order_command(lock_timeout: int) -> None:
    """Cancella l'ordine in cui le risposte sono state scritte: ogni notte, prima del backup."""
    try:
        report = erase_order(db.session, lock_timeout=lock_timeout)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from None
    rows = report.rows
    how = ("ricopiate nell'ordine delle chiavi casuali (VACUUM)" if report.database == "sqlite" else
           "riscritte e riordinate per chiave casuale")
    click.echo(f"Ordine di scrittura cancellato in {report.seconds:.1f} s: {rows['compilazioni']} compilazioni, "
               f"{rows['risposte']} risposte e {rows['riepilogo_risposte']} righe di conteggio {how}.")
