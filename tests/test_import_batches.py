"""A batch's own page: what it brought, service by service; who may see which batch."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import unescape

import pytest
from sqlalchemy import func, select

from survey_app.models import ImportBatch, Rilevazione, Servizio, User

from .helpers import add_answers, csrf_token, log_in, login


@pytest.fixture
def batches(catalogue):
    """Doxa's batch 1: 3 questionnaires of anagrafe (two in a campaign) and 2 of tributi; Ipsos's batch 2: 1 of
    vigilanza."""
    db = catalogue
    anagrafe = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    campaign = Rilevazione(codice="primavera", titolo="Indagine di primavera", questionario=anagrafe.questionario,
                           data_inizio=date(2025, 3, 1), data_fine=date(2025, 4, 30), servizi=[anagrafe])
    doxa = ImportBatch(fonte="Doxa", metodo="CATI", nome_file="marzo.csv", sha256="1" * 64, righe=6,
                       questionario=anagrafe.questionario,
                       righe_importate=5, righe_scartate=1, righe_escluse=[[7, "D3", "9", "valore non ammesso"]])
    ipsos = ImportBatch(fonte="Ipsos", metodo="PAPI", nome_file="carta.xlsx", sha256="2" * 64, righe=1,
                        righe_importate=1)
    db.add_all([campaign, doxa, ipsos])
    db.commit()
    for when in (datetime(2025, 3, 4, 10), datetime(2025, 4, 20, 11)):
        add_answers(db, "anagrafe", when, {"D3": 4}, canale="telefono", import_batch=doxa).rilevazione_id = campaign.id
    add_answers(db, "anagrafe", datetime(2025, 6, 2, 9), {"D3": 5}, canale="telefono", import_batch=doxa)
    for day in (1, 2):
        add_answers(db, "tributi", datetime(2025, 5, day, 9), {"D3": 3}, canale="telefono", import_batch=doxa)
    add_answers(db, "vigilanza", datetime(2025, 5, 1, 9), {"D1": 3}, canale="carta", import_batch=ipsos)
    db.commit()
    return {"doxa": doxa.id, "ipsos": ipsos.id}


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return unescape(response.get_data(as_text=True))


def test_a_batch_page_says_what_it_brought_to_each_service(batches, client, runner):
    login(client, runner, "admin@comune.it", "--role", "admin")
    html = page(client, f"/staff/importazioni/lotti/{batches['doxa']}")
    assert "<h1>Lotto 1</h1>" in html and "Doxa" in html and "Interviste telefoniche (CATI)" in html
    assert "marzo.csv" in html and "Questionario breve" in html
    rows = re.findall(r'<th scope="row">(.*?)</th>\s*<td class="text-end">(\d+)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>',
                      html, flags=re.S)
    assert [(name, int(n), days) for name, n, days, _c in rows] == [
        ("Anagrafe", 3, "04/03/2025–02/06/2025"), ("Tributi", 2, "01/05/2025–02/05/2025")]
    assert "Indagine di primavera" in rows[0][3] and rows[1][3] == "—"
    assert "Scarica le righe escluse con i motivi (CSV)" in html and "Annulla il lotto 1" in html
    # The list links each batch to its page; the rollback's confirmation shows what goes.
    assert f'href="/staff/importazioni/lotti/{batches["doxa"]}"' in page(client, "/staff/importazioni/")
    rollback = page(client, f"/staff/importazioni/lotti/{batches['doxa']}/annulla")
    assert "Questionari del lotto 1 per servizio" in rollback and "Tributi" in rollback


def test_an_office_manager_sees_the_batches_of_their_services_and_only_those_services(batches, client, runner):
    """A responsabile could not see the firms' batches at all (the service page names each firm's method only)."""
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    assert "/staff/importazioni/" in page(client, "/staff/servizi/anagrafe?anno=2025")  # in the menu
    listing = page(client, "/staff/importazioni/")
    assert f'lotti/{batches["doxa"]}"' in listing and f'lotti/{batches["ipsos"]}"' not in listing
    assert "Carica un file" not in listing and "Modelli da compilare" not in listing
    html = page(client, f"/staff/importazioni/lotti/{batches['doxa']}")
    assert "Anagrafe" in html and "Tributi" not in html
    assert "servizi non assegnati a questo account" in html
    # Never the file's name or counts: with anagrafe's 3 questionnaires, the 5 imported gave tributi's 2 away (the
    # review of this change); nor on the list.
    assert "marzo.csv" not in html and "Righe importate" not in html and "Righe del file" not in html
    assert "marzo.csv" not in listing and "Righe importate" not in listing
    assert "escluse.csv" not in html and "annulla" not in html
    assert client.get(f"/staff/importazioni/lotti/{batches['ipsos']}").status_code == 404
    assert client.get(f"/staff/importazioni/lotti/{batches['doxa']}/escluse.csv").status_code == 403
    assert client.get("/staff/importazioni/carica").status_code == 403


def test_a_firm_sees_its_own_batch_and_not_another_firms(batches, client, runner):
    login(client, runner, "firm@doxa.it", "--role", "rilevatore", "--scope", "anagrafe", "--scope", "tributi",
          "--firm", "Doxa")
    html = page(client, f"/staff/importazioni/lotti/{batches['doxa']}")
    assert "Anagrafe" in html and "Tributi" in html and "servizi non assegnati" not in html
    assert "escluse.csv" in html and "annulla" not in html
    assert client.get(f"/staff/importazioni/lotti/{batches['ipsos']}").status_code == 404
    listing = page(client, "/staff/importazioni/")
    assert "Modelli da compilare" in listing and f'lotti/{batches["ipsos"]}"' not in listing


def test_the_transparency_officer_reads_every_batch_without_uploading(batches, client, runner):
    login(client, runner, "t@comune.it", "--role", "trasparenza")
    listing = page(client, "/staff/importazioni/")
    assert f'lotti/{batches["doxa"]}"' in listing and f'lotti/{batches["ipsos"]}"' in listing
    assert "Carica un file" not in listing
    html = page(client, f"/staff/importazioni/lotti/{batches['ipsos']}")
    assert "Vigilanza" in html and "Questionari cartacei (PAPI)" in html


def test_two_firms_on_one_mail_provider_are_two_firms(app, client, runner):
    """Without a firm's name an account's firm was its e-mail's domain: two firms on gmail.com were one, each seeing
    the other's batches and left-out rows. A firm's account now names its firm, on the page and on the command
    line."""
    from survey_app.extensions import db

    from .test_demo_and_users import in_db, with_catalogue

    with_catalogue(app)  # no app context held open: each client has its own logged-in user
    login(client, runner, "admin@comune.it", "--role", "admin")
    token = csrf_token(client.get("/staff/utenti/").get_data(as_text=True))
    refused = client.post("/staff/utenti/", data={"csrf_token": token, "email": "mario.rossi@gmail.com",
                                                  "ruolo": "rilevatore", "servizi": ["anagrafe"], "societa": " "})
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and 'id="societa-errore"' in html
    assert "Indicare la società di rilevazione dell'account" in html
    result = runner.invoke(args=["users", "create", "anna.bianchi@gmail.com", "--role", "rilevatore",
                                 "--scope", "tributi"])
    assert result.exit_code != 0 and "richiede il nome della società di rilevazione (--firm)" in result.output
    assert in_db(app, select(func.count()).select_from(User)) == [(1,)]  # the admin alone
    # Named, the two accounts are two firms: neither sees the other's batch.
    passwords = {}
    for email, firm, scope in (("mario.rossi@gmail.com", "Rossi ricerche", "anagrafe"),
                               ("anna.bianchi@gmail.com", "Bianchi sondaggi", "tributi")):
        created = client.post("/staff/utenti/", data={"csrf_token": token, "email": email, "ruolo": "rilevatore",
                                                      "servizi": [scope], "societa": firm})
        assert created.status_code == 200, email
        passwords[email] = created.get_data(as_text=True).split('<code id="nuova-password">', 1)[1].split("<", 1)[0]
    assert dict(in_db(app, select(User.email, User.societa).where(User.ruolo == "rilevatore"))) == {
        "mario.rossi@gmail.com": "Rossi ricerche", "anna.bianchi@gmail.com": "Bianchi sondaggi"}
    with app.app_context():
        batch = ImportBatch(fonte="Rossi ricerche", metodo="CATI", nome_file="clienti.csv", sha256="3" * 64, righe=1,
                            righe_scartate=1, righe_escluse=[[2, "D10", "CF-RSSMRA80A01H501U", "valore non ammesso"]])
        db.session.add(batch)
        db.session.commit()
        batch_id = batch.id
    mario, anna = app.test_client(), app.test_client()
    log_in(mario, "mario.rossi@gmail.com", passwords["mario.rossi@gmail.com"])
    log_in(anna, "anna.bianchi@gmail.com", passwords["anna.bianchi@gmail.com"])
    assert "clienti.csv" in mario.get("/staff/importazioni/").get_data(as_text=True)
    assert mario.get(f"/staff/importazioni/lotti/{batch_id}/escluse.csv").status_code == 200
    assert "clienti.csv" not in anna.get("/staff/importazioni/").get_data(as_text=True)
    assert anna.get(f"/staff/importazioni/lotti/{batch_id}/escluse.csv").status_code == 404
    assert anna.get(f"/staff/importazioni/lotti/{batch_id}").status_code == 404


def test_a_file_that_left_rows_out_can_be_sent_again_once_they_fit(catalogue, runner, tmp_path):
    """A firm imported the valid rows of a file and left one out (its date outside the service's campaigns); once
    the office planned a campaign for that date, the same file was refused as "già importato" and the row could
    never come in. It comes in now, the rows already in skipped."""
    from survey_app.models import Compilazione

    from .test_campaigns import add_campaign
    from .test_imports import HEADER, count, run_import, write

    add_campaign(catalogue, "marzo", date(2025, 3, 1), date(2025, 3, 31), slugs=("anagrafe", "tributi"))
    path = write(tmp_path, f"{HEADER}\nY1;15/03/2025;anagrafe;;;5;;;5;;;;\nY2;15/06/2025;anagrafe;;;4;;;4;;;;\n")
    first = run_import(runner, path, "--skip-invalid")
    assert first.exit_code == 0 and "Importata 1 riga su 2 nel lotto 1; 1 riga esclusa" in first.output
    add_campaign(catalogue, "giugno", date(2025, 6, 1), date(2025, 6, 30), slugs=("anagrafe", "tributi"))
    again = run_import(runner, path)
    assert again.exit_code == 0, again.output
    assert "Importata 1 riga su 2 nel lotto 2; 1 riga già importata in un lotto precedente, saltata." in again.output
    assert count(catalogue, Compilazione) == 2
    # All of it in now: the same file a third time is "already imported", as before.
    third = run_import(runner, path)
    assert third.exit_code == 1 and "questo file è già stato importato (lotto 2 del" in third.output
    # Another firm's name on a file that one firm sent in part is the same answers twice (its ids are salted with the
    # firm's name: only the file tells), whatever that firm's batch left out (the review of this change).
    other = write(tmp_path, f"{HEADER}\nZ1;15/03/2025;anagrafe;;;5;;;5;;;;\nZ2;15/06/2024;anagrafe;;;4;;;4;;;;\n",
                  name="z.csv")
    assert "Importata 1 riga su 2 nel lotto 3; 1 riga esclusa" in run_import(runner, other, "--skip-invalid").output
    elsewhere = runner.invoke(args=["responses", "import", other, "--questionnaire", "breve", "--source", "Altra srl",
                                    "--method", "CATI", "--skip-invalid"])
    assert elsewhere.exit_code == 1 and "questo file è già stato importato (lotto 3 del" in elsewhere.output
    assert count(catalogue, Compilazione) == 3


def test_the_preview_names_each_wrong_rows_id_and_marks_its_italian_reasons(catalogue, client, runner):
    """A firm fixing its file finds a row by its id_esterno (the row number changes once the file is sorted); on the
    English page the checks' reasons, written in Italian, are marked so for screen readers."""
    from .test_imports import HEADER, _upload

    login(client, runner, "mario@demoskopika.it", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Doxa")
    body = f"{HEADER}\nP-7;15/03/2025;anagrafe;;;9;;;5;;;;\nP-8;15/03/2025;anagrafe;;;5;;;5;;;;\n"
    client.get("/staff/importazioni/?lang=en")
    html = unescape(_upload(client, body.encode(), name="marzo.csv").get_data(as_text=True))
    assert '<th scope="row">2</th><td>P-7</td><td>D1</td><td>9</td><td><span lang="it">valore non ammesso' in html
    link = re.search(r'href="(/staff/importazioni/errori/[^"]+)"', html).group(1)
    errors = client.get(link.replace("&amp;", "&"))
    assert errors.headers["Content-Disposition"].endswith("errori-marzo.csv")
    assert errors.data.decode("utf-8-sig").splitlines()[1].startswith("2;P-7;D1;9;valore non ammesso")


def test_a_firms_account_from_before_without_a_firm_is_flagged_until_named(app, client, runner):
    """An account created before the firm's name was required keeps its e-mail's domain as its firm: the users page
    says so, and saving it asks for the name."""
    from survey_app.extensions import db

    from .test_demo_and_users import in_db, with_catalogue

    with_catalogue(app)
    with app.app_context():
        old = User(email="vecchio@gmail.com", ruolo="rilevatore", societa=None,
                   servizi=[db.session.scalar(select(Servizio).filter_by(slug="anagrafe"))])
        old.set_password("una-password-lunga")
        db.session.add(old)
        db.session.commit()
        old_id = old.id
    login(client, runner, "admin@comune.it", "--role", "admin")
    users = unescape(client.get("/staff/utenti/").get_data(as_text=True))
    row = users.split("vecchio@gmail.com", 1)[1].split("</tr>", 1)[0]
    assert "(società non indicata: i suoi lotti vanno sotto «gmail.com», il dominio dell'email" in row
    # Its edit page offers the name its batches and ids are filed under: saved as it is, nothing is left behind.
    assert 'name="societa" type="text" value="gmail.com"' in client.get(f"/staff/utenti/{old_id}").get_data(
        as_text=True)
    token = csrf_token(users)
    unnamed = client.post(f"/staff/utenti/{old_id}", data={"csrf_token": token, "ruolo": "rilevatore",
                                                           "servizi": ["anagrafe"], "societa": ""})
    assert unnamed.status_code == 400 and 'id="societa-errore"' in unnamed.get_data(as_text=True)
    named = client.post(f"/staff/utenti/{old_id}", data={"csrf_token": token, "ruolo": "rilevatore",
                                                         "servizi": ["anagrafe"], "societa": "Vecchia srl"})
    assert named.status_code == 302
    assert in_db(app, select(User.societa).filter_by(id=old_id)) == [("Vecchia srl",)]


def test_a_firms_name_typed_at_the_console_keeps_no_control_character(catalogue, runner, tmp_path):
    """The pages refuse a control character in a firm's name; the command line stored "Kantar\\x03" as a batch's
    firm, which then went into the published method note (the review of this change)."""
    from .test_imports import HEADER, write

    path = write(tmp_path, f"{HEADER}\nK1;15/03/2025;anagrafe;;;5;;;5;;;;\n")
    result = runner.invoke(args=["responses", "import", path, "--questionnaire", "breve", "--source", "Kantar\x03",
                                 "--method", "CATI"])
    assert result.exit_code == 0, result.output
    assert catalogue.scalar(select(ImportBatch.fonte)) == "Kantar"
    created = runner.invoke(args=["users", "create", "k@kantar.it", "--role", "rilevatore", "--scope", "anagrafe",
                                  "--firm", "Kan\x07tar"])
    assert created.exit_code == 0 and catalogue.scalar(select(User.societa)) == "Kantar"  # the same firm


def test_a_name_saved_with_a_control_character_before_they_were_refused_breaks_no_download(catalogue, client,
                                                                                            runner, tmp_path):
    """A service and a counter named with a vertical tab before the catalogue refused it: the firms' XLSX template
    was a server error and the poster's SVG unreadable (the probe). They leave the character out."""
    import io
    from xml.etree import ElementTree

    import openpyxl

    from survey_app.models import Sede

    tributi = catalogue.scalar(select(Servizio).filter_by(slug="tributi"))
    tributi.nome_it = "Tributi\x0blocali"
    catalogue.scalar(select(Sede).filter_by(codice="sportello-1")).nome = "Sportello\x02 1"
    catalogue.commit()
    login(client, runner, "admin@comune.it", "--role", "admin")
    template = client.get("/staff/importazioni/modello/breve.xlsx")
    assert template.status_code == 200
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(template.data))["Legenda"].iter_rows(values_only=True)
             for c in row if c]
    assert any("tributi (Tributilocali)" in c for c in cells) and any("sportello-1 (Sportello 1)" in c for c in cells)
    poster = client.get("/staff/qr/tributi.svg")
    assert poster.status_code == 200
    title = ElementTree.fromstring(poster.data).find("{http://www.w3.org/2000/svg}title").text  # noqa: S314 - ours
    assert title.endswith("Tributilocali")
    counter = client.get("/staff/qr/anagrafe.svg?sede=sportello-1")
    assert counter.status_code == 200 and ElementTree.fromstring(counter.data) is not None  # noqa: S314 - our own
    assert client.get("/staff/qr/tributi.pdf").status_code == 200
    # The published CSV leaves it out too, as the same version's workbooks always did.
    add_answers(catalogue, "tributi", datetime(2025, 3, 3, 10), {"D3": 4})
    out = runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path / "pub")])
    assert out.exit_code == 0, out.output
    text = (tmp_path / "pub" / "soddisfazione-2025.csv").read_text(encoding="utf-8")
    assert "Tributilocali" in text and "\x0b" not in text
