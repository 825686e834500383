"""A year's publication for 200 services × 15 questions on 1,000,000 answers, against bare pandas and openpyxl.

Figure A is ``publish_year`` as the CLI and the "Pubblica" button call it: build the tables from the daily
counts, write CSV, XLSX, ODS, datapackage.json and DCAT, store them as a new version. Its baseline, measured in
the same run (these machines are shared and noisy), is the least any publication has to do: one GROUP BY of
``riepilogo_risposte`` read into pandas (timed just before the publication) plus ``DataFrame.to_csv`` of the
question table it published (just after). Each timing is the median of a few runs, each in a fresh process with
its peak memory. The issue's goal is an absolute one: a publication in at most 5 s on SQLite.

Figure B is the workbook alone, ``to_xlsx(publication_sheets(pub))``, against openpyxl's write-only mode dumping
the Domande sheet's rows as plain values (no styles, no number formats); goal at most 3×. The ODS writer is
timed against the same baseline, for information.

    BENCH_ANSWERS=1000000 make bench     # the default; smaller values for a quick look
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
from _postgres import temporary_database  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

YEAR = 2025
ENTI, UFFICI, PER_UFFICIO = 4, 5, 10  # 200 services
ITEMS = 15  # D1–D13 scales (D7 on 1–4, the others 1–5), D14 NPS, D15 the overall scale item
KIOSK_SHARE = 0.055  # of the answers: one faces answer per kiosk questionnaire, at half the services
RUNS_PUBLISH, RUNS_FILES = 3, 5
GOAL_SECONDS, GOAL_XLSX = 5.0, 3.0
DIMENSIONS = ("accessibilità", "tempestività", "trasparenza", "efficacia")
BASELINE_SQL = ("SELECT servizio_id, domanda_id, valore, sum(n) AS n FROM riepilogo_risposte "
                "GROUP BY servizio_id, domanda_id, valore")


def catalogue() -> str:
    questions = []
    for i in range(1, ITEMS + 1):
        kind = "nps" if i == 14 else "scala"
        extra = "        scala_max: 4\n" if i == 7 else ""
        extra += "        non_so: true\n" if i <= 13 and i % 3 == 0 else ""
        extra += "        obbligatoria: true\n" if i == ITEMS else ""
        extra += f"        dimensione: {DIMENSIONS[i % 4]}\n" if i <= 13 else ""
        questions.append(f"      - codice: D{i}\n        tipo: {kind}\n"
                         f"        testo: {{it: \"Quanto è soddisfatto dell'aspetto {i} del servizio?\"}}\n{extra}")
    enti = []
    for e in range(1, ENTI + 1):
        uffici = []
        for u in range(1, UFFICI + 1):
            servizi = "".join(f"""          - slug: servizio-{e}-{u}-{s}
            nome: {{it: "Servizio {s} dell'ufficio {u} ({e})"}}
            questionario: bench
            questionario_chiosco: faccine
            utenti_annui: {2000 * s}
            standard:
              - {{indicatore: quota_soddisfatti, soglia: 80, domanda: D15}}
              - {{indicatore: media, soglia: 4.0, domanda: D15}}
              - {{indicatore: quota_soddisfatti, soglia: 60}}
