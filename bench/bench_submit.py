"""The citizen's submit path against a bare Flask INSERT, both through Flask's test client on SQLite.

The real path validates CSRF and the one-time token, builds the questionnaire form, stores one
submission with its item rows, updates the daily counts and redirects. The baseline is a
bare Flask route that inserts one row into a one-table SQLite file with the app's SQLite settings. Printed as a
ratio.

A third figure, the floor: a bare Flask route doing only what issue 11 requires of every submission, with the same
libraries and no more (the signed session cookie that remembers the sending for the Back button, Flask-WTF's CSRF
check, the hit on the Redis rate limit, the one-time token checked and spent in the same transaction, the service
read by its slug, the questionnaire and its items written with sqlite3 and committed). What lies between the floor
and the real path is the app's own code and its libraries (SQLAlchemy, WTForms, the daily counts, the headers).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from flask import Flask, redirect, request, session  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from flask_wtf.csrf import CSRFProtect, generate_csrf  # noqa: E402
from itsdangerous import URLSafeTimedSerializer  # noqa: E402
from limits import parse_many  # noqa: E402
from limits.storage import storage_from_string  # noqa: E402
from limits.strategies import FixedWindowRateLimiter  # noqa: E402

from survey_app import create_app  # noqa: E402
from survey_app.catalogue import load_catalogue  # noqa: E402
from survey_app.database import PRAGMAS  # noqa: E402
from survey_app.extensions import db  # noqa: E402

N = int(os.environ.get("BENCH_SUBMISSIONS", "300"))
ROUND = 20
# The rate limits in Redis, as in production, when a Redis answers on 127.0.0.1 (else the in-memory store, whose
# expiry timer starts a thread per hit).
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def limit_store() -> dict:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return {}
    return {"RATELIMIT_STORAGE_URI": REDIS}


LIMITS = limit_store()
TOKENS = re.compile(r'name="(csrf_token|form_token)" type="hidden" value="([^"]+)"')


def bare_app(path: Path) -> Flask:
    app = Flask("bare")
    conn = sqlite3.connect(path, check_same_thread=False)
    for pragma in PRAGMAS:  # the app's own SQLite settings (WAL, full sync on commit): the same disk work per commit
        conn.execute(pragma)
    conn.execute("CREATE TABLE answers (id INTEGER PRIMARY KEY, service TEXT, value INTEGER)")

    @app.post("/insert")
    def insert():
        conn.execute("INSERT INTO answers (service, value) VALUES (?, ?)", ("anagrafe", 4))
        conn.commit()
        return "", 302, {"Location": "/ok"}

    return app


def floor_app(path: Path) -> Flask:
    """Only what the issue requires of a submission (module docstring), on the bare app's SQLite settings."""
    app = Flask("floor")
    app.config["SECRET_KEY"] = "bench"  # noqa: S105 - a benchmark's throwaway app
    CSRFProtect(app)
    conn = sqlite3.connect(path, check_same_thread=False)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.executescript(
        "CREATE TABLE services (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, version INTEGER);"
        "INSERT INTO services VALUES (1, 'anagrafe', 1);"
        "CREATE TABLE questionnaires (id INTEGER PRIMARY KEY, service INTEGER, version INTEGER, channel TEXT);"
        "CREATE TABLE items (id INTEGER PRIMARY KEY, questionnaire INTEGER, question TEXT, value INTEGER, "
        "importance INTEGER, text TEXT);"
        "CREATE TABLE tokens (hash TEXT PRIMARY KEY, day TEXT)")
    signer = URLSafeTimedSerializer("bench", salt="form-token")
    limiter = FixedWindowRateLimiter(storage_from_string(REDIS if LIMITS else "memory://"))
    limits = parse_many("100000 per minute")

    @app.get("/s/<slug>")
    def page(slug):
        return (f'<input name="csrf_token" type="hidden" value="{generate_csrf()}">'
                f'<input name="form_token" type="hidden" value="{signer.dumps(secrets.token_urlsafe(16))}">')

    @app.post("/s/<slug>")
    def submit(slug):
        if not all(limiter.hit(item, "submit", request.remote_addr) for item in limits):
            return "", 429
        token = signer.loads(request.form["form_token"], max_age=24 * 3600)
        service, version = conn.execute("SELECT id, version FROM services WHERE slug = ?", (slug,)).fetchone()
        values = {code: int(request.form[code]) for code in ("D1", "D2", "D3", "D4", "D5")}
        key = secrets.randbits(63)
        conn.execute("INSERT INTO questionnaires VALUES (?, ?, ?, 'web')", (key, service, version))
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", [
            *((secrets.randbits(63), key, code, value, None, None) for code, value in values.items()),
            (secrets.randbits(63), key, "D7", None, None, request.form["D7"])])
        conn.execute("INSERT INTO tokens VALUES (?, date('now'))", (hashlib.sha256(token.encode()).hexdigest(),))
        conn.commit()
        session["inviati"] = {**session.get("inviati", {}), slug: int(time.time())}
        return redirect(f"/s/{slug}/grazie")

    return app


def questionnaires(client, count: int) -> list[dict]:
    """One filled questionnaire per page fetched: the token is one-time."""
    forms = []
    for _ in range(count):
        tokens = dict(TOKENS.findall(client.get("/s/anagrafe").get_data(as_text=True)))
        forms.append({**tokens, "D1": "4", "D1__importanza": "5", "D2": "3", "D3": "4", "D4": "9", "D5": "1",
                      "D7": "Tutto bene"})
    return forms


def time_posts(client, url: str, forms: list[dict]) -> float:
    start = time.perf_counter()
    for data in forms:
        response = client.post(url, data=data)
        assert response.status_code == 302, response.status_code
    return (time.perf_counter() - start) / len(forms)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
                          "SUBMIT_RATE_LIMIT": "100000 per minute", **LIMITS})
        with app.app_context():
            upgrade()
            load_catalogue(db.session, ROOT / "tests" / "data" / "catalogue_small.yaml")
        client = app.test_client()
        forms = questionnaires(client, N)
        floor = floor_app(folder / "floor.sqlite3").test_client()
        floor_forms = questionnaires(floor, N)
        bare = bare_app(folder / "bare.sqlite3").test_client()
        # Interleaved rounds, compared by their medians: a neighbour's burst on a shared machine hits all alike.
        real_times, floor_times, bare_times = [], [], []
        for start in range(0, N, ROUND):
            real_times.append(time_posts(client, "/s/anagrafe", forms[start:start + ROUND]))
            floor_times.append(time_posts(floor, "/s/anagrafe", floor_forms[start:start + ROUND]))
            bare_times.append(time_posts(bare, "/insert", [{}] * ROUND))
        real, least, baseline = (statistics.median(times) for times in (real_times, floor_times, bare_times))
        with app.app_context():
            db.engine.dispose()
    print(f"submit: {real * 1000:.2f} ms per questionnaire (6 answers) = {real / baseline:.1f}x a bare Flask "
          f"INSERT ({baseline * 1000:.2f} ms), medians of {N // ROUND} interleaved rounds of {ROUND}, on SQLite, rate limits in "
          f"{'Redis' if LIMITS else 'memory'}")
    print(f"submit floor (only what the issue requires, module docstring): {least * 1000:.2f} ms = "
          f"{least / baseline:.1f}x the bare INSERT; the app adds {(real - least) * 1000:.2f} ms to it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
