"""One instance, several enti: each body publishes its own page and files in its own Amministrazione trasparente.

The small catalogue has the Comune di Prova (anagrafe, tributi), the Unione Test (vigilanza) and a member comune
without services of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from html import unescape

import openpyxl
import pandas as pd
import pytest
import yaml
from frictionless import validate
from sqlalchemy import func, select

from survey_app.catalogue import load_catalogue
from survey_app.models import Compilazione, ImportBatch, Pubblicazione, PubblicazioneFile, Servizio, Ufficio
from survey_app.models.organisation import Ente

from .conftest import SMALL_CATALOGUE
from .helpers import add_answers, login

YEAR = 2025
COMUNE, UNIONE = "comune-test", "unione-test"
COMUNE_FILES = [f"soddisfazione-{YEAR}-{COMUNE}.{s}" for s in ("csv", "xlsx", "ods")]
UNIONE_FILES = [f"soddisfazione-{YEAR}-{UNIONE}.{s}" for s in ("csv", "xlsx", "ods")]


@pytest.fixture
def answered(catalogue):
    """Anagrafe (Comune): 6 by web and 2 by QR, and 3 by a firm's telephone interviews; vigilanza (Unione): 6 by web."""
    db = catalogue
    for i, d3 in enumerate([5, 4, 4, 3, 2, 1, 5, 4]):
        add_answers(db, "anagrafe", datetime(YEAR, 3 + i, 10, 9), {"D3": d3, "D1": 4}, canale="qr" if i < 2 else "web")
    for face in [3, 3, 3, 3, 2, 1]:
        add_answers(db, "vigilanza", datetime(YEAR, 7, 1, 8), {"D1": face})
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    batch = ImportBatch(fonte="Demoskopika srl", metodo="CATI", nome_file="telefono.csv", sha256="0" * 64, righe=3)
    db.add(batch)
    for _ in range(3):
        db.add(Compilazione(servizio=servizio, versione=servizio.questionario.versione_corrente,
                            data_ora=datetime(YEAR, 10, 1, 10), canale="telefono", lingua="it", import_batch=batch))
    db.commit()
    return db


def publish(runner, out) -> None:
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(out)])
    assert result.exit_code == 0, result.output


def channel_counts(db, ente: str) -> dict[str, int]:
    """The citizens' questionnaires of the ente's services by channel, counted straight from the database."""
    query = (select(Compilazione.canale, func.count()).join(Servizio).join(Ufficio).join(Ente)
             .where(Ente.codice == ente, Compilazione.import_batch_id.is_(None)).group_by(Compilazione.canale))
    return dict(db.execute(query).all())


def method_of(path) -> dict[str, str]:
    sheet = openpyxl.load_workbook(path)["Nota metodologica"]
    return {r[0]: r[1] for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}


def test_each_ente_has_its_own_tables_in_the_version(answered, runner, tmp_path):
    publish(runner, tmp_path)
    record = answered.scalar(select(Pubblicazione))
    assert set(COMUNE_FILES + UNIONE_FILES) <= {f.nome for f in record.file}
    whole = pd.read_csv(tmp_path / f"soddisfazione-{YEAR}.csv", keep_default_na=False, dtype=str)
    for name, files in (("Comune di Prova", COMUNE_FILES), ("Unione Test", UNIONE_FILES)):
        own = pd.read_csv(tmp_path / files[0], keep_default_na=False, dtype=str)
        # The same table, columns and all, narrowed to the ente's rows: nothing else, nothing missing.
        expected = whole[whole["ente"] == name].reset_index(drop=True)
        assert len(own) and list(own.columns) == list(whole.columns)
        pd.testing.assert_frame_equal(own, expected)
        sintesi = openpyxl.load_workbook(tmp_path / files[1])["Sintesi"]
        assert {r[0] for r in sintesi.iter_rows(min_row=5, values_only=True)} == {name}
        assert name in sintesi["A1"].value
        ods = pd.read_excel(tmp_path / files[2], sheet_name="Sintesi", engine="odf", header=3)
        assert set(ods["Ente"]) == {name}
    # Each ente's Nota metodologica counts its own questionnaires, as the database does.
    comune, unione, all_of_them = (method_of(tmp_path / COMUNE_FILES[1]), method_of(tmp_path / UNIONE_FILES[1]),
                                   method_of(tmp_path / f"soddisfazione-{YEAR}.xlsx"))
    assert comune["Ente"] == "Comune di Prova" and unione["Ente"] == "Unione Test" and "Ente" not in all_of_them
    assert channel_counts(answered, COMUNE) == {"qr": 2, "web": 6} and channel_counts(answered, UNIONE) == {"web": 6}
    assert comune["Canali di risposta dei cittadini (questionari)"] == "codice QR allo sportello: 2; web (link): 6"
    assert unione["Canali di risposta dei cittadini (questionari)"] == "web (link): 6"
    assert all_of_them["Canali di risposta dei cittadini (questionari)"] == "codice QR allo sportello: 2; web (link): 12"
    assert comune["Rilevazioni di società incaricate (questionari)"] == \
        "Demoskopika srl, interviste telefoniche (CATI): 3"
    assert unione["Rilevazioni di società incaricate (questionari)"] == "nessuna"
    assert "Margine di errore – Anagrafe" in comune and "Margine di errore – Anagrafe" not in unione


