"""`flask backup`, `flask restore` and `flask purge`: consistent copies, refused bad files, comment retention."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import uuid
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from freezegun import freeze_time
from sqlalchemy import func, make_url, select, text

from analysis.indicators import indicator_table
from survey_app import create_app, summary
from survey_app.catalogue import load_catalogue
from survey_app.extensions import db as _db
from survey_app.maintenance import postgres
from survey_app.maintenance.cli import RESTORE_ACTION
from survey_app.maintenance.purge import ACTION, local_today, months_before
from survey_app.models import AuditLog, Base, CommentoStato, Compilazione, Risposta

from .conftest import SMALL_CATALOGUE
from .helpers import add_answers, login
from .test_summary import counts

SQLITE_ONLY = "SQLite's online backup API; PostgreSQL goes through pg_dump (tested below)"


def sqlite_file(app) -> Path:
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every table of a SQLite file, its rows in a stable order (read with sqlite3, not the app)."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        # Table names from the file's own catalogue, not from input.
        rows = {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)  # noqa: S608
                for name in tables}
        rows["(schema)"] = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)
    return rows


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def comment_id(session, compilazione: Compilazione) -> int:
    return session.scalar(select(Risposta.id).where(Risposta.compilazione_id == compilazione.id,
                                                    Risposta.testo.is_not(None)))


def populate(session) -> None:
    add_answers(session, "anagrafe", datetime(2025, 3, 10, 9), {"D1": 5, "D3": 4, "D6": ["attesa"], "D7": "Tutto bene"})
    tributi = add_answers(session, "tributi", datetime(2025, 4, 1, 8), {"D3": 2, "D7": "Attesa lunga"})
    session.add(CommentoStato(risposta_id=comment_id(session, tributi), stato="letto"))
    session.add(AuditLog(azione="prova", oggetto="prima del backup"))
    session.commit()


def indicators(runner) -> str:
    result = runner.invoke(args=["report", "indicators", "--year", "2025"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip(SQLITE_ONLY)


# --- backup and restore on SQLite -------------------------------------------------------------------------------


def test_backup_modify_restore_gives_back_every_row(app, catalogue, runner, client, tmp_path, sqlite_only):
    populate(catalogue)
    before = indicators(runner)
    out = tmp_path / "copie" / "survey-backup.sqlite3"
    out.parent.mkdir()
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "2 compilazioni" in result.output and "integrity_check ok" in result.output
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left behind
    assert out.stat().st_mode & 0o077 == 0  # comments and password hashes: readable by the owner only
    assert out.read_bytes()[18:20] == b"\x01\x01"  # a rollback journal, not WAL: one self-contained file
    original = dump(sqlite_file(app))
    assert dump(out) == original

    # Changes after the backup: a new answer with its comment, a state gone, a service renamed.
    add_answers(catalogue, "anagrafe", datetime(2025, 5, 2, 11), {"D3": 1, "D7": "Scritto dopo il backup"})
    catalogue.execute(text("DELETE FROM commenti_stato"))
    catalogue.execute(text("UPDATE servizi SET nome_it = 'Rinominato' WHERE slug = 'anagrafe'"))
    catalogue.commit()
    assert indicators(runner) != before

    refused = runner.invoke(args=["restore", str(out)])
    assert refused.exit_code == 1
    assert "contiene già 3 compilazioni" in refused.output and "--force" in refused.output

    result = runner.invoke(args=["restore", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert "2 compilazioni" in result.output
    restored = dump(sqlite_file(app))
    audit = restored.pop("audit_log")
    expected = original.pop("audit_log")
    assert restored == original  # table by table, row by row
    added = [row for row in audit if row not in expected]
    assert len(added) == 1 and RESTORE_ACTION in added[0] and len(audit) == len(expected) + 1

    # The app serves the restored data: figures, and the staff's comments page.
    assert indicators(runner) == before
    login(client, runner, "tra@example.org", "--role", "trasparenza")
    page = client.get("/staff/commenti").get_data(as_text=True)
    assert "Tutto bene" in page and "Attesa lunga" in page and "Scritto dopo il backup" not in page


def test_backup_is_one_moment_while_a_writer_holds_a_transaction(app, catalogue, runner, tmp_path, sqlite_only):
    populate(catalogue)
    out = tmp_path / "backup.sqlite3"
    with closing(sqlite3.connect(sqlite_file(app), isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO audit_log (created_at, azione) VALUES ('2026-01-01 00:00:00', 'non.confermato')")
        result = runner.invoke(args=["backup", str(out)])
        writer.execute("COMMIT")
    assert result.exit_code == 0, result.output
    assert not any("non.confermato" in row for row in dump(out)["audit_log"])
    assert any("non.confermato" in row for row in dump(sqlite_file(app))["audit_log"])


def test_backup_never_overwrites_without_force(app, catalogue, runner, tmp_path, sqlite_only):
    out = tmp_path / "backup.sqlite3"
    out.write_text("un file prezioso")
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 1 and "esiste già" in result.output and "--force" in result.output
    assert out.read_text() == "un file prezioso"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    result = runner.invoke(args=["backup", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"SQLite format 3\x00")
    assert runner.invoke(args=["backup", str(sqlite_file(app)), "--force"]).exit_code == 1  # never onto itself
    assert runner.invoke(args=["backup", str(tmp_path / "nessuna" / "b.sqlite3")]).exit_code == 1


def _foreign_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE appunti (id INTEGER PRIMARY KEY, testo TEXT)")
        conn.execute("INSERT INTO appunti (testo) VALUES ('altro programma')")
        conn.commit()


def _newer_schema(path: Path, source: Path) -> None:
    shutil.copyfile(source, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_futura'")
        conn.commit()


def _unversioned(path: Path, source: Path) -> None:
    shutil.copyfile(source, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM alembic_version")
        conn.commit()


def _damaged(path: Path, source: Path) -> None:
    data = bytearray(source.read_bytes())
    page = 4096
    data[page:page * 3] = b"\xde\xad\xbe\xef" * (page // 2)  # header intact, the schema pages garbage
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("kind", "message"), [
    ("text", "non è un database SQLite"),
    ("foreign", "non è un database di questa applicazione: mancano le tabelle alembic_version, compilazioni"),
    ("newer", "revisione «9999_futura», che questa versione del programma non conosce"),
    ("unversioned", "non registra la revisione del suo schema"),
    ("damaged", "non è leggibile come database SQLite"),
    ("missing", "non esiste"),
])
def test_restore_refuses_what_is_not_a_backup_of_this_app(app, catalogue, runner, tmp_path, sqlite_only, kind,
                                                          message):
    populate(catalogue)
    good = tmp_path / "good.sqlite3"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0
    bad = tmp_path / f"{kind}.sqlite3"
    if kind == "text":
        bad.write_text("anno,servizio\n2025,anagrafe\n")
    elif kind == "foreign":
        _foreign_sqlite(bad)
    elif kind == "newer":
        _newer_schema(bad, good)
    elif kind == "unversioned":
        _unversioned(bad, good)
    elif kind == "damaged":
        _damaged(bad, good)
    target = sqlite_file(app)
    before = digest(target)
    result = runner.invoke(args=["restore", str(bad), "--force"])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert digest(target) == before


def test_restore_of_an_older_backup_upgrades_its_schema(app, db, runner, tmp_path, sqlite_only):
    migrations = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    head = migrations.get_current_head()
    previous = migrations.get_revision(head).down_revision
    older = tmp_path / "older.sqlite3"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{older}",
                        "SECRET_KEY": uuid.uuid4().hex, "INSTANCE_PATH": str(tmp_path / "other"),
                        "FIGURES_CACHE_SECONDS": 0})
    with other.app_context():
        upgrade(revision=previous)
        _db.engine.dispose()
    result = runner.invoke(args=["restore", str(older)])  # the target has no answers: no --force needed
    assert result.exit_code == 0, result.output
    assert f"aggiornamento a {head}" in result.output
    assert db.scalar(text("SELECT version_num FROM alembic_version")) == head
    assert db.scalar(select(AuditLog.azione)) == RESTORE_ACTION
    load_catalogue(db, SMALL_CATALOGUE)  # the restored database works with today's models
    add_answers(db, "anagrafe", datetime(2025, 3, 10, 9), {"D3": 4, "D7": "dopo il ripristino"})
    assert db.scalar(select(func.count()).select_from(Compilazione)) == 1


# --- PostgreSQL: pg_dump and pg_restore ---------------------------------------------------------------------------


def test_postgres_commands_name_the_database_never_the_password():
    url = "postgresql+psycopg://app:s3cret@db.example.org:5433/survey?sslmode=require"
    dump_cmd = postgres.dump_command(url, "/var/backups/survey.dump")
    assert dump_cmd == ("pg_dump -Fc -h db.example.org -p 5433 -U app -d 'dbname=survey sslmode=require' "
                        "-f /var/backups/survey.dump")
    restore_cmd = postgres.restore_command(url, "survey.dump")
    assert restore_cmd.startswith("pg_restore --clean --if-exists --no-owner --single-transaction -h db.example.org")
    assert "s3cret" not in dump_cmd + restore_cmd
    assert postgres.dump_command("postgresql+psycopg://postgres@127.0.0.1/test", "x.dump") == \
        "pg_dump -Fc -h 127.0.0.1 -U postgres -d test -f x.dump"


def _pg_rows(session) -> dict[str, list]:
    tables = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
    return {name: sorted(session.execute(text(f'SELECT * FROM "{name}"')).all(), key=repr)  # noqa: S608
            for name in tables}


def test_on_postgres_backup_and_restore_print_pg_commands_that_round_trip(app, catalogue, runner, tmp_path,
                                                                          backend, database_url):
    if backend != "postgresql":
        pytest.skip("the PostgreSQL path; SQLite is tested above")
    out = tmp_path / "survey.dump"
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 1 and not out.exists()
    engine_url = _db.engine.url
    assert postgres.dump_command(engine_url, out) in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(args=["restore", str(out)])
    assert result.exit_code == 1 and postgres.restore_command(engine_url, out) in result.output
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed: the printed commands were checked, not run")

    # Run the very commands the CLI prints: dump, change the data, restore, compare every table.
    populate(catalogue)
    original = _pg_rows(catalogue)
    env = {"PATH": "/usr/bin:/bin", **({"PGPASSWORD": make_url(database_url).password}
                                       if make_url(database_url).password else {})}
    subprocess.run(postgres.dump_command(engine_url, out), shell=True, check=True, env=env)  # noqa: S602
    add_answers(catalogue, "anagrafe", datetime(2025, 5, 2, 11), {"D3": 1, "D7": "dopo la copia"})
    catalogue.execute(text("DELETE FROM commenti_stato"))
    catalogue.commit()
    assert _pg_rows(catalogue) != original
    catalogue.remove()
    _db.engine.dispose()  # pg_restore --clean drops the tables: no open transaction may hold them
    subprocess.run(postgres.restore_command(engine_url, out), shell=True, check=True, env=env,  # noqa: S602
                   capture_output=True)
    assert _pg_rows(_db.session) == original


# --- purge of old comments ----------------------------------------------------------------------------------------

NOW = "2026-03-31 10:00:00"  # 12:00 in Rome; twelve months back: 31/03/2025
COMMENTS = {
    "vecchissimo": (datetime(2024, 1, 10, 9), "Nel 2024 il mio numero era 333 1234567"),
    "vecchio": (datetime(2025, 3, 30, 23), "L'ultima ora prima del limite"),
    "confine": (datetime(2025, 3, 31, 0), "Esattamente dodici mesi fa"),
    "nuovo": (datetime(2026, 3, 1, 10), "Commento recente"),
}


@pytest.fixture
def comments(catalogue) -> dict[str, int]:
    """A comment (D7) with scores and a choice on each date; states on an old and on a new one."""
    ids = {}
    for name, (when, comment) in COMMENTS.items():
        submission = add_answers(catalogue, "anagrafe", when, {"D1": 4, "D3": 2, "D6": ["attesa"], "D7": comment})
        ids[name] = comment_id(catalogue, submission)
    catalogue.add_all([CommentoStato(risposta_id=ids["vecchissimo"], stato="gestito"),
                       CommentoStato(risposta_id=ids["nuovo"], stato="letto")])
    catalogue.commit()
    return ids


def texts(session) -> dict[int, str | None]:
    return dict(session.execute(select(Risposta.id, Risposta.testo).join(Compilazione)
                                .where(Risposta.valore.is_(None), Risposta.opzione.is_(None))).all())


def purge(runner, *args: str):
    with freeze_time(NOW):
        return runner.invoke(args=["purge", *args])


def test_cutoff_is_calendar_months_before_today_in_rome():
    assert months_before(date(2026, 3, 31), 12) == date(2025, 3, 31)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)
    assert months_before(date(2026, 3, 31), 24) == date(2024, 3, 31)
    with freeze_time("2026-03-31 22:30:00"):  # already 1 April in Rome (CEST)
        assert local_today("Europe/Rome") == date(2026, 4, 1)


def test_dry_run_counts_and_writes_nothing(catalogue, comments, runner):
    before = texts(catalogue)
    result = purge(runner, "--older-than", "12", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 commenti anteriori al 31/03/2025 (più di 12 mesi)" in result.output
    assert "nessuna modifica" in result.output
    catalogue.expire_all()
    assert texts(catalogue) == before
    assert catalogue.scalar(select(func.count()).select_from(CommentoStato)) == 2
    assert catalogue.scalar(select(func.count()).where(AuditLog.azione == ACTION)) == 0


def test_purge_erases_old_comments_keeps_answers_and_counts_and_is_audited(app, catalogue, comments, runner, client):
    conn = catalogue.connection()
    counts_before = counts(catalogue)
    published_before = indicator_table(conn, 2025)
    answers_before = catalogue.scalar(select(func.count()).select_from(Risposta))
    scores_before = catalogue.execute(select(Risposta.id, Risposta.valore, Risposta.opzione)
                                      .where(Risposta.testo.is_(None)).order_by(Risposta.id)).all()

    result = purge(runner, "--older-than", "12")
    assert result.exit_code == 0, result.output
    assert "Cancellati 2 commenti anteriori al 31/03/2025 (più di 12 mesi)" in result.output
    catalogue.expire_all()
    after = texts(catalogue)
    assert after[comments["vecchissimo"]] is None and after[comments["vecchio"]] is None
    assert after[comments["confine"]] == COMMENTS["confine"][1]  # exactly twelve months ago: kept
    assert after[comments["nuovo"]] == COMMENTS["nuovo"][1]
    assert catalogue.execute(select(CommentoStato.risposta_id, CommentoStato.stato)).all() == \
        [(comments["nuovo"], "letto")]

    # Every answer row, score and choice stays; so do the daily counts, which equal a rebuild from the rows.
    assert catalogue.scalar(select(func.count()).select_from(Risposta)) == answers_before
    assert catalogue.execute(select(Risposta.id, Risposta.valore, Risposta.opzione)
                             .where(Risposta.valore.is_not(None) | Risposta.opzione.is_not(None))
                             .order_by(Risposta.id)).all() == scores_before
    assert counts(catalogue) == counts_before
    summary.rebuild(catalogue)
    catalogue.commit()
    assert counts(catalogue) == counts_before
    published = indicator_table(catalogue.connection(), 2025)
    assert published.equals(published_before)
    d7 = published[published["domanda_codice"] == "D7"]
    assert list(d7["n"]) == [2]  # the free-text item still counts its two 2025 respondents

    audit = catalogue.scalars(select(AuditLog).where(AuditLog.azione == ACTION)).all()
    assert len(audit) == 1
    assert audit[0].oggetto == "2 commenti anteriori al 31/03/2025"
    assert audit[0].dettagli == {"commenti": 2, "stati": 1, "data_limite": "2025-03-31", "mesi": 12,
                                 "da": "riga di comando"}
    assert COMMENTS["vecchissimo"][1] not in str(audit[0].dettagli)

    login(client, runner, "tra@example.org", "--role", "trasparenza")
    page = client.get("/staff/commenti").get_data(as_text=True)
    assert "Commento recente" in page and "Esattamente dodici mesi fa" in page
    assert "333 1234567" not in page and "prima del limite" not in page

    again = purge(runner, "--older-than", "12")
    assert again.exit_code == 0 and "Cancellati 0 commenti" in again.output
    catalogue.expire_all()
    assert texts(catalogue) == after


def test_default_is_the_configured_retention(app, catalogue, comments, runner):
    result = purge(runner, "--dry-run")
    assert result.exit_code == 0 and "1 commenti anteriori al 31/03/2024 (più di 24 mesi)" in result.output
    app.config["COMMENT_RETENTION_MONTHS"] = 1
    result = purge(runner, "--dry-run")
    assert "3 commenti anteriori al 28/02/2026 (più di 1 mesi)" in result.output


@pytest.mark.parametrize("months", ["0", "-3"])
def test_less_than_a_month_is_refused(catalogue, comments, runner, months):
    result = purge(runner, "--older-than", months)
    assert result.exit_code == 1 and "almeno 1 mese" in result.output
    assert catalogue.scalar(select(func.count()).where(AuditLog.azione == ACTION)) == 0
    assert None not in texts(catalogue).values()


def test_all_or_nothing_when_the_transaction_fails(catalogue, comments, runner, monkeypatch):
    before = texts(catalogue)

    def broken(**_kwargs):
        raise RuntimeError("disco pieno")

    monkeypatch.setattr("survey_app.maintenance.purge.AuditLog", broken)
    result = purge(runner, "--older-than", "12")
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    catalogue.expire_all()
    assert texts(catalogue) == before
    assert catalogue.scalar(select(func.count()).select_from(CommentoStato)) == 2


def test_a_database_restored_where_there_was_none_is_readable_by_its_owner_only(app, catalogue, runner, tmp_path,
                                                                               sqlite_only):
    import os

    from survey_app.maintenance.sqlite import restore

    out = tmp_path / "copia.sqlite3"
    assert runner.invoke(args=["backup", str(out)]).exit_code == 0
    target = tmp_path / "nuovo" / "survey.sqlite3"
    target.parent.mkdir()
    previous = os.umask(0o022)  # a usual umask: SQLite alone would create the file readable by everyone
    try:
        restore(out, target)
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o077 == 0 and dump(target) == dump(out)
