"""Publication in Amministrazione trasparente: frozen versions, every file read back, the changes, the roles."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
import rdflib
from frictionless import validate
from sqlalchemy import func, select

from analysis.engine import Period, service_table
from survey_app.models import AuditLog, Pubblicazione, Servizio

from .helpers import add_answers, csrf_token, login

YEAR = 2025


@pytest.fixture
def answered(catalogue):
    """Anagrafe: 8 overall answers (5 satisfied); vigilanza: 6 faces (4 green); kiosk faces on anagrafe."""
    db = catalogue
    for i, (d3, d1) in enumerate(zip([5, 4, 4, 3, 2, 1, 5, 4], [5, 4, 3, 2, 5, 5, 4, 1], strict=True)):
        add_answers(db, "anagrafe", datetime(YEAR, 3 + i, 10, 9), {"D3": d3, "D1": d1, "D4": 10 - i})
    for face in [3, 3, 3, 3, 2, 1]:
        add_answers(db, "vigilanza", datetime(YEAR, 7, 1, 8), {"D1": face})
    return db


def unquoted(text: str) -> str:
    """A PDF's text without what it quotes «…» (the questions end in "?")."""
    return re.sub(r"«[^»]*»", "", text)


def publish(runner, out) -> str:
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_publishes_version_1_with_every_file_and_its_hash(answered, runner, client, tmp_path):
    output = publish(runner, tmp_path / "v1")
    assert "versione 1" in output
    record = answered.scalar(select(Pubblicazione))
    names = sorted(f.nome for f in record.file)
    # The whole year's tables, each ente's own (the catalogue has a Comune and an Unione with services), and the
    # descriptions of them all.
    assert names == sorted(["soddisfazione-2025.csv", "soddisfazione-2025.xlsx", "soddisfazione-2025.ods",
                            *(f"soddisfazione-2025-{ente}.{suffix}" for ente in ("comune-test", "unione-test")
                              for suffix in ("csv", "xlsx", "ods")),
                            "datapackage.json", "dcat-ap_it.jsonld"])
    for stored in record.file:
        written = (tmp_path / "v1" / stored.nome).read_bytes()
        assert written == stored.contenuto
        assert hashlib.sha256(written).hexdigest() == stored.sha256 and stored.dimensione == len(written)
        downloaded = client.get(f"/trasparenza/{YEAR}/v1/{stored.nome}")
        assert downloaded.status_code == 200 and downloaded.data == written
    assert record.versione == 1 and record.pubblicata_da == "riga di comando"
    audit = answered.scalar(select(AuditLog).filter_by(azione="pubblicazione.crea"))
    assert audit.dettagli["file"]["datapackage.json"] == record.file_named("datapackage.json").sha256


def test_an_unwritable_folder_publishes_nothing(answered, runner, tmp_path):
    """The folder is checked first: a version is published once, never without its files written."""
    blocked = tmp_path / "un-file"
    blocked.write_text("non una cartella")
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(blocked / "sotto")])
    assert result.exit_code == 1 and "pubblicazione non eseguita: impossibile scrivere nella cartella" in result.output
    assert "Traceback" not in result.output and answered.scalar(select(Pubblicazione)) is None
    assert "versione 1 dell'anno 2025." in publish(runner, tmp_path / "v1")  # and no "0 modifiche" on a first one


def test_csv_is_the_report_command_output_and_validates_with_frictionless(answered, runner, tmp_path):
    publish(runner, tmp_path)
    report = runner.invoke(args=["report", "indicators", "--year", str(YEAR), "--format", "csv"])
    assert (tmp_path / "soddisfazione-2025.csv").read_text(encoding="utf-8") == report.output
    result = validate(str(tmp_path / "datapackage.json"))
    assert result.valid, result.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert package["version"] == "1.0.0" and package["temporal"] == {"start": "2025-01-01", "end": "2025-12-31"}
    fields = package["resources"][0]["schema"]["fields"]
    assert [f["name"] for f in fields][:3] == ["anno", "ente", "ufficio"]
    assert all(f["title"] and f["description"] for f in fields)
    # The hash in the package is checked by frictionless too: a changed byte must fail validation.
    csv_path = tmp_path / "soddisfazione-2025.csv"
    csv_path.write_text(csv_path.read_text().replace("Anagrafe", "Anagrafx", 1))
    assert not validate(str(tmp_path / "datapackage.json")).valid


