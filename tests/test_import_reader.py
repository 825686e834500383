"""The import reader: CSV in every encoding and delimiter firms use, XLSX, ODS, broken files, streaming."""

from __future__ import annotations

import gc
import io
import time
import tracemalloc
import zipfile
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from survey_app.imports.reader import EMPTY, NO_HEADER, UNREADABLE, ReadError, read_table

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def rows(data: bytes | io.BytesIO, filename: str = "risposte.csv") -> list[tuple[int, list[object]]]:
    return list(read_table(data, filename).rows)


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, content in sheets.items():
        sheet = book.create_sheet(title)
        for row in content:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods(sheets: dict[str, list[list[object]]]) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="odf") as writer:
        for title, content in sheets.items():
            pd.DataFrame(content).to_excel(writer, sheet_name=title, header=False, index=False)
    return out.getvalue()


# --- CSV ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("encoding", "prefix"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""),
                                                  ("latin-1", b"")])
def test_csv_in_every_encoding_firms_use(encoding, prefix):
    text = "id_esterno;servizio;nota\r\n1;anagrafe;perché è così: città più\r\n"
    table = read_table(prefix + text.encode(encoding), "risposte.csv")
    assert table.headers == ["id_esterno", "servizio", "nota"]  # no BOM glued to the first header
    assert list(table.rows) == [(2, ["1", "anagrafe", "perché è così: città più"])]


def test_cp1252_keeps_the_euro_sign_and_smart_quotes():
    data = "id;nota\n1;costo 5 € – “ottimo” e l’ufficio\n".encode("cp1252")
    assert rows(data) == [(2, ["1", "costo 5 € – “ottimo” e l’ufficio"])]


def test_latin1_is_the_last_resort_for_bytes_cp1252_lacks():
    data = "id;nota\n1;città".encode("latin-1") + b"\x81\n"  # 0x81 is undefined in cp1252
    assert rows(data) == [(2, ["1", "città\x81"])]


def test_utf8_wins_over_cp1252_when_the_whole_file_decodes():
    assert rows("id,nota\n1,è\n".encode()) == [(2, ["1", "è"])]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_delimiters_and_line_endings(delimiter, newline):
    lines = [["id", "voto", "nota"], ["1", "4", "bene"], ["2", "5", ""]]
    data = newline.join(delimiter.join(line) for line in lines) + newline
    table = read_table(data.encode(), "risposte.csv")
    assert table.headers == ["id", "voto", "nota"]
    assert list(table.rows) == [(2, ["1", "4", "bene"]), (3, ["2", "5", None])]


def test_decimal_commas_do_not_fool_the_delimiter_guess():
    assert rows(b"id;voto\n1;3,5\n2;4,5\n3;2,0\n") == [(2, ["1", "3,5"]), (3, ["2", "4,5"]), (4, ["3", "2,0"])]


def test_apostrophes_are_not_taken_for_quotes():
    data = b"id;nota\n1;l'ufficio dell'anagrafe\n2;'ok';\n"
    assert rows(data) == [(2, ["1", "l'ufficio dell'anagrafe"]), (3, ["2", "'ok'"])]


def test_quoted_field_with_delimiter_and_newline_is_one_row():
    data = b'id;nota;voto\r\n1;"prima; riga\r\nseconda ""riga""";4\r\n2;breve;5\r\n'
    assert rows(data) == [(2, ["1", 'prima; riga\r\nseconda "riga"', "4"]), (3, ["2", "breve", "5"])]


def test_headers_are_normalised_and_originals_kept():
    table = read_table(b" ID_Esterno ;Data;  Voto   FINALE\t;\n1;2024-03-05;4\n", "r.CSV")
    assert table.headers == ["id_esterno", "data", "voto finale"]
    assert table.original_headers == [" ID_Esterno ", "Data", "  Voto   FINALE\t"]


def test_values_are_stripped_and_blanks_are_none():
    assert rows(b"a,b,c\n  x  , ,\n") == [(2, ["x", None, None])]


def test_trailing_empty_rows_and_columns_are_dropped():
    table = read_table(b"id;voto;;\n1;4;;\n2;5;;\n;;;\n\n  ;  ;\n", "r.csv")
    assert table.headers == ["id", "voto"]
    assert list(table.rows) == [(2, ["1", "4"]), (3, ["2", "5"])]


