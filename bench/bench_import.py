"""A firm's file of 100,000 rows read, checked and committed, against a bare Core executemany of the same rows.

    BENCH_IMPORT_ROWS=100000 make bench     # the default; smaller values for a quick look

The baseline inserts, in the same kind of database and in the same run, exactly the questionnaires and answers the
import writes (taken back from the imported database), with SQLAlchemy Core executemany and nothing else: no
reading, no checks, no counts. Goal: ≤ 3× the baseline and ≤ 30 s.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _postgres import temporary_database  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, insert, select  # noqa: E402

from survey_app import create_app  # noqa: E402
from survey_app.catalogue import load_catalogue  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from survey_app.imports.load import import_file  # noqa: E402
from survey_app.models import Compilazione, ImportExternalId, RiepilogoRisposte, Risposta  # noqa: E402

CATALOGUE = ROOT / "tests" / "data" / "catalogue_small.yaml"
HEADER = "id_esterno;data;servizio;canale;sede;D1;D1_importanza;D2;D3;D4;D5;D6;D7"


def firm_file(rows: int) -> bytes:
    """What a firm sends: semicolons, Italian dates, labels, now and then a comment or a "non so"."""
    rnd = random.Random(7)
    lines = [HEADER]
    for i in range(rows):
        overall = rnd.randint(1, 5)
        reasons = '"attesa;informazioni"' if overall < 3 and rnd.random() < 0.5 else ""
        lines.append(f"R{i};{1 + i % 28:02d}/{1 + i % 12:02d}/2025;{'anagrafe' if i % 3 else 'tributi'};;"
                     f"{'sportello-1' if i % 3 == 1 else ''};{'non so' if i % 17 == 0 else rnd.randint(1, 5)};"
                     f"{rnd.randint(1, 5)};{rnd.randint(1, 4)};{overall};{rnd.randint(0, 10)};"
                     f"{'sì' if rnd.random() < 0.8 else 'no'};{reasons};{'Grazie' if i % 50 == 0 else ''}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def app_for(url: str, folder: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder)})
    with app.app_context():
        upgrade()
        load_catalogue(db.session, CATALOGUE)
    return app


def measure(label: str, url: str, folder: Path, data: bytes) -> None:
    app = app_for(url, folder)
    with app.app_context():
        start = time.perf_counter()
        report = import_file(db.session, data, "lotto.csv", "breve", source="bench", method="CATI")
        elapsed = time.perf_counter() - start
        assert report.written == report.rows, report.reasons
        # The same rows again, bare: delete them and insert them back with Core executemany.
        c, r = Compilazione.__table__, Risposta.__table__
        questionnaires = [dict(row) for row in db.session.execute(select(c)).mappings()]
        answers = [dict(row) for row in db.session.execute(select(r)).mappings()]
        for model in (Risposta, Compilazione, ImportExternalId, RiepilogoRisposte):
            db.session.execute(delete(model))
        db.session.commit()
        start = time.perf_counter()
        db.session.execute(insert(c), questionnaires)
        db.session.execute(insert(r), answers)
        db.session.commit()
        baseline = time.perf_counter() - start
        db.engine.dispose()
    ratio = elapsed / baseline
    verdict = "met" if ratio <= 3 and elapsed <= 30 else "MISSED"
    print(f"import {report.rows:,} rows ({len(answers):,} answers) ({label}): {elapsed:.1f} s; {ratio:.1f}× bare Core "
          f"executemany of the same rows ({baseline:.1f} s) (goal ≤ 3× and ≤ 30 s: {verdict})")


def main() -> int:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    data = firm_file(rows)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        measure("sqlite", f"sqlite:///{folder / 'import.sqlite3'}", folder, data)
        with temporary_database("import") as database:
            if database is None:
                return 0
            _dsn, url = database
            measure("postgresql", url, folder, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
