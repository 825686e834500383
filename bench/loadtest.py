"""`make loadtest`: simulated citizens against gunicorn on 127.0.0.1, on SQLite and on PostgreSQL.

Each simulated citizen takes the real form flow: GET the questionnaire (its CSRF and one-time tokens and the session
cookie), then POST the answers, as coming through nginx (its own X-Forwarded-For address, X-Forwarded-Proto https).
Every submission carries a unique marker in its comment, so the check after each run is exact: every acknowledged
submission (a 302 to the thank-you page) is stored, with all its items, and nothing else is.

Runs, each bounded in time and in requests:
1. SQLite (WAL, busy timeout) and PostgreSQL, one instance of 2 workers: acknowledged vs stored, error rate,
   latency p50/p95/p99, throughput as a ratio to a bare Flask INSERT (bench/bare_insert.py) under the same gunicorn.
2. PostgreSQL, two instances on two ports sharing the database and Redis: each citizen GETs from one instance and
   POSTs to the other; a replayed token and one address's rate limit are tried across both.
3. The crash: the server is killed with SIGKILL halfway through, restarted, and the load goes on: every acknowledged
   answer is there, none half-written.

LOADTEST_SECONDS (default 60) and LOADTEST_CLIENTS (default 200) change the size; LOADTEST_POSTGRES_URL the server.
"""

from __future__ import annotations

import asyncio
import os
import re
import runpy
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg
import redis
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app.models import Compilazione, Risposta  # noqa: E402
from survey_app.settings import normalise_database_url  # noqa: E402

SECONDS = float(os.environ.get("LOADTEST_SECONDS", "60"))
CLIENTS = int(os.environ.get("LOADTEST_CLIENTS", "200"))
MAX_REQUESTS = int(os.environ.get("LOADTEST_MAX_REQUESTS", "200000"))  # per run, whatever the speed
POSTGRES = os.environ.get("LOADTEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/13")
WORKERS = os.environ.get("LOADTEST_WORKERS")  # else gunicorn.conf.py's own default (two per core)
SLUG = "anagrafe"
ANSWERS = {"D1": "4", "D1__importanza": "5", "D2": "3", "D3": "4", "D4": "9", "D5": "1"}
ITEMS = 6  # stored rows per submission: D1 (with its importance), D2, D3, D4, D5 and the comment D7
TOKENS = re.compile(r'name="(csrf_token|form_token)" type="hidden" value="([^"]+)"')
SUBMIT_LIMIT = 20  # the app's default SUBMIT_RATE_LIMIT per minute, tried across two instances


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the project's gunicorn.conf.py on 127.0.0.1, in its own process group (killed as a whole)."""

    def __init__(self, env: dict, app: str | None = None, log: Path | None = None) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "LOG_LEVEL": "warning"}
        if WORKERS:
            self.env["WEB_CONCURRENCY"] = WORKERS
        self.app, self.log, self.process = app, log, None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")]
        if self.app:
            command += ["--chdir", str(ROOT / "bench"), self.app]
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=output, stderr=output,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        probe = "/healthz" if not self.app else "/insert"
        while time.monotonic() < deadline:
            try:
                if probe == "/healthz":
                    urllib.request.urlopen(self.url + probe, timeout=2)  # noqa: S310 (our own 127.0.0.1 server)
                else:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start on {self.url}: see {self.log}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@dataclass
class Tally:
    acknowledged: list[str] = field(default_factory=list)
    acknowledged_at: list[float] = field(default_factory=list)  # time.monotonic() of each acknowledgement
    errors: int = 0
    requests: int = 0
    flow: list[float] = field(default_factory=list)  # GET + POST, seconds
    killed_at: float | None = None
    post: list[float] = field(default_factory=list)


HOST = "questionari.example"  # the public name nginx forwards (X-Forwarded-Host) and browsers send as Referer


