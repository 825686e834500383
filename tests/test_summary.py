"""The daily answer counts stay equal to the answers, however they were written."""

import threading
import time
from datetime import date, datetime

import pytest
from sqlalchemy import select

from survey_app import summary
from survey_app.demo.seed import seed_responses
from survey_app.models import SUMMARY_KEY, RiepilogoRisposte, Servizio

from .helpers import add_answers, csrf_token, submit


def counts(db):
    table = RiepilogoRisposte.__table__
    columns = [table.c[k] for k in SUMMARY_KEY] + [table.c.n, table.c.n_importanza, table.c.somma_importanza]
    return sorted(tuple(str(v) for v in row) for row in db.execute(select(*columns)).all())


def test_incremental_counts_equal_a_rebuild_from_the_answers(client, catalogue):
    db = catalogue
    seed_responses(db, 150, seed=5, end=date(2026, 6, 30))  # bulk, then rebuilt
    add_answers(db, "anagrafe", datetime(2026, 6, 1, 9), {"D1": 4, "D3": 5, "D6": ["attesa", "informazioni"],
                                                          "D7": "bene"}, importance={"D1": 5})
    add_answers(db, "anagrafe", datetime(2026, 6, 1, 9), {"D1": 4, "D3": 2}, importance={"D1": 3},
                non_so=("D2",))
    submit(client, "/s/anagrafe?canale=qr&sede=sportello-1", {"D3": "4", "D6": ["attesa"]},
           page="/s/anagrafe?canale=qr&sede=sportello-1")
    # kiosk: red face first, reasons in a second request on the same submission
    kiosk = "/k/anagrafe?sede=sportello-2"
    url = client.post(kiosk, data={"csrf_token": csrf_token(client.get(kiosk).get_data(as_text=True)),
                                   "D1": "1"}).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa", "risposta-negativa"],
                           "invia": "1"})
    incremental = counts(db)
    summary.rebuild(db)
    db.commit()
    assert counts(db) == incremental
    respondents = [row for row in incremental if row[SUMMARY_KEY.index("rispondente")] in ("True", "1")]
    assert respondents, "choice and text questions count their respondents"


def test_rolled_back_submission_leaves_no_counts(client, catalogue):
    db = catalogue
    fields = submit(client, "/s/anagrafe", {"D3": "4"})
    assert fields.status_code == 302
    before = counts(db)
    # the same one-time token again: the submission is rolled back, and its counts with it
    html = client.get("/s/anagrafe?nuovo=1").get_data(as_text=True)  # a second questionnaire, on purpose
    from .helpers import hidden_fields

    hidden = hidden_fields(html)
    client.post("/s/anagrafe", data={**hidden, "D3": "5"})
    after_first = counts(db)
    client.post("/s/anagrafe", data={**hidden, "D3": "5"})
    assert counts(db) == after_first != before


def test_count_rows_get_random_keys_however_they_are_written(client, catalogue):
    """A count row is written by the first answer of its day with its value: a sequential key would number the
    values in the order citizens first gave them, and line the day's first citizen up with an access log."""
    from survey_app.models.base import RANDOM_KEY_MIN

    db = catalogue
    keys = lambda: db.scalars(select(RiepilogoRisposte.id)).all()  # noqa: E731
    submit(client, "/s/anagrafe", {"D1": "2", "D3": "4", "D7": "primo"})  # the citizen's path (Core upsert)
    add_answers(db, "anagrafe", datetime(2026, 6, 1, 9), {"D1": 5, "D3": 1})  # the ORM hook
    written = keys()
    assert len(written) >= 6 and min(written) >= RANDOM_KEY_MIN
    summary.rebuild(db)
    db.commit()
    rebuilt = keys()
    assert len(rebuilt) == len(written) and min(rebuilt) >= RANDOM_KEY_MIN and not set(rebuilt) & set(written)


def test_writers_add_to_count_rows_in_one_order_so_they_never_deadlock(app, catalogue, backend):
    """A citizen and a firm's import add to the same count rows, each in the order its answers came: two
    transactions locking two rows in opposite orders would deadlock on PostgreSQL, and one would fail."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    from survey_app.extensions import db as _db

    db = catalogue
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    domande = {d.codice: d.id for d in servizio.questionario.versione_corrente.domande}
    db.rollback()

    def row(code):
        return {"servizio_id": servizio.id, "domanda_id": domande[code], "giorno": date(2026, 6, 1), "canale": "web",
                "sede_id": 0, "lingua": "it", "import_batch_id": 0, "valore": 4, "opzione": "", "non_so": False,
                "rispondente": False, "n": 1, "n_importanza": 0, "somma_importanza": 0}

    engine = _db.engine
    with engine.begin() as conn:  # both rows exist: adding to them locks them
        summary.upsert_counts(conn, [row("D1"), row("D3")])
    first, second = sorted(["D1", "D3"], key=lambda code: domande[code])
    errors = []
    with engine.connect() as holder:
        holder.begin()
        summary.upsert_counts(holder, [row(first)])  # holds the first row

        def other_writer():  # both rows, in the opposite order
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("SET LOCAL deadlock_timeout = '100ms'")
                    summary.upsert_counts(conn, [row(second), row(first)])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=other_writer)
        thread.start()
        time.sleep(0.5)  # the other writer is waiting now (for the first row; unsorted, it would hold the second)
        holder.exec_driver_sql("SET LOCAL deadlock_timeout = '100ms'")
        summary.upsert_counts(holder, [row(second)])
        holder.commit()
        thread.join(10)
    assert not errors, errors
    n = {r.domanda_id: r.n for r in db.scalars(select(RiepilogoRisposte).where(
        RiepilogoRisposte.giorno == date(2026, 6, 1), RiepilogoRisposte.valore == 4))}
    assert n == {domande["D1"]: 3, domande["D3"]: 3}
