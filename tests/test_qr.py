"""QR posters: the three formats read back with real readers (pypdf, Pillow, ElementTree), the code in each one
compared module by module with segno's matrix for the expected URL, the CLI's errors, and staff downloads in scope."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
import segno
from PIL import Image
from pypdf import PdfReader

from survey_app.qr import posters
from survey_app.qr.posters import (
    CALL_TO_ACTION,
    PT,
    QR_MIN_SIZE,
    TEXT_W,
    Poster,
    poster_layout,
    poster_pdf,
    poster_png,
    poster_svg,
    poster_url,
    qr_path,
    qr_png,
    qr_svg,
    short_url,
)

from .helpers import login

BASE = "https://www.comune.example.it"
SVG = "{http://www.w3.org/2000/svg}"
A4_150_DPI = (1240, 1754)


@pytest.fixture
def configured(app, catalogue):
    app.config["PUBLIC_BASE_URL"] = BASE
    return catalogue


def expected_matrix(url: str) -> np.ndarray:
    """The modules a reader must find for `url`: the same encoder, the same error correction."""
    return np.array([list(row) for row in segno.make(url, error="m").matrix], dtype=bool)


def modules_in(image: Image.Image, left: float, top: float, module: float, count: int) -> np.ndarray:
    """Dark/light at the centre of each module of a `count`-module symbol whose top-left corner is at (left, top)."""
    dark = np.asarray(image.convert("L")) < 128
    centres = [int(i * module + module / 2) for i in range(count)]
    return np.array([[dark[round(top) + y, round(left) + x] for x in centres] for y in centres])


def longest_dark_runs(dark: np.ndarray) -> np.ndarray:
    """For each row of a boolean image, the longest horizontal run of dark pixels."""
    best = np.zeros(dark.shape[0], dtype=int)
    current = np.zeros(dark.shape[0], dtype=int)
    for column in dark.T:
        current = (current + 1) * column
        best = np.maximum(best, current)
    return best


def qr_in_poster_png(image: Image.Image, modules: int) -> np.ndarray:
    """Find the symbol by its finder patterns (the only dark runs that long) and read its modules."""
    dark = np.asarray(image.convert("L")) < 128
    rows = np.flatnonzero(longest_dark_runs(dark) >= 70)
    cols = np.flatnonzero(longest_dark_runs(dark.T) >= 70)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    module = (bottom - top + 1) / modules
    assert (right - left + 1) / modules == pytest.approx(module, abs=0.01)  # square
    return modules_in(image, left, top, module, modules)


def matrix_from_path(path: str, side: int) -> np.ndarray:
    """Undo qr_path: every "M x y h w v1 h-w z" is a run of dark modules."""
    grid = np.zeros((side, side), dtype=bool)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        grid[int(y), int(x):int(x) + int(w)] = True
    return grid


def svg_texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def svg_code(root: ET.Element) -> np.ndarray:
    nested = root.find(f"{SVG}svg")
    side = int(nested.get("viewBox").split()[2])
    border = posters.BORDER
    return matrix_from_path(nested.find(f"{SVG}path").get("d"), side)[border:-border, border:-border]


def pdf_code(page) -> tuple[np.ndarray, float]:
    """The embedded code image read back as modules, and its printed width in millimetres."""
    (embedded,) = page.images
    image = embedded.image
    side = image.width // 10  # qr_png at scale 10
    border = posters.BORDER
    read = modules_in(image, 0, 0, 10, side)[border:-border, border:-border]
    content = page.get_contents().get_data().decode("latin-1")
    width_pt = float(re.search(r"q ([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm /I", content).group(1))
    return read, width_pt / 72 * 25.4


def poster(servizio: str = "Anagrafe", sede: str | None = "Sportello 1", ente: str = "Comune di Cuorgnè") -> Poster:
    return Poster(ente=ente, servizio=servizio, sede=sede, url=poster_url(BASE, "anagrafe", "sportello-1"),
                  short_url=short_url(BASE, "anagrafe"))


# --- pure functions ------------------------------------------------------------------------------------------------

def test_urls():
    assert poster_url(BASE, "anagrafe", "sportello-1") == f"{BASE}/s/anagrafe?canale=qr&sede=sportello-1"
    assert poster_url(BASE + "/", "anagrafe") == f"{BASE}/s/anagrafe?canale=qr"
    assert poster_url(BASE, "anagrafe", "sala a&b") == f"{BASE}/s/anagrafe?canale=qr&sede=sala+a%26b"
    assert short_url(BASE, "anagrafe") == "www.comune.example.it/s/anagrafe"
    assert short_url("http://127.0.0.1:5000/", "tributi") == "127.0.0.1:5000/s/tributi"


def test_bare_codes_carry_the_url():
    url = poster_url(BASE, "anagrafe", "sportello-1")
    expected = expected_matrix(url)
    with Image.open(io.BytesIO(qr_png(url, scale=6))) as image:
        side = len(expected) + 2 * posters.BORDER
        assert image.format == "PNG" and image.size == (side * 6, side * 6)
        read = modules_in(image, 0, 0, 6, side)
    border = posters.BORDER
    assert not read[:border].any() and not read[:, :border].any()  # the quiet zone is light
    assert (read[border:-border, border:-border] == expected).all()
    root = ET.fromstring(qr_svg(url))  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == url


def test_vector_path_draws_exactly_the_modules():
    url = poster_url(BASE, "anagrafe", "sportello-1")
    path, side = qr_path(url)
    expected = expected_matrix(url)
    assert side == len(expected) + 2 * posters.BORDER
    border = posters.BORDER
    assert (matrix_from_path(path, side)[border:-border, border:-border] == expected).all()


def test_long_names_wrap_and_push_the_code_down():
    def measure(text: str, size: float, bold: bool) -> float:  # a crude but wide font
        return len(text) * size * PT * (0.6 if bold else 0.5)

    long_name = "Servizi scolastici: mensa, trasporto, pre e post scuola e iscrizioni online per le famiglie"
    layout = poster_layout(poster(servizio=long_name, sede="Front office di Motta de' Conti"), measure)
    header, url_line = layout.lines[:-1], layout.lines[-1]
    assert " ".join(line.text for line in header).startswith(f"Comune di Cuorgnè {long_name} Front office")
    for line in layout.lines:
        assert measure(line.text, line.size, line.bold) <= TEXT_W
    for above, below in zip(header, header[1:], strict=False):
        assert below.baseline - above.baseline >= below.size * PT  # no line runs into the next
    assert layout.qr_top > header[-1].baseline
    assert layout.qr_size >= QR_MIN_SIZE
    assert layout.qr_top + layout.qr_size < url_line.baseline - url_line.size * PT * 0.7 < 297 - 10
    assert layout.qr_left == pytest.approx((210 - layout.qr_size) / 2)
    short = poster_layout(poster(), measure)
    assert short.qr_top <= layout.qr_top and short.qr_size >= layout.qr_size
    very_long = poster_layout(poster(servizio=" ".join([long_name] * 2)), measure)  # 180 characters
    assert very_long.qr_top > layout.qr_top and very_long.qr_size >= QR_MIN_SIZE
    assert very_long.lines[-1].baseline < 297 - 10


def test_svg_escapes_the_texts():
    item = poster(servizio="Tributi <IMU & TARI>", ente='Comune "A" & B')
    root = ET.fromstring(poster_svg(item))  # noqa: S314 - our own output
    assert 'Comune "A" & B' in svg_texts(root) and "Tributi <IMU & TARI>" in svg_texts(root)


@pytest.mark.parametrize("fonts", ["titillium", "built-in"])
def test_every_format_without_or_with_the_vendored_font(monkeypatch, tmp_path, fonts):
    if fonts == "built-in":  # a checkout without `make assets`: Helvetica in the PDF, Pillow's font in the PNG
        monkeypatch.setattr(posters, "REGULAR", tmp_path / "missing.ttf")
        monkeypatch.setattr(posters, "BOLD", tmp_path / "missing-bold.ttf")
    elif not posters.REGULAR.exists():
        pytest.skip("Titillium not copied (run `make assets`)")
    item = poster()
    expected = expected_matrix(item.url)
    text = PdfReader(io.BytesIO(poster_pdf([item]))).pages[0].extract_text()
    assert "Comune di Cuorgnè" in text and item.instructions in text
    with Image.open(io.BytesIO(poster_png(item))) as image:
        assert image.size == A4_150_DPI
        assert (qr_in_poster_png(image, len(expected)) == expected).all()


# --- CLI -----------------------------------------------------------------------------------------------------------

def test_cli_pdf_poster(runner, configured, tmp_path):
    out = tmp_path / "locandina.pdf"
    result = runner.invoke(args=["qr", "poster", "anagrafe", "--sede", "sportello-1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "canale=qr&sede=sportello-1" in result.output
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(595.28, abs=0.5)  # A4
    assert float(page.mediabox.height) == pytest.approx(841.89, abs=0.5)
    text = page.extract_text()
    for expected in ("Comune di Prova", "Anagrafe", "Sportello 1", CALL_TO_ACTION,
                     "Inquadra il codice QR con il telefono: circa 2 minuti, la risposta è anonima.",
                     "www.comune.example.it/s/anagrafe"):
        assert expected in text
    # the texts come in reading order: who, what, where, then the call to action and the address last
    positions = [text.index(t) for t in ("Comune di Prova", "Sportello 1", CALL_TO_ACTION, "comune.example.it/s/")]
    assert positions == sorted(positions)
    read, width_mm = pdf_code(page)
    assert (read == expected_matrix(f"{BASE}/s/anagrafe?canale=qr&sede=sportello-1")).all()
    assert width_mm >= 90


def test_cli_svg_poster(runner, configured, tmp_path):
    out = tmp_path / "locandina.svg"
    result = runner.invoke(args=["qr", "poster", "anagrafe", "--sede", "sportello-2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()  # noqa: S314 - our own file, written by the test
    assert root.get("viewBox") == "0 0 210 297"
    texts = svg_texts(root)
    for expected in ("Comune di Prova", "Anagrafe", "Sportello 2", CALL_TO_ACTION,
                     "Inquadra il codice QR con il telefono: circa 2 minuti, la risposta è anonima.",
                     "www.comune.example.it/s/anagrafe"):
        assert expected in texts
    assert (svg_code(root) == expected_matrix(f"{BASE}/s/anagrafe?canale=qr&sede=sportello-2")).all()
    nested = root.find(f"{SVG}svg")
    assert float(nested.get("width")) >= 90
    assert float(nested.get("x")) + float(nested.get("width")) / 2 == pytest.approx(105)  # centred


def test_cli_png_poster(runner, configured, tmp_path):
    out = tmp_path / "locandina.png"
    result = runner.invoke(args=["qr", "poster", "vigilanza", "--sede", "comando", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = expected_matrix(f"{BASE}/s/vigilanza?canale=qr&sede=comando")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.mode == "RGB" and image.size == A4_150_DPI
        assert image.info["dpi"] == pytest.approx((150, 150), abs=0.1)
        assert (qr_in_poster_png(image, len(expected)) == expected).all()


def test_cli_poster_without_sede(runner, configured, tmp_path):
    out = tmp_path / "tributi.svg"
    assert runner.invoke(args=["qr", "poster", "tributi", "--out", str(out)]).exit_code == 0
    root = ET.parse(out).getroot()  # noqa: S314 - our own file
    assert (svg_code(root) == expected_matrix(f"{BASE}/s/tributi?canale=qr")).all()


@pytest.mark.parametrize(("args", "message"), [
    (["poster", "mensa", "--out", "x.pdf"], "servizio sconosciuto «mensa»"),
    (["poster", "anagrafe", "--sede", "cantina", "--out", "x.pdf"],
     "sede sconosciuta «cantina» per il servizio «anagrafe» (sedi: sportello-1, sportello-2)"),
    (["poster", "tributi", "--sede", "sportello-1", "--out", "x.pdf"],
     "sede sconosciuta «sportello-1» per il servizio «tributi» (sedi: nessuna)"),
    (["poster", "anagrafe", "--out", "x.jpg"], "formato «.jpg» non previsto per --out: usare un file .svg, .png o .pdf"),
    (["poster", "anagrafe", "--out", "x"], "formato «x» non previsto"),
    (["poster", "anagrafe", "--out", "manca/x.pdf"], "la cartella «manca» non esiste"),
    (["all", "--out", "x.svg"], "formato «.svg» non previsto per --out: usare un file .pdf"),
])
def test_cli_errors_write_nothing(runner, configured, tmp_path, monkeypatch, args, message):
    folder = tmp_path / "out"  # tmp_path itself holds the SQLite database
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = runner.invoke(args=["qr", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("base", ["", "http://localhost:8000"])
def test_cli_posters_without_a_public_address_warn_or_in_production_are_refused(runner, app, catalogue, tmp_path,
                                                                                base):
    app.config["PUBLIC_BASE_URL"] = base
    out = tmp_path / "anagrafe.pdf"
    tried = runner.invoke(args=["qr", "poster", "anagrafe", "--out", str(out)])
    assert tried.exit_code == 0 and out.exists()  # trying the app out: written, with the warning
    assert "Attenzione: PUBLIC_BASE_URL non è impostato o indica questo computer" in tried.output
    assert "prima di stampare" in tried.output
    app.config["SURVEY_ENV"] = "production"
    for args in (["poster", "tributi", "--out", str(tmp_path / "tributi.pdf")], ["all", "--out", str(tmp_path / "a.zip")]):
        refused = runner.invoke(args=["qr", *args])
        assert refused.exit_code == 1 and "locandine non scritte: PUBLIC_BASE_URL" in refused.output, args
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".pdf", ".zip")) == ["anagrafe.pdf"]


def test_cli_all_needs_a_catalogue(runner, db, tmp_path):
    result = runner.invoke(args=["qr", "all", "--out", str(tmp_path / "tutte.pdf")])
    assert result.exit_code != 0 and "nessun servizio" in result.output
    assert not (tmp_path / "tutte.pdf").exists()


def test_cli_all_pdf_and_zip(runner, configured, tmp_path):
    pdf = tmp_path / "tutte.pdf"
    result = runner.invoke(args=["qr", "all", "--out", str(pdf)])
    assert result.exit_code == 0, result.output
    # anagrafe with 2 counters + vigilanza with 1, then tributi without counters
    pages = PdfReader(pdf).pages
    assert len(pages) == 4 and "Scritte 4 locandine" in result.output
    urls = [f"{BASE}/s/anagrafe?canale=qr&sede=sportello-1", f"{BASE}/s/anagrafe?canale=qr&sede=sportello-2",
            f"{BASE}/s/vigilanza?canale=qr&sede=comando", f"{BASE}/s/tributi?canale=qr"]
    for page, url, where in zip(pages, urls, ("Sportello 1", "Sportello 2", "Comando", "Tributi"), strict=True):
        assert where in page.extract_text() and CALL_TO_ACTION in page.extract_text()
        assert (pdf_code(page)[0] == expected_matrix(url)).all()
    archive = tmp_path / "tutte.zip"
    assert runner.invoke(args=["qr", "all", "--out", str(archive)]).exit_code == 0
    with zipfile.ZipFile(archive) as z:
        names = sorted(z.namelist())
        assert names == ["locandina-anagrafe-sportello-1.pdf", "locandina-anagrafe-sportello-2.pdf",
                         "locandina-tributi.pdf", "locandina-vigilanza-comando.pdf"]
        for name in names:
            assert len(PdfReader(io.BytesIO(z.read(name))).pages) == 1


# --- staff downloads -----------------------------------------------------------------------------------------------

STAFF_URLS = ["/staff/qr/", "/staff/qr/anagrafe.pdf?sede=sportello-1", "/staff/qr/tributi.svg",
              "/staff/qr/tutti.pdf", "/staff/qr/tutti.zip"]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_anonymous_goes_to_the_login(client, configured, url):
    response = client.get(url)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_survey_firms_never_reach_the_posters(client, runner, configured):
    login(client, runner, "firm@comune.it", "--role", "rilevatore", "--scope", "tributi", "--firm", "Example")
    for url in ("/staff/qr/", "/staff/qr/tributi.pdf", "/staff/qr/tutti.zip"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["responsabile"])
def test_scoped_user_gets_only_their_services(client, runner, configured, role):
    login(client, runner, "r@comune.it", "--role", role, "--scope", "tributi")
    page = client.get("/staff/qr/").get_data(as_text=True)
    assert "Tributi" in page and "Anagrafe" not in page and "Sportello 1" not in page
    for fmt in ("pdf", "svg", "png"):
        assert client.get(f"/staff/qr/anagrafe.{fmt}?sede=sportello-1").status_code == 404
        assert client.get(f"/staff/qr/anagrafe.{fmt}").status_code == 404
        response = client.get(f"/staff/qr/tributi.{fmt}")
        assert response.status_code == 200
        assert response.mimetype == posters.WRITERS[f".{fmt}"][0]
        assert response.headers["Content-Disposition"] == f"attachment; filename=locandina-tributi.{fmt}"
    all_pdf = client.get("/staff/qr/tutti.pdf")
    assert all_pdf.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(all_pdf.data)).pages) == 1  # only what the user can see
    with zipfile.ZipFile(io.BytesIO(client.get("/staff/qr/tutti.zip").data)) as z:
        assert z.namelist() == ["locandina-tributi.pdf"]


def test_unknown_format_counter_or_service_is_404(client, runner, configured):
    login(client, runner, "a@comune.it", "--role", "admin")
    for url in ("/staff/qr/anagrafe.jpg", "/staff/qr/anagrafe.pdf?sede=cantina", "/staff/qr/mensa.pdf",
                "/staff/qr/tutti.svg", "/staff/qr/tributi.pdf?sede=sportello-1"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", ["admin", "trasparenza"])
def test_listing_and_downloads_for_every_service(client, runner, configured, role):
    login(client, runner, "a@comune.it", "--role", role)
    page = client.get("/staff/qr/").get_data(as_text=True)
    for counter in ("Sportello 1", "Sportello 2", "Comando", "senza sportello"):
        assert counter in page
    assert '<th scope="col">' in page and '<th scope="row">' in page
    # each link says what it downloads, not just "PDF"
    assert 'href="/staff/qr/anagrafe.pdf?sede=sportello-1">PDF<span class="visually-hidden"> per Anagrafe, ' \
           "Sportello 1</span></a>" in page
    assert 'href="/staff/qr/tributi.png">PNG<span class="visually-hidden"> per Tributi, senza sportello' in page
    assert 'href="/staff/qr/tutti.pdf"' in page and 'href="/staff/qr/tutti.zip"' in page
    # Each counter's tablet address where the service has a kiosk (anagrafe and vigilanza; tributi has none), at the
    # public address, and it opens the kiosk there.
    kiosks = re.findall(r'<a href="([^"]+)"><code>', page)
    assert kiosks == [f"{BASE}/k/anagrafe?sede=sportello-1", f"{BASE}/k/anagrafe?sede=sportello-2",
                      f"{BASE}/k/vigilanza?sede=comando"]
    assert "nessun chiosco" in page
    for kiosk in kiosks:
        assert client.get(kiosk.removeprefix(BASE)).status_code == 200
    response = client.get("/staff/qr/anagrafe.png?sede=sportello-2")
    assert response.status_code == 200 and response.mimetype == "image/png"
    expected = expected_matrix(f"{BASE}/s/anagrafe?canale=qr&sede=sportello-2")
    with Image.open(io.BytesIO(response.data)) as image:
        assert (qr_in_poster_png(image, len(expected)) == expected).all()
    svg = client.get("/staff/qr/vigilanza.svg?sede=comando")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert len(PdfReader(io.BytesIO(client.get("/staff/qr/tutti.pdf").data)).pages) == 4
    with zipfile.ZipFile(io.BytesIO(client.get("/staff/qr/tutti.zip").data)) as z:
        assert len(z.namelist()) == 4
