"""One job at a time among those that write many stored answers in one statement.

``erase-order`` writes every answer again, rolling a firm's batch back deletes its answers, the retention purge
empties old comments. Two such statements lock the same rows, each in the order it meets them, and PostgreSQL
cancels one of the two with a deadlock error. Each of these transactions takes one advisory lock first, so they
queue instead; the lock goes with the transaction. Citizens write new rows only and never take it.

SQLite has one writer at a time, but a job that read before taking it would act on what it read, though another
writer has changed it since (two rollbacks of one batch both ran): there the job takes the write lock before it
reads.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

BULK_ANSWER_WRITES = 0x5375727665790001  # any constant of the app's own, within a bigint
TAKE_SQLITE_WRITE_LOCK = text("UPDATE import_batches SET id = id WHERE 0")


def one_bulk_writer_at_a_time(session: Session | Connection) -> None:
    """Wait until no other bulk writer of answers holds the lock, and hold it until this transaction ends."""
    bind = session if isinstance(session, Connection) else session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BULK_ANSWER_WRITES})
    elif bind.dialect.name == "sqlite":
        session.execute(TAKE_SQLITE_WRITE_LOCK)  # writes nothing: a write statement takes the lock, waiting its turn
