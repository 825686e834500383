"""Tables of the staff pages as CSV or XLSX: the figures as shown, formula-looking text neutralised."""

from __future__ import annotations

import csv
import io

import pandas as pd
from flask import abort, send_file
from openpyxl import Workbook

from analysis.publish import neutralise_formula

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cells(frame: pd.DataFrame):
    for record in frame.itertuples(index=False):
        yield [None if missing(v) else neutralise_formula(v) if isinstance(v, str) else v for v in record]


def missing(value) -> bool:
    """None, NaN or pandas' NA: an empty cell, and nothing a template should test as true."""
    return value is None or (not isinstance(value, (list, dict)) and pd.isna(value))


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows for a template, missing values as None (NaN counts as true in Jinja; pandas' NA cannot be tested)."""
    return [{key: None if missing(value) else value for key, value in row.items()}
            for row in frame.to_dict(orient="records")]


def table_download(frame: pd.DataFrame, name: str, fmt: str, sheet: str = "Dati"):
    """``frame`` as the attachment ``name.fmt``: UTF-8 CSV with CRLF lines, or one XLSX sheet."""
    if fmt not in FORMATS:
        abort(404)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows(["" if v is None else v for v in row] for row in _cells(frame))
        return send_file(io.BytesIO(buffer.getvalue().encode("utf-8")), mimetype="text/csv", as_attachment=True,
                         download_name=f"{name}.csv")
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append([str(c) for c in frame.columns])
    for row in _cells(frame):
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"{name}.xlsx", mimetype=XLSX)
