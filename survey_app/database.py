"""How the app talks to SQLite, the embedded default: several workers and threads write to one file.

Every connection gets write-ahead logging (readers never wait for the writer, and the writer does not wait for
readers), a busy timeout (a writer waits its turn instead of failing with "database is locked"), and a full sync on
each commit, so an acknowledged answer survives a crash of the process and of the machine. PostgreSQL needs none of
this.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Long enough for a burst of citizens on a small host (each write takes a few milliseconds), short enough that a
# stuck writer turns into an error page rather than a hung worker.
BUSY_TIMEOUT_MS = 15_000
PRAGMAS = ("PRAGMA journal_mode=WAL", f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", "PRAGMA synchronous=FULL")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()