def test_the_package_and_the_dcat_describe_each_entes_csv(answered, runner, client, tmp_path):
    publish(runner, tmp_path)
    result = validate(str(tmp_path / "datapackage.json"))
    assert result.valid, result.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((tmp_path / "datapackage.json").read_text())
    paths = {r["path"]: r for r in package["resources"]}
    assert set(paths) == {f"soddisfazione-{YEAR}.csv", COMUNE_FILES[0], UNIONE_FILES[0]}
    assert "Comune di Prova" in paths[COMUNE_FILES[0]]["title"]
    # frictionless checks each resource's hash: a changed byte in one ente's CSV fails the package.
    changed = tmp_path / UNIONE_FILES[0]
    changed.write_text(changed.read_text().replace("Vigilanza", "Vigilanzx", 1))
    assert not validate(str(tmp_path / "datapackage.json")).valid
    dcat = json.loads((tmp_path / "dcat-ap_it.jsonld").read_text())
    names = {d["dcat:downloadURL"]["@id"].rsplit("/", 1)[1]: d for d in dcat["dcat:distribution"]}
    assert set(COMUNE_FILES + UNIONE_FILES) <= set(names)
    for name in COMUNE_FILES:
        body = client.get(f"/trasparenza/{YEAR}/{name}").data  # the newest version's stable link
        assert hashlib.sha256(body).hexdigest() == names[name]["spdx:checksum"]["spdx:checksumValue"]
        # Each ente's file points a harvester to that ente's page, and says whose it is.
        assert names[name]["dcat:accessURL"]["@id"].endswith(f"/trasparenza/{YEAR}?ente={COMUNE}")
        assert names[name]["dct:title"] == f"{name} – Comune di Prova"
    assert names[f"soddisfazione-{YEAR}.csv"]["dcat:accessURL"]["@id"].endswith(f"/trasparenza/{YEAR}")


def test_files_saved_as_the_site_names_them_validate_as_a_package(answered, runner, client, tmp_path):
    """A user saves the data package and its CSVs from the site: each is saved under the name the server gives it
    (Content-Disposition), and the folder validates. A "-v1" the server added to each CSV's name broke every path."""
    publish(runner, tmp_path / "out")
    folder = tmp_path / "scaricati"
    folder.mkdir()
    package = client.get(f"/trasparenza/{YEAR}/datapackage.json")
    wanted = ["datapackage.json", *(r["path"] for r in package.get_json()["resources"])]
    assert len(wanted) == 4
    # The whole year's page offers every file the package lists, each ente's CSV included (they were described
    # but linked only from each ente's own page).
    page = unescape(client.get(f"/trasparenza/{YEAR}").get_data(as_text=True))
    assert all(f"/v1/{name}\"" in page for name in wanted), page
    assert "Dati aperti (CSV): solo Unione Test" in page
    for name in wanted:
        response = client.get(f"/trasparenza/{YEAR}/{name}")
        assert response.status_code == 200, name
        saved = response.headers["Content-Disposition"].rpartition("filename=")[2].strip('"')
        (folder / saved).write_bytes(response.data)
    result = validate(str(folder / "datapackage.json"))
    assert result.valid, result.flatten(["rowNumber", "fieldName", "type", "note"])