def test_an_empty_row_in_the_middle_keeps_its_number():
    assert rows(b"id;voto\n1;4\n;\n\n2;5\n\n") == [(2, ["1", "4"]), (3, [None, None]), (4, [None, None]),
                                                   (5, ["2", "5"])]


def test_cells_beyond_the_headers_make_the_row_longer():
    assert rows(b"id;voto;;\n1;4;;x\n2;5\n") == [(2, ["1", "4", None, "x"]), (3, ["2", "5"])]


def test_a_header_only_file_has_no_rows():
    table = read_table(b"id;voto\r\n", "r.csv")
    assert table.headers == ["id", "voto"] and list(table.rows) == []


def test_a_text_file_that_is_not_a_table_is_left_to_the_validator():
    # Prose still splits into one column (or a few at commas): the validator names the missing columns.
    table = read_table(b"Gentile ufficio\nvi invio i dati\ncordiali saluti\n", "leggimi.txt")
    assert table.headers == ["gentile ufficio"]
    assert list(table.rows) == [(2, ["vi invio i dati"]), (3, ["cordiali saluti"])]


@pytest.mark.parametrize("data", [PNG, "id\tvoto\n".encode("utf-16")])
def test_binary_content_named_txt_is_refused(data):
    with pytest.raises(ReadError, match=UNREADABLE):
        read_table(data, "dati.txt")


def test_an_unclosed_quote_fails_at_its_row_while_iterating():
    table = read_table(b'id;nota\n1;ok\n2;"' + b"x" * 200_000 + b"\n", "r.csv")
    assert next(table.rows) == (2, ["1", "ok"])
    with pytest.raises(ReadError, match="riga 3"):
        next(table.rows)


# --- empty and wrong files ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\r\n;;\n", b" \n"])
def test_an_empty_csv_is_refused(data):
    with pytest.raises(ReadError, match=EMPTY):
        read_table(data, "r.csv")


def test_data_without_a_header_row_is_refused():
    with pytest.raises(ReadError, match=NO_HEADER):
        read_table(b";;\n1;2;3\n", "r.csv")


@pytest.mark.parametrize(("data", "filename"), [(PNG, "risposte.xlsx"), (PNG, "risposte.ods"),
                                                (b"id;voto\n1;4\n", "risposte.xls"), (b"id;voto\n", "risposte"),
                                                (b"%PDF-1.7\n", "risposte.pdf")])
def test_other_formats_are_refused_naming_the_accepted_ones(data, filename):
    with pytest.raises(ReadError) as caught:
        read_table(data, filename)
    assert str(caught.value) == "il file non è un CSV, XLSX o ODS leggibile"


def test_a_zip_that_is_not_a_spreadsheet_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("leggimi.txt", "ciao")
    with pytest.raises(ReadError, match=UNREADABLE):
        read_table(out.getvalue(), "risposte.xlsx")


def test_a_truncated_xlsx_is_refused():
    with pytest.raises(ReadError, match=UNREADABLE):
        read_table(xlsx({"Dati": [["id"], [1]]})[:300], "risposte.xlsx")


# --- XLSX ---------------------------------------------------------------------------------------------------------

def test_xlsx_values_come_as_openpyxl_gives_them():
    data = xlsx({"Dati": [[" ID_Esterno ", "Data", "Voto", "Seriale", None],
                          ["  A1 ", datetime(2024, 3, 5, 10, 30), "4", 45356, None],
                          [None, None, None, None, None],
                          ["A2", date(2024, 3, 6), 3.5, "", None],
                          [None, None, None, None, None]]})
    table = read_table(data, "risposte.xlsx")
    assert table.headers == ["id_esterno", "data", "voto", "seriale"]
    assert table.original_headers == [" ID_Esterno ", "Data", "Voto", "Seriale"]
    assert list(table.rows) == [(2, ["A1", datetime(2024, 3, 5, 10, 30), "4", 45356]),
                                (3, [None, None, None, None]),
                                (4, ["A2", datetime(2024, 3, 6), 3.5, None])]


def test_xlsx_prefers_the_dati_sheet_and_ignores_instructions():
    data = xlsx({"Istruzioni": [["Compilare il foglio Dati"]], "Dati": [["id"], ["x"]]})
    table = read_table(data, "risposte.xlsx")
    assert (table.headers, list(table.rows)) == (["id"], [(2, ["x"])])


