"""`flask erase-order`: no trace of the order in which citizens answered, where the database keeps one.

On PostgreSQL a row's transaction number (xmin), its place in the table and a long comment's out-of-line chunk
number follow the order of writing, whatever its key; on SQLite, where each row's bytes lie in its page. The command
writes them again.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, func, make_url, select
from sqlalchemy.orm import Session

from survey_app.imports.rollback import rollback_batch
from survey_app.maintenance.locks import one_bulk_writer_at_a_time
from survey_app.maintenance.order import erase_order
from survey_app.maintenance.purge import purge_comments
from survey_app.models import AuditLog, Compilazione, ImportBatch, Risposta

from .conftest import run_sql
from .helpers import add_answers, submit
from .test_imports import HEADER, run_import, write
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


def cell_offsets(path: Path, table: str) -> list[int]:
    """Where each row of a one-page SQLite table lies in its page, in key order (the file format's cell pointers)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the latest pages into the file (their layout unchanged)
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    page = path.read_bytes()[(root - 1) * size:root * size]
    header = 100 if root == 1 else 0
    assert page[header] == 0x0D, "not a single leaf page"
    cells = int.from_bytes(page[header + 3:header + 5], "big")
    return [int.from_bytes(page[header + 8 + 2 * i:header + 10 + 2 * i], "big") for i in range(cells)]


def test_on_sqlite_rows_lie_in_their_page_in_writing_order_until_erase_order(app, catalogue, client, runner, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL: the tests above")
    db = catalogue
    answer_in_turn(client)
    path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    by_key = list(run_sql(db, f"{COMMENTS} ORDER BY c.id").scalars())
    db.rollback()
    # The finding: SQLite writes each row below the one written before, so the offsets give the order of writing.
    offsets = cell_offsets(path, "compilazioni")
    assert [comment for _offset, comment in sorted(zip(offsets, by_key, strict=True), reverse=True)] == CITIZENS
    before, before_counts = content(db), counts(db)
    db.rollback()

    result = runner.invoke(args=["erase-order"])
    assert result.exit_code == 0, result.output
    assert "Ordine di scrittura cancellato" in result.output and f"{len(CITIZENS)} compilazioni" in result.output
    offsets = cell_offsets(path, "compilazioni")
    assert offsets == sorted(offsets, reverse=True)  # written again in key order
    assert content(db) == before and counts(db) == before_counts


def test_on_postgres_long_comments_stored_out_of_line_lose_their_order_too(app, catalogue, client, runner,
                                                                            backend):
    if backend != "postgresql":
        pytest.skip("TOAST is PostgreSQL's")
    db = catalogue
    rng = random.Random(7)
    for n in range(1, 6):  # incompressible, over 2 kB (a question may allow that long): out of line, uncompressed
        noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(1500))
        add_answers(db, "anagrafe", datetime(2026, 6, 1, 9), {"D3": 3, "D7": f"cittadino {n} {noise}"})
    toast = run_sql(db, "SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'risposte'").scalar()

    def chunk_order() -> list[str]:
        # The first chunk of each value starts with the comment's own bytes (stored uncompressed).
        # The TOAST table's name comes from PostgreSQL's own catalogue.
        firsts = run_sql(db, f"SELECT chunk_data FROM {toast} WHERE chunk_seq = 0 ORDER BY chunk_id").scalars()  # noqa: S608
        return [bytes(data)[:11].decode() for data in firsts]

    assert chunk_order() == [f"cittadino {n}" for n in range(1, 6)]  # the finding
    db.rollback()
    result = runner.invoke(args=["erase-order"])
    assert result.exit_code == 0, result.output
    by_key = [comment[:11] for comment in run_sql(db, f"{COMMENTS} ORDER BY r.id").scalars()]
    assert chunk_order() == by_key


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


def _waiting_for_a_lock(dsn: str, seconds: float = 10, wait_event: str = "%") -> bool:
    """True once a session of this database waits for a lock (the other writer has reached it)."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(dsn, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            if watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND wait_event LIKE %s AND datname = current_database()", (wait_event,)).fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def _one_batch(db, runner, tmp_path) -> int:
    rows = "\n".join(f"X{i};15/03/2025;anagrafe;;;5;;;5;;;;" for i in range(6))
    assert run_import(runner, write(tmp_path, f"{HEADER}\n{rows}\n")).exit_code == 0
    batch_id = db.scalar(select(ImportBatch.id))
    db.rollback()
    return batch_id


def _caught_halfway(database_url: str, first, second) -> list[Exception]:
    """Run ``first`` in a thread and hold it just after it deleted or emptied its answer rows; then run ``second``,
    let it come as far as it can (until it waits for a lock), let ``first`` go on. The errors either raised.

    On SQLite ``second`` waits in the busy timeout, which no view shows: it is given a second to get there."""
    from survey_app.extensions import db as _db

    engine, paused, resume, errors = _db.engine, threading.Event(), threading.Event(), []

    def pause_after_the_items(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread() is one and statement.startswith(("DELETE FROM risposte", "UPDATE risposte")):
            paused.set()
            resume.wait(30)

    def in_thread(job) -> threading.Thread:
        def run() -> None:
            try:
                with Session(engine) as session:
                    job(session)
            except Exception as exc:  # noqa: BLE001 - returned to the test
                errors.append(exc)
        return threading.Thread(target=run)

    one, other = in_thread(first), in_thread(second)
    event.listen(engine, "after_cursor_execute", pause_after_the_items)
    try:
        one.start()
        assert paused.wait(10)
        other.start()
        if engine.dialect.name == "sqlite":  # no view of who waits: give it the time to reach its lock
            time.sleep(1)
        else:
            assert _waiting_for_a_lock(make_url(database_url).set(drivername="postgresql")
                                       .render_as_string(hide_password=False))
    finally:
        resume.set()
        one.join(30)
        other.join(60)
        event.remove(engine, "after_cursor_execute", pause_after_the_items)
    return errors


def test_a_batch_rolled_back_during_erase_order_waits_its_turn_instead_of_deadlocking(app, catalogue, client, runner,
                                                                                     backend, database_url, tmp_path):
    """The rollback deletes the batch's items, then its questionnaires; erase-order rewrites every questionnaire,
    then every item. Caught in between, each waited for rows the other held, and PostgreSQL cancelled one."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    db = catalogue
    answer_in_turn(client)
    batch_id = _one_batch(db, runner, tmp_path)
    errors = _caught_halfway(database_url, lambda session: rollback_batch(session, batch_id, actor="test"),
                             lambda session: erase_order(session, lock_timeout=20))
    assert not errors, errors
    assert db.scalar(select(func.count()).select_from(Compilazione)) == len(CITIZENS)
    assert sorted(comments_in(db, "c.id")) == sorted(CITIZENS)
    assert run_sql(db, "SELECT count(DISTINCT xmin::text) FROM compilazioni").scalar() == 1  # rewritten after it


def test_the_retention_purge_waits_for_erase_order_too(app, catalogue, client, runner, backend, database_url):
    """The purge empties old comments in the order it finds them, erase-order rewrites every item in its own: the
    purge waits while erase-order (or a rollback) holds the bulk writers' lock, and goes on when it ends."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    from survey_app.extensions import db as _db

    db = catalogue
    answer_in_turn(client)
    db.rollback()
    engine, done = _db.engine, []
    purge = threading.Thread(target=lambda: done.append(_purge_all(engine)))
    with engine.connect() as holder:
        holder.begin()
        one_bulk_writer_at_a_time(holder)
        purge.start()
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        assert _waiting_for_a_lock(dsn, wait_event="advisory")
        assert not done
        holder.rollback()
    purge.join(30)
    assert done == [len(CITIZENS)]
    assert comments_in(db, "c.id") == []


def _purge_all(engine) -> int:
    with Session(engine) as session:
        return purge_comments(session, 1, today=datetime(2100, 1, 1).date()).comments


def test_two_rollbacks_of_one_batch_run_one_after_the_other(app, catalogue, runner, backend, database_url, tmp_path):
    """Two admins press "annulla" together: the second finds the batch rolled back, one audit entry says so (both
    ran, on either database: the second had read the batch before the first committed)."""
    db = catalogue
    batch_id = _one_batch(db, runner, tmp_path)
    errors = _caught_halfway(database_url, lambda session: rollback_batch(session, batch_id, actor="primo"),
                             lambda session: rollback_batch(session, batch_id, actor="secondo"))
    assert [str(e) for e in errors] == [f"il lotto {batch_id} è già stato annullato il "
                                        f"{db.get(ImportBatch, batch_id).annullato_il:%d/%m/%Y}"]
    assert db.scalar(select(func.count()).select_from(AuditLog).filter_by(azione="lotto.annulla")) == 1
    assert db.get(ImportBatch, batch_id).annullato_da == "primo"