""" for s in range(1, PER_UFFICIO + 1))
            uffici.append(f"      - codice: ufficio-{u}\n        nome: Ufficio {u} del Comune {e}\n"
                          f"        servizi:\n{servizi}")
        enti.append(f"  - codice: comune-{e}\n    nome: Comune di Bench {e}\n    tipo: comune\n"
                    f"    uffici:\n{''.join(uffici)}")
    return ("questionari:\n  - codice: bench\n    titolo: {it: Questionario bench}\n    domande:\n"
            + "".join(questions)
            + "  - codice: faccine\n    titolo: {it: Mettiamoci la faccia}\n    domande:\n"
              "      - codice: D1\n        tipo: faccine\n        testo: {it: \"Come valuti il servizio?\"}\n"
              "        obbligatoria: true\n"
            + "enti:\n" + "".join(enti))


def config(url: str, folder: Path) -> dict:
    return {"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": url,
            "SERVER_NAME": "localhost"}


def prepare(url: str, folder: Path) -> None:
    """Migrate, load the catalogue, add a few improvement actions (the publication lists them)."""
    from sqlalchemy import select

    from survey_app import create_app
    from survey_app.catalogue import load_catalogue
    from survey_app.extensions import db
    from survey_app.models import AzioneMiglioramento, Servizio

    (folder / "bench.yaml").write_text(catalogue(), encoding="utf-8")
    app = create_app(config(url, folder))
    with app.app_context():
        upgrade()
        load_catalogue(db.session, folder / "bench.yaml")
        for k, servizio in enumerate(db.session.scalars(select(Servizio).order_by(Servizio.id).limit(40))):
            db.session.add(AzioneMiglioramento(
                servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore="quota_soddisfatti",
                domanda_codice="D15", titolo=f"Ridurre i tempi di attesa ({k + 1})",
                descrizione="Apertura di uno sportello in più il martedì pomeriggio e prenotazione online.",
                data_inizio=date(YEAR, 3, 1), data_scadenza=date(YEAR + 1, 2, 28),
                stato=("pianificata", "in_corso", "completata")[k % 3],
                esito="Attese medie scese da 25 a 12 minuti." if k % 3 == 2 else None))
        db.session.commit()
        db.engine.dispose()


def catalogue_ids(url: str) -> tuple[list[int], list[tuple]]:
    """The ids the catalogue got: services, and per question its questionnaire, version, id and scale."""
    engine = create_engine(url)
    with engine.connect() as conn:
        services = [r[0] for r in conn.execute(text("SELECT id FROM servizi ORDER BY id"))]
        rows = conn.execute(text("SELECT q.codice, v.id, d.id, d.tipo, d.scala_max, d.non_so FROM domande d "
                                 "JOIN questionario_versioni v ON v.id = d.versione_id "
                                 "JOIN questionari q ON q.id = v.questionario_id ORDER BY q.codice, d.posizione")).all()
    engine.dispose()
    return services, [tuple(r) for r in rows]


def generate(url: str, answers_total: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Questionnaires and answers for the year, with the ids the catalogue gave to services and questions."""
    services, rows = catalogue_ids(url)
    services = np.array(services)
    bench = [r for r in rows if r[0] == "bench"]
    face = next(r for r in rows if r[0] == "faccine")
    assert len(bench) == ITEMS, len(bench)
    rng = np.random.default_rng(7)
    kiosk = int(answers_total * KIOSK_SHARE)
    web = (answers_total - kiosk) // ITEMS
    kiosk = answers_total - web * ITEMS
    # Services of very different sizes; two get nothing and two only a handful (suppressed cells).
    weights = rng.lognormal(0, 1, len(services))
    weights[-2:] = 0
    weights[-4:-2] = 2e-5 * weights.sum()
    weights /= weights.sum()
    counters = services[: len(services) // 2]
    n = web + kiosk
    servizio = np.concatenate([rng.choice(services, size=web, p=weights), rng.choice(counters, size=kiosk)])
    hours = rng.integers(0, 365 * 24, size=n)
    submissions = pd.DataFrame({
        "id": np.arange(1, n + 1, dtype=np.int64),
        "servizio_id": servizio.astype(np.int32),
        "versione_id": np.r_[np.full(web, bench[0][1]), np.full(kiosk, face[1])].astype(np.int32),
        "data_ora": pd.Timestamp(datetime(YEAR, 1, 1)) + pd.to_timedelta(hours, unit="h"),
        "canale": np.r_[np.where(rng.random(web) < 0.7, "web", "qr"), np.full(kiosk, "chiosco")],
        "lingua": np.where(rng.random(n) < 0.95, "it", "en"),
    })
    values = np.empty((web, ITEMS), dtype=np.int16)
    dont_know = np.zeros((web, ITEMS), dtype=bool)
    for j, (_, _, _, tipo, high, offers) in enumerate(bench):
        if tipo == "nps":
            values[:, j] = np.clip(np.rint(rng.normal(7.5, 2.0, size=web)), 0, 10)
        else:
            values[:, j] = np.clip(np.rint(rng.normal(high - 1.1, 0.9, size=web)), 1, high)
        if offers:
            dont_know[:, j] = rng.random(web) < 0.03
    faces = rng.choice([1, 2, 3], size=kiosk, p=[0.1, 0.2, 0.7]).astype(np.int16)
    answers = pd.DataFrame({
        "id": np.arange(1, answers_total + 1, dtype=np.int64),
        "compilazione_id": np.r_[np.repeat(np.arange(1, web + 1), ITEMS), np.arange(web + 1, n + 1)],
        "domanda_id": np.r_[np.tile([r[2] for r in bench], web), np.full(kiosk, face[2])].astype(np.int32),
        "valore": pd.array(np.r_[values.ravel(), faces], dtype="Int16"),
        "non_so": np.r_[dont_know.ravel(), np.zeros(kiosk, dtype=bool)],
    })
    answers.loc[answers["non_so"], "valore"] = pd.NA
    return submissions, answers


def load_sqlite(path: Path, submissions: pd.DataFrame, answers: pd.DataFrame) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    dates = submissions["data_ora"].dt.strftime("%Y-%m-%d %H:%M:%S.000000")
    conn.executemany("INSERT INTO compilazioni (id, servizio_id, versione_id, data_ora, canale, lingua) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     zip(submissions["id"].tolist(), submissions["servizio_id"].tolist(),
                         submissions["versione_id"].tolist(), dates.tolist(), submissions["canale"].tolist(),
                         submissions["lingua"].tolist(), strict=True))
    values = answers["valore"].astype(object).where(answers["valore"].notna(), None).tolist()
    conn.executemany("INSERT INTO risposte (id, compilazione_id, domanda_id, valore, non_so) VALUES (?, ?, ?, ?, ?)",
                     zip(answers["id"].tolist(), answers["compilazione_id"].tolist(), answers["domanda_id"].tolist(),
                         values, answers["non_so"].astype(int).tolist(), strict=True))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _copy(cursor, table: str, frame: pd.DataFrame) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, len(frame), 250_000):
            buffer = io.StringIO()
            frame.iloc[start:start + 250_000].to_csv(buffer, header=False, index=False)
            copy.write(buffer.getvalue())


