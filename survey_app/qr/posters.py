"""QR codes and A4 posters for a service and its counters, as bytes (SVG, PNG, PDF).

Pure functions: the caller decides the base URL and what to do with the bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import segno
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

CALL_TO_ACTION = "Valuta il servizio che hai appena ricevuto"
INSTRUCTIONS = "Inquadra il codice QR con il telefono: bastano 30 secondi, la risposta è anonima."
BORDER = 4  # the quiet zone around the code, in modules
# Titillium Web, copied from Bootstrap Italia by `make assets`; without it the posters fall back to built-in fonts.
FONTS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "bootstrap-italia" / "fonts"
REGULAR = FONTS / "titillium-web-v10-latin-ext_latin-regular.ttf"
BOLD = FONTS / "titillium-web-v10-latin-ext_latin-700.ttf"


@dataclass(frozen=True)
class Poster:
    ente: str
    servizio: str
    sede: str | None  # the counter's name
    url: str
    short_url: str

    @property
    def file_stem(self) -> str:
        tail = self.url.rsplit("/s/", 1)[-1]
        slug, _, query = tail.partition("?")
        sede = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("sede")
        return f"locandina-{slug}" + (f"-{sede}" if sede else "")


def poster_url(base_url: str, slug: str, sede: str | None = None) -> str:
    """The questionnaire's address as the QR code carries it: channel qr and, when given, the counter."""
    params = {"canale": "qr", **({"sede": sede} if sede else {})}
    return f"{base_url.rstrip('/')}/s/{slug}?{urlencode(params)}"


def short_url(base_url: str, slug: str) -> str:
    """The address to type, printed under the code: no scheme, no query."""
    return f"{base_url.rstrip('/').split('://', 1)[-1]}/s/{slug}"


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_png(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=BORDER)
    return buffer.getvalue()


def qr_path(url: str) -> tuple[str, int]:
    """An SVG path drawing the dark modules (one run per row segment) and the symbol's side with its border."""
    matrix = [list(row) for row in qr_code(url).matrix]
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start + BORDER} {y + BORDER}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(parts), len(matrix) + 2 * BORDER


def _lines(poster: Poster) -> list[str]:
    return [poster.servizio] + ([poster.sede] if poster.sede else [])


def poster_svg(poster: Poster) -> bytes:
    """An A4 poster (millimetres) with the texts as real text and the code as a vector path."""
    path, side = qr_path(poster.url)
    size = 120
    x = (210 - size) / 2
    texts = [
        (25, 9, "normal", poster.ente),
        (45, 12, "bold", poster.servizio),
    ]
    if poster.sede:
        texts.append((56, 9, "normal", poster.sede))
    texts += [(78, 13, "bold", CALL_TO_ACTION), (90, 6.5, "normal", INSTRUCTIONS),
              (100 + size + 16, 11, "bold", poster.short_url)]
    body = "".join(
        f'<text x="105" y="{y}" font-size="{s}" font-weight="{w}" text-anchor="middle">{escape(t)}</text>'
        for y, s, w, t in texts)
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297" '
        'font-family="Titillium Web, Helvetica, Arial, sans-serif" fill="#1a1a1a">'
        f'<title>{escape(CALL_TO_ACTION)}: {escape(poster.servizio)}</title>'
        '<rect width="210" height="297" fill="#fff"/>'
        f"{body}"
        f'<svg x="{x}" y="100" width="{size}" height="{size}" viewBox="0 0 {side} {side}">'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
        "</svg>"
    )
    return svg.encode("utf-8")


def poster_png(poster: Poster, dpi: int = 150) -> bytes:
    """The A4 poster as an image, for printing services that want one."""
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def centred(y_mm: float, size_pt: float, text: str, bold: bool = False) -> None:
        size = round(size_pt / 72 * dpi)
        while True:  # shrink long texts to the printable width
            path = BOLD if bold else REGULAR
            font = ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size=size)
            if draw.textlength(text, font=font) <= width * 0.9 or size <= 10:
                break
            size -= 2
        draw.text((width / 2, y_mm / 25.4 * dpi), text, font=font, fill="#1a1a1a", anchor="ms")

    centred(25, 20, poster.ente)
    centred(45, 30, poster.servizio, bold=True)
    if poster.sede:
        centred(56, 20, poster.sede)
    centred(78, 30, CALL_TO_ACTION, bold=True)
    centred(90, 13, INSTRUCTIONS)
    code = Image.open(io.BytesIO(qr_png(poster.url, scale=1))).convert("RGB")
    side = round(120 / 25.4 * dpi)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    image.paste(code, ((width - side) // 2, round(100 / 25.4 * dpi)))
    centred(100 + 120 + 16, 26, poster.short_url, bold=True)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def _latin1(text: str) -> str:
    """PDF core fonts speak latin-1: typographic quotes become plain ones, anything else a '?'."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-")
    return text.encode("latin-1", "replace").decode("latin-1")


def poster_pdf(posters: list[Poster]) -> bytes:
    """One A4 page per poster."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    family, text = "Helvetica", _latin1
    if REGULAR.exists() and BOLD.exists():
        pdf.add_font("Titillium", "", str(REGULAR))
        pdf.add_font("Titillium", "B", str(BOLD))
        family, text = "Titillium", str
    pdf.set_title(CALL_TO_ACTION)
    for poster in posters:
        pdf.add_page()
        pdf.set_text_color(26, 26, 26)
        rows = [(16, 20, "", poster.ente), (34, 28, "B", poster.servizio)]
        if poster.sede:
            rows.append((48, 18, "", poster.sede))
        rows += [(66, 26, "B", CALL_TO_ACTION), (82, 13, "", INSTRUCTIONS)]
        for y, size, style, line in rows:
            pdf.set_font(family, style, size)
            pdf.set_xy(10, y)
            pdf.multi_cell(190, size * 0.45, text(line), align="C")
        pdf.image(io.BytesIO(qr_png(poster.url, scale=10)), x=45, y=100, w=120, h=120)
        size = 24
        pdf.set_font(family, "B", size)
        while pdf.get_string_width(text(poster.short_url)) > 185 and size > 10:
            size -= 1
            pdf.set_font(family, "B", size)
        pdf.set_xy(10, 228)
        pdf.cell(190, 12, text(poster.short_url), align="C")
    return bytes(pdf.output())


WRITERS = {".svg": ("image/svg+xml", lambda p: poster_svg(p)), ".png": ("image/png", lambda p: poster_png(p)),
           ".pdf": ("application/pdf", lambda p: poster_pdf([p]))}