def test_xlsx_without_a_dati_sheet_reads_the_first():
    data = xlsx({"Foglio1": [["id"], ["x"]], "Foglio2": [["altro"]]})
    assert read_table(data, "risposte.xlsx").headers == ["id"]


def test_xlsx_rows_skipped_in_the_file_keep_their_numbers():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["A2"], sheet["B5"] = "id", "x", "y"  # rows 3 and 4 have no XML at all
    out = io.BytesIO()
    book.save(out)
    assert rows(out.getvalue(), "r.xlsx") == [(2, ["x"]), (3, [None]), (4, [None]), (5, [None, "y"])]


def test_an_empty_xlsx_is_refused():
    with pytest.raises(ReadError, match=EMPTY):
        read_table(xlsx({"Dati": []}), "risposte.xlsx")


def test_the_content_decides_when_the_extension_lies():
    assert read_table(xlsx({"Dati": [["id"], [1]]}), "risposte.csv").headers == ["id"]
    assert read_table(ods({"Dati": [["id"], [1]]}), "RISPOSTE.XLSX").headers == ["id"]


# --- ODS ----------------------------------------------------------------------------------------------------------

def test_ods_written_by_pandas():
    data = ods({"Istruzioni": [["leggere"]],
                "Dati": [["ID_Esterno", "Data", "Voto", "Nota"],
                         ["A1", date(2024, 3, 5), 4, " NA "],
                         [None, None, None, None],
                         ["A2", datetime(2024, 3, 6, 9, 15), 3.5, None]]})
    table = read_table(data, "risposte.ods")
    assert table.headers == ["id_esterno", "data", "voto", "nota"]
    got = list(table.rows)
    assert got == [(2, ["A1", datetime(2024, 3, 5), 4, "NA"]), (3, [None] * 4),
                   (4, ["A2", datetime(2024, 3, 6, 9, 15), 3.5, None])]
    assert type(got[0][1][1]) is datetime  # not a pandas Timestamp


def test_an_ods_with_an_empty_first_row_has_no_header():
    with pytest.raises(ReadError, match=NO_HEADER):
        read_table(ods({"Dati": [[None, None], ["a", "b"]]}), "risposte.ods")


# --- streams and memory -------------------------------------------------------------------------------------------

def test_a_stream_is_read_from_its_position_and_left_open():
    stream = io.BytesIO(b"xxid;voto\n1;4\n")
    stream.seek(2)
    assert list(read_table(stream, "r.csv").rows) == [(2, ["1", "4"])]
    assert not stream.closed


def test_csv_streams_a_large_file():
    body = "".join(f"{i};servizio-{i % 7};{i % 5 + 1};2024-03-05 10:{i % 60:02d};nota è\n" for i in range(200_000))
    data = ("id_esterno;servizio;voto;data;nota\n" + body).encode()
    assert len(data) > 8_000_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        table = read_table(data, "grande.csv")
        first = [next(table.rows) for _ in range(10)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5  # one strict-decoding pass over the bytes, no parsing of all rows
    assert first[-1] == (11, ["9", "servizio-2", "5", "2024-03-05 10:09", "nota è"])
    assert peak < 2_000_000


def test_xlsx_streams_a_large_file():
    book = openpyxl.Workbook()  # not write_only: that omits <dimension>, which Excel and LibreOffice write
    sheet = book.active
    sheet.append(["id", "voto", "data"])
    for i in range(50_000):
        sheet.append([i, i % 5 + 1, datetime(2024, 3, 5)])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    tracemalloc.start()
    try:
        table = read_table(data, "grande.xlsx")
        first = [next(table.rows) for _ in range(10)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first[0] == (2, [0, 1, datetime(2024, 3, 5)])
    assert peak < 2_000_000  # ~0.9 MB whatever the row count: openpyxl's own tables


def test_an_abandoned_table_in_a_reference_cycle_is_collected_quietly():
    # The garbage collector may close the text wrapper before the row generator's cleanup runs.
    table = read_table(b"a;b\n1;2\n3;4\n", "r.csv")
    next(table.rows)
    table.cycle = table
    del table
    gc.collect()


def test_an_unclosed_quote_never_swallows_the_rows_after_it():
    table = read_table(b'a;b;c\n1;2;"x\n3;4;5\n6;7;8\n', "lotto.csv")
    with pytest.raises(ReadError, match="riga 2"):
        list(table.rows)
