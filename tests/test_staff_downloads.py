"""The staff area's downloads as an office opens them: every workbook read back with openpyxl (headings, bold frozen
header, widths, number formats and value types), every CSV with csv/pandas (the page's decimals, true/false)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from analysis.engine import Period, service_table
from analysis.ods import to_ods
from analysis.sheets import Column, Sheet
from survey_app.demo.seed import seed_responses
from survey_app.models import Servizio
from survey_app.staff.downloads import to_csv, to_workbook

from .helpers import login

INT, DEC1, DEC2, DEC4, YEAR = "[$-410]#,##0", "[$-410]#,##0.0", "[$-410]#,##0.00", "[$-410]#,##0.0000", "0"
# Each heading a workbook may have that holds a figure, with its format and its places.
FIGURES = {"Anno": (YEAR, 0), "Periodo": (YEAR, 0), "Questionari compilati": (INT, 0), "Risposte (n)": (INT, 0),
           "Risposte alla domanda complessiva": (INT, 0), "Valore": (INT, 0), "Soddisfatti (%)": (DEC1, 1),
           "Quota (%)": (DEC1, 1), "Quota di chi ha risposto (%)": (DEC1, 1),
           "Intervallo di confidenza 95%: minimo": (DEC1, 1), "Intervallo di confidenza 95%: massimo": (DEC1, 1),
           "Media": (DEC2, 2), "Importanza media": (DEC2, 2), "Soddisfazione media": (DEC2, 2),
           "Indice di customer satisfaction (0–100)": (DEC1, 1), "Net Promoter Score": (DEC1, 1),
           "Soddisfatti anno precedente (%)": (DEC1, 1), "Differenza (punti)": (DEC1, 1), "p-value": (DEC4, 4),
           "Rilevazione: questionari del servizio": (INT, 0), "Rilevazione: questionari in totale": (INT, 0),
           "Rilevazione: obiettivo": (INT, 0)}


@pytest.fixture
def seeded(client, runner, catalogue):
    seed_responses(catalogue, 1500, seed=5, end=date(2025, 12, 31))
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe", "--scope", "tributi")
    return catalogue


def links(client, url: str, ext: str) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    found = re.findall(rf'href="([^"]*/dati(?:/[^"/]+)?\.{ext}(?:\?[^"]*)?)"', html)
    return sorted({link.replace("&amp;", "&") for link in found})


def every_download(client, ext: str) -> list[str]:
    urls = links(client, "/staff/servizi/anagrafe?anno=2025", ext)
    urls += links(client, "/staff/servizi/anagrafe/domande/D1?anno=2025", ext)  # a scale: values and labels
    urls += links(client, "/staff/servizi/anagrafe/domande/D6?anno=2025", ext)  # a multiple choice: options
    names = {url.split("?")[0].rsplit("/", 1)[1] for url in urls}
    assert {f"indicatori.{ext}", f"per-canale.{ext}", f"per-sede.{ext}", f"andamento.{ext}",
            f"distribuzione.{ext}", f"scelte-D6.{ext}", f"dati.{ext}"} <= names, names
    return [*urls, f"/staff/panoramica.{ext}?anno=2025"]


def test_every_staff_workbook_has_a_bold_frozen_header_italian_formats_and_real_numbers(client, seeded):
    for url in every_download(client, "xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        header = [cell.value for cell in sheet[1]]
        assert sheet.freeze_panes == "A2", url
        assert all(cell.font.bold for cell in sheet[1]), url
        # People's headings, not the code's names (those stay in the CSV).
        assert all("_" not in title for title in header), (url, header)
        assert all(sheet.column_dimensions[cell.column_letter].width >= 7 for cell in sheet[1]), url
        assert sheet.max_row > 1, url
        for row in sheet.iter_rows(min_row=2):
            for title, cell in zip(header, row, strict=True):
                value = cell.value
                assert not isinstance(value, bool) and value not in ("True", "False", "nan"), (url, title, value)
                if title == "Dato soppresso":
                    assert value in ("sì", "no"), (url, value)
                if title in FIGURES and value is not None:
                    number_format, places = FIGURES[title]
                    assert cell.number_format == number_format, (url, title, cell.number_format)
                    if places:
                        assert isinstance(value, (int, float)) and round(value, places) == value, (url, title, value)
                    else:
                        assert isinstance(value, int), (url, title, value)
        if "Standard" in header:  # a standard's text with the workbook's decimal commas, not the CSV's points
            texts = [row[header.index("Standard")] for row in sheet.iter_rows(min_row=2, values_only=True)]
            assert any(re.search(r"\d,\d", t or "") for t in texts), (url, texts)
            assert not any(re.search(r"\d\.\d", t or "") for t in texts), (url, texts)
        if "Periodo" in header:  # a year's figures carry the year as a number
            assert 2025 in [row[header.index("Periodo")] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_overview_workbook_keeps_the_pages_decimals_and_the_year_as_a_number(client, seeded):
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/staff/panoramica.xlsx?anno=2025").data))["Panoramica"]
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["Anno", "Ente", "Ufficio", "Codice servizio", "Servizio"]
    rows = {row[3].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    anagrafe = rows["anagrafe"]
    assert anagrafe["Anno"].value == 2025 and anagrafe["Anno"].number_format == "0"  # not 2.025, not text
    figures = service_table(seeded.connection(), Period.year(2025), "anagrafe").iloc[0]
    share = anagrafe["Soddisfatti (%)"]
    assert share.value == pytest.approx(round(figures["quota_soddisfatti"], 1)) and share.number_format == DEC1
    assert anagrafe["Media"].value == pytest.approx(round(figures["media"], 2))
    assert anagrafe["p-value"].number_format == DEC4
    assert isinstance(anagrafe["Questionari compilati"].value, int)


def test_every_staff_csv_rounds_as_the_page_with_dot_decimals_and_true_false(client, seeded):
    places = {"quota_soddisfatti": 1, "quota": 1, "ic95_inf": 1, "ic95_sup": 1, "media": 2, "ics": 1, "nps": 1,
              "quota_anno_precedente": 1, "differenza": 1, "p_value": 4, "importanza": 2, "soddisfazione": 2}
    for url in every_download(client, "csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))
        assert rows, url
        for row in rows:
            for name, value in row.items():
                assert value not in ("True", "False", "nan", "<NA>"), (url, name, value)
                if name in places and value:
                    assert re.fullmatch(rf"-?\d+\.\d{{{places[name]}}}", value), (url, name, value)
                if name in ("n", "anno", "compilazioni", "valore") and value:
                    assert value.isdigit(), (url, name, value)
                if name == "soppresso":
                    assert value in ("true", "false"), (url, value)
    # The trend as the page shows it (42.2, not 42.19): the overall item's share for each year.
    trend = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/andamento.csv?anno=2025").data))
    share = service_table(seeded.connection(), Period.year(2025), "anagrafe").iloc[0]["quota_soddisfatti"]
    last = trend[trend["periodo"] == 2025].iloc[0]
    assert last["quota"] == pytest.approx(round(share, 1), abs=1e-9)
    assert pd.api.types.is_integer_dtype(trend["n"]) and pd.api.types.is_integer_dtype(trend["periodo"])


def test_text_that_looks_like_a_formula_stays_text_in_both_files(client, seeded):
    servizio = seeded.scalar(select(Servizio).filter_by(slug="anagrafe"))
    servizio.nome_it = "=HYPERLINK(\"http://x\")"
    seeded.commit()
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/panoramica.csv?anno=2025").data.decode())))
    assert "'=HYPERLINK(\"http://x\")" in [row["servizio"] for row in rows]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/staff/panoramica.xlsx?anno=2025").data)).active
    assert "'=HYPERLINK(\"http://x\")" in [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_period_that_is_not_a_year_stays_text_and_missing_values_are_empty():
    frame = pd.DataFrame({"periodo": ["2024", "03/2025–06/2025", "=Autunno"],
                          "n": pd.array([3, None, 12], dtype="Int64"), "media": [3.14159, np.nan, 4.005],
                          "soppresso": [False, True, np.False_], "altro": [1.23456, 2.0, 3.5]})
    workbook = openpyxl.load_workbook(io.BytesIO(to_workbook(frame)))
    values = list(workbook.active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in values] == [2024, "03/2025–06/2025", "'=Autunno"]
    assert [row[1] for row in values] == [3, None, 12] and [row[2] for row in values] == [3.14, None, 4.0]
    assert [row[3] for row in values] == ["no", "sì", "no"]
    # A column no table has yet keeps its name and gets a format from its type rather than failing.
    assert workbook.active["E1"].value == "altro" and workbook.active["E2"].number_format == DEC2
    rows = list(csv.reader(io.StringIO(to_csv(frame).decode())))
    assert rows[1:] == [["2024", "3", "3.14", "false", "1.23"], ["03/2025–06/2025", "", "", "true", "2.00"],
                        ["'=Autunno", "12", "4.00", "false", "3.50"]]  # half-even as the page: 4.005 shows 4,00


def test_the_ods_writer_shows_a_year_without_a_thousands_separator_and_four_decimal_p_values():
    sheet = Sheet("Dati", [Column("Anno", "year"), Column("p-value", "dec4")], [[2025, 0.01234]])
    with zipfile.ZipFile(io.BytesIO(to_ods([sheet]))) as archive:
        content = archive.read("content.xml").decode()
    assert 'office:value="2025"><text:p>2025</text:p>' in content
    assert "<text:p>0,0123</text:p>" in content
    assert re.search(r'style:name="N-year"[^>]*><number:number number:decimal-places="0" '
                     r'number:min-integer-digits="1" number:grouping="false"/>', content)


def test_chart_data_keep_each_question_whole(client, seeded):
    """The distribution's download cut a long question short ("… la chiarezza e la complete…"), as its chart did."""
    servizio = seeded.scalar(select(Servizio).filter_by(slug="anagrafe"))
    question = next(d for d in servizio.questionario.versione_corrente.domande if d.codice == "D1")
    question.testo_it = "Quanto ti soddisfano la chiarezza e la completezza delle informazioni ricevute allo sportello?"
    seeded.commit()
    frame = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/distribuzione.csv?anno=2025").data))
    assert f"D1 {question.testo_it}" in set(frame["domanda"])
    assert not frame["domanda"].str.contains("…").any()
    # The chart still wraps and shortens it on its own (three lines at most).
    html = client.get("/staff/servizi/anagrafe?anno=2025").get_data(as_text=True)
    assert r"D1 Quanto ti soddisfano\u003cbr\u003ela chiarezza e la\u003cbr\u003ecompletezza delle \u2026" in html


