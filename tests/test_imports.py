"""Survey firms' files: templates, every row checked, nothing written on error, exactly once, provenance."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from analysis.engine import Period, question_statistics
from analysis.indicators import indicator_table
from survey_app.models import Compilazione, ImportBatch, ImportExternalId, Rilevazione, Servizio

HEADER = "id_esterno;data;servizio;canale;sede;D1;D1_importanza;D2;D3;D4;D5;D6;D7"


def write(tmp_path, text: str, name: str = "lotto.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run_import(runner, path: str, *extra: str):
    return runner.invoke(args=["responses", "import", path, "--questionnaire", "breve", "--source", "Demoskopika",
                               "--method", "CATI", *extra])


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_templates_have_the_columns_a_legend_and_drop_down_lists(catalogue, runner, tmp_path):
    result = runner.invoke(args=["responses", "template", "breve", "--format", "csv", "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "t.csv").read_bytes().decode("utf-8-sig")
    assert text.strip() == HEADER
    result = runner.invoke(args=["responses", "template", "breve", "--format", "xlsx", "--out", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert [c.value for c in wb["Dati"][1]] == HEADER.split(";")
    lists = {str(v.sqref): v.formula1 for v in wb["Dati"].data_validations.dataValidation}
    # Over every row a file may have (they stopped at row 5,000: a 5,000-row file's last row had none).
    assert lists["C2:C100001"] == '"anagrafe,tributi"'  # the services that use this questionnaire
    assert lists["F2:F100001"] == '"1,2,3,4,5,non so"'
    assert lists["E2:E100001"] == '"sportello-1,sportello-2"'  # the counters' codes, which a firm could not find
    legend = {r[0]: r for r in wb["Legenda"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert legend["Sedi di anagrafe"][2] == "sportello-1 (Sportello 1), sportello-2 (Sportello 2)"
    assert "Sedi di tributi" not in legend and "CATI telefono; PAPI carta o sportello" in legend["canale"][2]
    assert legend["D3"][1] == "Complessivamente, quanto è soddisfatto?"
    assert legend["D3"][2] == "Un numero da 1 a 5. Obbligatoria."
    assert "D3" in legend["D6"][2]  # the follow-up names its condition
    assert runner.invoke(args=["responses", "template", "ignoto", "--out", str(tmp_path / "x.csv")]).exit_code == 1


def test_a_filled_template_lands_whole_with_its_batch_and_provenance(catalogue, runner, tmp_path):
    rows = [HEADER,
            "A-1;15/03/2025;anagrafe;;sportello-1;5;4;3;5;10;sì;;Personale gentile; disponibile",
            "A-2;2025-03-16 10:30;anagrafe;telefono;;Molto soddisfatto;;4;4;9;no;;",
            "A-3;17/03/2025;anagrafe;Telefono;;non so;;2;2;3;1;attesa; informazioni;",
            "A-4;18/03/2025;tributi;;;3;;1;4;7;0;;"]
    # Semicolons, Windows-1252 accents, CRLF and a quoted field with a semicolon inside: a real firm's CSV.
    rows[1] = rows[1].replace("Personale gentile; disponibile", '"Personale gentile; disponibile"')
    rows[3] = rows[3].replace("attesa; informazioni", '"attesa; informazioni"')
    path = write(tmp_path, "\r\n".join(rows) + "\r\n", encoding="cp1252")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "Importate 4 righe su 4" in result.output
    batch = catalogue.scalar(select(ImportBatch))
    assert (batch.fonte, batch.metodo, batch.righe, batch.righe_importate, batch.righe_scartate) == (
        "Demoskopika", "CATI", 4, 4, 0)
    assert batch.questionario_id is not None and len(batch.sha256) == 64
    stored = catalogue.scalars(select(Compilazione).order_by(Compilazione.data_ora)).all()
    assert [c.canale for c in stored] == ["telefono"] * 4  # empty: from CATI
    assert stored[1].data_ora == datetime(2025, 3, 16, 10)  # kept to the hour
    assert all(c.import_batch_id == batch.id for c in stored)
    assert stored[0].sede.codice == "sportello-1"
    assert count(catalogue, ImportExternalId) == 4
    # The counts the analysis reads followed in the same transaction: figures and provenance are there.
    table = indicator_table(catalogue.connection(), 2025)
    d3 = table[(table["servizio_codice"] == "anagrafe") & (table["domanda_codice"] == "D3")].iloc[0]
    assert (d3["n"], d3["soppresso"]) == (3, True)  # three answers: counted, and suppressed as any small cell
    by_source = question_statistics(catalogue.connection(), Period.year(2025), "anagrafe", by="provenienza")
    assert set(by_source["gruppo"]) == {"ditta CATI"}
    d1 = stored[2].risposte  # A-3, by date: the keys are random
    assert any(r.non_so for r in d1)


MALFORMED = [
    ("unknown service", "X1;15/03/2025;nessuno;;;5;;;5;;;;", (2, "servizio", "servizio sconosciuto")),
    ("service of another questionnaire", "X1;15/03/2025;vigilanza;;;5;;;5;;;;",
     (2, "servizio", "il servizio non usa questo questionario")),
    ("unknown counter", "X1;15/03/2025;anagrafe;;sportello-9;5;;;5;;;;", (2, "sede", "sede sconosciuta per il servizio")),
    ("value outside the scale", "X1;15/03/2025;anagrafe;;;7;;;5;;;;", (2, "D1", "valore non ammesso")),
    ("value outside a 1-4 scale", "X1;15/03/2025;anagrafe;;;;;5;5;;;;", (2, "D2", "valore non ammesso")),
    ("nps outside 0-10", "X1;15/03/2025;anagrafe;;;;;;5;11;;;", (2, "D4", "valore non ammesso")),
    ("yes/no garbage", "X1;15/03/2025;anagrafe;;;;;;5;;forse;;", (2, "D5", "valore non ammesso")),
    ("unknown option", "X1;15/03/2025;anagrafe;;;;;;2;;;parcheggio;", (2, "D6", "valore non ammesso")),
    ("bad date", "X1;31/02/2025;anagrafe;;;5;;;5;;;;", (2, "data", "data non valida")),
    ("text date", "X1;ieri;anagrafe;;;5;;;5;;;;", (2, "data", "data non valida")),
    ("future date", "X1;01/01/2099;anagrafe;;;5;;;5;;;;", (2, "data", "data nel futuro")),
    ("missing date", "X1;;anagrafe;;;5;;;5;;;;", (2, "data", "data mancante")),
    ("missing id", ";15/03/2025;anagrafe;;;5;;;5;;;;", (2, "id_esterno", "id_esterno mancante")),
    ("id repeated in the file", "X1;15/03/2025;anagrafe;;;5;;;5;;;;\nX1;16/03/2025;anagrafe;;;4;;;4;;;;",
     (3, "id_esterno", "id_esterno ripetuto nel file")),
    ("follow-up whose condition does not hold", "X1;15/03/2025;anagrafe;;;;;;5;;;attesa;",
     (2, "D6", "risposta a una domanda che non andava posta")),
    ("required answer missing", "X1;15/03/2025;anagrafe;;;5;;;;;;;", (2, "D3", "risposta obbligatoria mancante")),
    ("importance outside 1-5", "X1;15/03/2025;anagrafe;;;5;9;;5;;;;", (2, "D1_importanza", "importanza non ammessa")),
    ("channel a firm cannot use", "X1;15/03/2025;anagrafe;chiosco;;5;;;5;;;;", (2, "canale", "canale non ammesso")),
    ("text too long", "X1;15/03/2025;anagrafe;;;5;;;5;;;;" + "x" * 201, (2, "D7", "testo troppo lungo")),
    ("empty row in the middle", "X1;15/03/2025;anagrafe;;;5;;;5;;;;\n;;;;;;;;;;;;\nX2;15/03/2025;anagrafe;;;5;;;5;;;;",
     (3, "", "riga vuota")),
    ("more cells than columns", "X1;15/03/2025;anagrafe;;;5;;;5;;;;;extra", (2, "", "più valori che colonne")),
    ("missing service", "X1;15/03/2025;;;;5;;;5;;;;", (2, "servizio", "servizio mancante")),
]


@pytest.mark.parametrize("body, expected", [pytest.param(b, e, id=name) for name, b, e in MALFORMED])
def test_a_bad_row_is_named_and_nothing_is_written(catalogue, runner, tmp_path, body, expected):
    good = "OK1;10/03/2025;anagrafe;;;4;;;4;;;;"
    path = write(tmp_path, f"{HEADER}\n{body}\n{good}\n")
    result = run_import(runner, path)
    assert result.exit_code == 1, result.output
    row, column, reason = expected
    where = f"riga {row}" + (f", colonna {column}" if column else "")
    assert any(line.startswith(where) and reason in line for line in result.output.splitlines()), result.output
    assert "Nessuna riga scritta: 1 riga non valida su " in result.output  # the good row is not written either
    assert count(catalogue, Compilazione) == 0 and count(catalogue, ImportBatch) == 0


@pytest.mark.parametrize("name", ["lotto.csv", "lotto.xlsx"])
def test_a_csv_row_broken_by_a_line_break_is_refused_not_imported_cut(catalogue, runner, tmp_path, name):
    """An unquoted line break inside a cell: the row stopped at D5 and the rest became a row of its own; with
    --skip-invalid the first half was imported and the rest lost (a survey firm's walk-through). A spreadsheet leaves
    trailing empty cells out, so a short row there is a whole one."""
    body = f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;sì\n;attesa;commento\nX2;15/03/2025;anagrafe;;;4;;;4;;;;\n"
    if name.endswith(".xlsx"):
        book = openpyxl.Workbook()
        for line in body.splitlines():
            book.active.append([cell or None for cell in line.split(";")])
        path = str(tmp_path / name)
        book.save(path)
    else:
        path = write(tmp_path, body, name)
    result = run_import(runner, path, "--skip-invalid")
    lines = result.output.splitlines()
    short = [line for line in lines if "meno valori che colonne" in line]
    if name.endswith(".xlsx"):
        assert short == [] and "Importate 2 righe su 3" in result.output  # X1 (short but whole) and X2
        return
    assert short[0].startswith("riga 2: meno valori che colonne (11 su 13): la riga è forse spezzata da un a capo")
    assert short[1].startswith("riga 3: meno valori che colonne (3 su 13)")
    assert not any(line.startswith("riga 4") for line in lines)
    assert "Importata 1 riga su 3" in result.output  # X2 alone: nothing of the broken row


@pytest.mark.parametrize("row, column", [
    ("X1;15/03/2025;anagrafe;;;5;;;9;;;;", "D3"),  # a required answer out of its scale is not also "missing"
    ("X1;15/03/2025;anagrafe;;;5;;;molto;;;attesa;", "D3"),  # nor is its follow-up "not to be asked"
])
def test_a_wrong_answer_is_one_error_not_two(catalogue, runner, tmp_path, row, column):
    result = run_import(runner, write(tmp_path, f"{HEADER}\n{row}\n"))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("riga 2")]
    assert len(errors) == 1 and errors[0].startswith(f"riga 2, colonna {column}") and "valore non ammesso" in errors[0]


@pytest.mark.parametrize("header, reason", [
    (HEADER.replace(";D3", ""), "colonna D3: colonna obbligatoria mancante"),  # D3 is required; D7 may be left out
    (HEADER + ";D99", "colonna sconosciuta"),
    (HEADER.replace("D5", "D4"), "colonna"),
])
def test_wrong_columns_are_refused_before_any_row(catalogue, runner, tmp_path, header, reason):
    path = write(tmp_path, f"{header}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")
    result = run_import(runner, path)
    assert result.exit_code == 1 and reason in result.output and "riga 1" in result.output
    assert count(catalogue, Compilazione) == 0


def test_headers_with_stray_spaces_and_capitals_are_accepted(catalogue, runner, tmp_path):
    header = " ID_Esterno ;Data; Servizio;CANALE;sede;d1;D1_Importanza;D2;D3;D4;D5;D6;D7 "
    path = write(tmp_path, f"{header}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output


def test_a_file_sent_again_names_its_batch_by_the_local_day(catalogue, runner, tmp_path):
    from freezegun import freeze_time

    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")
    with freeze_time("2026-03-31 22:30:00"):  # already 1 April in Rome
        assert run_import(runner, path).exit_code == 0
        again = run_import(runner, path)
    assert again.exit_code == 1 and "(lotto 1 del 01/04/2026)" in again.output


def test_a_row_of_the_bodys_today_is_not_in_the_future(catalogue, runner, tmp_path):
    from freezegun import freeze_time

    path = write(tmp_path, f"{HEADER}\nX1;01/04/2026 00:10;anagrafe;;;5;;;5;;;;\n")
    with freeze_time("2026-03-31 22:30:00"):  # the server's UTC clock: already 00:30 on 1 April in Rome
        result = run_import(runner, path)
    assert result.exit_code == 0 and "data nel futuro" not in result.output, result.output


def test_the_same_file_or_the_same_ids_never_land_twice(catalogue, runner, tmp_path):
    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\nX2;15/03/2025;anagrafe;;;4;;;4;;;;\n")
    assert run_import(runner, path).exit_code == 0
    again = run_import(runner, path)
    assert again.exit_code == 1 and "già stato importato" in again.output
    overlap = write(tmp_path, f"{HEADER}\nX2;16/03/2025;anagrafe;;;4;;;4;;;;\nX3;16/03/2025;anagrafe;;;4;;;4;;;;\n",
                    name="secondo.csv")
    # X2 came in with the first file: skipped (neither written again nor invalid); X3 is new.
    result = run_import(runner, overlap)
    assert result.exit_code == 0, result.output
    assert "Importata 1 riga su 2 nel lotto 2; 1 riga già importata in un lotto precedente, saltata." in result.output
    assert count(catalogue, Compilazione) == 3 and count(catalogue, ImportBatch) == 2
    assert catalogue.scalar(select(ImportBatch.righe_scartate).filter_by(id=2)) == 0
    nothing_new = run_import(runner, write(tmp_path, f"{HEADER}\nX3;17/03/2025;anagrafe;;;1;;;1;;;;\n", name="t.csv"))
    assert nothing_new.exit_code == 0 and "Nessuna riga nuova: 1 riga già importata da questa fonte" in nothing_new.output
    assert count(catalogue, Compilazione) == 3 and count(catalogue, ImportBatch) == 2
    # Another firm may use the same identifiers for its own rows.
    own = write(tmp_path, f"{HEADER}\nX2;18/03/2025;anagrafe;;;2;;;2;;;;\nX3;18/03/2025;anagrafe;;;3;;;3;;;;\n", name="a.csv")
    other = runner.invoke(args=["responses", "import", own, "--questionnaire", "breve", "--source", "Altra srl"])
    assert other.exit_code == 0, other.output


def test_whole_numbers_written_with_a_decimal_are_read(catalogue, runner, tmp_path):
    """A CSV from a spreadsheet with a decimal number format writes 4 as "4,0" (Italian) or "4.0"; 4,5 stays refused."""
    from survey_app.models import Risposta

    path = write(tmp_path, f"{HEADER}\nV1;15/03/2025;anagrafe;;;4,0;;;5.0;9,0;;;\n")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert sorted(catalogue.scalars(select(Risposta.valore).where(Risposta.valore.is_not(None)))) == [4, 5, 9]
    half = run_import(runner, write(tmp_path, f"{HEADER}\nV2;15/03/2025;anagrafe;;;4,5;;;5;;;;\n", name="m.csv"))
    assert half.exit_code == 1 and "riga 2, colonna D1 (valore «4,5»): valore non ammesso" in half.output


def test_each_rows_channel_fits_the_batchs_method(catalogue, runner, tmp_path):
    """The method note publishes a firm's batches by method: 30 paper questionnaires sent in a CATI batch were
    published as phone interviews. A row whose channel another method collects is refused, naming the method."""
    rows = [f"{HEADER}", "M1;15/03/2025;anagrafe;;;5;;;5;;;;", "M2;15/03/2025;anagrafe;carta;;4;;;4;;;;",
            "M3;15/03/2025;anagrafe;sportello;;4;;;4;;;;"]
    cati = run_import(runner, write(tmp_path, "\n".join(rows) + "\n"))
    assert cati.exit_code == 1 and count(catalogue, Compilazione) == 0
    assert "riga 3, colonna canale (valore «carta»): canale diverso dal metodo del lotto, CATI (telefono): le righe " \
           "«carta» vanno caricate in un file a parte con il metodo PAPI" in cati.output, cati.output
    assert "riga 4, colonna canale (valore «sportello»)" in cati.output
    papi = run_import(runner, write(tmp_path, "\n".join([rows[0], *rows[2:]]) + "\n", name="carta.csv"),
                      "--method", "PAPI")
    assert papi.exit_code == 0, papi.output  # paper, at the counter too
    assert sorted(catalogue.scalars(select(Compilazione.canale))) == ["carta", "sportello"]
    web = run_import(runner, write(tmp_path, f"{HEADER}\nM4;15/03/2025;anagrafe;email;;4;;;4;;;;\n"
                                            "M5;15/03/2025;anagrafe;telefono;;4;;;4;;;;\n", name="web.csv"),
                     "--method", "CAWI")
    assert web.exit_code == 1 and "il metodo CATI" in web.output and "CAWI (web o email)" in web.output


def test_skip_invalid_imports_the_valid_rows_and_says_what_it_left_out(catalogue, runner, tmp_path):
    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\nX2;15/03/2025;nessuno;;;5;;;5;;;;\n"
                           "X3;15/03/2025;anagrafe;;;9;;;5;;;;\n")
    result = run_import(runner, path, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "Importata 1 riga su 3 nel lotto" in result.output and "; 2 righe escluse perché non valide." in result.output
    batch = catalogue.scalar(select(ImportBatch))
    assert (batch.righe, batch.righe_importate, batch.righe_scartate) == (3, 1, 2)


def test_the_firm_is_named_on_every_import_and_counts_agree(catalogue, runner, tmp_path):
    """Without --source the firm was the file's name, so a corrected file sent as lotto2.csv was another firm's and
    its id_esterno landed a second time (a survey firm's walk-through)."""
    first = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\nX2;15/03/2025;anagrafe;;;9;;;5;;;;\n")
    result = runner.invoke(args=["responses", "import", first, "--questionnaire", "breve"])
    assert result.exit_code == 2 and "indicare la società con --source" in result.output
    assert count(catalogue, ImportBatch) == 0
    # A dry run needs no firm (DESIGN.md's [--source NAME]): it checks the file, and says the ids were not.
    checked = runner.invoke(args=["responses", "import", first, "--questionnaire", "breve", "--dry-run"])
    assert "riga 3, colonna D1" in checked.output and "Senza --source gli id_esterno non sono stati confrontati" \
        in checked.output
    assert count(catalogue, ImportBatch) == 0
    result = run_import(runner, first, "--skip-invalid")
    assert "Importata 1 riga su 2 nel lotto" in result.output and "; 1 riga esclusa perché non valida." in result.output
    assert "\t1 riga importata" in runner.invoke(args=["responses", "batches"]).output


def test_dry_run_writes_nothing(catalogue, runner, tmp_path):
    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")
    result = run_import(runner, path, "--dry-run")
    assert result.exit_code == 0 and "1 riga valida su 1;" in result.output
    assert count(catalogue, Compilazione) == 0 and count(catalogue, ImportBatch) == 0


def test_answers_are_linked_to_the_campaign_and_dates_outside_it_refused(catalogue, runner, tmp_path):
    servizio = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    campaign = Rilevazione(codice="primavera", titolo="Primavera 2025", questionario_id=servizio.questionario_id,
                           data_inizio=date(2025, 3, 1), data_fine=date(2025, 4, 30), servizi=[servizio])
    catalogue.add(campaign)
    catalogue.commit()
    outside = write(tmp_path, f"{HEADER}\nX1;15/06/2025;anagrafe;;;5;;;5;;;;\n", name="fuori.csv")
    result = run_import(runner, outside)
    assert result.exit_code == 1 and "fuori dal periodo della rilevazione («Primavera 2025» dal 01/03/2025 al 30/04/2025)" in result.output
    assert "chiedere all'amministrazione di pianificare una rilevazione" in result.output  # a firm cannot plan one
    inside = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\nX2;15/06/2025;tributi;;;5;;;5;;;;\n")
    assert run_import(runner, inside).exit_code == 0
    linked = dict(catalogue.execute(select(Compilazione.servizio_id, Compilazione.rilevazione_id)).all())
    assert linked[servizio.id] == campaign.id and None in linked.values()  # tributi has no campaign


def test_xlsx_with_real_dates_serials_and_numbers_as_text(catalogue, runner, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dati"
    ws.append(HEADER.split(";"))
    ws.append(["X1", datetime(2025, 3, 15), "anagrafe", None, None, 5, None, None, "5"])
    ws.append(["X2", 45731, "anagrafe", None, None, "4", None, None, 4.0])  # serial 45731 = 15/03/2025
    ws.append(["X3", "15/03/2025", "tributi", None, None, "verde"])  # a face name on a scale: refused
    ws.append(["X4", datetime(2031, 10, 1), "anagrafe", None, None, 5, None, None, 5])  # a date still to come
    buffer = io.BytesIO()
    wb.save(buffer)
    path = tmp_path / "lotto.xlsx"
    path.write_bytes(buffer.getvalue())
    result = run_import(runner, str(path))
    assert result.exit_code == 1 and "riga 4, colonna D1 (valore «verde»)" in result.output
    assert "riga 4, colonna D3" in result.output  # and its required answer is missing
    assert "riga 2" not in result.output and "riga 3" not in result.output
    assert "riga 5, colonna data (valore «01/10/2031»)" in result.output  # as written, not "2031-10-01T00:00:00"
    ws.delete_rows(4, 2)
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(buffer.getvalue())
    result = run_import(runner, str(path))
    assert result.exit_code == 0, result.output
    assert {c.data_ora for c in catalogue.scalars(select(Compilazione))} == {datetime(2025, 3, 15)}


def test_more_than_a_thousand_errors_are_listed_then_totalled(catalogue, runner, tmp_path):
    rows = "\n".join(f"X{i};15/03/2025;nessuno;;;5;;;5;;;;" for i in range(1200))
    result = run_import(runner, write(tmp_path, f"{HEADER}\n{rows}\n"))
    assert result.exit_code == 1
    assert sum(1 for line in result.output.splitlines() if line.startswith("riga ")) == 1000
    assert "1200 × servizio sconosciuto" in result.output


def test_an_admin_rolls_a_batch_back_whole_and_it_is_audited(catalogue, runner, tmp_path):
    from survey_app.models import AuditLog, RiepilogoRisposte

    own = write(tmp_path, f"{HEADER}\nC1;15/03/2025;anagrafe;;;4;;;4;;;;\n", name="cittadini.csv")
    assert runner.invoke(args=["responses", "import", own, "--questionnaire", "breve", "--source", "Altra srl",
                               "--method", "PAPI"]).exit_code == 0
    before = indicator_table(catalogue.connection(), 2025)
    rows = "\n".join(f"X{i};15/03/2025;anagrafe;;;5;;;5;;;;" for i in range(6))
    path = write(tmp_path, f"{HEADER}\n{rows}\n")
    assert run_import(runner, path).exit_code == 0
    batch = catalogue.scalar(select(ImportBatch).filter_by(fonte="Demoskopika"))
    assert indicator_table(catalogue.connection(), 2025)["n"].sum() > before["n"].sum()
    result = runner.invoke(args=["responses", "rollback", str(batch.id), "--by", "admin@example.org"])
    assert result.exit_code == 0 and "tolti 6 questionari" in result.output
    catalogue.expire_all()
    assert count(catalogue, Compilazione) == 1  # the other firm's questionnaire stays
    assert catalogue.scalar(select(func.count()).select_from(RiepilogoRisposte)
                            .filter_by(import_batch_id=batch.id)) == 0
    after = indicator_table(catalogue.connection(), 2025)
    assert after[["servizio_codice", "domanda_codice", "n"]].equals(before[["servizio_codice", "domanda_codice", "n"]])
    batch = catalogue.get(ImportBatch, batch.id)
    assert batch.annullato_da == "admin@example.org" and batch.annullato_il is not None
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="lotto.annulla"))
    assert audit.dettagli["compilazioni"] == 6 and audit.dettagli["fonte"] == "Demoskopika"
    again = runner.invoke(args=["responses", "rollback", str(batch.id)])
    assert again.exit_code == 1 and "già stato annullato" in again.output
    # The corrected file may now be sent again: same file, same identifiers.
    assert run_import(runner, path).exit_code == 0
    listing = runner.invoke(args=["responses", "batches"]).output
    assert "annullato il" in listing and "6 righe importate" in listing
    # Times as the staff pages show them: the instance's local time, not the stored UTC.
    from zoneinfo import ZoneInfo

    created = catalogue.get(ImportBatch, batch.id).created_at
    created = created if created.tzinfo else created.replace(tzinfo=ZoneInfo("UTC"))
    assert f"{created.astimezone(ZoneInfo('Europe/Rome')):%d/%m/%Y %H:%M}" in listing


# What a survey firm's account may open: its uploads, templates, batches and error reports, and its password page.
FIRM_ENDPOINTS = {"imports.index", "imports.batch", "imports.template_file", "imports.upload", "imports.errors_csv",
                  "imports.excluded_rows", "staff.password", "staff.login", "staff.dashboard"}


def _staff_get_urls(app):
    """Every GET address of the staff area outside the firm's own pages."""
    from .test_staff_routes import staff_get_rules

    return [url for endpoint, url in staff_get_rules(app) if endpoint not in FIRM_ENDPOINTS]


def test_a_survey_firm_reaches_its_uploads_and_templates_only(app, catalogue, client, runner, tmp_path):
    from .helpers import login

    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Example")
    home = client.get("/staff/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/staff/importazioni/")
    page = client.get("/staff/importazioni/")
    assert page.status_code == 200 and "modello-" not in page.get_data(as_text=True)  # links, not names
    xlsx = client.get("/staff/importazioni/modello/breve.xlsx")
    assert xlsx.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert [c.value for c in wb["Dati"][1]] == HEADER.split(";")
    assert client.get("/staff/importazioni/modello/breve.csv").data.decode("utf-8-sig").strip() == HEADER
    assert client.get("/staff/importazioni/modello/faccine.xlsx").status_code == 404  # not in its scope
    assert client.get("/staff/password").status_code == 200
    urls = _staff_get_urls(app)
    assert len(urls) >= 10 and "/staff/qr/" in urls and "/staff/token-api/" in urls
    for url in urls:  # results, charts, QR posters, actions, publishing, tokens, other firms' rollbacks…
        assert client.get(url).status_code == 403, url


def test_a_firm_sees_its_own_batches_only(catalogue, client, runner, tmp_path):
    from .helpers import login

    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n", name="altrui.csv")
    assert run_import(runner, path).exit_code == 0  # from the command line, for the firm Demoskopika
    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Doxa")
    assert "altrui.csv" not in client.get("/staff/importazioni/").get_data(as_text=True)
    path = write(tmp_path, f"{HEADER}\nX1;16/03/2025;anagrafe;;;4;;;4;;;;\n", name="nostro.csv")  # its own rows
    assert run_import(runner, path, "--source", "Doxa").exit_code == 0  # the last --source wins
    # Any of the firm's accounts, and its tokens, see the batches sent for that firm, whoever sent them.
    assert "nostro.csv" in client.get("/staff/importazioni/").get_data(as_text=True)


def _upload(client, content: bytes, name: str = "lotto.csv", questionnaire: str = "breve", **fields: str):
    from .helpers import csrf_token

    token = csrf_token(client.get("/staff/importazioni/carica").get_data(as_text=True))
    return client.post("/staff/importazioni/carica", content_type="multipart/form-data",
                       data={"csrf_token": token, "questionario": questionnaire, "metodo": "PAPI",
                             "file": (io.BytesIO(content), name), **fields})


def test_the_web_upload_previews_then_imports_once_confirmed(catalogue, client, runner):
    import re
    from html import unescape

    from .helpers import login

    login(client, runner, "mario@demoskopika.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Demoskopika")
    good = f"{HEADER}\nW1;15/03/2025;anagrafe;;;5;;;5;;;;\nW2;16/03/2025;anagrafe;;;4;;;4;;;;\n".encode()
    preview = _upload(client, good)
    assert preview.status_code == 200
    html = unescape(preview.get_data(as_text=True))
    assert "2 righe valide su 2." in html and "Anagrafe" in html
    # Each row as it will be read: the date alone when no time was given, the importance with its answer.
    assert "<td>15/03/2025</td>" in html and "D1: 5; D3: 5" in html
    detailed = _upload(client, f"{HEADER}\nW9;15/03/2025 10:30;anagrafe;carta;;5;4;;2;;0;;\n".encode(), name="d.csv")
    shown = unescape(detailed.get_data(as_text=True))
    assert "<td>15/03/2025 10:00</td><td>questionario cartaceo</td>" in shown  # to the hour, as stored
    assert "D1: 5 (importanza 4); D3: 2; D5: no" in shown  # a yes/no was "D5: 0", the importance missing
    assert count(catalogue, Compilazione) == 0  # a preview writes nothing
    fields = dict(re.findall(r'name="(csrf_token|sha256|nome_file|questionario|metodo)"[^>]*value="([^"]*)"', html))
    assert client.post("/staff/importazioni/conferma", data={k: v for k, v in fields.items()
                                                            if k != "csrf_token"}).status_code == 400
    done = client.post("/staff/importazioni/conferma", data=fields)
    assert done.status_code == 302
    batch = catalogue.scalar(select(ImportBatch))
    assert f"Importate 2 righe nel lotto {batch.id}." in unescape(client.get(done.location).get_data(as_text=True))
    # Confirmed again from the same preview (a second tab): where it went, not "upload it again".
    again = client.post("/staff/importazioni/conferma", data=fields)
    assert again.status_code == 302 and again.location.endswith("/staff/importazioni/")
    assert f"Questo file è già stato importato nel lotto {batch.id}: nessuna riga scritta di nuovo." in unescape(
        client.get(again.location).get_data(as_text=True))
    assert (batch.fonte, batch.metodo, batch.righe_importate) == ("Demoskopika", "PAPI", 2)
    assert batch.utente_id is not None and count(catalogue, Compilazione) == 2
    from survey_app.models import AuditLog

    audit = catalogue.scalar(select(AuditLog).filter_by(azione="lotto.importa"))
    assert audit.oggetto == f"lotto {batch.id}" and audit.utente_id == batch.utente_id
    assert audit.dettagli == {"file": "lotto.csv", "fonte": "Demoskopika", "righe": 2, "escluse": 0, "via": "pagina"}
    listing = client.get("/staff/importazioni/").get_data(as_text=True)
    assert "lotto.csv" in listing
    assert "già stato importato" in unescape(_upload(client, good).get_data(as_text=True))


def test_the_web_upload_explains_errors_and_keeps_to_the_accounts_services(catalogue, client, runner):
    import re
    from html import unescape

    from .helpers import login

    login(client, runner, "mario@demoskopika.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Demoskopika")
    bad = f"{HEADER}\nW1;15/03/2025;tributi;;;5;;;5;;;;\nW2;15/03/2025;anagrafe;;;8;;;5;;;;\n".encode()
    html = unescape(_upload(client, bad).get_data(as_text=True))
    assert "0 righe valide su 2." in html
    assert "servizio non assegnato a questo account" in html and "valore non ammesso" in html
    assert "Errori riga per riga: 2</caption>" in html and "i primi" not in html  # every error is on the page
    assert "Conferma l'importazione" not in html
    many = HEADER + "".join(f"\nW{i};15/03/2025;tributi;;;5;;;5;;;;" for i in range(250))
    html = unescape(_upload(client, many.encode(), name="molti.csv").get_data(as_text=True))
    assert "Errori riga per riga: i primi 200 di 250 (tutti nel CSV)" in html
    link = re.search(r'href="(/staff/importazioni/errori/[^"]+)"', html).group(1)
    errors = client.get(link)  # the link as the page gives it
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    rows = errors.data.decode("utf-8-sig").splitlines()
    assert rows[0] == "riga;id_esterno;colonna;valore;motivo" and rows[1].startswith("2;W0;servizio;tributi;")
    # Every error is in the file, as the page says: it stopped at 1,000 (a firm's 5,000-row file).
    many = HEADER + "".join(f"\nW{i};15/03/2025;tributi;;;8;;;5;;;;" for i in range(600))
    html = unescape(_upload(client, many.encode(), name="tanti.csv").get_data(as_text=True))
    assert "Errori riga per riga: i primi 200 di 1200 (tutti nel CSV)" in html
    rows = client.get(re.search(r'href="(/staff/importazioni/errori/[^"]+)"', html).group(1)).data.decode(
        "utf-8-sig").splitlines()
    assert len(rows) == 1 + 1200 and rows[-1].startswith("601;")
    unreadable = unescape(_upload(client, b"\x89PNG\r\n\x1a\n", name="foto.xlsx").get_data(as_text=True))
    assert "non è un CSV, XLSX o ODS leggibile" in unreadable
    assert count(catalogue, Compilazione) == 0


def test_the_office_uploads_for_a_named_firm_and_a_file_never_lands_twice(catalogue, client, runner, tmp_path):
    """The office's admin uploading a firm's paper questionnaires names the firm (it was filed under the admin's
    e-mail domain, and that name went into the published method note), and the very file the firm had already
    imported is refused whichever firm the office names (it landed twice)."""
    import re
    from html import unescape

    from .helpers import login

    first = f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\nX2;15/03/2025;anagrafe;;;4;;;4;;;;\n"
    assert run_import(runner, write(tmp_path, first)).exit_code == 0  # the firm Demoskopika, batch 1
    login(client, runner, "ufficio@comune.example.it", "--role", "admin")
    form = client.get("/staff/importazioni/carica").get_data(as_text=True)
    assert 'list="societa-note"' in form and '<option value="Demoskopika">' in form
    unnamed = _upload(client, first.encode())
    assert unnamed.status_code == 400
    assert "Società che ha raccolto i dati: indicare la società" in unescape(unnamed.get_data(as_text=True))
    again = unescape(_upload(client, first.encode(), societa="Altra srl").get_data(as_text=True))
    assert "questo file è già stato importato (lotto 1 del " in again and ", fonte «Demoskopika»)" in again
    # A new file of the same firm, its name typed in another case: filed under the firm, its ids checked as its own.
    second = f"{HEADER}\nX2;16/03/2025;anagrafe;;;4;;;4;;;;\nX3;16/03/2025;anagrafe;;;3;;;3;;;;\n".encode()
    html = unescape(_upload(client, second, name="carta.csv", societa=" demoskopika ").get_data(as_text=True))
    assert "Società che ha raccolto i dati: Demoskopika." in html and "1 riga valida su 2." in html
    # X2 came in with batch 1: skipped, not an error that blocks the file (a whole corrected file sent again).
    assert "1 riga era già stata importata da questa società in un lotto precedente" in html and "Righe: 2." in html
    assert "Righe non valide" not in html and "escludi_non_valide" not in html
    fields = dict(re.findall(r'name="(csrf_token|sha256|questionario|metodo|societa)"[^>]*value="([^"]*)"', html))
    confirmed = client.post("/staff/importazioni/conferma", data=fields)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/staff/importazioni/lotti/2")
    batch_page = unescape(client.get(confirmed.headers["Location"]).get_data(as_text=True))
    assert "Importata 1 riga nel lotto 2. 1 riga era già stata importata in un lotto precedente: saltata." in batch_page
    assert "Righe già importate in lotti precedenti (saltate)" in batch_page
    batches = catalogue.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.fonte, b.righe_importate) for b in batches] == [("Demoskopika", 2), ("Demoskopika", 1)]
    assert count(catalogue, Compilazione) == 3
    # Another firm's account sending the same file learns it is in, not whose it is.
    client.post("/staff/logout", data={"csrf_token": fields["csrf_token"]})
    login(client, runner, "altra@altra.example.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Altra")
    refused = unescape(_upload(client, first.encode()).get_data(as_text=True))
    assert "questo file è già stato importato (lotto 1 del " in refused and "Demoskopika" not in refused