def test_an_entes_page_shows_only_its_services_and_files(answered, runner, client, tmp_path):
    publish(runner, tmp_path)
    whole = client.get("/trasparenza").get_data(as_text=True)
    assert 'href="/trasparenza?ente=comune-test"' in whole and 'href="/trasparenza?ente=unione-test"' in whole
    page = client.get(f"/trasparenza?ente={COMUNE}").get_data(as_text=True)
    assert ">Anagrafe</a>" in page and ">Tributi</a>" in page and "Vigilanza" not in page
    assert "Comune di Prova" in page and "Unione Test" not in page
    assert f"/v1/{COMUNE_FILES[0]}" in page and f"/v1/soddisfazione-{YEAR}.csv" not in page
    assert UNIONE_FILES[0] not in page and "datapackage.json" in page
    # Its links stay on its own pages: the year, each service, the footer's results link.
    assert f'href="/trasparenza/{YEAR}?ente={COMUNE}"' in page and f'href="/trasparenza?ente={COMUNE}"' in page
    assert f'href="/trasparenza/{YEAR}/anagrafe?ente={COMUNE}"' in page
    year = client.get(f"/trasparenza/{YEAR}?ente={UNIONE}").get_data(as_text=True)
    assert "Vigilanza" in year and "Anagrafe" not in year and "Comuni aderenti: Comune di Borgo Test" in year
    assert f"/v1/{UNIONE_FILES[1]}" in year and "La pagina di ciascun ente" not in year
    service = client.get(f"/trasparenza/{YEAR}/anagrafe?ente={COMUNE}")
    assert service.status_code == 200 and f'href="/trasparenza/{YEAR}?ente={COMUNE}"' in service.get_data(as_text=True)
    # Another ente's service, an ente without services (a member comune) and an unknown code are not pages, and
    # their 404 page is not headed with the code's name.
    assert client.get(f"/trasparenza/{YEAR}/vigilanza?ente={COMUNE}").status_code == 404
    member = client.get("/trasparenza?ente=borgo-test")
    assert member.status_code == 404 and "Comune di Borgo Test" not in member.get_data(as_text=True)
    assert client.get(f"/trasparenza/{YEAR}?ente=borgo-test").status_code == 404
    assert client.get(f"/trasparenza/{YEAR}?ente=nessuno").status_code == 404