def test_workbook_figures_are_the_engines(answered, runner, tmp_path):
    publish(runner, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")
    assert wb.sheetnames == ["Sintesi", "Domande", "Programmi di miglioramento", "Nota metodologica"]
    sintesi = wb["Sintesi"]
    header = [c.value for c in sintesi[4]]
    assert header[:3] == ["Ente", "Ufficio", "Servizio"] and "Soddisfatti (%)" in header
    assert sintesi.freeze_panes == "A5" and sintesi.auto_filter.ref.startswith("A4:")
    rows = {r[3]: dict(zip(header, r, strict=True)) for r in sintesi.iter_rows(min_row=5, values_only=True)}
    engine = service_table(answered.connection(), Period.year(YEAR)).set_index("servizio_codice")
    anagrafe = rows["anagrafe"]
    assert anagrafe["Questionari compilati"] == 8 == engine.loc["anagrafe", "compilazioni"]
    assert anagrafe["Soddisfatti (%)"] == 62.5 == round(engine.loc["anagrafe", "quota_soddisfatti"], 1)
    assert anagrafe["Media"] == 3.5
    # Each mean beside its scale: vigilanza's faces (1–3) are not anagrafe's stars (1–5).
    assert (anagrafe["Scala della media"], rows["vigilanza"]["Scala della media"]) == ("1–5", "1–3")
    # NPS on D4 (10..3): promoters 10, 9 (2 of 8), detractors 6, 5, 4, 3 (4 of 8) -> -25
    assert anagrafe["Net Promoter Score"] == -25.0
    assert rows["vigilanza"]["Soddisfatti (%)"] == round(4 / 6 * 100, 1)
    # Each standard with its own figure and result (D1: 5 of 8 satisfied; D3: 5 of 8, mean 3.5), then the verdict
    # on them all: one word beside the overall item's figures hid which target was missed.
    assert anagrafe["Standard della carta dei servizi"] == (
        "% soddisfatti ≥ 60 (D1): 62,5%, raggiunto; media ≥ 4 (D3): 3,50, non raggiunto; "
        "% soddisfatti ≥ 80 (D3): 62,5%, non raggiunto")
    assert anagrafe["Esito rispetto allo standard"] == "non raggiunto"
    cell = sintesi.cell(row=5, column=header.index("Soddisfatti (%)") + 1)
    assert "0.0" in cell.number_format and cell.number_format.startswith("[$-410]")
    # Domande: the CSV's rows with Italian titles, no internal field names anywhere in the headings.
    domande = wb["Domande"]
    titles = [c.value for c in domande[1]]
    assert not any("_" in t for t in titles)
    year = domande.cell(row=2, column=titles.index("Anno") + 1)
    assert year.value == 2025 and year.number_format == "0"  # not "2.025" in an Italian Excel
    table = pd.read_csv(tmp_path / "soddisfazione-2025.csv", keep_default_na=False)
    sheet = pd.read_excel(tmp_path / "soddisfazione-2025.xlsx", sheet_name="Domande")
    assert len(sheet) == len(table)
    assert list(sheet["Risposte valide"]) == list(table["n"])
    assert [("" if pd.isna(v) else v) for v in sheet["Media"]] == [("" if v == "" else float(v))
                                                                   for v in table["media"]]
    method = {r[0]: r[1] for r in wb["Nota metodologica"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert "meno di 5" in method["Regola di soppressione"]
    assert "NPS 0–10" in method["Scale di risposta"] and "(0–10) 0–10" not in method["Scale di risposta"]
    assert "Wilson" in method["Intervallo di confidenza 95%"]


def test_a_new_version_leaves_the_old_one_byte_identical_and_lists_the_changes(answered, runner, client, tmp_path):
    publish(runner, tmp_path / "v1")
    first = {p.name: p.read_bytes() for p in (tmp_path / "v1").iterdir()}
    # Answers arriving after the publication change nothing already published...
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 1, 10), {"D3": 5})
    for name, content in first.items():
        assert client.get(f"/trasparenza/{YEAR}/v1/{name}").data == content
    page = client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
    assert "62,5%" in page
    # ...until a new version is published, which states what moved.
    output = publish(runner, tmp_path / "v2")
    assert "versione 2" in output
    v2 = answered.scalar(select(Pubblicazione).filter_by(versione=2))
    changes = {(c["servizio_codice"], c["domanda_codice"], c["campo"]): (c["prima"], c["dopo"]) for c in v2.modifiche}
    assert changes[("anagrafe", "D3", "risposte valide")] == (8, 9)
    assert changes[("anagrafe", "", "% soddisfatti")] == (62.5, 66.7)  # 6 of 9
    assert not any(key[0] == "vigilanza" for key in changes)
    for name, content in first.items():
        assert client.get(f"/trasparenza/{YEAR}/v1/{name}").data == content
    assert (tmp_path / "v2" / "soddisfazione-2025.csv").read_bytes() != first["soddisfazione-2025.csv"]
    assert "66,7%" in client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
    assert "62,5%" in client.get(f"/trasparenza/{YEAR}/anagrafe?versione=1").get_data(as_text=True)
    year_page = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "Versione 1" in year_page and "Versione 2" in year_page
    assert "<td>risposte valide</td>" in year_page and "Dati aperti (CSV)" in year_page
    # A mean keeps its two decimals, as in the files ("3,5 → 3,67" read as if the first had one).
    assert changes[("anagrafe", "D3", "media")] == (3.5, 3.67)
    assert '<td>media</td><td class="cs-break">3,50</td><td class="cs-break">3,67</td>' in year_page
    # Counted as changes (an added action is not a "dato cambiato").
    assert f"{len(v2.modifiche)} modifiche rispetto alla versione precedente" in year_page
    # In English the page names the files and what changed in English; the record itself stays Italian.
    english = client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True)
    assert "<td>valid answers</td>" in english and "<td>% satisfied</td>" in english
    # (The methodological note is the files' own, in Italian and marked so.)
    assert '<dl class="row cs-method" lang="it">' in english
    english = re.sub(r'<dl class="row cs-method".*?</dl>', "", english, flags=re.S)
    assert "Open data (CSV)" in english and "Dati aperti" not in english and "risposte valide" not in english


def test_publishing_again_without_changes_makes_no_new_version(answered, runner, tmp_path):
    publish(runner, tmp_path / "a")
    output = publish(runner, tmp_path / "b")
    assert "Nessuna modifica" in output
    assert answered.scalar(select(Pubblicazione.versione).order_by(Pubblicazione.versione.desc())) == 1
    assert (tmp_path / "a" / "soddisfazione-2025.xlsx").read_bytes() == \
        (tmp_path / "b" / "soddisfazione-2025.xlsx").read_bytes()
    # A version published before each standard's result was kept: the same figures still make no new version.
    record = answered.scalar(select(Pubblicazione))
    record.dati = {**record.dati, "sintesi": [{k: v for k, v in row.items() if k != "esiti"}
                                              for row in record.dati["sintesi"]]}
    answered.commit()
    assert "Nessuna modifica" in publish(runner, tmp_path / "c")


# rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph internally.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_dcat_lists_every_file_with_its_checksum_and_a_working_link(answered, runner, client, tmp_path):
    publish(runner, tmp_path)
    dcat = json.loads((tmp_path / "dcat-ap_it.jsonld").read_text())
    assert "dcatapit:Dataset" in dcat["@type"]
    assert dcat["dct:accrualPeriodicity"]["@id"].endswith("/ANNUAL")
    assert dcat["dct:publisher"]["foaf:name"]
    distributions = dcat["dcat:distribution"]
    assert len(distributions) == 10  # every file but the DCAT description itself (4, and 3 for each of 2 enti)
    for item in distributions:
        url = item["dcat:downloadURL"]["@id"]
        path = url.split("://", 1)[1].split("/", 1)[1]
        body = client.get("/" + path).data
        assert hashlib.sha256(body).hexdigest() == item["spdx:checksum"]["spdx:checksumValue"]
        assert item["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    # Read as RDF, the way a harvester reads it: one dcatapit:Dataset with its publisher and ten distributions.
    graph = rdflib.Graph().parse(tmp_path / "dcat-ap_it.jsonld", format="json-ld")
    dcatapit, dcat, dct = (rdflib.Namespace(u) for u in ("http://dati.gov.it/onto/dcatapit#",
                                                          "http://www.w3.org/ns/dcat#", "http://purl.org/dc/terms/"))
    [dataset] = graph.subjects(rdflib.RDF.type, dcatapit.Dataset)
    assert len(list(graph.objects(dataset, dcat.distribution))) == 10
    publisher = graph.value(dataset, dct.publisher)
    assert (publisher, rdflib.RDF.type, dcatapit.Agent) in graph and graph.value(publisher, dct.identifier)
    assert str(graph.value(dataset, dct.title)).endswith("anno 2025")


def test_formula_and_html_injection_are_neutralised_everywhere(answered, runner, client, tmp_path):
    servizio = answered.scalar(select(Servizio).filter_by(slug="vigilanza"))
    servizio.nome_it = "=HYPERLINK(\"http://x\")<script>alert(1)</script>"
    answered.commit()
    publish(runner, tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "soddisfazione-2025.csv").read_text())))
    assert {r["servizio"] for r in rows if r["servizio_codice"] == "vigilanza"} == {"'" + servizio.nome_it}
    wb = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")
    names = [r[2] for r in wb["Sintesi"].iter_rows(min_row=5, values_only=True)]
    assert "'" + servizio.nome_it in names
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    ods = pd.read_excel(tmp_path / "soddisfazione-2025.ods", engine="odf", sheet_name="Sintesi", header=None)
    assert "'" + servizio.nome_it in set(ods[2])
    page = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_small_cells_are_empty_in_every_file_and_page(catalogue, runner, client, tmp_path):
    for value in (5, 4, 1):  # three answers: below the threshold of 5
        add_answers(catalogue, "anagrafe", datetime(YEAR, 5, 5, 10), {"D3": value, "D7": "Mario Rossi, via Roma 1"})
    tmp_path = tmp_path / "out"
    publish(runner, tmp_path)
    row = next(r for r in csv.DictReader(io.StringIO((tmp_path / "soddisfazione-2025.csv").read_text()))
               if r["domanda_codice"] == "D3")
    assert (row["n"], row["media"], row["quota_soddisfatti"], row["ic95_inf"], row["soppresso"]) == (
        "3", "", "", "", "true")
    wb = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")
    header = [c.value for c in wb["Sintesi"][4]]
    anagrafe = next(r for r in wb["Sintesi"].iter_rows(min_row=5, values_only=True) if r[3] == "anagrafe")
    assert anagrafe[header.index("Soddisfatti (%)")] is None and anagrafe[header.index("Media")] is None
    assert anagrafe[header.index("Scala della media")] is None
    page = client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
    assert "dato soppresso" in page
    # Comments are never published: not in any file, not on any page.
    for name in ("soddisfazione-2025.csv", "datapackage.json", "dcat-ap_it.jsonld"):
        assert "Mario" not in (tmp_path / name).read_text()
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row]
    cells += [c for sheet in pd.read_excel(tmp_path / "soddisfazione-2025.ods", engine="odf", sheet_name=None,
                                           header=None).values() for c in sheet.to_numpy().ravel()]
    assert len(cells) > 100 and not any("Mario" in str(c) for c in cells)
    assert "Mario" not in page


