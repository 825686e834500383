"""Read the files survey firms send (CSV, XLSX, ODS) into rows of raw cell values, for the validator.

It only turns bytes into cells and never judges columns or values. Whatever the format:
- ``headers`` are stripped, lower-cased, inner whitespace collapsed; ``original_headers`` keep the file's spelling
  (the importer matches those to the template's columns, as it does JSON keys: ``layout.FileRows``).
  Empty header cells at the end of the header row are dropped.
- rows are numbered as a spreadsheet shows them (header 1, first data row 2; a CSV record with a quoted newline
  is one row), aligned to ``headers``, padded with None. Non-empty cells beyond the last header make the row
  longer than ``headers``, for the validator to refuse (values under a header-less trailing column included).
  A CSV record with fewer fields than the header (a line broken by an unquoted newline: the rest of its values went
  to a "row" of their own) is noted in ``short`` (row number → fields found), for the validator to refuse too;
  spreadsheets leave trailing empty cells out, so only a CSV is held to its header's width.
- strings are stripped, blank cells are None. An empty row between data rows is yielded (all None) so the
  validator can name it; empty rows at the end of the file are not.
- CSV and XLSX stream, memory flat in the file size; ODS is loaded whole (odfpy builds a DOM), its XML capped.
  Iterating ``rows`` may itself raise ReadError when a file turns out corrupt half-way.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import openpyxl

UNREADABLE = "il file non è un CSV, XLSX o ODS leggibile"
EMPTY = "il file è vuoto"
NO_HEADER = "manca la riga di intestazione"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_MAX_XML_BYTES = 32 * 1024 * 1024  # odfpy needs ~30x this in RAM and ~1 s per MB: beyond it, ask for XLSX/CSV
DATA_SHEET = "dati"  # the templates' data sheet; other sheets (instructions, code lists) are ignored
DELIMITERS = ",;\t"
SAMPLE_BYTES = 16 * 1024
CHUNK_BYTES = 64 * 1024


class ReadError(Exception):
    """The file cannot be read as a table; the message is in Italian, for the user."""


@dataclass
class Table:
    headers: list[str]
    original_headers: list[str]
    rows: Iterator[tuple[int, list[object]]]
    short: dict[int, int]  # filled as ``rows`` is read: CSV rows with fewer fields than the header


def read_table(data: bytes | BinaryIO, filename: str) -> Table:
    """Open a CSV (.csv/.txt), XLSX or ODS file; the header row is read now, data rows lazily from ``rows``."""
    # Every format needs to go back to the start at least once: a stream that can't is read into memory.
    stream: BinaryIO = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    if not stream.seekable():
        stream = io.BytesIO(stream.read())
    start = stream.tell()
    kind = _kind(stream, start, os.path.splitext(filename.strip())[1].lower())
    stream.seek(start)
    raw = {"csv": _csv_rows, "xlsx": _xlsx_rows, "ods": _ods_rows}[kind](stream, start)
    first = next(raw, None)
    if first is None:
        raise ReadError(EMPTY)
    original = ["" if value is None else str(value) for value in first]
    while original and not original[-1].strip():
        original.pop()
    if not original:
        # Don't guess which later row is the header: the row numbers the user is told would no longer match.
        raise ReadError(NO_HEADER if any(_cleaned(row) for row in raw) else EMPTY)
    headers = [" ".join(name.split()).lower() for name in original]
    short: dict[int, int] = {}
    return Table(headers, original, _numbered(raw, len(headers), short if kind == "csv" else None), short)


def _kind(stream: BinaryIO, start: int, extension: str) -> str:
    """The content decides for zip packages (a misnamed XLSX still reads); text is accepted by its extension."""
    head = stream.read(4)
    if not head:
        raise ReadError(EMPTY)
    if head != b"PK\x03\x04":
        if extension in (".csv", ".txt"):
            return "csv"
        raise ReadError(UNREADABLE)
    stream.seek(start)
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names and package.read("mimetype").strip() == ODS_MIMETYPE:
                if package.getinfo("content.xml").file_size > ODS_MAX_XML_BYTES:
                    raise ReadError("il file ODS è troppo grande per essere letto: salvarlo come XLSX o CSV")
                return "ods"
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ReadError(UNREADABLE) from exc
    raise ReadError(UNREADABLE)


def _cleaned(row: Iterable[object]) -> list[object]:
    """Strings stripped, blanks as None, trailing Nones dropped: an empty row becomes []."""
    values = [(value.strip() or None) if isinstance(value, str) else value for value in row]
    while values and values[-1] is None:
        values.pop()
    return values


def _numbered(raw: Iterator[list[object]], width: int,
              short: dict[int, int] | None = None) -> Iterator[tuple[int, list[object]]]:
    # Empty rows are held back as a count until a non-empty row proves they are not the file's trailing padding.
    pending = 0
    for number, row in enumerate(raw, start=2):
        values = _cleaned(row)
        if not values:
            pending += 1
            continue
        for blank in range(number - pending, number):
            yield blank, [None] * width
        pending = 0
        if short is not None and len(row) < width:
            short[number] = len(row)
        yield number, values + [None] * (width - len(values))


def _encoding(stream: BinaryIO, start: int) -> str:
    """The first encoding that decodes the whole file strictly, checked chunk by chunk to keep memory flat."""
    for encoding in ("utf-8-sig", "cp1252"):  # utf-8-sig: with or without a BOM, and drops it
        stream.seek(start)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"  # decodes any byte: the last resort can't fail


def _delimiter(sample: str, truncated: bool) -> str:
    header = next((line for line in sample.splitlines() if line.strip()), "")
    if truncated and (cut := max(sample.rfind("\n"), sample.rfind("\r"))) > 0:
        sample = sample[: cut + 1]  # a line cut short by the sample's end would skew the sniffer's counts
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found in header and found:
        return found
    # Sniffer failed, or chose a character the header lacks (e.g. decimal commas in a ';' file): count in the header.
    return max(DELIMITERS, key=header.count)


def _csv_rows(stream: BinaryIO, start: int) -> Iterator[list[object]]:
    sample = stream.read(SAMPLE_BYTES)
    if b"\x00" in sample:
        raise ReadError(UNREADABLE)  # binary data (or UTF-16) that a single-byte decoding would turn into noise
    encoding = _encoding(stream, start)
    # errors="ignore": the sample may end in the middle of a multi-byte character.
    delimiter = _delimiter(sample.decode(encoding, errors="ignore"), len(sample) == SAMPLE_BYTES)
    stream.seek(start)
    # Only the delimiter is taken from the sniffer: its guessed quote char is often "'" on Italian apostrophes.
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    number = 1  # the record being read, for the error message
    try:
        # strict: an unclosed quote must not swallow the rest of the file into one field
        for row in csv.reader(text, delimiter=delimiter, strict=True):
            yield row
            number += 1
    except csv.Error as exc:
        raise ReadError(f"riga {number}: virgolette non chiuse o campo troppo lungo") from exc
    finally:
        # Closing the wrapper (even by garbage collection) would close the caller's stream. When a reference
        # cycle is collected the wrapper may already be closed: nothing left to protect then.
        with contextlib.suppress(ValueError):
            text.detach()


def _sheet_index(names: list[str]) -> int:
    return next((i for i, name in enumerate(names) if name.strip().lower() == DATA_SHEET), 0)


def _xlsx_rows(stream: BinaryIO, start: int) -> Iterator[list[object]]:
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # any parser failure on an untrusted upload means the same to the user
        raise ReadError(UNREADABLE) from exc
    try:
        if not book.worksheets:
            return
        sheet = book.worksheets[_sheet_index([ws.title for ws in book.worksheets])]
        # Read-only mode trusts the declared dimension, which some generators get wrong (e.g. "A1"), cutting
        # rows off; resetting makes openpyxl read every row the sheet really has.
        sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except Exception as exc:
        raise ReadError(UNREADABLE) from exc
    finally:
        book.close()


def _ods_rows(stream: BinaryIO, start: int) -> Iterator[list[object]]:
    import pandas as pd  # imported here: slow to import, and only ODS needs it

    try:
        with pd.ExcelFile(stream, engine="odf") as book:
            name = book.sheet_names[_sheet_index([str(n) for n in book.sheet_names])]
            # na_filter=False: answers like "NA" or "N/A" must reach the validator as text, not as missing.
            frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object, na_filter=False)
    except Exception as exc:
        raise ReadError(UNREADABLE) from exc
    for row in frame.itertuples(index=False, name=None):
        yield [value.to_pydatetime() if isinstance(value, pd.Timestamp) else value for value in row]