def proxied(address: str) -> dict:
    """The headers nginx adds in front of the app, and the Referer a browser sends when it posts the form (the
    CSRF check over HTTPS requires it)."""
    return {"X-Forwarded-For": address, "X-Forwarded-Proto": "https", "X-Forwarded-Host": HOST,
            "Referer": f"https://{HOST}/s/{SLUG}?nuovo=1"}


def citizen_address() -> str:
    """A fresh address per simulated citizen, from TEST-NET-2/3 as nginx would forward it."""
    return f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def one_citizen(http: aiohttp.ClientSession, get_url: str, post_url: str, tally: Tally) -> None:
    headers = proxied(citizen_address())
    marker = f"lt-{secrets.token_hex(8)}"
    start = time.perf_counter()
    try:
        async with http.get(f"{get_url}/s/{SLUG}?nuovo=1", headers=headers) as response:
            page = await response.text()
            cookie = response.cookies.get("session")
            if response.status != 200 or cookie is None:
                tally.errors += 1
                return
        form = {**dict(TOKENS.findall(page)), **ANSWERS, "D7": marker}
        posted = time.perf_counter()
        async with http.post(f"{post_url}/s/{SLUG}", data=form, allow_redirects=False,
                             headers={**headers, "Cookie": f"session={cookie.value}"}) as response:
            await response.read()
            if response.status == 302 and "/grazie" in response.headers.get("Location", ""):
                end = time.perf_counter()
                tally.acknowledged.append(marker)
                tally.acknowledged_at.append(time.monotonic())
                tally.flow.append(end - start)
                tally.post.append(end - posted)
            else:
                tally.errors += 1
    except (TimeoutError, aiohttp.ClientError, ConnectionError):
        tally.errors += 1
        await asyncio.sleep(0.5)  # a citizen whose page failed tries again a moment later, not in a busy loop
    finally:
        tally.requests += 2


async def bare_insert(http: aiohttp.ClientSession, url: str, tally: Tally) -> None:
    start = time.perf_counter()
    try:
        async with http.post(f"{url}/insert", allow_redirects=False) as response:
            await response.read()
            if response.status == 302:
                tally.acknowledged.append("")
                tally.post.append(time.perf_counter() - start)
            else:
                tally.errors += 1
    except (aiohttp.ClientError, ConnectionError):
        tally.errors += 1
    finally:
        tally.requests += 1


async def drive(step, seconds: float, during=None, clients: int = CLIENTS) -> tuple[Tally, float]:
    """``clients`` loops of ``step`` until the time or the request budget is spent; ``during`` runs alongside."""
    tally = Tally()
    deadline = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector,
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        async def loop(index: int) -> None:
            while time.monotonic() < deadline and tally.requests < MAX_REQUESTS:
                await step(http, index, tally)

        start = time.monotonic()
        tasks = [asyncio.create_task(loop(i)) for i in range(clients)]
        if during is not None:
            tasks.append(asyncio.create_task(during()))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - start
    return tally, elapsed


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"


def stored(url: str, markers: list[str]) -> dict:
    """What the database holds: questionnaires, those without all their items, acknowledged markers missing."""
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Compilazione))
        items = select(Risposta.compilazione_id, func.count().label("n")).group_by(Risposta.compilazione_id)
        partial = conn.scalar(select(func.count()).select_from(items.subquery()).where(text("n != :n")),
                              {"n": ITEMS})
        found = set(conn.scalars(select(Risposta.testo).where(Risposta.testo.like("lt-%"))))
        integrity = conn.scalar(text("PRAGMA integrity_check")) if url.startswith("sqlite") else "ok"
    engine.dispose()
    return {"stored": total, "partial": partial, "missing": len(set(markers) - found), "integrity": integrity}


