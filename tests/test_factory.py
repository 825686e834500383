import pytest

from survey_app import create_app
from survey_app.settings import ConfigurationError


def test_testing_config(app, tmp_path):
    assert app.testing
    assert create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}).testing is False


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


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
    assert not (tmp_path / "secret_key").exists()


def test_production_starts_with_both(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_suppression_threshold_never_below_five(tmp_path):
    with pytest.raises(ConfigurationError, match="SUPPRESSION_THRESHOLD"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SUPPRESSION_THRESHOLD": 3, "SECRET_KEY": "x"})
