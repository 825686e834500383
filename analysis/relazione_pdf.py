"""The Nucleo di valutazione's annual report as a printable A4 PDF (fpdf2).

Charts are drawn with plain rectangles and lines rather than embedded images, so they stay sharp in print
and weigh nothing. Colours follow the Okabe–Ito palette (readable with colour-vision deficiencies) and every
bar also carries its value as black text, so the report still reads when printed in black and white.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from .engine import NON_VALUTABILE
from .indicators import NON_RAGGIUNTO, RAGGIUNTO
from .publication import period_of
from .relazione import Report, ServiceReport

# Titillium Web (the Italian PA typeface), copied from Bootstrap Italia by `make assets`; this module must not
# import survey_app, so the path is computed from the repository layout.
FONTS = Path(__file__).resolve().parent.parent / "survey_app" / "static" / "vendor" / "bootstrap-italia" / "fonts"
REGULAR = FONTS / "titillium-web-v10-latin-ext_latin-regular.ttf"
BOLD = FONTS / "titillium-web-v10-latin-ext_latin-700.ttf"

# Okabe & Ito (2008): bluish green, vermillion, sky blue, blue.
COLOURS = {RAGGIUNTO: (0, 158, 115), NON_RAGGIUNTO: (213, 94, 0), NON_VALUTABILE: (86, 180, 233)}
BAR = (0, 114, 178)
TRACK = (235, 235, 235)
HEADING_FILL = (225, 225, 225)
LABELS = {RAGGIUNTO: "Standard raggiunti", NON_RAGGIUNTO: "Standard non raggiunti",
          NON_VALUTABILE: "Standard non valutabili"}
# Characters neither font has (Titillium lacks ≥ and √; the core fonts speak latin-1 only): ≥ in words, as the
# report's own standards are written ("almeno 80%"), also where a label comes from elsewhere (an action's indicator).
REPLACEMENTS = {"≥": "almeno", "≤": "al massimo", "√": "radice di ", "–": "-", "—": "-", "−": "-", "’": "'", "‘": "'",
                "“": '"', "”": '"', "…": "...", "€": "EUR", "\u2009": " ", "\u202f": " "}
MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
          "ottobre", "novembre", "dicembre")
WIDTH = 180.0  # A4 minus 15 mm margins
LABEL_LINE = 3.5  # a chart label's line height (mm)
BODY, SMALL = 10.0, 9.0  # points: nothing smaller than 9 pt, so it reads printed


def it_number(value: float, digits: int) -> str:
    """1234.5 -> '1.234,5'."""
    return f"{value:,.{digits}f}".replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def it_p(value: float) -> str:
    return "< 0,001" if value < 0.001 else it_number(value, 3)


def it_date(value: date) -> str:
    """"24 novembre 2026"; the first of a month as Italian writes it, "1° dicembre 2026"."""
    return f"{'1°' if value.day == 1 else value.day} {MONTHS[value.month - 1]} {value.year}"


def _cleaner(glyphs: set[int]) -> Callable[[str], str]:
    """Text the font can draw: a known replacement, else the letter without its accent, else '?'."""

    def clean(text: str) -> str:
        out = []
        for ch in text:
            if ord(ch) in glyphs or ch == "\n":
                out.append(ch)
            elif ch in REPLACEMENTS:
                out.append(REPLACEMENTS[ch])
            else:
                base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
                out.append(base if base and all(ord(c) in glyphs for c in base) else "?")
        return "".join(out)

    return clean


class _PDF(FPDF):
    family_name = "Helvetica"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", SMALL)
        self.set_text_color(0)
        # {nb} is replaced by the page count when the document is closed.
        self.cell(0, 5, f"Pagina {self.page_no()} di {{nb}}", align="C")


class _Writer:
    def __init__(self, report: Report):
        self.report = report
        pdf = _PDF(format="A4", unit="mm")
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, margin=18)
        pdf.set_lang("it")
        if REGULAR.exists() and BOLD.exists():
            pdf.add_font("Titillium", "", str(REGULAR))
            pdf.add_font("Titillium", "B", str(BOLD))
            pdf.family_name = "Titillium"
            glyphs = set(pdf.fonts["titillium"].cmap) & set(pdf.fonts["titilliumB"].cmap)
        else:
            glyphs = set(range(32, 256)) - set(range(127, 160))
        self.clean = _cleaner(glyphs)
        self.pdf = pdf
        pdf.set_title(self.clean(self.title))
        pdf.set_creator("Piattaforma di customer satisfaction")

    @property
    def title(self) -> str:
        return f"Relazione al Nucleo di valutazione – soddisfazione degli utenti, anno {self.report.year}"

    # --- text helpers ---------------------------------------------------------------------------------------------

    def font(self, size: float = BODY, bold: bool = False) -> None:
        self.pdf.set_font(self.pdf.family_name, "B" if bold else "", size)
        self.pdf.set_text_color(0)

    def para(self, text: str, size: float = BODY, bold: bool = False, height: float = 5.0, align: str = "J") -> None:
        self.font(size, bold)
        self.pdf.multi_cell(0, height, self.clean(text), new_x="LMARGIN", new_y="NEXT", align=align)

    def heading(self, text: str, size: float, space: float = 40) -> None:
        # Keep a heading with what follows it rather than alone at the foot of a page.
        if self.pdf.will_page_break(space):
            self.pdf.add_page()
        self.pdf.ln(2)
        self.para(text, size, bold=True, height=size * 0.5, align="L")  # a heading is never justified
        self.pdf.ln(1)

    def table(self, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
              align: Sequence[str]) -> None:
        self.font(SMALL + 0.5)
        # Tables draw with the current fill, line width and colour: reset what the charts left behind.
        self.pdf.set_fill_color(255, 255, 255)
        self.pdf.set_draw_color(0, 0, 0)
        self.pdf.set_line_width(0.2)
        style = FontFace(emphasis="BOLD", color=(0, 0, 0), fill_color=HEADING_FILL)
        with self.pdf.table(col_widths=tuple(widths), width=sum(widths), align="LEFT", text_align=tuple(align),
                            headings_style=style, line_height=5, padding=1) as table:
            for values in [headings, *rows]:
                row = table.row()
                for value in values:
                    row.cell(self.clean(value))
        self.pdf.ln(2)

    # --- charts ---------------------------------------------------------------------------------------------------

    def bar_row(self, label: str, fraction: float | None, colour: tuple[int, int, int], value: str,
                marker: float | None = None, label_w: float = 55, bar_w: float = 62) -> None:
        """One labelled bar on a light track, its value as text, and optionally a black marker line. A label too
        long for its column goes on two lines (a third is shortened), never cut mid-word."""
        pdf = self.pdf
        self.font(SMALL)
        lines = pdf.multi_cell(label_w - 2, LABEL_LINE, self.clean(label), dry_run=True, output="LINES")
        if len(lines) > 2:
            lines = [lines[0], self._shortened(" ".join(lines[1:]), label_w - 2)]
        h = max(6.0, LABEL_LINE * len(lines) + 1.5)
        if pdf.will_page_break(h):  # rectangles do not trigger the automatic page break: do it by hand
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y + (h - LABEL_LINE * len(lines)) / 2)
        for line in lines:
            pdf.cell(label_w, LABEL_LINE, line, new_x="LMARGIN", new_y="NEXT")
        y += (h - 6.0) / 2  # the bar and its value centred on the label
        left = x + label_w
        pdf.set_fill_color(*TRACK)
        pdf.set_draw_color(150, 150, 150)
        pdf.set_line_width(0.2)
        pdf.rect(left, y + 1, bar_w, 4.0, style="DF")
        if fraction:
            pdf.set_fill_color(*colour)
            pdf.rect(left, y + 1, bar_w * min(fraction, 1.0), 4.0, style="F")
        if marker is not None:
            pdf.set_draw_color(0, 0, 0)
            pdf.set_line_width(0.8)
            pdf.line(left + bar_w * marker, y, left + bar_w * marker, y + 6.0)
        pdf.set_line_width(0.2)
        pdf.set_xy(left + bar_w + 2, y)
        pdf.cell(WIDTH - label_w - bar_w - 2, 6.0, self.clean(value))
        pdf.set_xy(x, y - (h - 6.0) / 2 + h)

    def _shortened(self, text: str, width: float) -> str:
        while self.pdf.get_string_width(self.clean(text + "…")) > width and " " in text:
            text = text.rsplit(" ", 1)[0]
        return self.clean(text + "…")

    def service_chart(self, services: list[ServiceReport]) -> None:
        if self.pdf.will_page_break(6.0 * len(services) + 14):
            self.pdf.add_page()
        for svc in services:
            target = svc.chart_standard()
            if svc.quota_soddisfatti is not None:
                value = f"{it_number(svc.quota_soddisfatti, 1)}% (n = {svc.n})"
            else:
                value = f"non mostrato (n = {svc.n})" if svc.n else "nessuna risposta"
            if target is not None:
                value += f"; standard almeno {it_number(target, 0 if target == int(target) else 1)}%"
            quota = None if svc.quota_soddisfatti is None else svc.quota_soddisfatti / 100
            self.bar_row(svc.nome, quota, BAR, value, None if target is None else target / 100)
        self.pdf.ln(1)
        self.para("Barre: % di soddisfatti alla domanda complessiva (scala 0–100%); linea nera verticale: "
                  "standard della carta dei servizi.", SMALL, height=4.5)
        self.pdf.ln(2)

    # --- sections -------------------------------------------------------------------------------------------------

    def cover(self) -> None:
        pdf = self.pdf
        pdf.add_page()
        pdf.ln(10)
        if self.report.ente:  # one ente's report, for its own Nucleo
            self.para(self.report.ente, 14, bold=True, height=8)
            pdf.ln(1)
        self.para(self.title, 18, bold=True, height=9)
        pdf.ln(3)
        self.para(f"Redatta il {it_date(self.report.generated)}")
        period = self.report.period or period_of(self.report.year)
        self.para(f"Periodo delle risposte: dal 1° gennaio al {it_date(date.fromisoformat(period['fine']))}"
                  + (" (anno in corso: dati parziali)" if period["parziale"] else ""))
        pdf.ln(2)
        self.para(self.report.publication)
        pdf.ln(2)

    def summary(self) -> None:
        report, totals = self.report, self.report.totals
        services = report.services()
        self.heading("Sintesi", 14)
        answered = sum(1 for s in services if s.compilazioni)
        self.para(f"Servizi del catalogo: {len(services)}, di cui con risposte nell'anno: {answered}. "
                  f"Questionari compilati: {it_number(sum(s.compilazioni for s in services), 0)}. "
                  f"Standard della carta dei servizi esaminati: {sum(totals.values())}.")
        self.pdf.ln(2)
        biggest = max(totals.values()) or 1
        for esito, count in totals.items():
            self.bar_row(LABELS[esito], count / biggest, COLOURS[esito], str(count), label_w=50)
        self.pdf.ln(3)
        missed = [s.nome for s in services if any(x.esito == NON_RAGGIUNTO for x in s.standards)]
        if missed:
            self.para("Servizi con almeno uno standard non raggiunto: " + ", ".join(missed) + ".")

    def service(self, svc: ServiceReport) -> None:
        """A service's section, kept on one page when it fits: rehearsed first, it starts a new page rather than
        leave its trend table or its actions alone at the top of the next (FPDF's offset rendering)."""
        real = self.pdf
        with real.offset_rendering() as rehearsal:
            self.pdf = rehearsal
            try:
                self._service(svc)
            finally:
                self.pdf = real
        if rehearsal.page_break_triggered and real.get_y() > real.t_margin + 60:  # not already near a page's top
            real.add_page()
        self._service(svc)

    def _service(self, svc: ServiceReport) -> None:
        year = self.report.year
        self.heading(f"Servizio: {svc.nome}", 12)
        overall = f" ({svc.domanda_complessiva})" if svc.domanda_complessiva else ""
        if svc.quota_soddisfatti is not None:
            quota = f"soddisfatti {it_number(svc.quota_soddisfatti, 1)}%"
        else:
            quota = f"dato non mostrato (meno di {self.report.threshold} risposte)" if svc.n else "nessuna risposta"
        if svc.quota_soddisfatti is not None and svc.ic95_inf is not None:
            quota += f" (intervallo di confidenza al 95%: {it_number(svc.ic95_inf, 1)}–{it_number(svc.ic95_sup, 1)}%)"
        others = [f"{label} {value}" for label, value in (
            ("Indice di customer satisfaction (ICS, 0–100)", svc.ics is not None and it_number(svc.ics, 1)),
            ("Net Promoter Score", svc.nps is not None and it_number(svc.nps, 1)),
            ("Margine di errore ±", svc.margine_errore is not None and f"{it_number(svc.margine_errore, 1)} punti"))
            if value]
        self.para(f"Questionari compilati: {it_number(svc.compilazioni, 0)}. Domanda complessiva{overall}: "
                  f"{svc.n} risposte valide, {quota}." + (f" {'; '.join(others)}." if others else ""))
        self.pdf.ln(1)
        if svc.standards:
            rows = [[s.etichetta, s.domanda_codice or "–",
                     f"almeno {self.std_value(s.indicatore, s.soglia)}" + (" (ogni domanda)" if s.generale else ""),
                     "–" if s.valore is None else self.std_value(s.indicatore, s.valore), str(s.n), s.esito]
                    for s in svc.standards]
            self.table(["Indicatore", "Domanda", "Standard", "Valore", "Risposte (n)", "Esito"], rows,
                       (26, 17, 44, 20, 23, 50), ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"))
            # What the codes stand for: the questions' texts and the carta's own words for its standards.
            asked = dict.fromkeys(f"{s.domanda_codice} «{s.domanda}»" for s in svc.standards if s.domanda)
            worded = dict.fromkeys(f"«{s.descrizione}»" for s in svc.standards if s.descrizione)
            if asked:
                self.para("Domande valutate: " + "; ".join(asked) + ".", SMALL, height=4.5)
            if worded:
                self.para("Nella carta dei servizi: " + "; ".join(worded) + ".", SMALL, height=4.5)
        else:
            self.para("Nessuno standard nella carta dei servizi.")
        t = svc.trend
        if t is None:
            self.para(f"Andamento rispetto al {year - 1}: non confrontabile (meno di {self.report.threshold} "
                      "risposte o nessuna risposta in uno dei due anni).")
        else:
            self.keep_with_next(20)
            self.para(f"Andamento della domanda complessiva rispetto al {t.anno_prec}:", bold=True)
            sign = "+" if t.differenza > 0 else ""
            self.table([f"Soddisfatti {t.anno_prec}", f"Soddisfatti {year}", "Differenza (punti)", "p-value",
                        "Significativa"],
                       [[f"{it_number(t.quota_prec, 1)}% (n = {t.n_prec})", f"{it_number(t.quota, 1)}% (n = {t.n})",
                         sign + it_number(t.differenza, 1), it_p(t.p_value), "sì" if t.significativo else "no"]],
                       (40, 40, 34, 30, 36), ("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"))
        if svc.actions:
            self.keep_with_next(25)
            self.para(f"Azioni di miglioramento {year}:", bold=True)
            rows = [[a.titolo, a.riferimento, f"{a.data_inizio:%d/%m/%Y} – {a.data_scadenza:%d/%m/%Y}", a.stato,
                     a.esito or "–"] for a in svc.actions]
            self.table(["Azione", "Riferimento", "Periodo", "Stato", "Esito"], rows, (48, 36, 34, 22, 40),
                       ("LEFT",) * 5)
        else:
            self.para(f"Nessuna azione di miglioramento attiva nel {year}.")

    def keep_with_next(self, height: float) -> None:
        """A table's caption never ends a page with its table on the next."""
        if self.pdf.will_page_break(height):
            self.pdf.add_page()

    @staticmethod
    def std_value(indicatore: str, value: float) -> str:
        return it_number(value, 1) + "%" if indicatore == "quota_soddisfatti" else it_number(value, 2)

    def offices(self) -> None:
        self.pdf.add_page()
        for index, office in enumerate(self.report.offices):
            # Offices follow one another (a page each would print mostly blank sheets); a new one that would
            # start at the foot of a page starts on the next.
            if index and self.pdf.will_page_break(70):
                self.pdf.add_page()
            elif index:
                self.pdf.ln(8)
            self.para(office.ente, BODY)
            self.para(f"Ufficio: {office.ufficio}", 14, bold=True, height=7)
            self.pdf.ln(2)
            self.service_chart(office.services)
            for svc in office.services:
                self.service(svc)

    def method(self) -> None:
        self.pdf.add_page()
        self.heading("Nota metodologica", 14)
        for voce, testo in self.report.method:
            if self.pdf.will_page_break(12):
                self.pdf.add_page()
            self.para(voce, BODY, bold=True)
            self.para(testo, BODY)
            self.pdf.ln(1.5)

    def output(self) -> bytes:
        self.cover()
        self.summary()
        self.offices()
        self.method()
        return bytes(self.pdf.output())


def to_pdf(report: Report) -> bytes:
    """The report as A4 PDF bytes: cover and summary, one section per ufficio, the methodology."""
    return _Writer(report).output()
