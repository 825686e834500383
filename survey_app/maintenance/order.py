"""Erase the order in which citizens' answers were written, where the database keeps it: PostgreSQL.

The answers' keys are random (models/base.py), so neither keys nor key order line the stored answers up with a web
server's access log. PostgreSQL keeps two more traces of the writing order, readable by anyone with SQL access:

- a table's physical order: new rows are appended, and a SELECT without ORDER BY (or a dump) returns them so;
- each row's ``xmin``, the number of the transaction that wrote it. Numbers grow with every transaction, so
  ``ORDER BY xmin::text::bigint`` lists the questionnaires in the order they were sent. ``CLUSTER`` keeps xmin, and
  so does freezing; only writing the row again changes it.

``erase_order`` therefore rewrites every row of the answers' tables in one transaction (they all get its number),
then ``CLUSTER``s each table on its random key, which also drops the old versions. The daily counts go through the
same, since each citizen's answers update them. SQLite keeps neither trace: a table with an INTEGER key is stored in
key order, and a row carries no transaction number.

Until the nightly run, the rows written since the last one keep their order: the job is meant for the nightly timer
(docs/deploy.md), before the backup (docs/backup.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..models import Base
from . import MaintenanceError

# Each table and a column no index covers: writing it to itself leaves every value and index entry as it was.
TABLES = {"compilazioni": "canale", "risposte": "non_so", "riepilogo_risposte": "n"}
LOCK_TIMEOUT_SECONDS = 5
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code when lock_timeout runs out


@dataclass(frozen=True)
class OrderReport:
    database: str
    rows: dict[str, int]  # table -> rows rewritten; empty where there was nothing to do (SQLite)
    seconds: float

    @property
    def done(self) -> bool:
        return bool(self.rows)


def erase_order(session: Session, *, lock_timeout: int = LOCK_TIMEOUT_SECONDS) -> OrderReport:
    """Rewrite the answers' tables so that no row says when it was written relative to the others (PostgreSQL).

    The rewrite is one transaction: citizens keep answering, and only the daily counts they update wait for it. Each
    CLUSTER then holds its table for the seconds it takes; citizens' submissions wait for it rather than fail. It
    waits at most ``lock_timeout`` seconds for a table (a long staff query, say) and then gives up with the order
    already erased from the transaction numbers: the physical order waits for the next run.
    """
    start = time.perf_counter()
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        return OrderReport(dialect, {}, 0.0)
    rows: dict[str, int] = {}
    rewritten = False
    try:
        connection = _waiting_at_most(session, lock_timeout)
        for name, column in TABLES.items():
            table = Base.metadata.tables[name]
            rows[name] = connection.execute(update(table).values({column: table.c[column]})).rowcount
        session.commit()
        rewritten = True
        # Its own transaction per table, after the rewrite's commit: the versions it replaced are dead by then, and
        # CLUSTER leaves them behind.
        for table in TABLES:
            _waiting_at_most(session, lock_timeout).execute(text(f"CLUSTER {table} USING pk_{table}"))
            session.commit()
    except OperationalError as exc:
        session.rollback()
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise MaintenanceError(
                f"una tabella delle risposte è rimasta occupata per più di {lock_timeout} s"
                + ("; i numeri di transazione sono già riscritti, il riordino resta per la prossima esecuzione"
                   if rewritten else "; nulla è stato modificato, riprova più tardi")
            ) from exc
        raise
    return OrderReport(dialect, rows, time.perf_counter() - start)


def _waiting_at_most(session: Session, seconds: int):
    """The session's connection, in a transaction that waits at most ``seconds`` for a lock (a statement waiting for
    a table holds up every citizen queued behind it)."""
    connection = session.connection()
    connection.execute(text("SELECT set_config('lock_timeout', :timeout, true)"), {"timeout": f"{seconds}s"})
    return connection
