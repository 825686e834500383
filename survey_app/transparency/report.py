"""The Nucleo di valutazione's annual report, as PDF or XLSX bytes (one code path for the CLI and the staff area)."""

from __future__ import annotations

from sqlalchemy import Connection

from analysis.relazione import build_report
from analysis.relazione import to_xlsx as report_xlsx
from analysis.relazione_pdf import to_pdf

FORMATS = {"pdf": ("application/pdf", to_pdf),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report_xlsx)}


def report_bytes(conn: Connection, year: int, fmt: str, threshold: int) -> bytes:
    return FORMATS[fmt][1](build_report(conn, year, threshold))
