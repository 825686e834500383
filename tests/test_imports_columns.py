"""A file's columns: any spelling of a name, optional columns left out and named, the required ones and typos refused."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from survey_app.models import Compilazione, ImportBatch, Risposta

from .helpers import login
from .test_imports import HEADER, _upload, count, run_import, write

# Without canale, sede, D1_importanza and D7 (free text, not required): D3 is the breve questionnaire's required one.
SHORT_HEADER = "id_esterno;data;servizio;D1;D2;D3;D4;D5;D6"
ABSENT = "canale, sede, D1_importanza, D7"


def test_a_file_without_its_optional_columns_imports_and_names_them(catalogue, runner, tmp_path):
    path = write(tmp_path, f"{SHORT_HEADER}\nX1;15/03/2025;anagrafe;5;3;4;9;sì;\nX2;16/03/2025;tributi;;;2;;;attesa\n")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert f"Colonne assenti dal file, lette come vuote in ogni riga: {ABSENT}." in result.output
    assert "Importate 2 righe su 2" in result.output
    stored = catalogue.scalars(select(Compilazione).order_by(Compilazione.data_ora)).all()
    assert [(c.canale, c.sede_id) for c in stored] == [("telefono", None), ("telefono", None)]  # empty: from CATI
    assert count(catalogue, Risposta) == 7  # D1, D2, D3, D4, D5; D3 and the D6 option
    full = write(tmp_path, f"{HEADER}\nX3;15/03/2025;anagrafe;;;5;;;5;;;;\n", name="completo.csv")
    assert "Colonne assenti" not in run_import(runner, full).output


@pytest.mark.parametrize("missing", ["id_esterno", "data", "servizio", "D3"])
def test_a_missing_required_column_refuses_the_file_on_row_1(catalogue, runner, tmp_path, missing):
    header = ";".join(name for name in SHORT_HEADER.split(";") if name != missing)
    path = write(tmp_path, f"{header}\nX1;15/03/2025;anagrafe;5;3;4;9\n")
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert f"riga 1, colonna {missing}: colonna obbligatoria mancante" in result.output
    assert "riga 2" not in result.output and "Colonne assenti" not in result.output
    assert count(catalogue, Compilazione) == 0


@pytest.mark.parametrize("header", [
    "ID Esterno;DATA;Servizio;d1;D1 Importanza;D3",
    "id-esterno;data;servizio;D1;d1-importanza;d3",
    " Id_Esterno ;Data ; servizio;D1;D1  IMPORTANZA;D3",
])
def test_headers_in_any_case_with_spaces_hyphens_or_underscores(catalogue, runner, tmp_path, header):
    path = write(tmp_path, f"{header}\nX1;15/03/2025;anagrafe;5;4;3\n")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "Colonne assenti dal file, lette come vuote in ogni riga: canale, sede, D2, D4, D5, D6, D7." in result.output
    assert catalogue.scalar(select(Risposta.importanza).where(Risposta.importanza.is_not(None))) == 4


def test_an_unknown_or_repeated_column_is_refused_as_the_file_spells_it(catalogue, runner, tmp_path):
    # "Sedi" is a typo for sede: refused, not read as a missing optional column (its data would be lost).
    path = write(tmp_path, f"{SHORT_HEADER};Sedi;d1\nX1;15/03/2025;anagrafe;5;;4;;;;sportello-1;5\n")
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "riga 1, colonna Sedi (valore «Sedi»): colonna sconosciuta" in result.output
    assert "riga 1, colonna d1 (valore «d1»): colonna ripetuta" in result.output
    assert count(catalogue, Compilazione) == 0


@pytest.mark.parametrize("extra", [(), ("--dry-run", "--skip-invalid")])
def test_a_file_refused_for_its_columns_says_so_not_zero_rows(catalogue, runner, tmp_path, extra):
    path = write(tmp_path, f"{HEADER};D99\nX1;15/03/2025;anagrafe;;;5;;;5;;;;;\n")
    result = run_import(runner, path, *extra)
    assert result.exit_code == 1  # a dry run that keeps only valid rows was told "0 righe valide su 0" and exit 0
    assert "Nessuna riga scritta: il file è stato rifiutato per le sue colonne" in result.output
    assert "su 0" not in result.output and "Controllo completato" not in result.output
    assert count(catalogue, ImportBatch) == 0


@pytest.mark.parametrize("extra", [(), ("--dry-run", "--skip-invalid")])
def test_a_file_with_no_data_rows_says_so(catalogue, runner, tmp_path, extra):
    result = run_import(runner, write(tmp_path, f"{HEADER}\n"), *extra)
    assert result.exit_code == 1 and "Nessuna riga scritta: il file non ha righe di dati." in result.output


def test_the_web_preview_names_absent_columns_and_columns_refusals(catalogue, client, runner):
    login(client, runner, "mario@demoskopika.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Demoskopika")
    short = _upload(client, f"{SHORT_HEADER}\nW1;15/03/2025;anagrafe;5;;4;;;\n".encode())
    html = unescape(short.get_data(as_text=True))
    assert short.status_code == 200 and "1 riga valida su 1." in html
    assert f"Colonne assenti dal file, lette come vuote in ogni riga: {ABSENT}." in html
    assert "Conferma l'importazione" in html
    refused = _upload(client, f"{SHORT_HEADER};Sedi;=1+1\nW1;15/03/2025;anagrafe;5;;4;;;;x;y\n".encode(), name="b.csv")
    html = unescape(refused.get_data(as_text=True))
    assert "Il file è stato rifiutato per le sue colonne" in html and "su 0" not in html
    assert "Sedi" in html and "colonna sconosciuta" in html and "Colonne assenti" not in html
    assert "Conferma l'importazione" not in html
    # The errors CSV names the columns as the file spells them, a formula-like name as text.
    link = re.search(r'href="(/staff/importazioni/errori/[^"]+)"', html).group(1)
    rows = client.get(link).data.decode("utf-8-sig").splitlines()
    assert rows[1:] == ["1;;Sedi;Sedi;colonna sconosciuta", "1;;'=1+1;'=1+1;colonna sconosciuta"]
    assert "Molte colonne del file non sono del questionario" not in html  # two strays: a typo, not another file
    # A file made for another questionnaire: many columns it does not have. The page says which one was chosen.
    other = _upload(client, f"{SHORT_HEADER};D11;D12;D13\nW1;15/03/2025;anagrafe;5;;4;;;;1;2;3\n".encode(),
                    name="c.csv")
    html = unescape(other.get_data(as_text=True))
    assert "Molte colonne del file non sono del questionario «breve»: controlla di aver scelto" in html


def test_the_cli_asks_whether_the_questionnaire_is_the_right_one(catalogue, runner, tmp_path):
    result = run_import(runner, write(tmp_path, f"{HEADER};D11;D12;D13\nX1;15/03/2025;anagrafe;;;5;;;5;;;;;1;2;3\n"))
    assert result.exit_code == 1
    assert "Molte colonne del file non sono del questionario «breve»: è quello giusto per questo file" in result.output
