"""Bytes a citizen's phone downloads on a first visit to a questionnaire, against the 200 KB budget.

Serves the demo catalogue on 127.0.0.1 (a fresh SQLite database in a temp folder), loads each
question set's page in Debian's Chromium with an empty cache and sums what went over the wire
(compressed bodies plus headers). Weight is not noisy, so the figure is printed as is and as a
ratio to the budget.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from survey_app import create_app  # noqa: E402
from survey_app.catalogue import load_catalogue  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from tests.browser.conftest import first_visit  # noqa: E402

BUDGET = 200 * 1024
PAGES = {
    "servizio completo": "/s/anagrafe-stato-civile",
    "mettiamoci la faccia": "/s/urp-protocollo",
    "chiarezza pagina": "/s/sito-istituzionale",
    "servizio online": "/s/servizi-scolastici",
}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3"})
        with app.app_context():
            upgrade()
            load_catalogue(db.session, ROOT / "instances" / "demo" / "catalogue")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        worst = 0
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", "--disable-gpu",
                                                       "--disable-background-networking"])
            for name, path in PAGES.items():
                visit = first_visit(browser, base + path)
                total = visit["total_bytes"]
                worst = max(worst, total)
                biggest = sorted(visit["responses"], key=lambda r: -r["bytes"])[:3]
                parts = ", ".join(f"{r['url'].split('/')[-1].split('?')[0]} {r['bytes'] / 1024:.0f} KB" for r in biggest)
                print(f"page weight {name}: {total / 1024:.1f} KB = {total / BUDGET:.2f}x the 200 KB budget "
                      f"({len(visit['responses'])} requests; largest: {parts}); "
                      f"render-blocking scripts: {len(visit['blocking_scripts'])}")
            browser.close()
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
    verdict = "OK" if worst <= BUDGET else "MISSED"
    print(f"page weight: heaviest first visit {worst / 1024:.1f} KB (goal <= 200 KB): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