def skip_foreign_key_checks(cursor) -> None:
    """The generated rows reference only what the catalogue created: checking a million foreign keys one by one
    would triple the load. Needs a superuser; without one the load is just slower."""
    try:
        cursor.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        cursor.connection.rollback()


def load_postgres(dsn: str, submissions: pd.DataFrame, answers: pd.DataFrame) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        skip_foreign_key_checks(cursor)
        _copy(cursor, "compilazioni", submissions)
        _copy(cursor, "risposte", answers.assign(non_so=np.where(answers["non_so"], "t", "f")))
        conn.commit()


def build_counts(url: str) -> int:
    """The daily counts the app keeps in step with every submission, rebuilt once after the bulk load."""
    from sqlalchemy.orm import Session

    from survey_app import summary

    engine = create_engine(url)
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            try:
                session.execute(text("SET session_replication_role = replica"))  # as in skip_foreign_key_checks
            except DBAPIError:
                session.rollback()
        summary.rebuild(session)
        session.commit()
        rows = session.execute(text("SELECT count(*) FROM riepilogo_risposte")).scalar_one()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return rows


def peak_rss_mib() -> float:
    """This process's own high-water mark (ru_maxrss would include the parent's, inherited through fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_query(conn) -> float:
    """The baseline's first half: one GROUP BY of the daily counts, read into pandas."""
    start = time.perf_counter()
    counts = pd.DataFrame(conn.exec_driver_sql(BASELINE_SQL).all(), columns=["servizio_id", "domanda_id", "valore", "n"])
    elapsed = time.perf_counter() - start
    assert len(counts)
    return elapsed


def baseline_csv(questions: pd.DataFrame) -> float:
    """The baseline's second half: the finished question table to CSV with pandas' defaults."""
    start = time.perf_counter()
    csv = questions.to_csv(index=False)
    elapsed = time.perf_counter() - start
    assert csv
    return elapsed


def measure_child(url: str, folder: str) -> None:
    """In a fresh process: the baseline's query, one publication, the baseline's CSV of the table it published;
    then remove the publication so that the next run publishes again."""
    from analysis.publication import to_data
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.transparency.publishing import publication_view, publish_year

    app = create_app(config(url, Path(folder)))
    with app.app_context():
        with db.engine.connect() as conn:
            baseline = baseline_query(conn)
        before = peak_rss_mib()
        start = time.perf_counter()
        outcome = publish_year(db.session, YEAR, actor="bench")
        elapsed = time.perf_counter() - start
        peak = peak_rss_mib()
        assert outcome.created
        record = outcome.publication
        pub = publication_view(record)
        baseline += baseline_csv(pub.questions_frame())
        sizes = {f.nome: f.dimensione for f in record.file}
        (Path(folder) / "publication.json").write_text(json.dumps(
            {"dati": to_data(pub), "versione": record.versione, "pubblicata_il": record.pubblicata_il.isoformat()}),
            encoding="utf-8")
        db.session.execute(text("DELETE FROM pubblicazione_file"))
        db.session.execute(text("DELETE FROM pubblicazioni"))
        db.session.commit()
        db.engine.dispose()
    print(json.dumps({"elapsed": elapsed, "baseline": baseline, "peak": peak, "delta": peak - before,
                      "rows": len(pub.questions), "sizes": sizes}))