def test_an_entes_page_before_anything_is_published(catalogue, client):
    page = client.get(f"/trasparenza?ente={COMUNE}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Non è ancora stato pubblicato nessun risultato" in text and "Comune di Prova" in text
    assert client.get("/trasparenza?ente=nessuno").status_code == 404
    assert client.get("/trasparenza?ente=borgo-test").status_code == 404  # a member comune: the Unione's page


def as_published_before_per_ente_files(db, record) -> None:
    """``record`` as a version published before each ente had its own files: no such files, no ente's method."""
    for stored in list(record.file):
        if stored.nome in COMUNE_FILES + UNIONE_FILES:
            db.delete(stored)
    record.dati = {k: v for k, v in record.dati.items() if k != "metodologia_enti"}
    db.commit()


def test_a_version_published_before_per_ente_files_offers_the_whole_ones(answered, runner, client, tmp_path):
    publish(runner, tmp_path)
    as_published_before_per_ente_files(answered, answered.scalar(select(Pubblicazione)))
    assert answered.scalar(select(func.count()).select_from(PubblicazioneFile)) == 5
    page = client.get(f"/trasparenza?ente={COMUNE}").get_data(as_text=True)
    assert ">Anagrafe</a>" in page and "Vigilanza" not in page and f"/v1/soddisfazione-{YEAR}.csv" in page
    # ... saying that they hold every ente's services.
    assert "i file riportano i servizi di tutti gli enti" in page
    # Publishing again gives each ente its files, in a version that says so (not an unexplained "0 modifiche").
    publish(runner, tmp_path / "v2")
    answered.expire_all()
    latest = answered.scalar(select(Pubblicazione).order_by(Pubblicazione.versione.desc()))
    assert latest.versione == 2 and [c["campo"] for c in latest.modifiche] == ["file di ciascun ente"]
    year = client.get(f"/trasparenza/{YEAR}?ente={COMUNE}").get_data(as_text=True)
    assert "1 modifica rispetto alla versione precedente" in year and "file di ciascun ente" in year
    assert f"/v2/{COMUNE_FILES[0]}" in year and "i file riportano i servizi di tutti gli enti" not in year
    # And then nothing more: the same figures make no third version.
    publish(runner, tmp_path / "v3")
    assert answered.scalar(select(func.max(Pubblicazione.versione))) == 2


def test_an_entes_year_lists_its_own_changes(answered, runner, client, tmp_path):
    publish(runner, tmp_path)
    for face in [3, 3, 1]:
        add_answers(answered, "vigilanza", datetime(YEAR, 8, 1, 8), {"D1": face})
    publish(runner, tmp_path / "v2")
    comune = client.get(f"/trasparenza/{YEAR}?ente={COMUNE}").get_data(as_text=True)
    unione = client.get(f"/trasparenza/{YEAR}?ente={UNIONE}").get_data(as_text=True)
    whole = client.get(f"/trasparenza/{YEAR}").get_data(as_text=True)
    assert "Vigilanza" not in comune and "0 modifiche" not in comune
    assert "nessuna modifica ai dati di questo ente: la versione aggiorna quelli di altri enti" in comune
    changed = answered.scalar(select(Pubblicazione).filter_by(versione=2)).modifiche
    assert changed and {c["ente"] for c in changed} == {"Unione Test"}
    assert f"{len(changed)} modifiche rispetto alla versione precedente" in unione
    assert f"{len(changed)} modifiche rispetto alla versione precedente" in whole


def test_an_ente_is_offered_only_the_years_it_has_services_in(answered, runner, client, tmp_path):
    """A year published before the Unione joined the instance has no services of it."""
    publish(runner, tmp_path)
    add_answers(answered, "anagrafe", datetime(YEAR - 1, 5, 1, 9), {"D3": 4})
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR - 1), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    earlier = answered.scalar(select(Pubblicazione).filter_by(anno=YEAR - 1))
    earlier.dati = {**earlier.dati, "sintesi": [r for r in earlier.dati["sintesi"] if r["ente"] != "Unione Test"]}
    answered.commit()
    unione = client.get(f"/trasparenza?ente={UNIONE}").get_data(as_text=True)
    assert f'href="/trasparenza/{YEAR}?ente={UNIONE}"' in unione and f"/trasparenza/{YEAR - 1}?ente=" not in unione
    comune = client.get(f"/trasparenza?ente={COMUNE}").get_data(as_text=True)
    assert f'href="/trasparenza/{YEAR - 1}?ente={COMUNE}"' in comune
    # Its page shows the newest year that has its services, whatever the newest year is.
    answered.delete(answered.scalar(select(Pubblicazione).filter_by(anno=YEAR)))
    answered.commit()
    assert client.get(f"/trasparenza?ente={COMUNE}").status_code == 200
    alone = client.get(f"/trasparenza?ente={UNIONE}")
    assert alone.status_code == 200 and "Non è ancora stato pubblicato nessun risultato" in alone.get_data(as_text=True)


def test_one_ente_publishes_no_tables_of_its_own(db, runner, tmp_path):
    """With a single ente, its tables are the whole ones: no second copy of each."""
    catalogue = yaml.safe_load(SMALL_CATALOGUE.read_text(encoding="utf-8"))
    catalogue["enti"] = [e for e in catalogue["enti"] if e["codice"] == COMUNE]
    path = tmp_path / "comune.yaml"
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    load_catalogue(db, path)
    add_answers(db, "anagrafe", datetime(YEAR, 3, 10, 9), {"D3": 5})
    publish(runner, tmp_path / "out")
    record = db.scalar(select(Pubblicazione))
    assert sorted(f.nome for f in record.file) == sorted([f"soddisfazione-{YEAR}.csv", f"soddisfazione-{YEAR}.xlsx",
                                                          f"soddisfazione-{YEAR}.ods", "datapackage.json",
                                                          "dcat-ap_it.jsonld"])
    assert "metodologia_enti" not in record.dati


def test_the_staff_page_gives_each_entes_address_to_link(answered, runner, client, tmp_path):
    login(client, runner, "t@example.org", "--role", "trasparenza")
    before = client.get("/staff/trasparenza/").get_data(as_text=True)
    assert f"http://localhost/trasparenza?ente={COMUNE}" in before and "dati aperti (CSV)" not in before
    publish(runner, tmp_path)
    page = client.get("/staff/trasparenza/").get_data(as_text=True)
    for code in (COMUNE, UNIONE):
        assert f"<code>http://localhost/trasparenza?ente={code}</code>" in page
        link = f"http://localhost/trasparenza/{YEAR}/soddisfazione-{YEAR}-{code}.csv"
        assert f"<code>{link}</code>" in page
        assert client.get(link.removeprefix("http://localhost")).status_code == 200