def test_public_pages_without_login_in_italian_formats(answered, runner, client, tmp_path):
    assert "Non è ancora stato pubblicato" in client.get("/trasparenza").get_data(as_text=True)
    publish(runner, tmp_path)
    index = client.get("/trasparenza")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    assert "Unione Test" in html and "Comune di Borgo Test" in html  # the Unione names its member comune
    assert "62,5%" in html and "<caption>" in html and 'scope="row"' in html
    # The share with the answers it stands on, beside the questionnaires (35 questionnaires, 24 answers to the
    # overall question, read "95,8%" of 35).
    assert '62,5%<br><span class="small text-muted text-nowrap">su 8 risposte</span>' in html
    assert "3,50 <span class=\"small text-muted text-nowrap\">(scala 1–5)</span>" in html  # anagrafe's mean, stars
    assert "(scala 1–3)" in html  # vigilanza's, faces
    assert f"/trasparenza/{YEAR}/v1/soddisfazione-2025.xlsx" in html
    english = client.get("/trasparenza?lang=en").get_data(as_text=True)
    assert "62.5%" in english and "(scale 1–5)" in english
    service = client.get(f"/trasparenza/{YEAR}/anagrafe?lang=it").get_data(as_text=True)
    assert service.count("(scala 1–5)") >= 2  # the summary and the questions' table
    assert "<li>media ≥ 4 (D3): 3,50, non raggiunto</li>" in service and "Esito complessivo" in service
    assert "<li>% soddisfatti ≥ 60 (D1): 62,5%, raggiunto</li>" in service
    assert "<li>% soddisfatti ≥ 60 (D1): 62,5%, raggiunto</li>" in html  # the summary table too
    english = client.get(f"/trasparenza/{YEAR}/anagrafe?lang=en").get_data(as_text=True)
    assert "<li>mean ≥ 4 (D3): 3.50, not met</li>" in english and "Overall result" in english
    client.get("/trasparenza?lang=it")
    assert "<svg" in service and "<desc" in service and "Complessivamente, quanto è soddisfatto?" in service
    for url in (f"/trasparenza/{YEAR}/inesistente", f"/trasparenza/{YEAR}?versione=9", "/trasparenza/1999",
                f"/trasparenza/{YEAR}/v9/datapackage.json", f"/trasparenza/{YEAR}/v1/segreto.txt",
                f"/trasparenza/{YEAR}?versione=abc"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role, status", [("responsabile", 403), ("rilevatore", 403), ("trasparenza", 302),
                                          ("admin", 302)])
def test_only_transparency_officers_and_admins_publish(answered, client, runner, role, status):
    scope = ("--scope", "anagrafe") if role in ("responsabile", "rilevatore") else ()
    scope += ("--firm", "Example") if role == "rilevatore" else ()
    login(client, runner, f"{role}@example.org", "--role", role, *scope)
    page = client.get("/staff/trasparenza/")
    assert page.status_code == (200 if status == 302 else 403)
    token = csrf_token(page.get_data(as_text=True)) if status == 302 else \
        csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/trasparenza/pubblica", data={"csrf_token": token, "anno": str(YEAR), "conferma": "1"})
    assert response.status_code == status
    published = answered.scalar(select(Pubblicazione))
    if status == 302:
        assert published.pubblicata_da == f"{role}@example.org"
    else:
        assert published is None


def test_publishing_asks_to_confirm_that_the_version_is_frozen(answered, client, runner):
    """One Enter on "Pubblica" froze a version for good (WCAG 3.3.4): the form asks to tick that it is final."""
    login(client, runner, "t@example.org", "--role", "trasparenza")
    page = client.get("/staff/trasparenza/").get_data(as_text=True)
    assert 'type="checkbox" id="conferma" name="conferma" value="1" required' in page
    response = client.post("/staff/trasparenza/pubblica", data={"csrf_token": csrf_token(page), "anno": str(YEAR)},
                           follow_redirects=True)
    assert "Nessuna versione pubblicata: spuntare la conferma" in response.get_data(as_text=True)
    assert answered.scalar(select(Pubblicazione)) is None


def test_publish_needs_login_and_csrf(answered, client, runner):
    assert client.post("/staff/trasparenza/pubblica", data={"anno": str(YEAR)}).status_code in (302, 400)
    login(client, runner, "t@example.org", "--role", "trasparenza")
    assert client.post("/staff/trasparenza/pubblica", data={"anno": str(YEAR)}).status_code == 400
    assert answered.scalar(select(Pubblicazione)) is None


def test_relazione_download_for_publishers(answered, client, runner):
    login(client, runner, "t@example.org", "--role", "trasparenza")
    response = client.get(f"/staff/trasparenza/relazione/{YEAR}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/staff/trasparenza/relazione/{YEAR}.xlsx").data[:2] == b"PK"
    assert client.get(f"/staff/trasparenza/relazione/{YEAR}.doc").status_code == 404


def test_the_relazione_says_whether_its_figures_are_the_published_ones(answered, runner, tmp_path):
    """Answers arriving after publishing move the report's figures: the Nucleo reads which services differ."""
    import openpyxl
    from pypdf import PdfReader

    def note(name: str) -> str:
        out = tmp_path / name
        result = runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(out)])
        assert result.exit_code == 0, result.output
        if name.endswith(".pdf"):
            return " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
        rows = list(openpyxl.load_workbook(out)["Nota metodologica"].values)
        return dict(rows[1:])["Pubblicazione in Amministrazione trasparente"]

    assert note("r0.xlsx").startswith(f"L'anno {YEAR} non è ancora pubblicato")
    publish(runner, tmp_path / "v1")
    today = datetime.now(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y")  # the instance's SURVEY_TIMEZONE
    assert note("r1.xlsx") == f"Le cifre coincidono con la versione 1 pubblicata il {today} in Amministrazione " \
                              "trasparente."
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 1, 10), {"D3": 5})
    differ = note("r2.xlsx")
    assert f"differiscono dalla versione 1 pubblicata il {today} in Amministrazione trasparente per 1 servizio: " \
           "Anagrafe (questionari da 8 a 9, risposte da 8 a 9, % soddisfatti da 62,5 a 66,7)." in differ
    pdf = note("r2.pdf")
    assert "Anagrafe (questionari da 8 a 9, risposte da 8 a 9, % soddisfatti da 62,5 a 66,7)" in pdf
    assert "?" not in unquoted(pdf)  # no character the font lacks (the questions' own "?" are quoted)
    # A new carta dei servizi lowers the targets: the report judges by it, and says it is not what was published.
    from survey_app.models import Standard

    for standard in answered.scalars(select(Standard).join(Servizio).filter(Servizio.slug == "anagrafe")):
        standard.soglia = {"media": 3.5, "quota_soddisfatti": 60}[standard.indicatore]
    answered.commit()
    changed = note("r3.xlsx")
    assert "Anagrafe (questionari da 8 a 9, risposte da 8 a 9, % soddisfatti da 62,5 a 66,7, standard da " \
           "«% soddisfatti ≥ 60; media ≥ 4 (D3); % soddisfatti ≥ 80 (D3)» a «% soddisfatti ≥ 60; media ≥ 3,5 (D3); " \
           "% soddisfatti ≥ 60 (D3)», esito da «non raggiunto» a «raggiunto»)" in changed, changed
    assert changed.startswith("Le cifre sono calcolate dalle risposte e dagli standard registrati alla data")
    pdf = note("r3.pdf")
    assert "standard da «% soddisfatti almeno 60; media almeno 4 (D3)" in pdf and "?" not in unquoted(pdf)


