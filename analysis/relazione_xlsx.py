"""The Nucleo di valutazione's report as a workbook (the PDF is relazione_pdf.py): Servizi, Standard, Andamento,
Azioni, Nota metodologica, from the same ``Report``."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .relazione import Report, ServiceReport
from .xlsx import text_cell

FORMATS = {"quota_soddisfatti": "[$-410]0.0", "media": "[$-410]0.00", "int": "0", "p": "[$-410]0.000",
           "date": "DD/MM/YYYY"}
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")


def _yes_no(value: bool) -> str:
    return "sì" if value else "no"


def _sheet(wb: Workbook, name: str, columns: list[tuple[str, float]], rows: list[list[Any]]) -> None:
    """A table sheet; a cell given as (number, format) gets that number format, text is neutralised."""
    ws = wb.create_sheet(name)
    ws.append([text_cell(title) for title, _ in columns])
    for index, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
        header = ws.cell(row=1, column=index)
        header.font, header.fill = HEADER_FONT, HEADER_FILL
        header.alignment = Alignment(wrap_text=True, vertical="center")
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            fmt = None
            if isinstance(value, tuple):
                value, fmt = value
            elif isinstance(value, date):
                fmt = FORMATS["date"]
            elif isinstance(value, str):
                value = text_cell(value) or None
            cell = ws.cell(row=r, column=c, value=value)
            if fmt:
                cell.number_format = fmt
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(value, str))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows), 1) + 1}"


def _where(svc: ServiceReport) -> list[Any]:
    return [svc.ente, svc.ufficio, svc.nome, svc.codice]


def service_rows(report: Report) -> list[list[Any]]:
    """Each service's figures, as published: the overall item, its interval, ICS, NPS, the margin of error."""
    pct, n = FORMATS["quota_soddisfatti"], FORMATS["int"]
    return [[*_where(svc), (svc.compilazioni, n), svc.domanda_complessiva, (svc.n, n), (svc.quota_soddisfatti, pct),
             (svc.ic95_inf, pct), (svc.ic95_sup, pct), (svc.ics, pct), (svc.nps, pct), (svc.margine_errore, pct)]
            for svc in report.services()]


def standard_rows(report: Report) -> list[list[Any]]:
    rows = []
    for svc in report.services():
        if not svc.standards:
            rows.append([*_where(svc), "nessuno standard nella carta dei servizi", *[None] * 8])
        for s in svc.standards:
            fmt = FORMATS[s.indicatore]
            rows.append([*_where(svc), s.testo, s.etichetta, s.domanda_codice or "nessuna risposta",
                         (s.soglia, fmt), (s.valore, fmt), (s.n, FORMATS["int"]), s.esito, s.domanda or None,
                         s.descrizione or None])
    return rows


def trend_rows(report: Report) -> list[list[Any]]:
    rows = []
    for svc in report.services():
        t = svc.trend
        rows.append([*_where(svc), (svc.compilazioni, FORMATS["int"]), svc.domanda_complessiva,
                     (svc.n, FORMATS["int"]), (svc.quota_soddisfatti, FORMATS["quota_soddisfatti"]),
                     *([(t.n_prec, FORMATS["int"]), (t.quota_prec, FORMATS["quota_soddisfatti"]),
                        (t.differenza, FORMATS["quota_soddisfatti"]), (t.p_value, FORMATS["p"]),
                        _yes_no(t.significativo)] if t else [None, None, None, None, "non confrontabile"])])
    return rows


def action_rows(report: Report) -> list[list[Any]]:
    return [[svc.ente, a.ufficio, svc.nome, svc.codice, a.titolo, a.descrizione, a.riferimento, a.data_inizio,
             a.data_scadenza, a.stato, a.esito] for svc in report.services() for a in svc.actions]


def to_xlsx(report: Report) -> bytes:
    """The report as a workbook: Servizi, Standard, Andamento, Azioni, Nota metodologica."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"Relazione al Nucleo di valutazione – anno {report.year}" + \
        (f" – {report.ente}" if report.ente else "")
    wb.properties.creator = "Piattaforma di customer satisfaction"
    where = [("Ente", 26), ("Ufficio", 30), ("Servizio", 34), ("Codice servizio", 22)]
    _sheet(wb, "Servizi", [*where, ("Questionari compilati", 13), ("Domanda complessiva", 12),
                           ("Risposte valide (n)", 11), ("Soddisfatti (%)", 12),
                           ("Intervallo di confidenza 95%: minimo", 14), ("Intervallo di confidenza 95%: massimo", 14),
                           ("Indice di customer satisfaction (0–100)", 14), ("Net Promoter Score", 12),
                           ("Margine di errore (± punti)", 12)], service_rows(report))
    _sheet(wb, "Standard", [*where, ("Standard della carta dei servizi", 30), ("Indicatore", 14),
                            ("Domanda valutata", 12), ("Valore obiettivo", 11), ("Valore rilevato", 11),
                            ("Risposte valide (n)", 11), ("Esito", 16), ("Testo della domanda", 50),
                            ("Lo standard nella carta dei servizi", 50)],
           standard_rows(report))
    prev = report.year - 1
    _sheet(wb, "Andamento", [*where, ("Questionari compilati", 13), ("Domanda complessiva", 12),
                             (f"Risposte {report.year} (n)", 12), (f"Soddisfatti {report.year} (%)", 12),
                             (f"Risposte {prev} (n)", 12), (f"Soddisfatti {prev} (%)", 12),
                             ("Differenza (punti percentuali)", 14), ("p-value", 10),
                             ("Differenza significativa", 16)], trend_rows(report))
    _sheet(wb, "Azioni", [("Ente", 26), ("Ufficio responsabile", 30), ("Servizio", 34), ("Codice servizio", 22),
                          ("Azione", 36), ("Descrizione", 60), ("Indicatore o standard di riferimento", 32),
                          ("Inizio", 12), ("Scadenza", 12), ("Stato", 13), ("Esito", 50)], action_rows(report))
    _sheet(wb, "Nota metodologica", [("Voce", 44), ("Descrizione", 110)], [list(row) for row in report.method])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
