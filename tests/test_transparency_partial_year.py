"""A year published while it is still running says so: in its files, on its public pages and to whoever publishes."""

from __future__ import annotations

import json

import openpyxl
from freezegun import freeze_time
from pypdf import PdfReader
from sqlalchemy import select

from survey_app.models import Pubblicazione

from .helpers import csrf_token, login
from .test_transparency import YEAR, answered  # noqa: F401 - the fixture, by name

DURING = f"{YEAR}-11-20 10:00:00"  # 20 November in Rome too


def publish(runner, out):
    return runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(out)])


def method(path) -> dict:
    sheet = openpyxl.load_workbook(path)["Nota metodologica"]
    return {r[0]: r[1] for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}


def test_a_running_year_is_published_as_partial_and_its_final_figures_make_a_version(answered, runner, client,  # noqa: F811
                                                                                     tmp_path):
    with freeze_time(DURING):
        result = publish(runner, tmp_path / "v1")
    assert result.exit_code == 0, result.output
    assert f"l'anno {YEAR} è in corso; la versione riporta i dati parziali, fino al 20/11/{YEAR}" in result.output
    # The fixture's answers run from March to October: the note says so (a first year begun in November read as a
    # whole year's survey).
    assert method(tmp_path / "v1" / f"soddisfazione-{YEAR}.xlsx")["Periodo delle risposte"] == \
        f"dal 01/01/{YEAR} al 20/11/{YEAR} (anno in corso: dati parziali); risposte raccolte solo dal 10/03/{YEAR} " \
        f"al 10/10/{YEAR}"
    package = json.loads((tmp_path / "v1" / "datapackage.json").read_text())
    assert package["temporal"] == {"start": f"{YEAR}-01-01", "end": f"{YEAR}-11-20"}
    dcat = json.loads((tmp_path / "v1" / "dcat-ap_it.jsonld").read_text())
    assert dcat["dct:temporal"]["dcat:endDate"]["@value"] == f"{YEAR}-11-20"
    for url in (f"/trasparenza/{YEAR}", "/trasparenza/", f"/trasparenza/{YEAR}/anagrafe"):
        page = client.get(url).get_data(as_text=True)
        assert "Dati parziali." in page and f"dal 01/01/{YEAR} al 20/11/{YEAR}" in page, url
    english = client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True)
    assert "Partial figures." in english and f"from 01/01/{YEAR} to 20/11/{YEAR}" in english
    client.get("/?lang=it")  # the language stays with the browser: back to Italian

    # Later in the year, with the same figures: the version in force still states them rightly.
    with freeze_time(f"{YEAR}-12-01 10:00:00"):
        again = publish(runner, tmp_path / "same")
    assert again.exit_code == 0 and "Nessuna modifica rispetto alla versione 1" in again.output

    # Once the year is over, its final figures are a version of their own, no longer partial.
    with freeze_time(f"{YEAR + 1}-01-10 10:00:00"):
        final = publish(runner, tmp_path / "v2")
    assert final.exit_code == 0 and "Pubblicata la versione 2" in final.output and "in corso" not in final.output
    assert method(tmp_path / "v2" / f"soddisfazione-{YEAR}.xlsx")["Periodo delle risposte"] == \
        f"dal 01/01/{YEAR} al 31/12/{YEAR}; risposte raccolte solo dal 10/03/{YEAR} al 10/10/{YEAR}"
    assert "Dati parziali." not in client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "Dati parziali." in client.get(f"/trasparenza/{YEAR}?versione=1").get_data(as_text=True)
    assert answered.scalar(select(Pubblicazione.versione).order_by(Pubblicazione.versione.desc())) == 2


def test_the_publishing_page_warns_before_and_after_a_running_year_is_published(answered, runner, client):  # noqa: F811
    with freeze_time(DURING):
        login(client, runner, "trasparenza@example.org", "--role", "trasparenza")
        page = client.get("/staff/trasparenza/").get_data(as_text=True)
        assert f"L'anno {YEAR} è in corso: pubblicarlo ora dà dati parziali" in page
        assert 'aria-describedby="anno-risposte anno-in-corso"' in page
        done = client.post("/staff/trasparenza/pubblica", data={"csrf_token": csrf_token(page), "anno": str(YEAR), "conferma": "1"},
                           follow_redirects=True).get_data(as_text=True)
    assert f"la versione riporta i dati parziali, fino al 20/11/{YEAR}" in done


def test_the_relazione_of_a_running_year_states_its_period(answered, runner, tmp_path):  # noqa: F811
    with freeze_time(DURING):
        result = runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    rows = dict(list(openpyxl.load_workbook(tmp_path / "r.xlsx")["Nota metodologica"].values)[1:])
    assert rows["Periodo delle risposte"] == f"dal 01/01/{YEAR} al 20/11/{YEAR} (anno in corso: dati parziali); " \
                                             f"risposte raccolte solo dal 10/03/{YEAR} al 10/10/{YEAR}"
    # The PDF's first page too: it said "dal 1° gennaio al 31 dicembre" in November.
    with freeze_time(DURING):
        result = runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0, result.output
    first_page = " ".join(PdfReader(tmp_path / "r.pdf").pages[0].extract_text().split())
    assert f"Periodo delle risposte: dal 1° gennaio al 20 novembre {YEAR} (anno in corso: dati parziali)" in first_page
    result = runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(tmp_path / "final.pdf")])
    assert result.exit_code == 0, result.output
    first_page = " ".join(PdfReader(tmp_path / "final.pdf").pages[0].extract_text().split())
    assert f"Periodo delle risposte: dal 1° gennaio al 31 dicembre {YEAR} " in first_page and "parziali" not in first_page