def measure_publication(url: str, folder: Path) -> dict:
    results = []
    for _ in range(RUNS_PUBLISH):
        out = subprocess.run([sys.executable, __file__, "--child", url, str(folder)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"publication child failed:\n{out.stderr}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"elapsed": statistics.median(r["elapsed"] for r in results),
            "baseline": statistics.median(r["baseline"] for r in results),
            "peak": max(r["peak"] for r in results), "delta": max(r["delta"] for r in results),
            "rows": results[0]["rows"], "sizes": results[0]["sizes"]}


def report_publication(backend: str, answers: int, m: dict) -> None:
    ratio = m["elapsed"] / m["baseline"]
    goal = ""
    if backend == "sqlite":
        goal = f" (goal ≤ {GOAL_SECONDS:g} s: {'met' if m['elapsed'] <= GOAL_SECONDS else 'MISSED'})"
    print(f"publication {ENTI * UFFICI * PER_UFFICIO}×{ITEMS} on {answers:,} answers ({backend}): "
          f"{m['elapsed']:.2f} s; {ratio:.1f}× baseline ({m['baseline']:.2f} s: one GROUP BY of riepilogo_risposte "
          f"into pandas + DataFrame.to_csv of the {m['rows']:,}-row question table); "
          f"peak RSS {m['peak']:.0f} MiB (+{m['delta']:.0f} MiB for the call); median of {RUNS_PUBLISH}{goal}")
    print(f"publication files ({backend}): " + ", ".join(f"{name} {size / 1024:,.0f} KB"
                                                        for name, size in m["sizes"].items()))


def median_time(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_xlsx(rows: list[list]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Domande")
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def measure_files(pub) -> None:
    """Figure B, in this process: the styled workbook and the ODS against a bare openpyxl dump of Domande."""
    from analysis.ods import to_ods
    from analysis.sheets import publication_sheets, questions_sheet
    from analysis.xlsx import to_xlsx

    sheet = questions_sheet(pub)
    rows = [[c.title for c in sheet.columns], *[list(r) for r in sheet.rows]]
    baseline = median_time(RUNS_FILES, lambda: bare_xlsx(rows))
    title = f"Soddisfazione degli utenti dei servizi – anno {pub.year}"
    xlsx = median_time(RUNS_FILES, lambda: to_xlsx(publication_sheets(pub), created=pub.published_at, title=title))
    ods = median_time(RUNS_FILES, lambda: to_ods(publication_sheets(pub)))
    cells = sum(len(s.rows) for s in publication_sheets(pub))
    what = f"bare openpyxl write-only dump of the {len(sheet.rows):,} Domande rows ({baseline:.2f} s)"
    print(f"workbook to_xlsx(publication_sheets(pub)), 4 sheets, {cells:,} rows: {xlsx:.2f} s; "
          f"{xlsx / baseline:.1f}× {what}; median of {RUNS_FILES} "
          f"(goal ≤ {GOAL_XLSX:g}×: {'met' if xlsx / baseline <= GOAL_XLSX else 'MISSED'})")
    print(f"spreadsheet to_ods(publication_sheets(pub)), 4 sheets: {ods:.2f} s; {ods / baseline:.1f}× the same "
          f"bare dump; median of {RUNS_FILES} (for information)")


def published(folder: Path):
    """The publication the last child stored, as the platform reads it back (for figure B)."""
    from analysis.publication import from_data

    stored = json.loads((folder / "publication.json").read_text(encoding="utf-8"))
    return from_data(stored["dati"], stored["versione"], datetime.fromisoformat(stored["pubblicata_il"]))


def main() -> int:
    answers_total = int(os.environ.get("BENCH_ANSWERS", "1000000"))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        sqlite_url = f"sqlite:///{folder / 'bench.sqlite3'}"
        prepare(sqlite_url, folder)
        submissions, answers = generate(sqlite_url, answers_total)
        print(f"publication: {ENTI * UFFICI * PER_UFFICIO} services × {ITEMS} questions (+ kiosk faces at half of "
              f"them), {len(answers):,} answers in {len(submissions):,} questionnaires of {YEAR}")
        start = time.perf_counter()
        load_sqlite(folder / "bench.sqlite3", submissions, answers)
        counts = build_counts(sqlite_url)
        print(f"publication: loaded SQLite and built its {counts:,} daily counts in {time.perf_counter() - start:.0f} s "
              "(not part of the ratio)")
        report_publication("sqlite", len(answers), measure_publication(sqlite_url, folder))
        measure_files(published(folder))

        with temporary_database("publication") as database:
            if database is None:
                return 0
            dsn, pg_url = database
            prepare(pg_url, folder)
            assert catalogue_ids(pg_url) == catalogue_ids(sqlite_url), "the generated rows use SQLite's ids"
            start = time.perf_counter()
            load_postgres(dsn, submissions, answers)
            del submissions, answers
            counts = build_counts(pg_url)
            print(f"publication: loaded PostgreSQL and built its {counts:,} daily counts in "
                  f"{time.perf_counter() - start:.0f} s (not part of the ratio)")
            report_publication("postgresql", answers_total, measure_publication(pg_url, folder))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        measure_child(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(main())
