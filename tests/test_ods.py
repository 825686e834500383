"""The ODS writer: read back by pandas (odfpy) and by LibreOffice, text that looks like a formula defused."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date
from io import BytesIO
from xml.etree import ElementTree

import pandas as pd
import pytest

from analysis.ods import MIMETYPE, to_ods
from analysis.sheets import Column, Sheet

from .conftest import CSV_FILTER

CONFIG = "{urn:oasis:names:tc:opendocument:xmlns:config:1.0}"
HEADINGS = ["Ente", "Questionari compilati", "Soddisfatti (%)", "Media", "Aggiornato al"]


def _sheets() -> list[Sheet]:
    summary = Sheet(
        "Sintesi",
        [Column("Ente", width=30), Column("Questionari compilati", "int", 12),
         Column("Soddisfatti (%)", "dec1"), Column("Media", "dec2", 10), Column("Aggiornato al", "date", 12)],
        [["Comune di Forlì – Servizi demografici", 1234, 58.5, 4.25, date(2024, 3, 5)],
         ["=SUM(A1)", None, None, None, None],
         ["Ufficio <b>& «Tributi»", 7, 100.0, 3.0, None],
         ["Prima riga\nseconda  riga", 0, 0.0, 1.5, date(2023, 12, 31)]],
        preamble=["Soddisfazione degli utenti per servizio – anno 2024",
                  "Dati soppressi (celle vuote) dove le risposte sono meno di 5."],
    )
    notes = Sheet(
        "Nota metodologica",
        [Column("Voce", width=20), Column("Descrizione", width=60)],
        [["@cmd", "+39 0543 712111"],
         ["-1", "testo con \x01caratteri\x0b di controllo"],
         ["Perché", "Qualità, città e più: è così"]],
    )
    return [summary, notes]


@pytest.fixture(scope="module")
def data() -> bytes:
    return to_ods(_sheets())


@pytest.fixture(scope="module")
def frames(data) -> dict[str, pd.DataFrame]:
    return pd.read_excel(BytesIO(data), engine="odf", sheet_name=None, header=None)


def test_the_package_starts_with_the_stored_mimetype_and_lists_its_parts(data):
    with zipfile.ZipFile(BytesIO(data)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert archive.read("mimetype").decode() == MIMETYPE
        assert archive.namelist()[1:] == ["META-INF/manifest.xml", "content.xml", "styles.xml", "meta.xml",
                                          "settings.xml"]
        manifest = archive.read("META-INF/manifest.xml").decode()
        for part in archive.namelist()[2:]:
            assert f'manifest:full-path="{part}"' in manifest
            ElementTree.fromstring(archive.read(part))  # noqa: S314 - our own output; must be well-formed
    # The magic number file(1) and LibreOffice look for, right after the first local header.
    assert data[30:38] == b"mimetype" and data[38:38 + len(MIMETYPE)] == MIMETYPE.encode()


def test_values_read_back_with_their_types(frames):
    assert list(frames) == ["Sintesi", "Nota metodologica"]
    summary = frames["Sintesi"]
    assert summary.shape == (8, 5)
    assert summary.iloc[0, 0] == "Soddisfazione degli utenti per servizio – anno 2024"
    assert summary.iloc[1, 0].startswith("Dati soppressi")
    assert summary.iloc[2].isna().all()  # the empty row between the preamble and the table
    assert list(summary.iloc[3]) == HEADINGS
    assert list(summary.iloc[4]) == ["Comune di Forlì – Servizi demografici", 1234, 58.5, 4.25,
                                     pd.Timestamp("2024-03-05")]
    assert summary.iloc[5, 1:].isna().all()  # None cells stay empty
    assert list(summary.iloc[6, :4]) == ["Ufficio <b>& «Tributi»", 7, 100, 3]
    assert pd.isna(summary.iloc[6, 4])
    assert list(summary.iloc[7]) == ["Prima riga\nseconda  riga", 0, 0, 1.5, pd.Timestamp("2023-12-31")]
    notes = frames["Nota metodologica"]
    assert list(notes.iloc[0]) == ["Voce", "Descrizione"]
    assert notes.iloc[2, 1] == "testo con caratteri di controllo"  # control characters dropped
    assert list(notes.iloc[3]) == ["Perché", "Qualità, città e più: è così"]


def test_text_that_looks_like_a_formula_gets_an_apostrophe(frames):
    assert frames["Sintesi"].iloc[5, 0] == "'=SUM(A1)"
    notes = frames["Nota metodologica"]
    assert list(notes.iloc[1]) == ["'@cmd", "'+39 0543 712111"]
    assert notes.iloc[2, 0] == "'-1"


def test_the_header_is_frozen_and_filtered(data):
    with zipfile.ZipFile(BytesIO(data)) as archive:
        content = archive.read("content.xml").decode()
        settings = ElementTree.fromstring(archive.read("settings.xml"))  # noqa: S314 - our own output
    ranges = re.findall(r'table:target-range-address="([^"]+)" table:display-filter-buttons="true"', content)
    assert ranges == ["'Sintesi'.A4:'Sintesi'.E8", "'Nota metodologica'.A1:'Nota metodologica'.B4"]
    assert content.count('number:language="it" number:country="IT"') == 6  # int, dec1, dec2, dec4, year, date
    tables = {entry.get(f"{CONFIG}name"): {item.get(f"{CONFIG}name"): item.text for item in entry}
              for entry in settings.iter(f"{CONFIG}config-item-map-entry") if entry.get(f"{CONFIG}name")}
    assert set(tables) == {"Sintesi", "Nota metodologica"}
    for name, header_row in (("Sintesi", "4"), ("Nota metodologica", "1")):
        assert tables[name]["VerticalSplitMode"] == "2"
        assert tables[name]["VerticalSplitPosition"] == tables[name]["PositionBottom"] == header_row


def test_the_same_sheets_give_the_same_bytes(data):
    assert to_ods(_sheets()) == data
    with zipfile.ZipFile(BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_libreoffice_shows_italian_numbers(soffice, data, tmp_path):
    source = tmp_path / "pubblicazione.ods"
    source.write_bytes(data)
    out = soffice(source, CSV_FILTER)
    # "Save as shown" writes what Calc displays, so this checks the data styles rather than the raw values.
    with open(out / "pubblicazione-Sintesi.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[3] == HEADINGS
    assert rows[4] == ["Comune di Forlì – Servizi demografici", "1.234", "58,5", "4,25", "05/03/2024"]
    assert rows[5] == ["'=SUM(A1)", "", "", "", ""]
    assert rows[6] == ["Ufficio <b>& «Tributi»", "7", "100,0", "3,00", ""]
    assert rows[7] == ["Prima riga\nseconda  riga", "0", "0,0", "1,50", "31/12/2023"]
    with open(out / "pubblicazione-Nota metodologica.csv", encoding="utf-8", newline="") as f:
        assert list(csv.reader(f))[1] == ["'@cmd", "'+39 0543 712111"]


def test_libreoffice_keeps_the_filter_and_the_formats_in_xlsx(soffice, data, tmp_path):
    # Headless Calc has no view, so the frozen pane cannot be checked here; the filter lives in the document.
    source = tmp_path / "pubblicazione.ods"
    source.write_bytes(data)
    out = soffice(source, "xlsx")
    with zipfile.ZipFile(out / "pubblicazione.xlsx") as book:
        first = book.read("xl/worksheets/sheet1.xml").decode()
        styles = book.read("xl/styles.xml").decode()
    assert '<autoFilter ref="A4:E8"' in first
    for code in ("[$-410]#,##0", "[$-410]#,##0.0", "[$-410]#,##0.00", "[$-410]dd/mm/yyyy"):
        assert f'formatCode="{code}"' in styles