def test_relazione_cli_writes_pdf_and_xlsx(answered, runner, tmp_path):
    from pypdf import PdfReader

    result = runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0, result.output
    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    for name in ("Anagrafe", "Vigilanza"):
        assert name in text
    result = runner.invoke(args=["export", "relazione", "--year", str(YEAR), "--out", str(tmp_path / "r.doc")])
    assert result.exit_code != 0 and "non previsto" in result.output


def test_libreoffice_opens_and_converts_the_workbook_and_the_ods(answered, runner, soffice, tmp_path):
    """Calc converts both files cleanly and shows the figures with Italian decimals."""
    from .conftest import CSV_FILTER

    publish(runner, tmp_path)
    for suffix in ("xlsx", "ods"):
        source = tmp_path / f"soddisfazione-2025.{suffix}"
        out = soffice(source, CSV_FILTER)
        sintesi = (out / "soddisfazione-2025-Sintesi.csv").read_text(encoding="utf-8")
        anagrafe = next(line for line in csv.reader(io.StringIO(sintesi)) if len(line) > 3 and line[3] == "anagrafe")
        assert anagrafe[4:7] == ["8", "8", "62,5"], suffix  # questionnaires, n, % satisfied as Calc shows them
        assert anagrafe[9] == "3,50", suffix
        domande = (out / "soddisfazione-2025-Domande.csv").read_text(encoding="utf-8")
        assert len(domande.splitlines()) == 1 + len(pd.read_csv(tmp_path / "soddisfazione-2025.csv")), suffix
        pdf = soffice(source, "pdf")
        assert (pdf / "soddisfazione-2025.pdf").read_bytes().startswith(b"%PDF")


def test_two_publications_at_once_get_one_version_number(answered, app, monkeypatch):
    """Another officer's version 1 lands between our reading the version number and storing ours."""
    from survey_app.extensions import db
    from survey_app.transparency import publishing

    real_render = publishing.render_files

    def render_while_someone_else_publishes(pub, who, *args):
        with db.engine.connect() as other:  # a second connection, as a second app host would have
            other.execute(Pubblicazione.__table__.insert().values(
                anno=YEAR, versione=pub.version, pubblicata_il=pub.published_at, pubblicata_da="altro@example.org",
                soglia_soppressione=5, dati={}, modifiche=[]))
            other.commit()
        return real_render(pub, who, *args)

    monkeypatch.setattr(publishing, "render_files", render_while_someone_else_publishes)
    with pytest.raises(publishing.PublicationConflict):
        publishing.publish_year(answered, YEAR, actor="noi")
    records = answered.scalars(select(Pubblicazione)).all()
    assert [(r.versione, r.pubblicata_da) for r in records] == [(1, "altro@example.org")]
    assert answered.scalar(select(AuditLog).filter_by(azione="pubblicazione.crea")) is None


