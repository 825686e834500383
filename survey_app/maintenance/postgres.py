"""PostgreSQL: backups are logical dumps taken by the server's own tools, which the operator runs.

`flask backup` / `flask restore` do not run pg_dump themselves: pg_dump must be at least the server's major version
(a managed server is often newer than the distribution's client), it reads its password from ~/.pgpass, a service
file or PGPASSWORD as the installation already arranges, and production servers usually have their own backups
(pgBackRest, the provider's snapshots). A wrapper would only add a layer that fails differently; the commands print
the exact invocation instead, with the database URL's parts and never its password.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from sqlalchemy import make_url

CREDENTIALS_HINT = "password da ~/.pgpass o PGPASSWORD"


def connection_args(url: str) -> list[str]:
    """-h/-p/-U/-d for the database of ``url``; its query options (sslmode …) go in a conninfo -d."""
    parsed = make_url(url)
    args: list[str] = []
    if parsed.host:
        args += ["-h", parsed.host]
    if parsed.port:
        args += ["-p", str(parsed.port)]
    if parsed.username:
        args += ["-U", parsed.username]
    database = parsed.database or ""
    if parsed.query:
        options = [f"{key}={value}" for key, values in sorted(parsed.query.items())
                   for value in ((values,) if isinstance(values, str) else values)]
        args += ["-d", " ".join([f"dbname={database}", *options])]
    else:
        args += ["-d", database]
    return args


def dump_command(url: str, out: Path | str) -> str:
    return shlex.join(["pg_dump", "-Fc", *connection_args(url), "-f", str(out)])


def restore_command(url: str, dump: Path | str) -> str:
    # --single-transaction: all or nothing; --clean --if-exists: drops what the dump recreates, even on an empty db.
    return shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                       *connection_args(url), str(dump)])
