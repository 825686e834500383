"""Structured logs: one JSON object per line, and nothing in them that identifies a person.

Under gunicorn (gunicorn.conf.py) the app's, gunicorn's and the access logs all go through ``JsonFormatter`` to
standard error, where systemd's journal or any log shipper collects them. An access line carries the method, the
path without its query, the status, the size and the duration: never the client's address, its user agent, the
referrer or the query string (a citizen's link can carry a counter code, a staff search can carry a name), and no
line at all for a citizen's answering page that went well (``AnswerFlowFilter``). A log line kept next to the answers
could otherwise single a person out.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# gunicorn's access-log atoms this formatter keeps, and the names it gives them.
ACCESS_FIELDS = {"m": "method", "U": "path", "s": "status", "B": "bytes", "M": "ms"}
# The citizens' answering pages (web questionnaire, kiosk). Their requests follow the answers: after a red face the
# kiosk asks why (/k/<slug>/motivi), after a green one it thanks. A line per request, with its second, told the
# counter's staff which of the people they served was unhappy. Only their errors are logged.
ANSWER_PATHS = ("/s/", "/k/")


class AnswerFlowFilter(logging.Filter):
    """Drops the access lines of the citizens' answering pages that went well (``ANSWER_PATHS``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, dict) else {}
        path, status = str(atoms.get("U") or ""), str(atoms.get("s") or "")
        return not (path.startswith(ANSWER_PATHS) and status[:1] in ("2", "3"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(access_fields(record.args))
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def access_fields(atoms: dict) -> dict:
    """The request's method, path, status, size and milliseconds from gunicorn's atoms, and nothing else."""
    fields = {}
    for atom, name in ACCESS_FIELDS.items():
        value = atoms.get(atom)
        if value in (None, "-"):
            continue
        fields[name] = int(value) if name in ("status", "bytes", "ms") and str(value).isdigit() else value
    return fields


def gunicorn_config(level: str = "info") -> dict:
    """A ``logging.config.dictConfig`` for gunicorn's ``logconfig_dict``: every logger as JSON on standard error."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"answers": {"()": AnswerFlowFilter}},
        "handlers": {"stderr": handler},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False, "filters": ["answers"]},
        },
    }
