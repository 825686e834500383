"""The published forms of the question table: CSV text and JSON records."""

from __future__ import annotations

import io
import json
import re

import pandas as pd

from .indicators import QUESTION_COLUMNS

DECIMALS = {"media": 2, "quota_soddisfatti": 1, "ic95_inf": 1, "ic95_sup": 1}
TEXT_COLUMNS = ("ente", "ufficio", "servizio_codice", "servizio", "domanda_codice", "domanda", "dimensione", "tipo",
                "standard", "esito_standard")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters other than tab and line breaks: no published text holds one (a name saved with one before the
# catalogue refused them went into the CSV while the same version's workbooks dropped it).
ILLEGAL = {c: None for c in range(32) if c not in (9, 10, 13)}
# What a person may not type (the catalogue, the staff forms): those, DEL and the C1 controls, pasted from a word
# processor (Word's Shift+Enter is a vertical tab).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def neutralise_formula(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: publish such text as text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """Strings as published: dot decimals with fixed places, empty for missing, true/false."""
    out = table[QUESTION_COLUMNS].copy()
    for name, digits in DECIMALS.items():
        out[name] = [("" if pd.isna(v) else f"{v:.{digits}f}") for v in table[name]]
    for name in ("scala_min", "scala_max"):
        out[name] = ["" if pd.isna(v) else str(int(v)) for v in table[name]]
    out["soppresso"] = ["true" if v else "false" for v in table["soppresso"]]
    for name in TEXT_COLUMNS:
        out[name] = [neutralise_formula("" if pd.isna(v) else str(v).translate(ILLEGAL)) for v in table[name]]
    return out


def to_csv(table: pd.DataFrame) -> str:
    buffer = io.StringIO()
    formatted(table).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def to_records(table: pd.DataFrame) -> list[dict]:
    records = []
    for row in table[QUESTION_COLUMNS].to_dict(orient="records"):
        records.append({k: (None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in row.items()})
    return records


def to_json(table: pd.DataFrame) -> str:
    return json.dumps(to_records(table), ensure_ascii=False, indent=2, default=_plain)


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value))
