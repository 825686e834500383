"""Fixtures: every test gets its own database, on SQLite and on PostgreSQL.

Tests that take ``app`` (or anything built on it) run once per backend. PostgreSQL runs
when TEST_DATABASE_URL points at a server: each pytest worker creates its own database
there, migrates it once, empties it before every test and drops it at the end. With
REQUIRE_POSTGRES=1 a missing or unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import make_url, text

from survey_app import create_app
from survey_app.catalogue import load_catalogue
from survey_app.extensions import db as _db
from survey_app.models import Base
from survey_app.settings import normalise_database_url

DATA = Path(__file__).parent / "data"
SMALL_CATALOGUE = DATA / "catalogue_small.yaml"
BACKENDS = ["sqlite", "postgresql"]


def _config(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "INSTANCE_PATH": str(instance),
        "SERVER_NAME": "localhost",
        # Figures computed afresh on every request; tests/test_figures_cache.py turns the cache on.
        "FIGURES_CACHE_SECONDS": 0,
    }


def _migrate(url: str, instance: Path) -> None:
    app = create_app(_config(url, instance))
    with app.app_context():
        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory):
    """This worker's own PostgreSQL database, migrated once and dropped at the end."""
    server = os.environ.get("TEST_DATABASE_URL")
    required = os.environ.get("REQUIRE_POSTGRES") == "1"
    if not server:
        if required:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL)")
    server_url = make_url(normalise_database_url(server))
    name = f"cs_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin_dsn = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if required:
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at {server_url.host}: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = server_url.set(database=name).render_as_string(hide_password=False)
    _migrate(url, tmp_path_factory.mktemp("pg-instance"))
    yield url
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(_config(database_url, tmp_path / "instance"))
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """The database session inside an application context."""
    with app.app_context():
        yield _db.session


@pytest.fixture
def catalogue(db):
    """The small test catalogue, loaded."""
    load_catalogue(db, SMALL_CATALOGUE)
    return db


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def run_sql(session, sql: str, **params):
    return session.execute(text(sql), params)


# Field separator, text delimiter, UTF-8, first line, (no column formats), Italian, quoted fields not forced
# to text, special numbers detected, cell contents saved as shown, no formulas, spaces kept, every sheet.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,1040,false,true,true,false,false,-1"


@pytest.fixture(scope="session")
def soffice(tmp_path_factory):
    """LibreOffice headless in its own profile (parallel workers must not share one): convert(source, target).

    Without LibreOffice the tests that open files in Calc skip, except where REQUIRE_LIBREOFFICE=1 (CI).
    """
    program = shutil.which("soffice")
    if program is None:
        message = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    profile = tmp_path_factory.mktemp("libreoffice-profile").as_uri()

    def convert(source: Path, target: str) -> Path:
        out = source.parent / "out"
        done = subprocess.run([program, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                               "--convert-to", target, "--outdir", str(out), str(source)],
                              capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr
        return out
    return convert


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return url
