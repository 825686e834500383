"""Sheets as an Excel workbook for people: styled header, frozen panes, autofilter, Italian number formats.

Written with openpyxl's write-only mode so a publication of thousands of rows stays fast; each cell gets its
style by copying a prepared style array instead of setting font, fill and format one by one.
"""

from __future__ import annotations

import io
from copy import copy
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from .publish import ILLEGAL, neutralise_formula
from .sheets import Sheet

# [$-410] ties the format to the Italian locale: LibreOffice then shows comma decimals and dot thousands
# whatever its own language; Excel uses the reader's regional settings, Italian for the readers we publish for.
NUMBER_FORMATS = {"int": "[$-410]#,##0", "dec1": "[$-410]#,##0.0", "dec2": "[$-410]#,##0.00",
                  "dec4": "[$-410]#,##0.0000", "year": "0", "date": "DD/MM/YYYY", "text": "@"}
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
HEADER_BORDER = Border(bottom=Side(style="medium", color="1F3864"))


def text_cell(value: Any) -> str:
    # Control characters make Excel ask to repair the file: they never belong in published text.
    return neutralise_formula(str(value).translate(ILLEGAL))


class _Styles:
    """One prepared cell per kind; new cells copy its style array."""

    def __init__(self, ws):
        self.templates = {}
        for kind, fmt in NUMBER_FORMATS.items():
            cell = WriteOnlyCell(ws)
            cell.number_format = fmt
            cell.alignment = Alignment(vertical="top", wrap_text=kind == "text")
            self.templates[kind] = cell
        self.header = WriteOnlyCell(ws)
        self.header.font = Font(bold=True)
        self.header.fill = HEADER_FILL
        self.header.border = HEADER_BORDER
        self.header.alignment = Alignment(wrap_text=True, vertical="center")
        self.title = WriteOnlyCell(ws)
        self.title.font = Font(bold=True, size=14)

    def cell(self, ws, value, template: WriteOnlyCell) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value)
        cell._style = copy(template._style)
        return cell


def _value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "text":
        return text_cell(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    return value


def _write_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet(sheet.name[:31])
    styles = _Styles(ws)
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header = sheet.header_row
    last = get_column_letter(max(len(sheet.columns), 1))
    ws.freeze_panes = f"A{header + 1}"
    ws.auto_filter.ref = f"A{header}:{last}{header + max(len(sheet.rows), 1)}"
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    for i, line in enumerate(sheet.preamble):
        ws.append([styles.cell(ws, text_cell(line), styles.title if i == 0 else styles.templates["text"])])
    if sheet.preamble:
        ws.append([])
    ws.append([styles.cell(ws, text_cell(c.title), styles.header) for c in sheet.columns])
    # One styled cell per column, reused row after row: write-only mode writes a row as soon as it is appended,
    # so the cell is free again for the next one (tens of thousands of cells, no style copied per cell).
    cells = [styles.cell(ws, None, styles.templates[c.kind]) for c in sheet.columns]
    kinds = [c.kind for c in sheet.columns]
    for row in sheet.rows:
        out = []
        for value, kind, cell in zip(row, kinds, cells, strict=True):
            value = _value(value, kind)
            if value is None:
                out.append(None)
            else:
                cell.value = value
                out.append(cell)
        ws.append(out)


def to_xlsx(sheets: list[Sheet], created: datetime | None = None, title: str | None = None) -> bytes:
    """The workbook as bytes; ``created`` (the publication time) goes into its properties."""
    wb = Workbook(write_only=True)
    if created is not None:
        # The document properties are UTC (openpyxl writes them with a Z).
        utc = created.astimezone(UTC) if created.tzinfo else created
        wb.properties.created = wb.properties.modified = utc.replace(tzinfo=None, microsecond=0)
    if title:
        wb.properties.title = title
    wb.properties.creator = "Piattaforma di customer satisfaction"
    for sheet in sheets:
        _write_sheet(wb, sheet)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