def test_a_suppressed_questions_answers_are_not_in_the_charts_data(client, runner, catalogue):
    """The distribution and faces charts hid a question with fewer than 5 answers, but their "Dati del grafico"
    tables and CSV/XLSX files listed its answers one by one (an office manager's walk-through: one paper
    questionnaire's every answer, under a filter the page allowed)."""
    from datetime import datetime

    from .helpers import add_answers

    for d1, d3 in ((5, 4), (4, 4), (2, 5)):  # three questionnaires in March: every figure suppressed
        add_answers(catalogue, "anagrafe", datetime(2025, 3, 10, 9), {"D1": d1, "D3": d3})
    for face in (3, 1, 1, 2):  # four faces in March
        add_answers(catalogue, "anagrafe", datetime(2025, 3, 11, 9), {"D1": face}, questionnaire="kiosk",
                    canale="chiosco")
    for d1 in (5, 5, 4, 4, 3, 2):  # six in April: shown
        add_answers(catalogue, "anagrafe", datetime(2025, 4, 10, 9), {"D1": d1, "D3": 4})
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    march = "da=2025-03&a=2025-03"
    frame = pd.read_csv(io.BytesIO(client.get(f"/staff/servizi/anagrafe/dati/distribuzione.csv?{march}").data))
    assert len(frame) == 2 and frame["valore"].isna().all() and frame["n"].isna().all()  # D1 and D3, no counts
    faces = pd.read_csv(io.BytesIO(client.get(f"/staff/servizi/anagrafe/dati/faccine.csv?{march}").data))
    assert list(faces["faccia"]) == ["rosso", "giallo", "verde"] and faces["n"].isna().all()
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/staff/servizi/anagrafe/dati/distribuzione.xlsx?{march}").data))
    assert all(row[2] is None for row in workbook.active.iter_rows(min_row=2, values_only=True))
    page = client.get(f"/staff/servizi/anagrafe?{march}").get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row">(D[13][^<]*)</th><td>([^<]*)</td><td>([^<]*)</td></tr>', page)
    assert len(rows) == 2 and all(value == count == "—" for _question, value, count in rows)
    # A month with enough answers keeps its counts.
    april = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/distribuzione.csv?da=2025-04&a=2025-04")
                                   .data))
    d1 = april[april["domanda"].str.startswith("D1")]
    assert dict(zip(d1["valore"], d1["n"], strict=True)) == {2: 1, 3: 1, 4: 2, 5: 2}
