"""The Nucleo di valutazione's annual report, as PDF or XLSX bytes (one code path for the CLI and the staff area)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from analysis.relazione import PublishedVersion, build_report
from analysis.relazione_pdf import to_pdf
from analysis.relazione_xlsx import to_xlsx as report_xlsx

from .formatting import in_local_time, local_today
from .publishing import latest, period, running_until

FORMATS = {"pdf": ("application/pdf", to_pdf),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report_xlsx)}


def latest_version(session: Session, year: int) -> PublishedVersion | None:
    """The year's newest version in Amministrazione trasparente, for the report to compare its figures with."""
    record = latest(session, year)
    if record is None:
        return None
    return PublishedVersion(record.versione, in_local_time(record.pubblicata_il).date(),
                            (record.dati or {}).get("sintesi", []), final=not period(record.dati).get("parziale"))


def report_bytes(session: Session, year: int, fmt: str, threshold: int, ente: str | None = None) -> bytes:
    """The report of every ente, or of one (its code): each body's Nucleo reads its own services."""
    return FORMATS[fmt][1](build_report(session.connection(), year, threshold, latest_version(session, year),
                                        running_until(year), ente=ente, today=local_today()))