BAD_FILES = [
    ("foto.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00", "non è un CSV, XLSX o ODS leggibile"),
    ("vuoto.csv", b"", "il file è vuoto"),
    ("solo-intestazione.csv", (HEADER + "\n").encode(), "nessuna riga di dati"),
    ("virgolette.csv", (HEADER + '\nX1;15/03/2025;anagrafe;;;5;;;5;;;;"non chiusa\n').encode(), "riga"),
    ("documento.pdf", b"%PDF-1.4 ...", "non è un CSV, XLSX o ODS leggibile"),
    ("utf16.csv", HEADER.encode("utf-16"), "non è un CSV, XLSX o ODS leggibile"),
]


@pytest.mark.parametrize("name, content, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_unreadable_files_are_refused_whole(catalogue, runner, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = run_import(runner, str(path))
    assert result.exit_code == 1 and message in result.output, result.output
    assert count(catalogue, Compilazione) == 0 and count(catalogue, ImportBatch) == 0


def test_the_counts_written_with_a_batch_equal_a_rebuild_from_its_answers(catalogue, runner, tmp_path):
    from survey_app import summary

    from .test_summary import counts as summary_counts

    rows = [f"Z{i};{1 + i % 27}/03/2025;{'anagrafe' if i % 3 else 'tributi'};{'sportello' if i % 4 else ''};"
            f"{'sportello-2' if i % 3 == 1 else ''};{'non so' if i % 7 == 0 else 1 + i % 5};{1 + i % 5};{1 + i % 4};"
            f"{1 + i % 5};{i % 11};{'sì' if i % 2 else 'no'};{'attesa;informazioni' if (1 + i % 5) < 3 else ''};"
            f"{'ok' if i % 5 == 0 else ''}" for i in range(60)]
    rows = [r.replace("attesa;informazioni", '"attesa;informazioni"') for r in rows]
    result = run_import(runner, write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"), "--method", "PAPI")
    assert result.exit_code == 0, result.output
    written = summary_counts(catalogue)
    assert len(written) > 50
    summary.rebuild(catalogue)
    catalogue.commit()
    assert summary_counts(catalogue) == written


def test_an_admin_rolls_a_batch_back_from_the_staff_area(catalogue, client, runner, tmp_path):
    from survey_app.models import AuditLog

    from .helpers import csrf_token, login

    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")
    assert run_import(runner, path).exit_code == 0
    batch = catalogue.scalar(select(ImportBatch))
    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Example")
    assert client.get(f"/staff/importazioni/lotti/{batch.id}/annulla").status_code == 403
    token = csrf_token(client.get("/staff/importazioni/").get_data(as_text=True))
    client.post("/staff/logout", data={"csrf_token": token})
    login(client, runner, "admin@example.org", "--role", "admin")
    page = client.get(f"/staff/importazioni/lotti/{batch.id}/annulla")
    assert page.status_code == 200 and "lotto.csv" in page.get_data(as_text=True)
    assert count(catalogue, Compilazione) == 1  # looking is not rolling back
    done = client.post(f"/staff/importazioni/lotti/{batch.id}/annulla",
                       data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 302
    catalogue.expire_all()
    assert count(catalogue, Compilazione) == 0
    audit = catalogue.scalar(select(AuditLog).filter_by(azione="lotto.annulla"))
    assert audit.dettagli["da"] == "admin@example.org" and audit.utente_id is not None


def test_a_file_over_the_limit_gets_an_italian_page_and_nothing_is_written(app, catalogue, client, runner):
    from html import unescape

    from .helpers import login

    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Example")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    big = _upload(client, (HEADER + "\n" + "X;15/03/2025;anagrafe;;;5;;;5;;;;\n" * 200).encode())
    html = unescape(big.get_data(as_text=True))
    assert big.status_code == 413 and "File o modulo troppo grande" in html and 'lang="it"' in html
    assert count(catalogue, Compilazione) == 0 and count(catalogue, ImportBatch) == 0


def test_an_admin_sees_whose_each_batch_is(catalogue, client, runner, tmp_path):
    from .helpers import login

    assert run_import(runner, write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")).exit_code == 0
    login(client, runner, "admin@comune.it", "--role", "admin")
    listing = client.get("/staff/importazioni/").get_data(as_text=True)
    assert '<th scope="col">Società</th>' in listing and "<td>demoskopika</td>" in listing.lower()


def test_every_door_leaves_its_import_in_the_audit_log(catalogue, client, runner, tmp_path):
    """The staff page wrote "lotto.importa"; an import from the command line or the API left no trace."""
    from survey_app.models import AuditLog

    from .helpers import login
    from .test_api import ROW, new_token, post_rows

    assert run_import(runner, write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;\n")).exit_code == 0
    response = post_rows(client, new_token(runner), [{**ROW, "id_esterno": "Y1"}])
    assert response.status_code == 201, response.json
    entries = catalogue.scalars(select(AuditLog).filter_by(azione="lotto.importa").order_by(AuditLog.id)).all()
    assert [(e.dettagli["via"], e.dettagli["righe"], e.utente_id) for e in entries] == [
        ("riga di comando", 1, None), ("API", 1, None)]
    assert entries[1].dettagli["token"] == "Demoskopika CATI" and entries[0].dettagli["fonte"] == "Demoskopika"

    # The log's "Utente" names the token for the API's import, not the command line.
    login(client, runner, "admin@comune.it", "--role", "admin")
    page = client.get("/staff/registro?azione=lotto.importa").get_data(as_text=True)
    assert "<td>token API «Demoskopika CATI»</td>" in page and page.count("<td>riga di comando</td>") == 1
    log = client.get("/staff/registro.csv?azione=lotto.importa").data.decode("utf-8-sig").splitlines()
    assert [line.split(";")[1] for line in log[1:]] == ["token API «Demoskopika CATI»", "riga di comando"]


def test_the_rows_a_batch_left_out_stay_downloadable_with_their_reasons(catalogue, client, runner):
    """After "Importa solo le righe valide" the errors' link was a 404 and the batch said only "Righe escluse 2":
    the firm could not tell which rows to fix (a survey firm's walk-through)."""
    import re
    from html import unescape

    from .helpers import login

    login(client, runner, "mario@demoskopika.it", "--role", "rilevatore", "--scope", "anagrafe",
          "--firm", "Demoskopika")
    long_comment = "x" * 201  # D7, a free text: its value is not kept with the batch
    body = (f"{HEADER}\nW1;15/03/2025;anagrafe;;;5;;;5;;;;\nW2;15/03/2025;anagrafe;;;8;;;5;;;;\n"
            f"W3;15/03/2025;anagrafe;;;5;;;5;;;;{long_comment}\n")
    html = unescape(_upload(client, body.encode()).get_data(as_text=True))
    fields = dict(re.findall(r'name="(csrf_token|sha256|questionario|metodo|societa)"[^>]*value="([^"]*)"', html))
    assert client.post("/staff/importazioni/conferma", data={**fields, "escludi_non_valide": "y"}).status_code == 302
    batch = catalogue.scalar(select(ImportBatch))
    listing = unescape(client.get("/staff/importazioni/").get_data(as_text=True))
    link = f'href="/staff/importazioni/lotti/{batch.id}/escluse.csv">2<span class="visually-hidden"> righe escluse'
    assert link in listing
    download = client.get(f"/staff/importazioni/lotti/{batch.id}/escluse.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = download.data.decode("utf-8-sig").splitlines()
    # Never with the row's id_esterno: the corrected row sent again would have its answer tied to it (the review of
    # this change); the preview's errors file, from the file still in hand, has it.
    assert rows[0] == "riga;colonna;valore;motivo"
    assert rows[1].startswith("3;D1;8;valore non ammesso")
    assert rows[2].startswith("4;D7;;testo troppo lungo") and long_comment not in download.data.decode("utf-8-sig")
    assert "W2" not in download.data.decode("utf-8-sig") and "W2" not in str(batch.righe_escluse)
    # Another firm's account: as if there were no such batch.
    client.post("/staff/logout", data={"csrf_token": fields["csrf_token"]})
    login(client, runner, "altra@altra.example.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Altra")
    assert client.get(f"/staff/importazioni/lotti/{batch.id}/escluse.csv").status_code == 404


def test_rows_of_a_published_year_are_said_to_wait_for_a_new_version(catalogue, client, runner, tmp_path):
    """A late batch of 2025 was imported with "Importate 30 righe su 30" and not a word that 2025 was published:
    the public figures do not move until someone publishes again (a transparency officer's walk-through). The preview
    also names each row's counter (sede), which it left out."""
    import re
    from html import unescape

    from .helpers import login

    out = runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path / "pub")])
    assert out.exit_code == 0, out.output
    path = write(tmp_path, f"{HEADER}\nX1;15/03/2025;anagrafe;;sportello-1;5;;;5;;;;\n")
    result = run_import(runner, path, "--dry-run")
    assert "Il 2025 è già pubblicato in Amministrazione trasparente (versione 1): le righe di quell'anno entreranno " \
           "nei dati pubblicati solo con una nuova versione." in result.output
    login(client, runner, "mario@demoskopika.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Demoskopika")
    body = f"{HEADER}\nW1;15/03/2025;anagrafe;;sportello-1;5;;;5;;;;\nW2;15/03/2024;anagrafe;;;4;;;4;;;;\n"
    html = unescape(_upload(client, body.encode()).get_data(as_text=True))
    assert "Il 2025 è già pubblicato in Amministrazione trasparente (versione 1)" in html and "Il 2024" not in html
    row = re.search(r'<th scope="row">2</th>(.*?)</tr>', html, re.S).group(1)
    assert "<td>Sportello 1</td>" in row, row


def test_a_comment_broken_over_rows_leaves_no_text_with_the_batch(catalogue, runner, tmp_path):
    """A comment broken by an unquoted newline spilled into the next row's columns ("servizio", "data"), and
    those values were kept with the batch for good, out of reach of the comments' purge (the review of this change)."""
    body = (f"{HEADER}\nX1;15/03/2025;anagrafe;;;5;;;5;;;;Mario Rossi ha detto\nvia Roma 3;telefono 333123;x\n"
            "X2;15/03/2025;anagrafe;;;4;;;4;;;;\nX3;15/03/2025;anagrafe;;;9;;;4;;;;\n")
    result = run_import(runner, write(tmp_path, body), "--skip-invalid")
    assert "Importate 2 righe su 4" in result.output, result.output  # X1 (its comment cut) and X2
    kept = catalogue.scalar(select(ImportBatch)).righe_escluse
    values = " ".join(str(v) for row in kept for v in row)
    assert "Rossi" not in values and "Roma" not in values and "333123" not in values
    assert any(row[:3] == [5, "D1", "9"] for row in kept)  # an ordinary wrong value is kept, to be fixed from it
    assert "X3" not in values  # never a row's id (its corrected answer would be tied to it)