def test_the_methodology_names_channels_and_the_firms_batches(answered, runner, tmp_path):
    from survey_app.models import Compilazione, ImportBatch

    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    batch = ImportBatch(fonte="Demoskopika srl", metodo="CATI", nome_file="telefono.csv", sha256="0" * 64, righe=3)
    answered.add(batch)
    for _ in range(3):
        answered.add(Compilazione(servizio=servizio, versione=servizio.questionario.versione_corrente,
                                  data_ora=datetime(YEAR, 10, 1, 10), canale="telefono", lingua="it",
                                  import_batch=batch))
    answered.commit()
    publish(runner, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")
    method = {r[0]: r[1] for r in wb["Nota metodologica"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert method["Canali di risposta dei cittadini (questionari)"] == "web (link): 14"  # 8 anagrafe + 6 vigilanza
    assert method["Rilevazioni di società incaricate (questionari)"] == \
        "Demoskopika srl, interviste telefoniche (CATI): 3"
    assert method["Margine di errore – Anagrafe"].startswith("± ")


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_the_catalogue_lists_the_newest_version_of_every_year(answered, runner, client, tmp_path):
    publish(runner, tmp_path / "a")
    add_answers(answered, "anagrafe", datetime(YEAR - 1, 6, 1, 10), {"D3": 4})
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR - 1), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    add_answers(answered, "anagrafe", datetime(YEAR, 6, 1, 10), {"D3": 4})
    publish(runner, tmp_path / "c")  # version 2 of YEAR
    response = client.get("/trasparenza/catalogo.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="json-ld")
    dcatapit, dcat = rdflib.Namespace("http://dati.gov.it/onto/dcatapit#"), rdflib.Namespace("http://www.w3.org/ns/dcat#")
    [catalogue] = graph.subjects(rdflib.RDF.type, dcatapit.Catalog)
    datasets = list(graph.objects(catalogue, dcat.dataset))
    assert len(datasets) == 2
    owl = rdflib.Namespace("http://www.w3.org/2002/07/owl#")
    versions = sorted(str(graph.value(d, owl.versionInfo)) for d in datasets)
    assert versions == ["1", "2"]  # YEAR - 1 at version 1, YEAR at its newest, version 2


def test_publishing_from_the_command_line_warns_before_freezing_a_local_address(answered, app, runner, tmp_path):
    """Trying the app out without PUBLIC_BASE_URL, `flask export transparency` froze http://127.0.0.1:5000 into the
    version's DCAT and data package without a word (a new Comune's walk-through); `flask qr` warned."""
    output = publish(runner, tmp_path / "a")
    assert "Attenzione: PUBLIC_BASE_URL non è impostato o indica questo computer" in output
    assert "porteranno per sempre l'indirizzo http://127.0.0.1:5000" in output
    add_answers(answered, "anagrafe", datetime(YEAR, 6, 1, 10), {"D3": 4})
    app.config["PUBLIC_BASE_URL"] = "https://www.comune.example.it"
    assert "Attenzione: PUBLIC_BASE_URL" not in publish(runner, tmp_path / "b")


def test_a_version_frozen_with_a_wrong_address_or_publisher_is_replaced_with_the_same_figures(answered, app, runner,
                                                                                          client, tmp_path):
    """A new Comune published with the default 127.0.0.1 and then set PUBLIC_BASE_URL: publishing again said
    "Nessuna modifica" (the figures were the same), so the version in force kept an address nobody reaches."""
    publish(runner, tmp_path / "a")
    app.config.update(PUBLIC_BASE_URL="https://www.comune.example.it",
                      PUBLISHER={"nome": "Comune di Prova", "codice_ipa": "c_x123"})
    output = publish(runner, tmp_path / "b")
    assert "Pubblicata la versione 2" in output and "(3 modifiche rispetto alla precedente)" in output
    dcat = json.loads((tmp_path / "b" / "dcat-ap_it.jsonld").read_text())
    assert dcat["dcat:landingPage"]["@id"] == "https://www.comune.example.it/trasparenza/2025"
    assert dcat["dct:publisher"]["dct:identifier"] == "c_x123"
    assert json.loads((tmp_path / "b" / "datapackage.json").read_text())["publisher"]["identifier"] == "c_x123"
    v2 = answered.scalar(select(Pubblicazione).filter_by(versione=2))
    assert {c["campo"]: (c["prima"], c["dopo"]) for c in v2.modifiche} == {
        "indirizzo della pagina pubblica": ("http://127.0.0.1:5000/trasparenza/2025",
                                            "https://www.comune.example.it/trasparenza/2025"),
        "ente che pubblica": ("Comune di Prova e Unione Test", "Comune di Prova"),
        "codice IPA di chi pubblica": ("demo", "c_x123")}
    # The page lists the address as it is (no decimal commas in 127.0.0.1), in either language.
    page = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert '<td class="cs-break">http://127.0.0.1:5000/trasparenza/2025</td>' \
        '<td class="cs-break">https://www.comune.example.it/trasparenza/2025</td>' in page
    assert "<td>IPA code of the publisher</td>" in client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True)
    # Then, with the same settings and figures, nothing new.
    assert "Nessuna modifica" in publish(runner, tmp_path / "c")
    # Version 2's record keeps the day the year was first published as dct:issued, its own as dct:modified.
    v1 = answered.scalar(select(Pubblicazione).filter_by(versione=1)).pubblicata_il
    first_day = (v1 if v1.tzinfo else v1.replace(tzinfo=ZoneInfo("UTC"))).astimezone(ZoneInfo("Europe/Rome")).date()
    assert dcat["dct:issued"]["@value"] == first_day.isoformat()
    record = answered.scalar(select(Pubblicazione).filter_by(versione=1))
    record.pubblicata_il = datetime(YEAR + 1, 1, 5, 10, tzinfo=ZoneInfo("UTC"))
    answered.commit()
    app.config["PUBLISHER"] = {"nome": "Comune di Prova", "codice_ipa": "c_x123", "email": "urp@comune.example.it"}
    assert "versione 3 dell'anno 2025 (1 modifica" in publish(runner, tmp_path / "d")
    # An empty setting is none (it made a "change" on every publication); the website, frozen in the data package,
    # is compared too.
    app.config["PUBLISHER"] = {**app.config["PUBLISHER"], "sito": ""}
    assert "Nessuna modifica" in publish(runner, tmp_path / "e")
    app.config["PUBLISHER"] = {**app.config["PUBLISHER"], "sito": "https://www.comune.example.it"}
    assert "versione 4 dell'anno 2025 (1 modifica" in publish(runner, tmp_path / "f")
    dcat = json.loads((tmp_path / "d" / "dcat-ap_it.jsonld").read_text())
    assert dcat["dct:issued"]["@value"] == f"{YEAR + 1}-01-05" and dcat["dct:modified"]["@value"] != f"{YEAR + 1}-01-05"


def test_production_refuses_to_freeze_a_loopback_address_or_no_publisher_code(answered, app, runner, tmp_path):
    app.config["SURVEY_ENV"] = "production"
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL" in result.output and "codice IPA" in result.output
    assert answered.scalar(select(Pubblicazione)) is None
    app.config.update(PUBLIC_BASE_URL="https://www.comune.example.it",
                      PUBLISHER={"nome": "Comune di Prova", "codice_ipa": "c_x123", "email": "urp@comune.example.it"})
    publish(runner, tmp_path)
    dcat = json.loads((tmp_path / "dcat-ap_it.jsonld").read_text())
    assert dcat["dct:publisher"]["dct:identifier"] == "c_x123"
    assert dcat["dcat:distribution"][0]["dcat:downloadURL"]["@id"].startswith(
        "https://www.comune.example.it/trasparenza/2025/v1/")


def test_changes_name_renamed_services_and_each_action(answered, runner, client, tmp_path):
    from survey_app.models import AzioneMiglioramento

    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    action = AzioneMiglioramento(servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore="media",
                                 titolo="Orari estesi", descrizione="Apertura il giovedì pomeriggio.",
                                 data_inizio=datetime(YEAR, 2, 1).date(), data_scadenza=datetime(YEAR, 5, 1).date())
    answered.add(action)
    answered.commit()
    publish(runner, tmp_path / "a")
    servizio.nome_it = "Anagrafe centrale"
    action.stato = "completata"
    answered.commit()
    publish(runner, tmp_path / "b")
    v2 = answered.scalar(select(Pubblicazione).filter_by(versione=2))
    changes = {(c["servizio_codice"], c["campo"]): (c["prima"], c["dopo"]) for c in v2.modifiche}
    assert changes[("anagrafe", "nome del servizio")] == ("Anagrafe", "Anagrafe centrale")
    assert changes[("anagrafe", "azione «Orari estesi»: stato")] == ("pianificata", "completata")
    # In English: the service's English name, the action's field and its states (they were Italian).
    servizio.nome_en = "Central registry office"
    answered.commit()
    english = client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True)
    assert ('<th scope="row">Central registry office</th><td></td><td>action “Orari estesi”: status</td>'
            '<td class="cs-break">planned</td><td class="cs-break">completed</td>') in english
    assert "<td>service name</td>" in english
    client.get("/?lang=it")


def test_questionnaires_without_the_overall_item_are_not_called_suppressed(catalogue, runner, client, tmp_path):
    for face in (3, 3, 2, 1, 3, 3):  # six kiosk taps: questionnaires, but no answer to the overall item
        add_answers(catalogue, "anagrafe", datetime(YEAR, 4, 2, 10), {"D1": face}, questionnaire="kiosk",
                    canale="chiosco")
    publish(runner, tmp_path)
    page = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "nessuna risposta alla domanda complessiva" in page and "dato soppresso" not in page


def test_the_files_state_the_local_time_of_publication(answered, runner, tmp_path):
    from zoneinfo import ZoneInfo

    publish(runner, tmp_path)
    record = answered.scalar(select(Pubblicazione))
    stamp = record.pubblicata_il
    local = (stamp if stamp.tzinfo else stamp.replace(tzinfo=ZoneInfo("UTC"))).astimezone(ZoneInfo("Europe/Rome"))
    wb = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")
    method = {r[0]: r[1] for r in wb["Nota metodologica"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert method["Data di pubblicazione"] == local.strftime("%d/%m/%Y %H:%M")
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert package["created"] == local.isoformat(timespec="seconds")


def test_a_year_whose_answers_cover_part_of_it_is_said_so_before_and_after_publishing(answered, runner, client,
                                                                                       tmp_path):
    """A first year begun on 26 November was published as a whole year's survey, without a word (a walk-through as
    the transparency officer). The fixture's answers run from 10 March to 10 October."""
    login(client, runner, "t@example.org", "--role", "trasparenza")
    page = unescape(client.get("/staff/trasparenza/").get_data(as_text=True))
    assert f"Risposte raccolte: {YEAR} <strong>solo dal 10/03/{YEAR} al 10/10/{YEAR}</strong>." in page
    assert 'aria-describedby="anno-risposte"' in page
    done = client.post("/staff/trasparenza/pubblica", data={"csrf_token": csrf_token(page), "anno": str(YEAR),
                                                            "conferma": "1"}, follow_redirects=True)
    assert f"Nel {YEAR} le risposte sono state raccolte solo dal 10/03/{YEAR} al 10/10/{YEAR}: la nota " \
        "metodologica della versione lo dice." in unescape(done.get_data(as_text=True))
    add_answers(answered, "anagrafe", datetime(YEAR, 6, 20, 9), {"D3": 4})
    output = publish(runner, tmp_path / "a")
    assert f"Attenzione: nel {YEAR} le risposte sono state raccolte solo dal 10/03/{YEAR} al 10/10/{YEAR}" in output
    # Answers from early January to late December: a whole year, nothing to say.
    add_answers(answered, "anagrafe", datetime(YEAR, 1, 20, 9), {"D3": 4})
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 10, 9), {"D3": 4})
    output = publish(runner, tmp_path / "b")
    assert "Pubblicata la versione 3" in output and "raccolte solo" not in output
    page = unescape(client.get("/staff/trasparenza/").get_data(as_text=True))
    assert f"Risposte raccolte: {YEAR} dal 20/01/{YEAR} al 10/12/{YEAR}." in page


def test_a_standards_result_among_the_changes_is_in_the_pages_language(app):
    from survey_app.transparency.formatting import change_value

    with app.test_request_context("/trasparenza/2025?lang=en"):
        assert change_value("non raggiunto", "esito rispetto allo standard") == "not met"
    with app.test_request_context("/trasparenza/2025"):
        assert change_value("non raggiunto", "esito rispetto allo standard") == "non raggiunto"


def test_the_year_page_publishes_the_method_note_of_its_files(answered, runner, client, tmp_path):
    """The method (period, channels, firms, scales, suppression, formulas, margins) was only inside the XLSX and
    ODS; the law asks for results and method in "Servizi erogati" (a walk-through as the transparency officer)."""
    publish(runner, tmp_path)
    sheet = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")["Nota metodologica"]
    published = {r[0]: r[1] for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}
    page = unescape(client.get(f"/trasparenza/{YEAR}").get_data(as_text=True))
    shown = dict(re.findall(r'<dt class="col-md-4">([^<]*)</dt><dd class="col-md-8">([^<]*)</dd>', page))
    assert shown == {k: v for k, v in published.items()
                     if k not in ("Voce", "Versione della pubblicazione", "Data di pubblicazione")}  # and its heading
    assert shown["Periodo delle risposte"].endswith(f"risposte raccolte solo dal 10/03/{YEAR} al 10/10/{YEAR}")
    assert "Canali di risposta dei cittadini (questionari)" in shown and "Regola di soppressione" in shown
    # An ente's page: that ente's own note (its services' channels), without the ente's name again.
    own = unescape(client.get(f"/trasparenza/{YEAR}?ente=unione-test").get_data(as_text=True))
    own_note = dict(re.findall(r'<dt class="col-md-4">([^<]*)</dt><dd class="col-md-8">([^<]*)</dd>', own))
    assert "Ente" not in own_note and own_note["Canali di risposta dei cittadini (questionari)"] != \
        shown["Canali di risposta dei cittadini (questionari)"]


def test_file_sizes_are_in_kilobytes_of_a_thousand_bytes(answered, runner, client, tmp_path):
    """33,607 bytes read "32,8 kB" (divided by 1,024): a kB is 1,000 bytes."""
    publish(runner, tmp_path)
    size = (tmp_path / "soddisfazione-2025.xlsx").stat().st_size
    expected = f"{size / 1000:.1f}".replace(".", ",") + " kB"
    page = unescape(client.get(f"/trasparenza/{YEAR}").get_data(as_text=True))
    assert re.search(rf"Excel \(XLSX\)</a>\s*<span class=\"text-muted\">\({re.escape(expected)};", page), expected


def test_an_action_open_past_its_deadline_is_published_as_late(answered, runner, client, tmp_path):
    """The staff list said "pianificata · scaduta"; the public page, the workbook and the Nucleo's report said only
    "pianificata" (a walk-through as the transparency officer)."""
    from survey_app.models import AzioneMiglioramento

    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    for title, due, state in (("In ritardo", datetime(YEAR, 5, 1), "pianificata"),
                              ("Fatta", datetime(YEAR, 5, 1), "completata"),
                              ("In tempo", datetime(YEAR + 5, 5, 1), "in_corso")):
        answered.add(AzioneMiglioramento(servizio_id=servizio.id, ufficio_id=servizio.ufficio_id, indicatore="media",
                                         titolo=title, descrizione="…", data_inizio=datetime(YEAR, 2, 1).date(),
                                         data_scadenza=due.date(), stato=state))
    answered.commit()
    publish(runner, tmp_path)
    sheet = openpyxl.load_workbook(tmp_path / "soddisfazione-2025.xlsx")["Programmi di miglioramento"]
    states = {row[3]: row[8] for row in sheet.iter_rows(min_row=3, values_only=True) if row[3] not in (None, "Azione")}
    assert states == {"In ritardo": "pianificata (scadenza superata)", "Fatta": "completata", "In tempo": "in corso"}
    page = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "<td>pianificata · scadenza superata</td>" in page and "<td>in corso</td>" in page
    assert "pianificata · scadenza superata" in client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
    assert "planned · deadline passed" in client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True)
    client.get("/?lang=it")


