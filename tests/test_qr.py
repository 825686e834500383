"""QR posters: CLI in three formats read back with real readers, and staff downloads within scope."""

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
import segno
from PIL import Image
from pypdf import PdfReader

from survey_app.qr.posters import CALL_TO_ACTION, poster_url, qr_path, short_url

from .helpers import login

BASE = "https://www.comune.example.it"


@pytest.fixture
def configured(app, catalogue):
    app.config["PUBLIC_BASE_URL"] = BASE
    return catalogue


def test_urls():
    assert poster_url(BASE, "anagrafe", "sportello-1") == f"{BASE}/s/anagrafe?canale=qr&sede=sportello-1"
    assert poster_url(BASE + "/", "anagrafe") == f"{BASE}/s/anagrafe?canale=qr"
    assert short_url(BASE, "anagrafe") == "www.comune.example.it/s/anagrafe"


def test_vector_path_draws_exactly_the_dark_modules():
    url = poster_url(BASE, "anagrafe", "sportello-1")
    path, side = qr_path(url)
    matrix = [list(row) for row in segno.make(url, error="m").matrix]
    assert side == len(matrix) + 8
    drawn = sum(int(part.split("h")[1].split("v")[0]) for part in path.split("M")[1:])
    assert drawn == sum(map(sum, matrix))


def test_cli_pdf_poster(runner, configured, tmp_path):
    out = tmp_path / "locandina.pdf"
    result = runner.invoke(args=["qr", "poster", "anagrafe", "--sede", "sportello-1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("Comune di Prova", "Anagrafe", "Sportello 1", CALL_TO_ACTION, "www.comune.example.it/s/anagrafe"):
        assert expected in text
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    assert "canale=qr&sede=sportello-1" in result.output


def test_cli_svg_poster(runner, configured, tmp_path):
    out = tmp_path / "locandina.svg"
    assert runner.invoke(args=["qr", "poster", "anagrafe", "--out", str(out)]).exit_code == 0
    root = ET.parse(out).getroot()  # noqa: S314 - our own file, written by the test
    ns = {"svg": "http://www.w3.org/2000/svg"}
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert CALL_TO_ACTION in texts and "www.comune.example.it/s/anagrafe" in texts
    assert root.get("viewBox") == "0 0 210 297"
    assert root.find(".//svg:svg/svg:path", ns) is not None


def test_cli_png_poster(runner, configured, tmp_path):
    out = tmp_path / "locandina.png"
    assert runner.invoke(args=["qr", "poster", "vigilanza", "--sede", "comando", "--out", str(out)]).exit_code == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1240, 1754)  # A4 at 150 dpi
        # the QR code sits in the middle: both black and white pixels there
        colours = {image.convert("L").getpixel((620 + dx, 900 + dy)) for dx in range(-200, 200, 7)
                   for dy in range(-200, 200, 7)}
        assert min(colours) < 50 and max(colours) > 200


@pytest.mark.parametrize(("args", "message"), [
    (["qr", "poster", "mensa", "--out", "x.pdf"], "servizio sconosciuto «mensa»"),
    (["qr", "poster", "anagrafe", "--sede", "cantina", "--out", "x.pdf"],
     "sede sconosciuta «cantina» per il servizio «anagrafe» (sedi: sportello-1, sportello-2)"),
    (["qr", "poster", "anagrafe", "--out", "x.jpg"], "formato «.jpg» non previsto"),
])
def test_cli_errors_write_nothing(runner, configured, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.jpg").exists()


def test_cli_all_pdf_and_zip(runner, configured, tmp_path):
    pdf = tmp_path / "tutte.pdf"
    assert runner.invoke(args=["qr", "all", "--out", str(pdf)]).exit_code == 0
    # anagrafe 2 counters + vigilanza 1 + tributi without counters 1
    assert len(PdfReader(pdf).pages) == 4
    archive = tmp_path / "tutte.zip"
    assert runner.invoke(args=["qr", "all", "--out", str(archive)]).exit_code == 0
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == ["locandina-anagrafe-sportello-1.pdf", "locandina-anagrafe-sportello-2.pdf",
                                        "locandina-tributi.pdf", "locandina-vigilanza-comando.pdf"]



def test_staff_downloads_respect_scope(client, runner, configured):
    assert client.get("/staff/qr/").status_code == 302  # anonymous: to the login
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "tributi")
    page = client.get("/staff/qr/").get_data(as_text=True)
    assert "Tributi" in page and "Anagrafe" not in page
    assert client.get("/staff/qr/anagrafe.pdf?sede=sportello-1").status_code == 404
    response = client.get("/staff/qr/tributi.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1
    all_pdf = client.get("/staff/qr/tutti.pdf")
    assert len(PdfReader(io.BytesIO(all_pdf.data)).pages) == 1  # only what the user can see


def test_admin_gets_every_poster(client, runner, configured):
    login(client, runner, "a@comune.it", "--role", "admin")
    page = client.get("/staff/qr/").get_data(as_text=True)
    assert "Sportello 2" in page and "PDF<span" in page
    svg = client.get("/staff/qr/anagrafe.svg?sede=sportello-2")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert client.get("/staff/qr/anagrafe.pdf?sede=cantina").status_code == 404
    with zipfile.ZipFile(io.BytesIO(client.get("/staff/qr/tutti.zip").data)) as z:
        assert len(z.namelist()) == 4
