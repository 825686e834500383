"""SQLite backups and restores through the online backup API (``sqlite3.Connection.backup``).

The API copies the database page by page inside one read transaction of the source, so the copy is the state of
one moment even while the app keeps answering: in WAL mode (database.py) the writers go on meanwhile, into the
log, and the copy does not see them. A plain file copy would not do: the database file without its -wal is not the
database, and one taken in the middle of a checkpoint is torn.

Only sqlite3 here, no Flask: the CLI (``cli.py``) finds the files and the schema revisions and calls these.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Collection
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from . import MaintenanceError

HEADER = b"SQLite format 3\x00"
# Tables every database of this app has had since its first migration: a file without them is something else.
CORE_TABLES = ("alembic_version", "compilazioni", "risposte", "servizi")
BUSY_SECONDS = 30


@dataclass(frozen=True)
class Snapshot:
    """A database file and what it holds."""

    path: Path
    size: int
    compilazioni: int
    revision: str | None


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:  # never writes to the file, not even a journal rollback
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_SECONDS)
    return sqlite3.connect(path, timeout=BUSY_SECONDS)


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _describe(conn: sqlite3.Connection, path: Path) -> Snapshot:
    tables = _tables(conn)
    count = conn.execute("SELECT count(*) FROM compilazioni").fetchone()[0] if "compilazioni" in tables else 0
    revisions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")] \
        if "alembic_version" in tables else []
    return Snapshot(path, path.stat().st_size, count, revisions[0] if len(revisions) == 1 else None)


def _same_file(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and os.path.samefile(a, b)


def _fsync(path: Path) -> None:
    """Data on disk before the rename makes it visible, so a crash leaves the old file or the whole new one."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    with suppress(OSError):  # some filesystems cannot sync a folder; the file itself was synced
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(temp: Path, out: Path, *, force: bool) -> None:
    if force:
        os.replace(temp, out)
        return
    try:
        os.link(temp, out)  # atomic, and fails if OUT appeared meanwhile: never overwrites without --force
    except FileExistsError:
        raise MaintenanceError(f"«{out}» esiste già: scegliere un altro nome o aggiungere --force") from None
    except OSError:  # a filesystem without hard links
        if out.exists():
            raise MaintenanceError(f"«{out}» esiste già: scegliere un altro nome o aggiungere --force") from None
        os.replace(temp, out)


def backup(source: Path, out: Path, *, force: bool = False) -> Snapshot:
    """Copy the database ``source`` to ``out``: a temporary file in OUT's folder, checked, then renamed."""
    if not source.is_file():
        raise MaintenanceError(f"il database «{source}» non esiste")
    if out.is_dir():
        raise MaintenanceError(f"«{out}» è una cartella: indicare il nome del file di backup")
    if _same_file(source, out):
        raise MaintenanceError(f"«{out}» è il database stesso: indicare un altro file")
    if out.exists() and not force:
        raise MaintenanceError(f"«{out}» esiste già: scegliere un altro nome o aggiungere --force")
    if not out.parent.is_dir():
        raise MaintenanceError(f"la cartella «{out.parent}» non esiste")
    # mkstemp creates it readable by the owner only: a backup holds the comments and the staff's password hashes.
    handle, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(name)
    try:
        with closing(_connect(source)) as src, closing(sqlite3.connect(temp)) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, so one consistent moment
            # The app runs SQLite in WAL mode (database.py) and the copy inherits it: back to a rollback journal, so
            # the backup is one self-contained file that can be opened read-only anywhere.
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = integrity_problems(dst)
            if problems:
                raise MaintenanceError("la copia non supera PRAGMA integrity_check: " + "; ".join(problems[:5]))
            snapshot = _describe(dst, temp)
        _fsync(temp)
        _publish(temp, out, force=force)
        _fsync(out.parent)
    except sqlite3.Error as exc:
        raise MaintenanceError(f"backup non riuscito: {exc}") from None
    finally:
        temp.unlink(missing_ok=True)
    return Snapshot(out, out.stat().st_size, snapshot.compilazioni, snapshot.revision)


def check_backup(path: Path, known_revisions: Collection[str]) -> Snapshot:
    """What the backup file holds, once it is known to be a sound database of this app at a known schema revision."""
    if not path.is_file():
        raise MaintenanceError(f"«{path}» non esiste o non è un file")
    with path.open("rb") as file:
        if file.read(len(HEADER)) != HEADER:
            raise MaintenanceError(f"«{path}» non è un database SQLite")
    try:
        with closing(_connect(path, read_only=True)) as conn:
            problems = integrity_problems(conn)
            if problems:
                raise MaintenanceError(f"«{path}» è danneggiato (PRAGMA integrity_check: {'; '.join(problems[:5])})")
            missing = [name for name in CORE_TABLES if name not in _tables(conn)]
            if missing:
                raise MaintenanceError(f"«{path}» non è un database di questa applicazione: mancano le tabelle "
                                       + ", ".join(missing))
            snapshot = _describe(conn, path)
    except sqlite3.Error as exc:
        raise MaintenanceError(f"«{path}» non è leggibile come database SQLite: {exc}") from None
    if snapshot.revision is None:
        raise MaintenanceError(f"«{path}» non registra la revisione del suo schema (tabella alembic_version vuota)")
    if snapshot.revision not in known_revisions:
        raise MaintenanceError(f"«{path}» ha lo schema alla revisione «{snapshot.revision}», che questa versione "
                               "del programma non conosce (backup di una versione più recente?)")
    return snapshot


def answers_in(target: Path) -> int:
    """How many questionnaires the database ``target`` holds (0 when it does not exist yet)."""
    if not target.exists() or target.stat().st_size == 0:
        return 0
    try:
        with closing(_connect(target, read_only=True)) as conn:
            return _describe(conn, target).compilazioni
    except sqlite3.Error as exc:
        raise MaintenanceError(f"il database «{target}» non è leggibile ({exc}): aggiungere --force per "
                               "sostituirlo comunque") from None


def restore(backup_file: Path, target: Path) -> None:
    """Write ``backup_file`` over ``target`` with the backup API: one write transaction on the target, so a crash
    halfway leaves the old database (its journal rolls it back), never a mix."""
    if _same_file(backup_file, target):
        raise MaintenanceError(f"«{backup_file}» è il database stesso: niente da ripristinare")
    if not target.parent.is_dir():
        raise MaintenanceError(f"la cartella «{target.parent}» non esiste")
    if not target.exists():
        # A database restored where there was none is readable by its owner only, like the backup it comes from
        # (SQLite would create it with the process's umask, usually readable by every local user).
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        with closing(_connect(backup_file, read_only=True)) as src, closing(_connect(target)) as dst:
            src.backup(dst)
            problems = integrity_problems(dst)
    except sqlite3.Error as exc:
        raise MaintenanceError(f"ripristino non riuscito: {exc}") from None
    if problems:
        raise MaintenanceError("il database ripristinato non supera PRAGMA integrity_check: "
                               + "; ".join(problems[:5]))