def prepare(url: str, instance: Path, redis_url: str = REDIS_URL) -> dict:
    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(instance), "DATABASE_URL": url}
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "survey_app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    subprocess.run([*flask, "catalogue", "load", str(ROOT / "tests" / "data" / "catalogue_small.yaml")], env=env,
                   check=True, capture_output=True, cwd=ROOT)
    redis.Redis.from_url(redis_url).flushdb()
    return {"SURVEY_INSTANCE_PATH": str(instance), "DATABASE_URL": url, "SURVEY_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32), "RATELIMIT_STORAGE_URI": redis_url, "TRUSTED_PROXIES": "1",
            "PUBLIC_BASE_URL": f"https://{HOST}"}


def fresh_postgres(name: str) -> str:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def drop_postgres(name: str) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(label: str, tally: Tally, elapsed: float, counts: dict, baseline: float | None) -> bool:
    rate = len(tally.acknowledged) / elapsed
    attempts = len(tally.acknowledged) + tally.errors
    ok = counts["missing"] == 0 and counts["partial"] == 0 and counts["integrity"] == "ok"
    line = (f"{label}: acknowledged {len(tally.acknowledged)}, stored {counts['stored']}, missing {counts['missing']}, "
            f"half-written {counts['partial']}, errors {tally.errors}/{attempts} "
            f"({100 * tally.errors / max(attempts, 1):.1f}%), {rate:.1f} answers/s")
    if baseline:
        line += f" = {rate / baseline:.2f}x a bare INSERT ({baseline:.0f}/s)"
    print(line)
    print(f"    flow (GET+POST) {percentiles(tally.flow)}; POST {percentiles(tally.post)}")
    return ok


def citizens(get_urls: list[str], post_urls: list[str]):
    async def step(http, index, tally):
        await one_citizen(http, get_urls[index % len(get_urls)], post_urls[index % len(post_urls)], tally)
    return step


def run_database(kind: str, url: str, folder: Path) -> bool:
    ok = True
    config = prepare(url, folder / kind)
    bare_url = url
    baseline_server = Server({"BARE_DATABASE_URL": bare_url}, app="bare_insert:app", log=folder / "bare.log").start()
    try:
        async def bare_step(http, _index, tally):
            await bare_insert(http, baseline_server.url, tally)
        bare, bare_elapsed = asyncio.run(drive(bare_step, SECONDS))
    finally:
        baseline_server.stop()
    baseline = len(bare.acknowledged) / bare_elapsed
    print(f"{kind}: bare Flask INSERT under the same gunicorn: {baseline:.0f}/s, errors {bare.errors}, "
          f"{percentiles(bare.post)}")

    server = Server(config, log=folder / f"{kind}.log").start()
    try:
        tally, elapsed = asyncio.run(drive(citizens([server.url], [server.url]), SECONDS))
    finally:
        server.stop()
    counts = stored(url, tally.acknowledged)
    ok &= report(f"{kind}, one instance", tally, elapsed, counts, baseline)
    ok &= counts["stored"] == len(tally.acknowledged)

    tally, elapsed, counts, before = crash_run(url, config, folder / f"{kind}-crash.log", SECONDS)
    ok &= report(f"{kind}, killed and restarted", tally, elapsed, counts, baseline)
    # In flight when killed: stored but never acknowledged is allowed, acknowledged but lost is not.
    ok &= counts["stored"] - before >= len(tally.acknowledged)
    return ok


def crash_run(url: str, config: dict, log: Path, seconds: float, clients: int = CLIENTS):
    """The load with the server killed (SIGKILL, master and workers) halfway and restarted: the tally, the elapsed
    time, what the database holds afterwards and how many questionnaires it held before. ``tally.killed_at`` is the
    moment of the kill (time.monotonic())."""
    before = stored(url, [])["stored"]
    server = Server(config, log=log).start()
    moments = {}

    async def crash():
        await asyncio.sleep(seconds / 2)
        moments["killed_at"] = time.monotonic()
        server.kill()
        print(f"    SIGKILL to gunicorn and its workers at {seconds / 2:.0f} s; restarting")
        await asyncio.to_thread(server.start)
    try:
        tally, elapsed = asyncio.run(drive(citizens([server.url], [server.url]), seconds, during=crash,
                                           clients=clients))
    finally:
        server.stop()
    tally.killed_at = moments.get("killed_at")
    return tally, elapsed, stored(url, tally.acknowledged), before


