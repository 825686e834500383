"""The staff overview and a service page on 1,000,000 answers over 200 services, against analysis/ alone.

Figure A is ``GET /staff/?anno=2025`` as an admin sees it (every service, figures, standards, trend, chart),
against ``analysis.overview.overview_table`` for the same year called directly on the same database in the same
run. Figure B is ``GET /staff/servizi/<slug>?anno=2025`` against the analysis calls behind its figures
and charts (``indicator_table``, and ``service_table``, ``question_statistics``, ``quadrants`` and
``option_table`` as ``service_charts`` calls them, without drawing, and the five breakdowns). Each timing is the median of a few runs after one
warm-up. Goal (issue 10): each page at most 1.5× its analysis call and under 1 s.

Each page is measured twice: computed afresh on every request (FIGURES_CACHE_SECONDS = 0, the ratio to the
analysis call), and as office managers get it within the cache's time (the figures kept by survey_app.figures_cache,
the page still checking the user, the scope and the parameters and rendering everything).

    BENCH_ANSWERS=1000000 make bench     # the default; smaller values for a quick look
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_publication import YEAR, build_counts, config, generate, load_sqlite, prepare  # noqa: E402
from sqlalchemy import text  # noqa: E402

RUNS = 5
GOAL_RATIO, GOAL_SECONDS = 1.5, 1.0


def median_time(fn) -> float:
    fn()  # warm-up: the first call pays imports and caches that every later request has
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(label: str, page: float, kept: float, baseline: float) -> None:
    ratio = page / baseline
    met = "met" if ratio <= GOAL_RATIO and kept < GOAL_SECONDS else "MISSED"
    print(f"staff {label}: computed afresh {page * 1000:.0f} ms, {ratio:.2f}× the analysis call alone "
          f"({baseline * 1000:.0f} ms); with the figures kept {kept * 1000:.0f} ms, {kept / baseline:.2f}× "
          f"(goal ≤ {GOAL_RATIO}× and < {GOAL_SECONDS:.0f} s: {met})")


def measure(url: str, folder: Path) -> None:
    from analysis.engine import Period, option_table, quadrants, question_statistics, service_table
    from analysis.indicators import indicator_table
    from analysis.overview import overview_table
    from analysis.queries import BREAKDOWNS, reuse_results
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.users import create_user

    app = create_app({**config(url, folder), "WTF_CSRF_ENABLED": False, "FIGURES_CACHE_SECONDS": 0})
    kept_app = create_app({**config(url, folder), "WTF_CSRF_ENABLED": False, "FIGURES_CACHE_SECONDS": 600})
    with app.app_context():
        _user, password = create_user(db.session, "bench@example.org", "admin")
        slug = db.session.execute(text("SELECT slug FROM servizi ORDER BY id LIMIT 1")).scalar_one()
    clients = {}
    for name, instance in (("fresh", app), ("kept", kept_app)):
        clients[name] = instance.test_client()
        clients[name].post("/staff/login", data={"email": "bench@example.org", "password": password})

    def page(path: str, which: str = "fresh"):
        def get():
            response = clients[which].get(path)
            assert response.status_code == 200, (path, response.status_code)
        return get

    def analysis(fn):
        def run():
            with app.app_context():
                fn(db.session.connection())
                db.session.remove()
        return run

    overview = median_time(page(f"/staff/?anno={YEAR}"))
    overview_kept = median_time(page(f"/staff/?anno={YEAR}", "kept"))
    overview_alone = median_time(analysis(lambda conn: overview_table(conn, Period.year(YEAR))))
    report("overview (/staff/)", overview, overview_kept, overview_alone)
    service = median_time(page(f"/staff/servizi/{slug}?anno={YEAR}"))
    service_kept = median_time(page(f"/staff/servizi/{slug}?anno={YEAR}", "kept"))
    def service_figures(conn):
        with reuse_results(conn):
            indicator_table(conn, YEAR, slug)
            question_statistics(conn, Period.year(YEAR), slug)
            for year in (YEAR - 2, YEAR - 1, YEAR):
                service_table(conn, Period.year(year), slug)
            quadrants(conn, Period.year(YEAR), slug)
            option_table(conn, Period.year(YEAR), slug)
            for by in BREAKDOWNS:
                question_statistics(conn, Period.year(YEAR), slug, by=by)

    service_alone = median_time(analysis(service_figures))
    report(f"service page (/staff/servizi/{slug})", service, service_kept, service_alone)


def main() -> int:
    answers_total = int(os.environ.get("BENCH_ANSWERS", "1000000"))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        prepare(url, folder)
        submissions, answers = generate(url, answers_total)
        load_sqlite(folder / "bench.sqlite3", submissions, answers)
        build_counts(url)
        print(f"staff: 200 services, {len(answers):,} answers in {len(submissions):,} questionnaires of {YEAR} "
              "(SQLite)")
        del submissions, answers
        measure(url, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