def test_the_publisher_sees_what_a_new_version_would_change_before_confirming(answered, app, runner, client,
                                                                              tmp_path):
    """"Ho controllato" had nothing on the page to check: a late batch flipped a standard's result at the next
    publication without anyone seeing it first (a walk-through as the transparency officer)."""
    # No PUBLIC_BASE_URL: the command line's 127.0.0.1 and the page's own host are not a change of address (the
    # preview listed one, and publishing from the page made a version for it).
    login(client, runner, "t@example.org", "--role", "trasparenza")
    index = unescape(client.get("/staff/trasparenza/").get_data(as_text=True))
    assert f'href="/staff/trasparenza/anteprima?anno={YEAR}">anteprima {YEAR}</a>' in index
    first = unescape(client.get(f"/staff/trasparenza/anteprima?anno={YEAR}").get_data(as_text=True))
    assert f"Sarebbe la prima versione dell'anno {YEAR} (servizi: " in first and "questionari compilati: 14)" in first
    assert 'action="/staff/trasparenza/pubblica"' in first and 'name="conferma"' in first
    publish(runner, tmp_path / "a")
    same = unescape(client.get(f"/staff/trasparenza/anteprima?anno={YEAR}").get_data(as_text=True))
    assert "Nessun dato è cambiato rispetto alla versione 1: pubblicare ora non creerebbe una nuova versione." in same
    assert 'name="conferma"' not in same
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 1, 10), {"D3": 5})
    before = answered.scalar(select(func.count()).select_from(Pubblicazione))
    moved = unescape(client.get(f"/staff/trasparenza/anteprima?anno={YEAR}").get_data(as_text=True))
    assert before == answered.scalar(select(func.count()).select_from(Pubblicazione))  # nothing written
    assert "La versione 2 elencherebbe" in moved and "modifiche rispetto alla versione 1:" in moved
    assert '<td>D3</td><td>risposte valide</td><td class="cs-break">8</td><td class="cs-break">9</td>' in moved
    # What the preview lists is what the version then records.
    publish(runner, tmp_path / "b")
    v2 = answered.scalar(select(Pubblicazione).filter_by(versione=2))
    assert f"elencherebbe {len(v2.modifiche)} modifiche" in moved
    assert client.get("/staff/trasparenza/anteprima?anno=1999").status_code == 404
    assert client.get("/staff/trasparenza/anteprima?anno=x").status_code == 404
    assert client.get("/staff/trasparenza/anteprima?anno=%C2%B2").status_code == 404  # "²" was a 500
