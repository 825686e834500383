"""Templates a firm fills in: the columns the importer expects, and in the XLSX a legend and drop-down lists."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analysis.xlsx import text_cell

from ..models import Domanda, QuestionarioVersione, Servizio
from .columns import FIRM_CHANNELS, FIXED, IMPORTANCE_SUFFIX, NON_SO, all_columns, allowed_text

HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
ROWS_WITH_LISTS = 100_001  # drop-down lists on rows 2 to 100,001: as many data rows as the API takes (MAX_ROWS)
FIXED_HELP = {
    "id_esterno": "Identificativo della riga nel vostro sistema (unico: la stessa riga non viene importata due volte).",
    "data": "Data dell'intervista: gg/mm/aaaa o aaaa-mm-gg (eventualmente con l'ora hh:mm).",
    "servizio": "Codice del servizio (vedi l'elenco nella colonna di destra).",
    "canale": "Secondo il metodo del lotto: CATI telefono; PAPI carta o sportello; CAWI web o email (vuoto: il primo).",
    "sede": "Codice dello sportello, se noto (facoltativo): vedi l'elenco «Sedi» qui sotto.",
}


def to_csv(versione: QuestionarioVersione) -> bytes:
    """The header row only, UTF-8 with BOM so that Excel opens the accents right, semicolons as Italian Excel."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(all_columns(versione))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _choices(domanda: Domanda) -> list[str]:
    if domanda.tipo in ("scala", "nps"):
        values = [str(v) for v in range(domanda.scala_min, domanda.scala_max + 1)]
    elif domanda.tipo == "faccine":
        values = ["verde", "giallo", "rosso"]
    elif domanda.tipo == "si_no":
        values = ["sì", "no"]
    elif domanda.tipo == "scelta_singola":
        values = [o.codice for o in domanda.opzioni]
    else:
        return []  # multiple choice and text: free entry, checked on import
    return values + ([NON_SO] if domanda.non_so else [])


def to_xlsx(versione: QuestionarioVersione, services: list[Servizio]) -> bytes:
    """Sheet "Dati" with the columns and drop-down lists, sheet "Legenda" with every question and its values."""
    wb = Workbook()
    data = wb.active
    data.title = "Dati"
    columns = all_columns(versione)
    data.append(columns)
    for cell in data[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    data.freeze_panes = "A2"
    by_code = {d.codice: d for d in versione.domande}
    lists = {"servizio": [s.slug for s in services], "canale": list(FIRM_CHANNELS),
             "sede": sorted({sede.codice for s in services for sede in s.sedi})}
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = max(12, len(name) + 4)
        if name.endswith(IMPORTANCE_SUFFIX):
            choices = ["1", "2", "3", "4", "5"]
        elif name in by_code:
            choices = _choices(by_code[name])
        else:
            choices = lists.get(name, [])
        if choices:
            # An inline list is limited to 255 characters: longer ones would need a sheet range.
            formula = '"' + ",".join(choices) + '"'
            if len(formula) <= 255:
                rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                      errorTitle="Valore non ammesso", error="Scegliere un valore dall'elenco.")
                rule.add(f"{letter}2:{letter}{ROWS_WITH_LISTS}")
                data.add_data_validation(rule)

    legend = wb.create_sheet("Legenda")
    legend.append(["Colonna", "Domanda", "Valori ammessi"])
    for cell in legend[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for name in FIXED:
        legend.append([name, "", FIXED_HELP[name]])
    for domanda in versione.domande:
        allowed = allowed_text(domanda)
        notes = [allowed[:1].upper() + allowed[1:] + "."]  # one sentence each: "Un numero da 1 a 5. Obbligatoria."
        if domanda.obbligatoria:
            notes.append("Obbligatoria.")
        if domanda.mostra_se:
            notes.append(f"Solo se la risposta a {domanda.mostra_se['domanda']} lo prevede.")
        legend.append([domanda.codice, text_cell(domanda.testo_it), " ".join(notes)])
        if domanda.importanza:
            legend.append([domanda.codice + IMPORTANCE_SUFFIX, f"Importanza di {domanda.codice}",
                           "un numero da 1 (per nulla importante) a 5 (molto importante)"])
    legend.append([])
    # Through text_cell: a name saved with a control character before the catalogue refused them made the template
    # a server error (openpyxl refuses them).
    legend.append(["Servizi", "", text_cell(", ".join(f"{s.slug} ({s.nome_it})" for s in services))])
    for s in services:  # a counter's code is its service's: the same code may name another service's counter
        if s.sedi:
            legend.append([f"Sedi di {s.slug}", "", text_cell(", ".join(f"{sede.codice} ({sede.nome})"
                                                                        for sede in s.sedi))])
    for letter, width in (("A", 22), ("B", 60), ("C", 70)):
        legend.column_dimensions[letter].width = width
    for row in legend.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
