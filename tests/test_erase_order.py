"""`flask erase-order`: no trace of the order in which citizens answered, where the database keeps one.

On PostgreSQL a row's transaction number (xmin) and its place in the table follow the order of writing, whatever its
key; the command rewrites them. On SQLite neither exists, and the command says so.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, make_url, select

from survey_app.models import Compilazione, Risposta

from .conftest import run_sql
from .helpers import submit
from .test_summary import counts

TABLES = ("compilazioni", "risposte", "riepilogo_risposte")
CITIZENS = [f"cittadino {n}" for n in range(1, 9)]
COMMENTS = ("SELECT r.testo FROM compilazioni c JOIN risposte r ON r.compilazione_id = c.id "
            "WHERE r.testo IS NOT NULL")


def answer_in_turn(client) -> None:
    """Eight citizens, one after the other, each with a comment that says who they were."""
    for n, comment in enumerate(CITIZENS):
        response = submit(client, "/s/anagrafe", {"D3": str(n % 5 + 1), "D7": comment}, page="/s/anagrafe?nuovo=1")
        assert response.status_code == 302


def comments_in(session, order_by: str) -> list[str]:
    """The comments, their questionnaires read in the given order (a column of compilazioni)."""
    return list(run_sql(session, f"{COMMENTS} ORDER BY {order_by}").scalars())  # noqa: S608 - this file's constants


def content(session) -> list[tuple]:
    return sorted(tuple(str(v) for v in row) for row in session.execute(
        select(Compilazione.id, Compilazione.data_ora, Compilazione.canale, Risposta.id, Risposta.domanda_id,
               Risposta.valore, Risposta.opzione, Risposta.testo, Risposta.importanza, Risposta.non_so)
        .join(Risposta, Risposta.compilazione_id == Compilazione.id)))


def test_on_postgres_the_writing_order_is_readable_until_erase_order_rewrites_it(app, catalogue, client, runner,
                                                                               backend):
    if backend != "postgresql":
        pytest.skip("the order's traces are PostgreSQL's (SQLite: the next test)")
    db = catalogue
    answer_in_turn(client)
    # The finding: random keys, and still the questionnaires come out in the order they were sent.
    assert comments_in(db, "c.xmin::text::bigint") == CITIZENS
    assert comments_in(db, "c.ctid") == CITIZENS
    before, before_counts = content(db), counts(db)
    db.rollback()

    result = runner.invoke(args=["erase-order"])
    assert result.exit_code == 0, result.output
    assert "Ordine di scrittura cancellato" in result.output
    assert f"{len(CITIZENS)} compilazioni" in result.output

    for table in TABLES:
        # One transaction wrote every row, and each table lies in the order of its random key.
        assert run_sql(db, f"SELECT count(DISTINCT xmin::text) FROM {table}").scalar() == 1, table  # noqa: S608
        stored = list(run_sql(db, f"SELECT id FROM {table} ORDER BY ctid").scalars())  # noqa: S608 - constants
        assert len(stored) > 1 and stored == sorted(stored), table
    assert comments_in(db, "c.id") == comments_in(db, "c.ctid")
    assert content(db) == before and counts(db) == before_counts
    db.rollback()
    # Citizens answer on as before.
    assert submit(client, "/s/anagrafe", {"D3": "5"}, page="/s/anagrafe?nuovo=1").status_code == 302
    assert db.scalar(select(func.count()).select_from(Compilazione)) == len(CITIZENS) + 1


def test_on_sqlite_there_is_nothing_to_erase(app, catalogue, client, runner, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL: the test above")
    db = catalogue
    answer_in_turn(client)
    for table in TABLES:
        # A table with an INTEGER key is stored in the order of that key (random), whatever the order of writing:
        # read as stored, not through an index.
        stored = list(run_sql(db, f"SELECT id FROM {table} NOT INDEXED").scalars())  # noqa: S608 - constants
        assert len(stored) > 1 and stored == sorted(stored), table
    before = content(db)
    result = runner.invoke(args=["erase-order"])
    assert result.exit_code == 0 and "SQLite: niente da fare" in result.output
    assert content(db) == before


def test_a_busy_table_stops_the_reordering_after_the_rewrite_and_says_so(app, catalogue, client, runner, backend,
                                                                        database_url):
    if backend != "postgresql":
        pytest.skip("lock timeouts are PostgreSQL's")
    db = catalogue
    answer_in_turn(client)
    db.rollback()
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as reader:  # a long staff query holds the counts, read in an open transaction
        reader.execute("SELECT count(*) FROM riepilogo_risposte").fetchone()
        result = runner.invoke(args=["erase-order", "--lock-timeout", "1"])
    assert result.exit_code == 1
    assert "rimasta occupata per più di 1 s" in result.output
    assert "i numeri di transazione sono già riscritti" in result.output
    assert run_sql(db, "SELECT count(DISTINCT xmin::text) FROM compilazioni").scalar() == 1
    db.rollback()
    result = runner.invoke(args=["erase-order", "--lock-timeout", "1"])
    assert result.exit_code == 0, result.output
