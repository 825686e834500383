"""Why a version was published: the publisher says it once, and the public page and the version's files keep it."""

from __future__ import annotations

import io
import re
from datetime import datetime
from html import unescape

import openpyxl
import pandas as pd
from sqlalchemy import select

from survey_app.models import AuditLog, Pubblicazione

from .helpers import add_answers, csrf_token, login
from .test_transparency import YEAR, answered  # noqa: F401 - the fixture

REASON = "Aggiunti i questionari cartacei di dicembre"


def publish_from_the_page(client, reason: str):
    page = client.get("/staff/trasparenza/").get_data(as_text=True)
    return client.post("/staff/trasparenza/pubblica", data={"csrf_token": csrf_token(page), "anno": str(YEAR),
                                                            "conferma": "1", "motivo": reason})


def note_of(workbook_bytes_path) -> dict:
    sheet = openpyxl.load_workbook(workbook_bytes_path)["Nota metodologica"]
    return {r[0].value: r[1] for r in sheet.iter_rows(min_row=3) if r[0].value}


def test_the_reason_for_a_new_version_is_on_its_page_and_in_its_files(answered, client, runner, tmp_path):  # noqa: F811
    login(client, runner, "t@example.org", "--role", "trasparenza")
    page = unescape(client.get("/staff/trasparenza/").get_data(as_text=True))
    assert '<label for="motivo" class="form-label fw-semibold">Motivo della versione (facoltativo)</label>' in page
    assert 'aria-describedby="motivo-aiuto"' in page and 'maxlength="500"' in page
    assert publish_from_the_page(client, "").status_code == 302  # version 1 without a reason
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 1, 10), {"D3": 5})
    preview = client.get(f"/staff/trasparenza/anteprima?anno={YEAR}").get_data(as_text=True)
    assert 'name="motivo"' in preview  # written where the changes are seen
    # Spaces and line breaks as typed in the box: kept as one line (a list item, a spreadsheet cell).
    assert publish_from_the_page(client, f"  {REASON}\r\n(lotto 3) ").status_code == 302
    v1, v2 = answered.scalars(select(Pubblicazione).order_by(Pubblicazione.versione)).all()
    assert (v1.motivo, v2.motivo) == (None, f"{REASON} (lotto 3)")
    staff = unescape(client.get("/staff/trasparenza/").get_data(as_text=True))
    assert f"Motivo della versione: {REASON} (lotto 3)" in staff

    public = unescape(client.get(f"/trasparenza/{YEAR}").get_data(as_text=True))
    assert f"<p>Motivo della versione: <span>{REASON} (lotto 3)</span></p>" in public
    assert f"modifiche rispetto alla versione precedente. Motivo: <span>{REASON} (lotto 3)</span>" in public
    assert "Motivo della versione" not in public.split('id="nota-metodologica"')[1]  # said once, in the header
    old = unescape(client.get(f"/trasparenza/{YEAR}?versione=1").get_data(as_text=True))
    assert "Motivo della versione:" not in old  # version 1 said none
    english = unescape(client.get(f"/trasparenza/{YEAR}?lang=en").get_data(as_text=True))
    assert f'Reason for this version: <span lang="it">{REASON} (lotto 3)</span>' in english

    # The files of version 2 say it in their Nota metodologica (every ente's too); version 1's do not.
    for name in ("soddisfazione-2025.xlsx", "soddisfazione-2025-comune-test.xlsx"):
        (tmp_path / name).write_bytes(v2.file_named(name).contenuto)
        cell = note_of(tmp_path / name)["Motivo della versione"]
        assert (cell.value, cell.data_type) == (f"{REASON} (lotto 3)", "s")
    (tmp_path / "v1.xlsx").write_bytes(v1.file_named("soddisfazione-2025.xlsx").contenuto)
    assert "Motivo della versione" not in note_of(tmp_path / "v1.xlsx")
    ods = pd.read_excel(io.BytesIO(v2.file_named("soddisfazione-2025.ods").contenuto), engine="odf",
                        sheet_name="Nota metodologica", header=None)
    assert list(ods[ods[0] == "Motivo della versione"][1]) == [REASON + " (lotto 3)"]  # the ODS too
    audit = answered.scalar(select(AuditLog).filter_by(azione="pubblicazione.crea", oggetto=f"{YEAR} v2"))
    assert audit.dettagli["motivo"] == f"{REASON} (lotto 3)"


def test_a_reason_too_long_comes_back_with_its_text_and_publishes_nothing(answered, client, runner):  # noqa: F811
    login(client, runner, "t@example.org", "--role", "trasparenza")
    pasted = publish_from_the_page(client, "Corretto\x01 un lotto")  # a control character pasted with it
    assert pasted.status_code == 422 and "caratteri di controllo non ammessi" in unescape(pasted.get_data(as_text=True))
    response = publish_from_the_page(client, "x" * 501)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert '<p class="error-message" id="motivo-errore">Il motivo può avere al massimo 500 caratteri.</p>' in page
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*autofocus[^>]*>\s*x{501}</textarea>', page)
    assert answered.scalar(select(Pubblicazione)) is None


def test_the_command_line_takes_the_reason_too(answered, runner, client, tmp_path):  # noqa: F811
    too_long = runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(tmp_path),
                                   "--motivo", "y" * 501])
    assert too_long.exit_code == 2 and "il motivo è lungo 501 caratteri: al massimo 500" in too_long.output
    assert answered.scalar(select(Pubblicazione)) is None
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(tmp_path),
                                 "--motivo", "=HYPERLINK(\"http://evil.example\") <b>x</b>"])
    assert result.exit_code == 0, result.output
    assert answered.scalar(select(Pubblicazione.motivo)) == '=HYPERLINK("http://evil.example") <b>x</b>'
    page = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # text, never markup
    cell = note_of(tmp_path / "soddisfazione-2025.xlsx")["Motivo della versione"]
    assert cell.data_type == "s" and not str(cell.value).startswith("=")  # a formula never reaches a spreadsheet
