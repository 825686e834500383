"""gunicorn with the project's gunicorn.conf.py: it serves the app, and its logs are JSON lines that name no one."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from survey_app.logs import JsonFormatter, access_fields

ROOT = Path(__file__).resolve().parent.parent
ADDRESS, AGENT = "198.51.100.77", "SENTINEL-AGENT/1.0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"}
    for command in (["db", "upgrade"], ["catalogue", "load", str(ROOT / "tests" / "data" / "catalogue_small.yaml")]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "survey_app", *command], env=env, check=True,
                       capture_output=True, cwd=ROOT)
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
                                   env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, cwd=ROOT, stdout=output,
                                   stderr=output, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2)  # noqa: S310 (the local test server)
                    break
                except OSError:
                    time.sleep(0.1)
            yield url, log
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def test_gunicorn_serves_and_logs_json_without_personal_data(gunicorn):
    url, log = gunicorn
    for path in ("/healthz", "/s/nessun-servizio?sede=sportello-segreto&q=Mario+Rossi", "/privacy"):
        headers = {"User-Agent": AGENT, "X-Forwarded-For": ADDRESS, "Referer": "https://example.org/da-dove"}
        request = urllib.request.Request(url + path, headers=headers)  # noqa: S310 (the local test server)
        try:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 (the local test server)
        except urllib.error.HTTPError as error:
            assert error.code == 404
    time.sleep(0.5)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [entry for entry in lines if entry["logger"] == "gunicorn.access"]
    assert [(e["method"], e["path"], e["status"]) for e in access[-3:]] == [  # after the fixture's probes
        ("GET", "/healthz", 200), ("GET", "/s/nessun-servizio", 404), ("GET", "/privacy", 200)]
    assert all(isinstance(e["ms"], int) and e["ts"].endswith("+00:00") for e in access)
    # A citizen's answering pages that went well leave no line: the kiosk's way after a red face (its reasons) and
    # after a green one (its thanks) told which person at the counter was unhappy, to the millisecond.
    for path in ("/k/anagrafe?sede=sportello-1", "/k/anagrafe/grazie?sede=sportello-1",
                 "/k/anagrafe/motivi?sede=sportello-1", "/s/anagrafe", "/healthz"):
        with urllib.request.urlopen(url + path, timeout=10) as response:  # noqa: S310 (the local test server)
            assert response.status == 200, path
    time.sleep(0.5)
    paths = [entry.get("path") for line in log.read_text().splitlines() if line.strip()
             for entry in [json.loads(line)] if entry["logger"] == "gunicorn.access"]
    assert paths[-1] == "/healthz" and not any(p.startswith(("/k/", "/s/anagrafe")) for p in paths)
    text = log.read_text()
    for secret in (ADDRESS, "127.0.0.1 -", AGENT, "sportello-segreto", "Mario", "example.org"):
        assert secret not in text


def test_the_formatter_keeps_only_what_it_names():
    import logging

    atoms = {"h": ADDRESS, "a": AGENT, "f": "https://example.org/", "q": "sede=x", "m": "POST", "U": "/s/anagrafe",
             "s": "302", "B": "-", "M": "12", "u": "-"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s", (atoms,), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry == {"ts": entry["ts"], "level": "info", "logger": "gunicorn.access", "method": "POST",
                     "path": "/s/anagrafe", "status": 302, "ms": 12}
    assert access_fields({"s": "200", "B": "512"}) == {"status": 200, "bytes": 512}
