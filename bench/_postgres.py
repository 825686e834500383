"""A throw-away PostgreSQL database for a benchmark, on the server the tests use."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import make_url


@contextmanager
def temporary_database(label: str) -> Iterator[tuple[str, str] | None]:
    """(psycopg DSN, SQLAlchemy URL) of a new database, dropped afterwards; None when no server answers."""
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    admin = make_url(server).set(drivername="postgresql")
    admin_dsn = admin.render_as_string(hide_password=False)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"{label} postgresql: skipped, server unreachable ({exc})")
        yield None
        return
    try:
        yield (admin.set(database=name).render_as_string(hide_password=False),
               admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False))
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
