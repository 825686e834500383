from pathlib import Path

import pytest

from survey_app import create_app
from survey_app.settings import ConfigurationError


def test_testing_config(app, tmp_path):
    assert app.testing
    assert create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}).testing is False


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}  # the tests' rate limits are in memory: no Redis


def test_secret_generated_once_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    key = first.config["SECRET_KEY"]
    assert len(key) == 64 and key == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'survey.sqlite3'}"


def test_environment_overrides_instance_file(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("SUPPRESSION_THRESHOLD = 7\nSECRET_KEY = 'from-file'\n")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SUPPRESSION_THRESHOLD"] == 7
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("env", [{}, {"SECRET_KEY": "x" * 40}, {"DATABASE_URL": "postgresql://u@h/db"}])
def test_production_refuses_to_start_without_secrets(tmp_path, monkeypatch, env):
    for name in ("SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURVEY_ENV", "production")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as excinfo:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    missing = {"SECRET_KEY", "DATABASE_URL"} - set(env)
    for name in missing:
        assert name in str(excinfo.value)
    # In Italian, with the forms to write: SQLite's absolute path too (a small Comune may stay on SQLite).
    assert ("mancano nell'ambiente" if len(missing) > 1 else "manca nell'ambiente") in str(excinfo.value)
    assert f"sqlite:///{tmp_path / 'survey.sqlite3'}" in str(excinfo.value)
    assert not (tmp_path / "secret_key").exists()


def test_production_starts_with_both(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_per_worker_rate_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI=redis"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("WEB_CONCURRENCY", "1")  # one worker process: its memory is the only count
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SESSION_COOKIE_SECURE"] is True


def test_healthz_says_what_is_unreachable(app, client, redis_url):
    app.config["CACHE_REDIS_URL"] = redis_url
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "redis": "ok"}
    app.config["CACHE_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "errore", "database": "ok", "redis": "non raggiungibile"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_trusted_proxy_each_citizen_has_their_own_rate_limit(database_url, tmp_path, proxies):
    from survey_app.catalogue import load_catalogue
    from survey_app.extensions import db

    from .conftest import SMALL_CATALOGUE, _config
    from .helpers import hidden_fields

    app = create_app({**_config(database_url, tmp_path / "instance"), "TRUSTED_PROXIES": proxies,
                      "SUBMIT_RATE_LIMIT": "1 per minute"})
    with app.app_context():
        load_catalogue(db.session, SMALL_CATALOGUE)
        db.session.remove()
    client = app.test_client()

    def post(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        fields = hidden_fields(client.get("/s/anagrafe?nuovo=1", headers=headers).get_data(as_text=True))
        return client.post("/s/anagrafe", data={**fields, "D3": "4"}, headers=headers).status_code

    assert post("203.0.113.1") == 302
    assert post("203.0.113.1") == 429
    # Another citizen behind the same proxy has their own bucket; without a trusted proxy the header is a forgery
    # anyone could send, so it changes nothing.
    assert post("203.0.113.2") == (302 if proxies else 429)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_suppression_threshold_never_below_five(tmp_path):
    with pytest.raises(ConfigurationError, match="SUPPRESSION_THRESHOLD"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SUPPRESSION_THRESHOLD": 3, "SECRET_KEY": "x"})


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    """`flask db upgrade` created survey.sqlite3 readable by everyone (0644), comments and password hashes in it."""
    import stat

    create_app({"INSTANCE_PATH": str(tmp_path)})
    database = tmp_path / "survey.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    elsewhere = tmp_path / "altrove.sqlite3"
    create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{elsewhere}"})
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600
    # A relative path is under the instance folder, as Flask-SQLAlchemy reads it (not a stray file here).
    create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite+pysqlite:///relativo.sqlite3"})
    assert stat.S_IMODE((tmp_path / "relativo.sqlite3").stat().st_mode) == 0o600
    assert not Path("relativo.sqlite3").exists()


def _without_tables(database_url: str, tmp_path) -> str:
    """An empty database of the same kind: a new SQLite file, or a PostgreSQL schema with no tables."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'vuoto.sqlite3'}"
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS senza_tabelle")
    return database_url + ("&" if "?" in database_url else "?") + "options=-csearch_path%3Dsenza_tabelle"


def test_a_database_without_tables_is_named_not_a_traceback(database_url, tmp_path, caplog):
    """Forgetting `flask db upgrade` (or running with another SURVEY_INSTANCE) gave a raw "no such table"
    traceback from every command, and an unexplained 500 page (a new Comune's walk-through)."""
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": _without_tables(database_url, tmp_path)})
    for args in (["catalogue", "load", "instances/demo/catalogue"], ["responses", "batches"], ["users", "list"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "il database non ha ancora le tabelle dell'app: eseguire prima `flask --app survey_app db upgrade`" \
            in result.output, args
        assert "Traceback" not in result.output
    with caplog.at_level("ERROR"):
        page = app.test_client().get("/")
    assert page.status_code == 500 and "Errore del server" in page.get_data(as_text=True)
    assert any("eseguire prima `flask --app survey_app db upgrade`" in r.getMessage() for r in caplog.records)
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
