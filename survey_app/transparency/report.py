"""The Nucleo di valutazione's annual report, as PDF or XLSX bytes (one code path for the CLI and the staff area)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Connection, select

from analysis.relazione import PublishedVersion, build_report
from analysis.relazione import to_xlsx as report_xlsx
from analysis.relazione_pdf import to_pdf

from ..models import Pubblicazione

FORMATS = {"pdf": ("application/pdf", to_pdf),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report_xlsx)}


def latest_version(conn: Connection, year: int) -> PublishedVersion | None:
    """The year's newest version in Amministrazione trasparente, for the report to compare its figures with."""
    table = Pubblicazione.__table__
    row = conn.execute(select(table.c.versione, table.c.pubblicata_il, table.c.dati).where(table.c.anno == year)
                       .order_by(table.c.versione.desc()).limit(1)).one_or_none()
    if row is None:
        return None
    when = row.pubblicata_il if row.pubblicata_il.tzinfo else row.pubblicata_il.replace(tzinfo=ZoneInfo("UTC"))
    day = when.astimezone(ZoneInfo(current_app.config["SURVEY_TIMEZONE"])).date()
    return PublishedVersion(row.versione, day, (row.dati or {}).get("sintesi", []))


def report_bytes(conn: Connection, year: int, fmt: str, threshold: int) -> bytes:
    return FORMATS[fmt][1](build_report(conn, year, threshold, latest_version(conn, year)))
