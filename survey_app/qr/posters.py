"""QR codes and A4 posters for a service and its counters, as bytes (SVG, PNG, PDF).

Pure functions: the caller decides the base URL and what to do with the bytes.
The three poster formats share one layout (`poster_layout`), so a long service name wraps and pushes the code down
in the same way everywhere instead of running over the next line.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import segno
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from analysis.publish import ILLEGAL

# The poster is printed in Italian for the counter, whatever language the staff member downloading it uses.
CALL_TO_ACTION = "Valuta il servizio che hai appena ricevuto"

BORDER = 4  # the quiet zone around the code, in modules (the minimum the QR standard asks for)
# Titillium Web, copied from Bootstrap Italia by `make assets`; without it the posters fall back to built-in fonts.
FONTS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "bootstrap-italia" / "fonts"
REGULAR = FONTS / "titillium-web-v10-latin-ext_latin-regular.ttf"
BOLD = FONTS / "titillium-web-v10-latin-ext_latin-700.ttf"

PAGE_W, PAGE_H = 210.0, 297.0  # A4, millimetres
TEXT_W = 180.0  # widest line; leaves room for a viewer that substitutes a wider font in the SVG
QR_SIZE, QR_MIN_SIZE = 130.0, 90.0  # at least 9 cm so it scans from a step away
PT = 25.4 / 72  # millimetres per point
INK = "#1a1a1a"


def instructions(minutes: int | None) -> str:
    """The line under the call to action, with the questionnaire's estimated length (public/duration.py)."""
    if not minutes:
        return "Inquadra il codice QR con il telefono: la risposta è anonima."
    length = "circa 1 minuto" if minutes == 1 else f"circa {minutes} minuti"
    return f"Inquadra il codice QR con il telefono: {length}, la risposta è anonima."


@dataclass(frozen=True)
class Poster:
    ente: str
    servizio: str
    sede: str | None  # the counter's name
    url: str
    short_url: str
    minutes: int | None = None  # the questionnaire's estimated length; None leaves it unsaid

    @property
    def instructions(self) -> str:
        return instructions(self.minutes)

    @property
    def file_stem(self) -> str:
        tail = self.url.rsplit("/s/", 1)[-1]
        slug, _, query = tail.partition("?")
        sede = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("sede")
        return f"locandina-{slug}" + (f"-{sede}" if sede else "")


def poster_url(base_url: str, slug: str, sede: str | None = None) -> str:
    """The questionnaire's address as the QR code carries it: channel qr and, when given, the counter."""
    params = {"canale": "qr", **({"sede": sede} if sede else {})}
    return f"{base_url.rstrip('/')}/s/{quote(slug, safe='')}?{urlencode(params)}"


def short_url(base_url: str, slug: str) -> str:
    """The address to type, printed under the code: no scheme, no query."""
    return f"{base_url.rstrip('/').split('://', 1)[-1]}/s/{quote(slug, safe='')}"


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, scale: int = 10) -> bytes:
    """The bare code as a standalone SVG, for whoever lays out their own poster."""
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="svg", scale=scale, border=BORDER, title=url)
    return buffer.getvalue()


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


# --- layout, shared by the three formats ---------------------------------------------------------------------------

Measure = Callable[[str, float, bool], float]  # (text, size in points, bold) -> width in millimetres


@dataclass(frozen=True)
class Line:
    text: str
    baseline: float  # millimetres from the top
    size: float  # points
    bold: bool


@dataclass(frozen=True)
class Layout:
    lines: list[Line]
    qr_top: float
    qr_size: float

    @property
    def qr_left(self) -> float:
        return (PAGE_W - self.qr_size) / 2


def _wrap(text: str, size: float, bold: bool, measure: Measure) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and measure(f"{lines[-1]} {word}", size, bold) <= TEXT_W:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(text: str, size: float, min_size: float, max_lines: int, bold: bool,
         measure: Measure) -> tuple[float, list[str]]:
    """The largest size from `size` down to `min_size` at which the text takes at most `max_lines` lines."""
    while True:
        lines = _wrap(text, size, bold, measure)
        fits = len(lines) <= max_lines and all(measure(line, size, bold) <= TEXT_W for line in lines)
        if fits or size <= min_size:
            return size, lines
        size -= 1


def poster_layout(poster: Poster, measure: Measure) -> Layout:
    """Where each line and the code go on the page; text flows from the top and wraps, the code follows."""
    blocks = [(poster.ente, 20, 14, 2, False, 5.0), (poster.servizio, 30, 18, 2, True, 1.0)]
    if poster.sede:
        blocks.append((poster.sede, 22, 14, 2, False, 0.0))
    blocks += [(CALL_TO_ACTION, 28, 18, 1, True, 9.0), (poster.instructions, 15, 12, 1, False, 2.0)]
    lines: list[Line] = []
    y = 16.0
    for text, size, min_size, max_lines, bold, gap_before in blocks:
        y += gap_before
        size, wrapped = _fit(text, size, min_size, max_lines, bold, measure)
        for part in wrapped:
            lines.append(Line(part, y + 0.9 * size * PT, size, bold))
            y += 1.25 * size * PT
    # The code's own quiet zone already gives it room; a fixed top keeps short posters alike.
    qr_top = max(y + 4, 95.0)
    url_size, _ = _fit(poster.short_url, 26, 12, 1, True, measure)
    url_height = 1.25 * url_size * PT
    qr_size = max(QR_MIN_SIZE, min(QR_SIZE, PAGE_H - 15 - url_height - qr_top))
    lines.append(Line(poster.short_url, qr_top + qr_size + 0.9 * url_size * PT, url_size, True))
    return Layout(lines, qr_top, qr_size)


