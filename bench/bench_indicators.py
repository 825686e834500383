"""Indicators for N responses × 10 items read from SQLite and PostgreSQL, against a bare pandas groupby.

Every figure is a ratio to a baseline measured in the same run (these machines are shared and
noisy): the baseline is a pandas groupby of the same rows already in memory. Peak memory of the
indicator call is measured in a fresh subprocess so that generating the data does not count.

    BENCH_RESPONSES=1000000 make bench     # the default; smaller values for a quick look
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
from _postgres import temporary_database  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

ITEMS = 10
SERVICES = 10
YEAR = 2025
GOAL_RATIO, GOAL_MIB = 5.0, 1024
CATALOGUE = """
questionari:
  - codice: bench
    titolo: {it: Bench}
    domande:
""" + "".join(f"""      - codice: D{i}
        tipo: scala
        testo: {{it: Domanda {i}}}
        importanza: {'true' if i == 1 else 'false'}
""" for i in range(1, ITEMS + 1)) + """
enti:
  - codice: ente-bench
    nome: Comune Bench
    tipo: comune
    uffici:
      - codice: ufficio
        nome: Ufficio
        servizi:
""" + "".join(f"""          - slug: servizio-{i}
            nome: {{it: Servizio {i}}}
            questionario: bench
            utenti_annui: 50000
""" for i in range(1, SERVICES + 1))


def prepare(url: str, folder: Path) -> None:
    from survey_app import create_app
    from survey_app.catalogue import load_catalogue
    from survey_app.extensions import db

    (folder / "bench.yaml").write_text(CATALOGUE, encoding="utf-8")
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        load_catalogue(db.session, folder / "bench.yaml")
        db.engine.dispose()


def generate(url: str, responses: int) -> pd.DataFrame:
    """The rows to load, with the ids the catalogue gave to services, version and questions."""
    engine = create_engine(url)
    with engine.connect() as conn:
        services = [r[0] for r in conn.execute(text("SELECT id FROM servizi ORDER BY id"))]
        version = conn.execute(text("SELECT id FROM questionario_versioni")).scalar_one()
        questions = [r[0] for r in conn.execute(text("SELECT id FROM domande ORDER BY posizione"))]
    engine.dispose()
    rng = np.random.default_rng(7)
    hours = rng.integers(0, 365 * 24, size=responses)
    submissions = pd.DataFrame({
        "id": np.arange(1, responses + 1),
        "servizio_id": rng.choice(services, size=responses),
        "versione_id": version,
        "data_ora": pd.Timestamp(datetime(YEAR, 1, 1)) + pd.to_timedelta(hours, unit="h"),
    })
    satisfaction = np.clip(np.rint(rng.normal(3.9, 0.9, size=(responses, ITEMS))), 1, 5).astype(np.int16)
    answers = pd.DataFrame({
        "id": np.arange(1, responses * ITEMS + 1),
        "compilazione_id": np.repeat(submissions["id"].to_numpy(), ITEMS),
        "domanda_id": np.tile(questions, responses),
        "valore": satisfaction.ravel(),
        "servizio_id": np.repeat(submissions["servizio_id"].to_numpy(), ITEMS),
    })
    return submissions, answers


def load_sqlite(path: Path, submissions: pd.DataFrame, answers: pd.DataFrame) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    dates = submissions["data_ora"].dt.strftime("%Y-%m-%d %H:%M:%S.000000")
    conn.executemany("INSERT INTO compilazioni (id, servizio_id, versione_id, data_ora, canale, lingua) "
                     "VALUES (?, ?, ?, ?, 'web', 'it')",
                     zip(submissions["id"].tolist(), submissions["servizio_id"].tolist(),
                         submissions["versione_id"].tolist(), dates.tolist(), strict=True))
    conn.executemany("INSERT INTO risposte (id, compilazione_id, domanda_id, valore, non_so) VALUES (?, ?, ?, ?, 0)",
                     zip(answers["id"].tolist(), answers["compilazione_id"].tolist(), answers["domanda_id"].tolist(),
                         answers["valore"].tolist(), strict=True))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _copy(cursor, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, len(frame), 500_000):
            buffer = io.StringIO()
            frame.iloc[start:start + 500_000].to_csv(buffer, header=False, index=False)
            copy.write(buffer.getvalue())


def load_postgres(dsn: str, submissions: pd.DataFrame, answers: pd.DataFrame) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        subs = submissions.assign(canale="web", lingua="it")[
            ["id", "servizio_id", "versione_id", "data_ora", "canale", "lingua"]]
        _copy(cursor, "compilazioni", list(subs.columns), subs)
        rows = answers.assign(non_so="f")[["id", "compilazione_id", "domanda_id", "valore", "non_so"]]
        _copy(cursor, "risposte", list(rows.columns), rows)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def build_counts(url: str) -> None:
    """The daily answer counts the app keeps in step with every submission, built once after the bulk load."""
    from sqlalchemy.orm import Session

    from survey_app import summary

    engine = create_engine(url)
    with Session(engine) as session:
        summary.rebuild(session)
        session.commit()
    engine.dispose()


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mib() -> float:
    """This process's own high-water mark. (getrusage's ru_maxrss would include the parent's
    peak, inherited through fork, which here holds all the generated rows.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_child(url: str) -> None:
    """Run in a fresh process: one indicator call, then print its time and peak memory."""
    from analysis.indicators import indicator_table

    engine = create_engine(url)
    before = peak_rss_mib()
    with engine.connect() as conn:
        start = time.perf_counter()
        table = indicator_table(conn, YEAR)
        elapsed = time.perf_counter() - start
    peak = peak_rss_mib()
    print(f"{elapsed} {peak} {peak - before} {int(table['n'].sum())}")


