"""Rate limits without tracking people, and no stored column that can identify the person."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import func, select

from survey_app.models import Base, Compilazione

from .helpers import hidden_fields, submit

UA = "Mozilla/5.0 SENTINEL-UA-4242"
IP = "198.51.100.23"
FORWARDED = "203.0.113.77"


def test_every_stored_column_is_free_of_identifiers(app, client, catalogue):
    db = catalogue
    client.environ_base.update({"REMOTE_ADDR": IP, "HTTP_USER_AGENT": UA, "HTTP_X_FORWARDED_FOR": FORWARDED})
    response = submit(client, "/s/anagrafe?canale=qr&sede=sportello-1", {"D1": "5", "D3": "4", "D7": "ottimo"},
                      page="/s/anagrafe?canale=qr&sede=sportello-1")
    assert response.status_code == 302
    cookie = client.get_cookie("session")
    secrets = [IP, FORWARDED, UA, "SENTINEL", cookie.value if cookie else "no-cookie"]
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)).all():
            for value in row:
                text = str(value)
                for secret in secrets:
                    assert secret not in text, f"{table.name} stores {secret!r}"
    compilazione = db.scalar(select(Compilazione))
    assert (compilazione.data_ora.minute, compilazione.data_ora.second, compilazione.data_ora.microsecond) == (0, 0, 0)
    local_now = datetime.now(ZoneInfo("Europe/Rome")).replace(tzinfo=None)
    assert compilazione.data_ora <= local_now and (local_now - compilazione.data_ora).total_seconds() < 3600


def test_no_column_is_meant_for_identifiers():
    suspicious = ("ip", "indirizzo_ip", "user_agent", "browser", "cookie", "session", "sessione", "email")
    for table in Base.metadata.sorted_tables:
        if table.name in ("utenti", "audit_log", "import_batches"):
            continue  # staff data, not answers
        for column in table.columns:
            assert column.name not in suspicious, f"{table.name}.{column.name}"


def _limited_post(client, times: int, texts: list | None = None, headers: list | None = None):
    html = client.get("/s/anagrafe").get_data(as_text=True)
    fields = hidden_fields(html)
    responses = [client.post("/s/anagrafe", data={**fields, "D3": "4"}) for _ in range(times)]
    if texts is not None:
        texts += [r.get_data(as_text=True) for r in responses]
    if headers is not None:
        headers += [r.headers for r in responses]
    return [r.status_code for r in responses]


def test_rate_limit_in_memory(app, client, catalogue):
    app.config["SUBMIT_RATE_LIMIT"] = "3 per minute"
    texts = []
    statuses = _limited_post(client, 4, texts)
    assert statuses == [302, 302, 302, 429]
    assert "Troppi invii" in texts[3] and "Riprova tra qualche minuto" in texts[3]
    # the questionnaire itself can still be read
    assert client.get("/s/anagrafe").status_code == 200
    assert catalogue.scalar(select(func.count()).select_from(Compilazione)) == 1  # one token, one answer


def test_rate_limit_in_redis(database_url, tmp_path, redis_url):
    from survey_app import create_app
    from survey_app.catalogue import load_catalogue
    from survey_app.extensions import db as _db

    from .conftest import SMALL_CATALOGUE, _config

    prefix = f"test-{uuid.uuid4().hex}"
    app = create_app({**_config(database_url, tmp_path / "instance"), "RATELIMIT_STORAGE_URI": redis_url,
                      "RATELIMIT_KEY_PREFIX": prefix, "SUBMIT_RATE_LIMIT": "2 per minute"})
    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
    client = app.test_client()
    headers = []
    statuses = _limited_post(client, 3, headers=headers)
    assert statuses == [302, 302, 429]
    # The refusal says when to try again, within the minute's window; accepted answers carry no limiter headers
    # (each would cost a round trip to Redis).
    assert 1 <= int(headers[2]["Retry-After"]) <= 60
    assert not any(name.startswith("X-RateLimit") for name, _value in headers[0].items())
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
    assert keys, "the limiter did not count in Redis"
    with app.app_context():
        _db.engine.dispose()


def test_stored_keys_do_not_follow_the_order_of_submission(app, client, catalogue):
    """An access log (address and second) must not line up with the stored answers: keys are random, not a
    sequence, so neither the questionnaires' nor their items' keys grow with each submission."""
    from survey_app.models import Risposta
    from survey_app.models.base import RANDOM_KEY_MIN

    db = catalogue
    keys = []
    for n in range(12):
        assert submit(client, "/s/anagrafe", {"D1": str(1 + n % 5), "D3": "4", "D7": f"nota {n}"},
                      page="/s/anagrafe?nuovo=1").status_code == 302
        keys.append(db.scalar(select(Compilazione.id).join(Risposta).where(Risposta.testo == f"nota {n}")))
    items = db.scalars(select(Risposta.id)).all()
    assert len(set(keys)) == 12 and all(key >= RANDOM_KEY_MIN for key in keys + items)
    assert keys != sorted(keys) and keys != sorted(keys, reverse=True)
    # In the tables' own key order, the submissions come out shuffled.
    texts = db.scalars(select(Risposta.testo).where(Risposta.testo.is_not(None)).order_by(Risposta.id)).all()
    assert texts != [f"nota {n}" for n in range(12)]
