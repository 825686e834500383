"""The load test's baseline: a bare Flask app whose one route INSERTs one row, served by the same gunicorn.

Same database (BARE_DATABASE_URL: the load test's SQLite file with the app's pragmas, or its PostgreSQL database),
same pool, same gunicorn settings: what is left between the two is the app's own work per citizen.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey_app import database  # noqa: E402,F401  (the app's SQLite pragmas on every connection)
from survey_app.settings import normalise_database_url  # noqa: E402

engine = create_engine(normalise_database_url(os.environ["BARE_DATABASE_URL"]), pool_pre_ping=True)
with engine.begin() as setup:
    setup.execute(text("CREATE TABLE IF NOT EXISTS bare_answers (id BIGINT PRIMARY KEY, servizio VARCHAR(80), "
                       "valore INTEGER)"))

app = Flask("bare")


@app.post("/insert")
def insert():
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bare_answers (id, servizio, valore) VALUES (:id, 'anagrafe', 4)"),
                     {"id": int.from_bytes(os.urandom(7), "big")})
    return "", 302, {"Location": "/ok"}