# --- fonts for Pillow (PNG, and measuring for the SVG) -------------------------------------------------------------

def _have_fonts() -> bool:
    return REGULAR.exists() and BOLD.exists()


@functools.lru_cache(maxsize=64)
def _pil_font(path: str | None, px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font (>= 10.1) needs no system fonts, but covers ASCII only: see _bundled_text.
    return ImageFont.truetype(path, px) if path else ImageFont.load_default(size=px)


def _font_for(bold: bool, px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return _pil_font(str(BOLD if bold else REGULAR) if _have_fonts() else None, px)


def _bundled_text(text: str) -> str:
    """For Pillow's ASCII-only bundled font: è becomes e' as on an Italian typewriter, other marks are dropped."""
    if _have_fonts():
        return text
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        parts = unicodedata.normalize("NFD", ch)
        base = "".join(c for c in parts if not unicodedata.combining(c))
        if base.isascii() and base:
            out.append(base + ("'" if any(c in "\u0300\u0301" for c in parts) else ""))
        else:
            out.append({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}.get(ch, "?"))
    return "".join(out)


def _pil_measure(text: str, size: float, bold: bool) -> float:
    ref = 200  # measure at a large pixel size and scale, so hinting barely matters
    return _font_for(bold, ref).getlength(_bundled_text(text)) / ref * size * PT


# --- the three formats ---------------------------------------------------------------------------------------------

def _svg_text(text: str) -> str:
    """Text for the SVG: escaped, and without the control characters XML does not allow (a name saved with one
    before the catalogue refused them made the poster unreadable)."""
    return escape(text.translate(ILLEGAL))


def poster_svg(poster: Poster) -> bytes:
    """An A4 poster (millimetres) with the texts as real text and the code as a vector path."""
    layout = poster_layout(poster, _pil_measure)
    path, side = qr_path(poster.url)
    body = "".join(
        f'<text x="{PAGE_W / 2:g}" y="{line.baseline:.2f}" font-size="{line.size * PT:.2f}" '
        f'font-weight="{"bold" if line.bold else "normal"}" text-anchor="middle">{_svg_text(line.text)}</text>'
        for line in layout.lines)
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W:g}mm" height="{PAGE_H:g}mm" '
        f'viewBox="0 0 {PAGE_W:g} {PAGE_H:g}" font-family="Titillium Web, Helvetica, Arial, sans-serif" '
        f'fill="{INK}" xml:lang="it">'
        f'<title>{escape(CALL_TO_ACTION)}: {_svg_text(poster.servizio)}</title>'
        f'<rect width="{PAGE_W:g}" height="{PAGE_H:g}" fill="#fff"/>'
        f"{body}"
        f'<svg x="{layout.qr_left:.2f}" y="{layout.qr_top:.2f}" width="{layout.qr_size:.2f}" '
        f'height="{layout.qr_size:.2f}" viewBox="0 0 {side} {side}">'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path d="{path}" fill="#000" shape-rendering="crispEdges"/></svg>'
        "</svg>"
    )
    return svg.encode("utf-8")


def poster_png(poster: Poster, dpi: int = 150) -> bytes:
    """The A4 poster as an image, for printing services that want one."""
    px_per_mm = dpi / 25.4
    width, height = round(PAGE_W * px_per_mm), round(PAGE_H * px_per_mm)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    layout = poster_layout(poster, _pil_measure)
    for line in layout.lines:
        font = _font_for(line.bold, round(line.size * PT * px_per_mm))
        draw.text((width / 2, line.baseline * px_per_mm), _bundled_text(line.text), font=font, fill=INK,
                  anchor="ms")
    # Whole pixels per module keep every module the same size, so the code stays sharp.
    side = round(layout.qr_size * px_per_mm)
    modules = qr_code(poster.url).symbol_size(scale=1, border=BORDER)[0]
    scale = side // modules
    with Image.open(io.BytesIO(qr_png(poster.url, scale=scale))) as code:
        code_rgb = code.convert("RGB")
    image.paste(code_rgb, ((width - code_rgb.width) // 2,
                           round(layout.qr_top * px_per_mm) + (side - code_rgb.height) // 2))
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
    pdf.set_lang("it")
    family, clean = "Helvetica", _latin1
    if _have_fonts():
        pdf.add_font("Titillium", "", str(REGULAR))
        pdf.add_font("Titillium", "B", str(BOLD))
        family, clean = "Titillium", str
    pdf.set_title(CALL_TO_ACTION)
    pdf.set_creator("survey_app")

    def measure(text: str, size: float, bold: bool) -> float:
        pdf.set_font(family, "B" if bold else "", size)
        return pdf.get_string_width(clean(text))

    for poster in posters:
        pdf.add_page()
        pdf.set_text_color(26, 26, 26)
        layout = poster_layout(poster, measure)
        for line in layout.lines:
            pdf.text((PAGE_W - measure(line.text, line.size, line.bold)) / 2, line.baseline, clean(line.text))
        pdf.image(io.BytesIO(qr_png(poster.url, scale=10)), x=layout.qr_left, y=layout.qr_top,
                  w=layout.qr_size, h=layout.qr_size)
    return bytes(pdf.output())


WRITERS: dict[str, tuple[str, Callable[[Poster], bytes]]] = {
    ".svg": ("image/svg+xml", poster_svg),
    ".png": ("image/png", poster_png),
    ".pdf": ("application/pdf", lambda p: poster_pdf([p])),
}
