"""The daily answer counts stay equal to the answers, however they were written."""

from datetime import date, datetime

from sqlalchemy import select

from survey_app import summary
from survey_app.demo.seed import seed_responses
from survey_app.models import SUMMARY_KEY, RiepilogoRisposte

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
