"""Tables of the staff pages as CSV or XLSX: the figures as the page shows them, formula-looking text neutralised.

The CSV is for programs: the code's column names (stable), dot decimals with the page's places, true/false.
The XLSX is for people and is laid out by the published workbook's writer (analysis.xlsx): Italian headings, a bold
frozen header, column widths, numbers stored as numbers with Italian formats, sì/no, years as numbers.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
from flask import abort, send_file

from analysis.publication import TYPE_LABELS, readable_standard
from analysis.publish import neutralise_formula
from analysis.sheets import Column, Sheet
from analysis.xlsx import text_cell, to_xlsx

from ..transparency.formatting import rounded

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PLACES = {"int": 0, "year": 0, "dec1": 1, "dec2": 2, "dec4": 4}  # as the pages show them (p-values: 4, as published)

_RESPONSES = Column("Risposte (n)", "int", 10)
_SHARE = Column("Soddisfatti (%)", "dec1", 12)
# Every column a staff download has, by its CSV name: the XLSX heading (the published workbook's where it has one),
# the kind that decides decimals and number format, the width in characters.
FIELDS: dict[str, Column] = {
    "anno": Column("Anno", "year", 7),
    # A year is a number; a campaign's title or a range of months stays text in the same column.
    "periodo": Column("Periodo", "year", 18),
    "ente": Column("Ente", width=26), "ufficio": Column("Ufficio", width=30),
    "servizio_codice": Column("Codice servizio", width=22), "servizio": Column("Servizio", width=34),
    "compilazioni": Column("Questionari compilati", "int", 13), "n": _RESPONSES,
    "quota_soddisfatti": _SHARE, "quota": Column("Quota (%)", "dec1", 10),
    "ic95_inf": Column("Intervallo di confidenza 95%: minimo", "dec1", 14),
    "ic95_sup": Column("Intervallo di confidenza 95%: massimo", "dec1", 14),
    "media": Column("Media", "dec2", 9), "ics": Column("Indice di customer satisfaction (0–100)", "dec1", 14),
    "nps": Column("Net Promoter Score", "dec1", 12),
    "quota_anno_precedente": Column("Soddisfatti anno precedente (%)", "dec1", 14),
    "differenza": Column("Differenza (punti)", "dec1", 12), "p_value": Column("p-value", "dec4", 10),
    "esito_standard": Column("Esito rispetto allo standard", width=18),
    "campagna": Column("Rilevazione", width=26),
    "campagna_raccolti_servizio": Column("Rilevazione: questionari del servizio", "int", 14),
    "campagna_raccolti_totale": Column("Rilevazione: questionari in totale", "int", 14),
    "campagna_obiettivo": Column("Rilevazione: obiettivo", "int", 12),
    "domanda_codice": Column("Codice domanda", width=12), "domanda": Column("Domanda", width=60),
    "tipo": Column("Tipo di domanda", width=14), "standard": Column("Standard", width=30),
    "standard_quota": Column("Standard: soddisfatti almeno (%)", "dec1", 14),
    "soppresso": Column("Dato soppresso", width=10),
    "valore": Column("Valore", "int", 8), "etichetta": Column("Risposta", width=30),
    "opzione": Column("Codice opzione", width=14), "faccia": Column("Faccina", width=12),
    "motivo": Column("Motivo", width=40), "risposta": Column("Risposta", width=40),
    "importanza": Column("Importanza media", "dec2", 12), "soddisfazione": Column("Soddisfazione media", "dec2", 12),
    "canale": Column("Canale (codice)", width=10), "canale_nome": Column("Canale", width=24),
    "sede": Column("Sede (codice)", width=16), "sede_nome": Column("Sede", width=30),
    "comune": Column("Comune", width=16), "lingua": Column("Lingua (codice)", width=10),
    "lingua_nome": Column("Lingua", width=14), "provenienza": Column("Provenienza", width=16),
}
FILTER_TITLES = {"canale": "canale", "sede": "sede", "comune": "comune", "lingua": "lingua",
                 "provenienza": "provenienza"}
# Codes the XLSX spells out as the published workbook does; the CSV keeps the codes.
READABLE = {"tipo": lambda v: TYPE_LABELS.get(v, v), "standard": lambda v: readable_standard(v, ",")}


def missing(value) -> bool:
    """None, NaN or pandas' NA: an empty cell, and nothing a template should test as true."""
    return value is None or (not isinstance(value, (list, dict)) and pd.isna(value))


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows for a template, missing values as None (NaN counts as true in Jinja; pandas' NA cannot be tested)."""
    return [{key: None if missing(value) else value for key, value in row.items()}
            for row in frame.to_dict(orient="records")]


def column(name: str, frame: pd.DataFrame) -> Column:
    """The layout of a column of ``frame``; a column not listed keeps its name and gets its kind from its type."""
    if name in FIELDS:
        return FIELDS[name]
    if name.startswith("filtro_"):
        return Column(f"Filtro: {FILTER_TITLES.get(name[7:], name[7:])}", width=14)
    dtype = frame[name].dtype
    kind = "int" if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) else \
        "dec2" if pd.api.types.is_float_dtype(dtype) else "text"
    return Column(name, kind, max(10, len(name) + 2))


