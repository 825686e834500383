"""The citizen's submit path against a bare Flask INSERT, both through Flask's test client on SQLite.

The real path validates CSRF and the one-time token, builds the questionnaire form, stores one
submission with its item rows, updates the daily counts and redirects. The baseline is a
bare Flask route that inserts one row into a one-table SQLite file with the app's SQLite settings. Printed as a
ratio.
"""

from __future__ import annotations

import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

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
        forms = []
        for _ in range(N):  # each submission needs its own page: the token is one-time
            tokens = dict(TOKENS.findall(client.get("/s/anagrafe").get_data(as_text=True)))
            forms.append({**tokens, "D1": "4", "D1__importanza": "5", "D2": "3", "D3": "4", "D4": "9", "D5": "1",
                          "D7": "Tutto bene"})
        bare = bare_app(folder / "bare.sqlite3").test_client()
        # Interleaved rounds, compared by their medians: a neighbour's burst on a shared machine hits both alike.
        real_times, bare_times = [], []
        for start in range(0, N, ROUND):
            real_times.append(time_posts(client, "/s/anagrafe", forms[start:start + ROUND]))
            bare_times.append(time_posts(bare, "/insert", [{}] * ROUND))
        real, baseline = statistics.median(real_times), statistics.median(bare_times)
        with app.app_context():
            db.engine.dispose()
    print(f"submit: {real * 1000:.2f} ms per questionnaire (6 answers) = {real / baseline:.1f}x a bare Flask "
          f"INSERT ({baseline * 1000:.2f} ms), medians of {N // ROUND} interleaved rounds of {ROUND}, on SQLite, rate limits in "
          f"{'Redis' if LIMITS else 'memory'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