def test_the_sintesi_shows_the_share_published_for_the_year_before(answered, runner, client, tmp_path):
    """Anagrafe 2025: D3 5 of 8 satisfied (62.5%). 2024, published: 3 of 6 (50.0%). Vigilanza had no 2024 answers."""
    for d3 in [5, 4, 4, 2, 1, 3]:
        add_answers(answered, "anagrafe", datetime(YEAR - 1, 6, 1, 9), {"D3": d3})
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR - 1), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    # Answers stored after the 2024 publication change nothing: the page shows what was published.
    add_answers(answered, "anagrafe", datetime(YEAR - 1, 7, 1, 9), {"D3": 5})
    publish(runner, tmp_path)
    for url in ("/trasparenza", f"/trasparenza/{YEAR}", f"/trasparenza?ente={COMUNE}"):
        page = client.get(url).get_data(as_text=True)
        assert f"Soddisfatti nel {YEAR - 1}</th>" in page, url
        row = page[page.index(">Anagrafe</a>"):].split("</tr>", 1)[0]
        assert "62,5%" in row and "50,0%" in row and "su 6 risposte" in row, row
        vigilanza = page[page.index(">Vigilanza</a>"):].split("</tr>", 1)[0] if "Vigilanza" in page else ""
        assert url.endswith(COMUNE) or "<td class=\"text-end\">—</td>" in vigilanza
    service = client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
    assert f"Soddisfatti nel {YEAR - 1}</dt>" in service and "50,0%" in service
    # The 2024 page itself has no year before it published: no such column.
    assert f"Soddisfatti nel {YEAR - 2}" not in client.get(f"/trasparenza/{YEAR - 1}").get_data(as_text=True)


def test_an_earlier_version_keeps_the_year_before_it_was_published_with(answered, runner, client, tmp_path):
    """2025 version 1 was published before 2024; once 2024 was, version 1's page grew a "Soddisfatti nel 2024"
    column its files never had (a walk-through as the transparency officer). An earlier version now shows the year
    before as it stood when it was published; the version in force shows the newest and says which version it is."""
    publish(runner, tmp_path / "a")
    for d3 in [5, 4, 4, 2, 1, 3]:
        add_answers(answered, "anagrafe", datetime(YEAR - 1, 6, 1, 9), {"D3": d3})
    result = runner.invoke(args=["export", "transparency", "--year", str(YEAR - 1), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 1, 9), {"D3": 5})
    publish(runner, tmp_path / "b")  # 2025 version 2, after 2024's version 1
    first, second = (f"/trasparenza/{YEAR}?versione=1", f"/trasparenza/{YEAR}")
    assert f"Soddisfatti nel {YEAR - 1}" not in client.get(first).get_data(as_text=True)
    assert "Soddisfatti nel" not in client.get(f"/trasparenza/{YEAR}/anagrafe?versione=1").get_data(as_text=True)
    page = client.get(second).get_data(as_text=True)
    assert f"Soddisfatti nel {YEAR - 1}</th>" in page
    assert re.search(rf"la quota pubblicata per il {YEAR - 1} nella versione 1, del \d\d/\d\d/\d{{4}}", page)
    service = client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
    assert re.search(r"n = 6; versione 1 del \d\d/\d\d/\d{4}", service)


def test_an_earlier_versions_service_page_says_it_is_not_in_force(answered, runner, client, tmp_path):
    publish(runner, tmp_path / "a")
    add_answers(answered, "anagrafe", datetime(YEAR, 12, 1, 9), {"D3": 5})
    publish(runner, tmp_path / "b")
    old = client.get(f"/trasparenza/{YEAR}/anagrafe?versione=1&ente={COMUNE}").get_data(as_text=True)
    assert "Questa non è la versione in vigore:" in old
    assert f'href="/trasparenza/{YEAR}/anagrafe?ente={COMUNE}">vai alla versione 2</a>' in old
    assert "versione in vigore" not in client.get(f"/trasparenza/{YEAR}/anagrafe").get_data(as_text=True)