def _number(value, kind: str):
    """A figure with the page's places, as a Python int or float; text (a campaign's period) left as it is."""
    if isinstance(value, str):
        return int(value) if kind == "year" and value.isascii() and value.isdigit() else value
    exact = rounded(value, PLACES[kind])
    return int(exact) if PLACES[kind] == 0 else float(exact)


def _csv_cell(value, kind: str) -> str:
    if missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"  # as the published CSV
    if kind in PLACES and not isinstance(value, str):
        return f"{rounded(value, PLACES[kind]):f}"
    return neutralise_formula(str(value))


def _xlsx_cell(value, name: str, kind: str):
    if missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "sì" if value else "no"  # as the published workbook
    if kind in PLACES:
        value = _number(value, kind)
        return text_cell(value) if isinstance(value, str) else value
    return text_cell(READABLE[name](value) if name in READABLE else value)


def to_csv(frame: pd.DataFrame) -> bytes:
    kinds = [column(name, frame).kind for name in frame.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows([_csv_cell(value, kind) for value, kind in zip(record, kinds, strict=True)]
                     for record in frame.itertuples(index=False))
    return buffer.getvalue().encode("utf-8")


def to_workbook(frame: pd.DataFrame, sheet: str = "Dati", titles: dict[str, str] | None = None) -> bytes:
    titles = titles or {}
    columns = []
    for name in frame.columns:
        layout = column(name, frame)
        columns.append(Column(titles.get(name, layout.title), layout.kind, layout.width))
    specs = list(zip(frame.columns, [c.kind for c in columns], strict=True))
    rows = [[_xlsx_cell(value, *spec) for value, spec in zip(record, specs, strict=True)]
            for record in frame.itertuples(index=False)]
    return to_xlsx([Sheet(sheet, columns, rows)])


def table_download(frame: pd.DataFrame, name: str, fmt: str, sheet: str = "Dati",
                   titles: dict[str, str] | None = None):
    """``frame`` as the attachment ``name.fmt``: UTF-8 CSV with CRLF lines, or one XLSX sheet. ``titles`` overrides
    the XLSX heading of a column whose meaning depends on the table (what ``n`` or ``quota`` counts)."""
    if fmt not in FORMATS:
        abort(404)
    if fmt == "csv":
        return send_file(io.BytesIO(to_csv(frame)), mimetype="text/csv", as_attachment=True,
                         download_name=f"{name}.csv")
    return send_file(io.BytesIO(to_workbook(frame, sheet, titles)), as_attachment=True, download_name=f"{name}.xlsx",
                     mimetype=XLSX)