def measure(url: str, runs: int = 3) -> tuple[float, float, float, int]:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", url], capture_output=True, text=True, check=True)
        elapsed, peak, delta, total = out.stdout.split()
        results.append((float(elapsed), float(peak), float(delta), int(total)))
    best = min(results)
    return best[0], max(r[1] for r in results), max(r[2] for r in results), best[3]


def report(name: str, elapsed: float, baseline: float, peak: float, delta: float) -> bool:
    ratio = elapsed / baseline
    ok = ratio <= GOAL_RATIO and peak <= GOAL_MIB
    print(f"indicators {name}: {elapsed:.2f} s = {ratio:.1f}x bare pandas groupby ({baseline:.2f} s); "
          f"peak RSS {peak:.0f} MiB (+{delta:.0f} MiB for the call) "
          f"(goal <= {GOAL_RATIO:g}x, <= {GOAL_MIB} MiB): {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    responses = int(os.environ.get("BENCH_RESPONSES", "1000000"))
    print(f"indicators: {responses:,} responses x {ITEMS} items = {responses * ITEMS:,} answers, {SERVICES} services")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        sqlite_url = f"sqlite:///{folder / 'bench.sqlite3'}"
        prepare(sqlite_url, folder)
        submissions, answers = generate(sqlite_url, responses)
        frame = answers[["servizio_id", "domanda_id", "valore"]].astype(
            {"servizio_id": "int32", "domanda_id": "int32", "valore": "int16"})
        baseline = best_of(3, lambda: frame.groupby(["servizio_id", "domanda_id", "valore"]).size())

        start = time.perf_counter()
        load_sqlite(folder / "bench.sqlite3", submissions, answers)
        build_counts(sqlite_url)
        print(f"indicators: loaded SQLite and built its daily counts in {time.perf_counter() - start:.0f} s "
              "(not part of the ratio)")
        elapsed, peak, delta, total = measure(sqlite_url)
        assert total == responses * ITEMS, total
        report("sqlite", elapsed, baseline, peak, delta)

        with temporary_database("indicators") as database:
            if database is None:
                return 0
            dsn, pg_url = database
            prepare(pg_url, folder)
            start = time.perf_counter()
            load_postgres(dsn, submissions, answers)
            build_counts(pg_url)
            print(f"indicators: loaded PostgreSQL and built its daily counts in {time.perf_counter() - start:.0f} s "
                  "(not part of the ratio)")
            elapsed, peak, delta, total = measure(pg_url)
            assert total == responses * ITEMS, total
            report("postgresql", elapsed, baseline, peak, delta)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        measure_child(sys.argv[2])
    else:
        raise SystemExit(main())