async def across_instances(a: str, b: str) -> tuple[bool, bool]:
    """A token spent on one instance is refused on the other; one address's limit is shared by both."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        headers = proxied("203.0.113.9")
        async with http.get(f"{a}/s/{SLUG}?nuovo=1", headers=headers) as response:
            page, cookie = await response.text(), response.cookies["session"].value
        form = {**dict(TOKENS.findall(page)), **ANSWERS, "D7": "lt-replay"}
        statuses = []
        for url in (a, b):
            async with http.post(f"{url}/s/{SLUG}", data=form, allow_redirects=False,
                                 headers={**headers, "Cookie": f"session={cookie}"}) as response:
                statuses.append(response.status)
        limited = []
        headers = proxied("203.0.113.10")
        for n in range(SUBMIT_LIMIT + 6):
            url = (a, b)[n % 2]
            async with http.get(f"{url}/s/{SLUG}?nuovo=1", headers=headers) as response:
                page, cookie = await response.text(), response.cookies["session"].value
            form = {**dict(TOKENS.findall(page)), **ANSWERS, "D7": f"lt-limit-{n}"}
            async with http.post(f"{(b, a)[n % 2]}/s/{SLUG}", data=form, allow_redirects=False,
                                 headers={**headers, "Cookie": f"session={cookie}"}) as response:
                limited.append(response.status)
    print(f"    replayed token: {statuses[0]} on one instance, then {statuses[1]} on the other; one address, "
          f"{len(limited)} submissions over both: {limited.count(302)} stored, {limited.count(429)} refused (429)")
    return statuses[0] == 302, limited.count(302) == SUBMIT_LIMIT and limited.count(429) == len(limited) - SUBMIT_LIMIT


def run_two_instances(folder: Path) -> bool:
    url = fresh_postgres("loadtest_two")
    try:
        config = prepare(url, folder / "two")
        servers = [Server(config, log=folder / f"two-{n}.log").start() for n in (1, 2)]
        try:
            urls = [s.url for s in servers]
            tally, elapsed = asyncio.run(drive(citizens(urls, urls[::-1]), SECONDS))
            counts = stored(url, tally.acknowledged)
            ok = report("postgresql, two instances (GET on one, POST on the other)", tally, elapsed, counts, None)
            ok &= counts["stored"] == len(tally.acknowledged)
            before = stored(url, [])["stored"]
            first, limits = asyncio.run(across_instances(*urls))
            replay_ok = stored(url, [])["stored"] - before == 1 + SUBMIT_LIMIT
            return ok and first and limits and replay_ok
        finally:
            for server in servers:
                server.stop()
    finally:
        drop_postgres("loadtest_two")


def main() -> int:
    served = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # what gunicorn will read, with this environment
    workers, threads = WORKERS or served["workers"], served["threads"]
    print(f"make loadtest: {CLIENTS} simulated citizens for {SECONDS:.0f} s per run, gunicorn with {workers} "
          f"workers x {threads} threads on 127.0.0.1 (gunicorn.conf.py)")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            ok &= run_database("sqlite", f"sqlite:///{folder / 'loadtest.sqlite3'}", folder)
            url = fresh_postgres("loadtest_one")
            try:
                ok &= run_database("postgresql", url, folder)
            finally:
                drop_postgres("loadtest_one")
            ok &= run_two_instances(folder)
        except Exception:
            for log in sorted(folder.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()[-3000:]}")
            raise
        if not ok:
            for log in sorted(folder.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()[-3000:]}")
    print("loadtest: " + ("every acknowledged answer stored, whole, and nothing counted twice" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
