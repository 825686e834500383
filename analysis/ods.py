"""OpenDocument spreadsheet (.ods) writer for ``Sheet`` tables.

The XML is built as strings rather than through odfpy: a DOM of a publication with tens of thousands of
cells costs seconds and a lot of memory, while string building streams it into the zip in a fraction of that.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .publish import neutralise_formula
from .sheets import Sheet

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
# A fixed timestamp so the same sheets always give the same bytes (stable checksums and caches).
EPOCH = (1980, 1, 1, 0, 0, 0)
CM_PER_CHAR = 0.21
DIGITS = {"int": 0, "dec1": 1, "dec2": 2, "dec4": 4, "year": 0}
UNGROUPED = ("year",)  # 2025, not 2.025

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
      'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" office:version="1.3"')
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
BOLD = 'fo:font-weight="bold" style:font-weight-asian="bold" style:font-weight-complex="bold"'
# The language on the data styles is what makes LibreOffice show 1.234,5 rather than 1,234.5.
IT = 'number:language="it" number:country="IT"'
SLASH = "<number:text>/</number:text>"

CELL_STYLES = (
    "".join(f'<number:number-style style:name="N-{kind}" {IT}><number:number '
            f'number:decimal-places="{places}" number:min-integer-digits="1" '
            f'number:grouping="{str(kind not in UNGROUPED).lower()}"/>'
            "</number:number-style>"
            for kind, places in DIGITS.items())
    + f'<number:date-style style:name="N-date" {IT}><number:day number:style="long"/>{SLASH}'
    f'<number:month number:style="long"/>{SLASH}<number:year number:style="long"/></number:date-style>'
    + "".join(f'<style:style style:name="ce-{kind}" style:family="table-cell" '
              f'style:parent-style-name="Default" style:data-style-name="N-{kind}"/>'
              for kind in (*DIGITS, "date"))
    + '<style:style style:name="ce-title" style:family="table-cell" style:parent-style-name="Default">'
    f'<style:text-properties {BOLD} fo:font-size="14pt"/></style:style>'
    '<style:style style:name="ce-head" style:family="table-cell" style:parent-style-name="Default">'
    '<style:table-cell-properties fo:background-color="#d9d9d9" fo:wrap-option="wrap" '
    f'style:vertical-align="top"/><style:text-properties {BOLD}/></style:style>'
)

# XML 1.0 cannot carry these at all, not even as character references.
_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINES = re.compile(r"\r\n|\r|\n")
# ODF collapses runs of white space and drops it at the edges of a paragraph unless it is spelt out.
_SPACES = re.compile(r"^ +| +$| {2,}|\t")
_IT_DIGITS = str.maketrans(",.", ".,")
EMPTY = "<table:table-cell/>"


def _space(match: re.Match) -> str:
    run = match.group()
    return "<text:tab/>" if run == "\t" else f'<text:s text:c="{len(run)}"/>'


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(value != value)  # NaN and NaT are not equal to themselves
    except TypeError:  # pandas.NA refuses to be a boolean
        return True


# Publications repeat the same body, office and service names on every row: cache their markup.
@lru_cache(maxsize=8192)
def _text_markup(text: str, style: str) -> str:
    text = neutralise_formula(text)
    # Most cells are one plain line: isprintable() rules out control characters and line breaks in C.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        paragraphs = f"<text:p>{escape(text)}</text:p>"
    else:
        text = _INVALID.sub("", text)
        # One paragraph per line is how Calc itself stores a cell typed with line breaks.
        lines = _LINES.split(text)
        paragraphs = "".join(f"<text:p>{_SPACES.sub(_space, escape(line))}</text:p>" for line in lines)
    if not text:
        return EMPTY
    return f'<table:table-cell{style} office:value-type="string">{paragraphs}</table:table-cell>'


def _text_cell(value: Any, style: str = "") -> str:
    return EMPTY if _missing(value) else _text_markup(str(value), style)


def _number_writer(kind: str, places: int) -> Callable[[Any], str]:
    style = f'table:style-name="ce-{kind}"'
    grouping = "" if kind in UNGROUPED else ","

    def cell(value: Any) -> str:
        if _missing(value):
            return EMPTY
        if isinstance(value, str):  # a note in place of a number stays readable rather than failing
            return _text_cell(value)
        number = float(value)
        stored = str(int(number)) if kind in ("int", "year") and number.is_integer() else repr(number)
        # The paragraph is only for readers that do not apply the number style themselves.
        shown = f"{number:{grouping}.{places}f}".translate(_IT_DIGITS)
        return (f'<table:table-cell {style} office:value-type="float" office:value="{stored}">'
                f"<text:p>{shown}</text:p></table:table-cell>")
    return cell


def _date_cell(value: Any) -> str:
    if _missing(value):
        return EMPTY
    if not isinstance(value, date):
        return _text_cell(value)
    return (f'<table:table-cell table:style-name="ce-date" office:value-type="date" '
            f'office:date-value="{value:%Y-%m-%d}"><text:p>{value:%d/%m/%Y}</text:p></table:table-cell>')


WRITERS: dict[str, Callable[[Any], str]] = {
    "text": _text_cell, "date": _date_cell, **{kind: _number_writer(kind, p) for kind, p in DIGITS.items()}}


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _table(sheet: Sheet, widths: dict[float, str]) -> Iterator[str]:
    yield f"<table:table table:name={quoteattr(sheet.name)}>"
    for column in sheet.columns:
        yield (f'<table:table-column table:style-name="{widths[column.width]}" '
               'table:default-cell-style-name="Default"/>')
    for i, line in enumerate(sheet.preamble):
        style = ' table:style-name="ce-title"' if i == 0 else ""
        yield f"<table:table-row>{_text_cell(line, style)}</table:table-row>"
    if sheet.preamble:
        yield f"<table:table-row>{EMPTY}</table:table-row>"
    # As header rows they are also repeated at the top of every printed page.
    heads = "".join(_text_cell(c.title, ' table:style-name="ce-head"') for c in sheet.columns)
    yield f"<table:table-header-rows><table:table-row>{heads}</table:table-row></table:table-header-rows>"
    writers = [WRITERS[c.kind] for c in sheet.columns]
    for row in sheet.rows:
        cells = "".join([write(value) for write, value in zip(writers, row, strict=False)])
        yield f"<table:table-row>{cells}</table:table-row>"
    yield "</table:table>"


def _filters(sheets: list[Sheet]) -> str:
    ranges = []
    for index, sheet in enumerate(sheets):
        if not sheet.columns:
            continue
        name, last = "'" + sheet.name.replace("'", "''") + "'", _column_letters(len(sheet.columns) - 1)
        address = f"{name}.A{sheet.header_row}:{name}.{last}{sheet.header_row + len(sheet.rows)}"
        # Calc's own name for a sheet's unnamed (autofilter) range: it is then that sheet's filter.
        ranges.append(f'<table:database-range table:name="__Anonymous_Sheet_DB__{index}" '
                      f"table:target-range-address={quoteattr(address)} "
                      'table:display-filter-buttons="true"/>')
    return f"<table:database-ranges>{''.join(ranges)}</table:database-ranges>" if ranges else ""


def _content(sheets: list[Sheet]) -> Iterator[str]:
    widths: dict[float, str] = {}  # one column style per distinct width, named in order of appearance
    for column in (c for sheet in sheets for c in sheet.columns):
        widths.setdefault(column.width, f"co{len(widths) + 1}")
    yield f"{HEAD}<office:document-content {NS}><office:automatic-styles>"
    for width, name in widths.items():
        yield (f'<style:style style:name="{name}" style:family="table-column"><style:table-column-properties '
               f'style:column-width="{width * CM_PER_CHAR:.3f}cm"/></style:style>')
    yield CELL_STYLES + "</office:automatic-styles><office:body><office:spreadsheet>"
    for sheet in sheets:
        yield from _table(sheet, widths)
    yield _filters(sheets) + "</office:spreadsheet></office:body></office:document-content>"


def _item(name: str, kind: str, value: Any) -> str:
    return f'<config:config-item config:name="{name}" config:type="{kind}">{value}</config:config-item>'


def _settings(sheets: list[Sheet]) -> str:
    # Split mode 2 freezes the rows above VerticalSplitPosition, here down to the header. The columns stay
    # unsplit (mode 0), as Calc itself saves a rows-only freeze: a fixed split at column 0 would leave the
    # active pane (bottom-left, 2) zero columns wide.
    tables = "".join(
        f"<config:config-item-map-entry config:name={quoteattr(s.name)}>"
        + _item("HorizontalSplitMode", "short", 0) + _item("VerticalSplitMode", "short", 2)
        + _item("HorizontalSplitPosition", "int", 0) + _item("VerticalSplitPosition", "int", s.header_row)
        + _item("ActiveSplitRange", "short", 2) + _item("PositionLeft", "int", 0)
        + _item("PositionRight", "int", 0) + _item("PositionTop", "int", 0)
        + _item("PositionBottom", "int", s.header_row) + "</config:config-item-map-entry>" for s in sheets)
    active = _item("ActiveTable", "string", escape(sheets[0].name)) if sheets else ""
    return (f"{HEAD}<office:document-settings {NS}><office:settings>"
            '<config:config-item-set config:name="ooo:view-settings">'
            '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
            f'{_item("ViewId", "string", "view1")}<config:config-item-map-named config:name="Tables">{tables}'
            f"</config:config-item-map-named>{active}</config:config-item-map-entry>"
            "</config:config-item-map-indexed></config:config-item-set></office:settings>"
            "</office:document-settings>")


STYLES = (f"{HEAD}<office:document-styles {NS}><office:styles>"
          '<style:default-style style:family="table-cell">'
          '<style:text-properties fo:language="it" fo:country="IT"/></style:default-style>'
          '<style:style style:name="Default" style:family="table-cell"/>'
          "</office:styles></office:document-styles>")
META = (f"{HEAD}<office:document-meta {NS}><office:meta>"
        "<meta:generator>customer-satisfaction-pa</meta:generator></office:meta></office:document-meta>")
PARTS = ("content.xml", "styles.xml", "meta.xml", "settings.xml")
MANIFEST = (f'{HEAD}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
            f'manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
            f'manifest:media-type="{MIMETYPE}"/>'
            + "".join(f'<manifest:file-entry manifest:full-path="{part}" manifest:media-type="text/xml"/>'
                      for part in PARTS)
            + "</manifest:manifest>")


def _info(name: str, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def _stream(out: io.BufferedIOBase, parts: Iterable[str], size: int = 1 << 16) -> None:
    # Batched so the compressor sees large blocks without the whole document being held as one string.
    batch: list[str] = []
    held = 0  # characters in the batch
    for part in parts:
        batch.append(part)
        held += len(part)
        if held >= size:
            out.write("".join(batch).encode())
            batch, held = [], 0
    out.write("".join(batch).encode())


def to_ods(sheets: list[Sheet]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # Readers recognise the format by this first, uncompressed member at a fixed offset.
        archive.writestr(_info("mimetype", zipfile.ZIP_STORED), MIMETYPE)
        archive.writestr(_info("META-INF/manifest.xml"), MANIFEST)
        with archive.open(_info("content.xml"), "w") as out:
            _stream(out, _content(sheets))
        for name, text in (("styles.xml", STYLES), ("meta.xml", META), ("settings.xml", _settings(sheets))):
            archive.writestr(_info(name), text)
    return buffer.getvalue()
