"""Each chart of a service page as a table of the values it draws: the chart's text alternative (WCAG 1.1.1), read
by a screen reader and by anyone who wants the figures rather than the picture."""

from __future__ import annotations

import pandas as pd
from flask_babel import lazy_gettext as _l

from ..transparency.formatting import number

# Each chart's columns: (frame column, heading, decimals; None for text).
COLUMNS = {
    "distribuzione": [("domanda", _l("Domanda"), None), ("valore", _l("Valore"), None), ("n", _l("Risposte"), 0)],
    "faccine": [("faccia", _l("Faccina"), None), ("n", _l("Risposte"), 0)],
    "andamento": [("periodo", _l("Periodo"), None), ("quota", _l("% soddisfatti"), 1),
                  ("ic95_inf", _l("IC 95% minimo"), 1), ("ic95_sup", _l("IC 95% massimo"), 1),
                  ("n", _l("Risposte"), 0), ("standard_quota", _l("Standard (%)"), 1)],
    "quadranti": [("domanda", _l("Domanda"), None), ("importanza", _l("Importanza media"), 2),
                  ("soddisfazione", _l("Soddisfazione media"), 2), ("n", _l("Risposte"), 0)],
    "motivi": [("motivo", _l("Motivo"), None), ("n", _l("Scelte"), 0)],
    "scelte": [("motivo", _l("Risposta"), None), ("n", _l("Scelte"), 0)],
}


def chart_table(key: str, frame: pd.DataFrame) -> dict:
    """The headings and the rows, as the page shows them (a suppressed figure as a dash)."""
    columns = [c for c in COLUMNS["scelte" if key.startswith("scelte-") else key] if c[0] in frame.columns]
    rows = [[_cell(record[name], digits) for name, _heading, digits in columns]
            for record in frame.to_dict(orient="records")]
    return {"headings": [str(heading) for _name, heading, _digits in columns], "rows": rows}


def _cell(value, digits: int | None) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return str(value) if digits is None else number(value, digits)
