"""Erase the order in which citizens' answers were written, wherever the database file keeps it.

The answers' keys are random (models/base.py), so neither keys nor key order line the stored answers up with a web
server's access log. The storage underneath keeps traces of the writing order, readable by anyone with the file
or SQL access:

- PostgreSQL appends new rows, so a SELECT without ORDER BY (or a dump) returns them in the order they came; each
  row's ``xmin`` is the number of the transaction that wrote it, and numbers grow (``ORDER BY xmin::text::bigint``
  lists the questionnaires as they were sent; ``CLUSTER`` and freezing keep it); a long comment stored out of line
  (TOAST) gets a chunk number from a counter.
- SQLite keeps a table's rows in key order, but within a page it writes each row's bytes below the last one
  written, so the offsets follow the order of writing.

On PostgreSQL ``erase_order`` writes every row of the answers' tables again (one transaction for the answers and
their items, one for the daily counts, so each table's rows carry one number), ``CLUSTER``s each table on its
random key, stores long comments again in that order, and vacuums away the versions replaced. On SQLite it rebuilds
the file (``VACUUM``, which copies every table in key order) and empties the write-ahead log.

Until the nightly run, the rows written since the last one keep their order: the job belongs before the nightly
backup (docs/backup.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..models import Base
from . import MaintenanceError
from .locks import one_bulk_writer_at_a_time

# Each table and a column no index covers: writing it to itself leaves every value and index entry as it was.
TABLES = {"compilazioni": "canale", "risposte": "non_so", "riepilogo_risposte": "n"}
LOCK_TIMEOUT_SECONDS = 5
LOCK_NOT_AVAILABLE, DEADLOCK = "55P03", "40P01"  # PostgreSQL's error codes
# Comments longer than this may be stored out of line (PostgreSQL moves values over ~2 kB after compression).
LONG_TEXT_BYTES = 1000


@dataclass(frozen=True)
class OrderReport:
    database: str
    rows: dict[str, int]  # table -> rows written again (PostgreSQL) or copied (SQLite)
    seconds: float


def erase_order(session: Session, *, lock_timeout: int = LOCK_TIMEOUT_SECONDS) -> OrderReport:
    """Write the answers' tables again so that nothing in them says which row was written before which."""
    start = time.perf_counter()
    dialect = session.get_bind().dialect.name
    rows = _sqlite(session) if dialect == "sqlite" else _postgres(session, lock_timeout)
    return OrderReport(dialect, rows, time.perf_counter() - start)


def _counts(session: Session) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(Base.metadata.tables[name])) for name in TABLES}


def _sqlite(session: Session) -> dict[str, int]:
    """VACUUM copies each table in key order into a new file; the log's copies of the old pages go with it.
    Citizens' submissions wait meanwhile (the busy timeout), as they wait for each other."""
    rows = _counts(session)
    session.rollback()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except OperationalError as exc:
            raise MaintenanceError(f"il database è rimasto occupato, nulla è stato modificato: {exc.orig}") from exc
    return rows


def _postgres(session: Session, lock_timeout: int) -> dict[str, int]:
    """Citizens keep answering throughout. The counts' rewrite holds their table against writers (so that a
    submission waits for it instead of deadlocking with it, each locking count rows in its own order), and each
    CLUSTER holds its table: submissions wait, for the seconds docs/deploy.md gives, and do not fail."""
    rows: dict[str, int] = {}
    rewritten = False
    try:
        for names in (("compilazioni", "risposte"), ("riepilogo_risposte",)):
            connection = _waiting_at_most(session, lock_timeout)
            one_bulk_writer_at_a_time(connection)  # a batch rolled back, the purge: they wait, or this does
            if "riepilogo_risposte" in names:  # readers go on; writers wait
                connection.execute(text("LOCK TABLE riepilogo_risposte IN EXCLUSIVE MODE"))
            for name in names:
                table, column = Base.metadata.tables[name], TABLES[name]
                rows[name] = connection.execute(update(table).values({column: table.c[column]})).rowcount
            session.commit()
        rewritten = True
        for name in TABLES:
            _waiting_at_most(session, lock_timeout).execute(text(f"CLUSTER {name} USING pk_{name}"))
            session.commit()
        # Long comments again, now in key order: their out-of-line chunks get numbers in that order.
        risposte = Base.metadata.tables["risposte"]
        one_bulk_writer_at_a_time(_waiting_at_most(session, lock_timeout))
        session.connection().execute(
            update(risposte).where(func.octet_length(risposte.c.testo) > LONG_TEXT_BYTES)
            .values(testo=risposte.c.testo + ""))
        session.commit()
    except OperationalError as exc:
        session.rollback()
        code = getattr(exc.orig, "sqlstate", None)
        if code in (LOCK_NOT_AVAILABLE, DEADLOCK):
            busy = (f"una tabella delle risposte è rimasta occupata per più di {lock_timeout} s"
                    if code == LOCK_NOT_AVAILABLE else "un'altra scrittura sulle stesse righe si è incrociata")
            raise MaintenanceError(
                busy + ("; i numeri di transazione sono già riscritti, il riordino resta per la prossima esecuzione"
                        if rewritten else "; riprova più tardi")
            ) from exc
        raise
    # The versions written over, dead since the commits above, out of the tables' files (and their TOAST tables).
    # A transaction open since before the rewrite still sees them: they stay until the next vacuum.
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM {', '.join(TABLES)}"))
    return rows


def _waiting_at_most(session: Session, seconds: int):
    """The session's connection, in a transaction that waits at most ``seconds`` for a lock (a statement waiting for
    a table holds up every citizen queued behind it)."""
    connection = session.connection()
    connection.execute(text("SELECT set_config('lock_timeout', :timeout, true)"), {"timeout": f"{seconds}s"})
    return connection
