"""gunicorn's settings for the app in production: `gunicorn` in the project folder reads this file.

    SURVEY_ENV=production SECRET_KEY=… DATABASE_URL=postgresql://… RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 \
        .venv/bin/gunicorn

Every value can be changed from the environment, as docs/deploy.md shows: GUNICORN_BIND, WEB_CONCURRENCY (worker
processes; the app refuses an in-memory rate-limit store unless it is 1), GUNICORN_THREADS and LOG_LEVEL.
"""

import os

from survey_app.logs import gunicorn_config

wsgi_app = "survey_app:create_app()"
# nginx in front talks to this address; the app believes one proxy's X-Forwarded-* with TRUSTED_PROXIES=1.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threaded workers, two processes per core with two threads each: a thread works while the other waits on the
# database, Redis or a slow client. Measured with `make loadtest` on 2 cores (docs/deploy.md): 4 threads per process
# took 3-15 % fewer answers a second than 2 (more time lost to Python's lock between threads), on SQLite and on
# PostgreSQL. With the database on another host, where each request waits longer, raise GUNICORN_THREADS and measure.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# A request that takes longer than this is killed and its worker replaced: nothing we serve should take 30 s.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then, so a slow leak never grows without bound.
max_requests = 5000
max_requests_jitter = 500
# The header names nginx sets; the addresses themselves never reach a log (survey_app/logs.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No control socket: it sits at one path per user, and two instances on one host would fight over it.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
logconfig_dict = gunicorn_config(loglevel)
# Pages and uploads arrive whole from nginx; a request line or header over these is refused by gunicorn.
limit_request_line = 8190
limit_request_fields = 100
