"""The Nucleo di valutazione's report against figures worked out by hand (and by scipy) from the answers."""

import io
import math
import re
from datetime import date, datetime

import pandas as pd
import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from pypdf import PdfReader
from scipy import stats as sps
from sqlalchemy import select

from analysis import relazione_pdf
from analysis.relazione import StandardResult, build_report
from analysis.relazione_pdf import to_pdf
from analysis.relazione_xlsx import to_xlsx
from survey_app.models import Servizio, Standard
from survey_app.models.publications import AzioneMiglioramento

from .helpers import add_answers, login

VIGILANZA_2025 = [3] * 7 + [2]  # 7 green faces of 8: 87.5% against a standard of 70
ANAGRAFE_2025 = [5, 5, 4, 4, 4, 4, 5, 3, 2, 1]  # 7 of 10 give 4 or 5: 70%; mean 37/10
ANAGRAFE_2024 = [5, 4, 4, 4, 3, 3, 2, 2, 1, 1]  # 4 of 10: 40%
TRIBUTI_2025 = [5] * 5 + [4] * 4 + [3, 2, 1]  # 9 of 12: 75%
TRIBUTI_2024 = [4] * 4 + [3] * 8 + [2] * 8  # 4 of 20: 20%
TRIBUTI_NAME = "=Tributi e canoni"  # a spreadsheet would run it as a formula


def pooled_p(k1, n1, k2, n2):
    """Two-sided p-value of the pooled two-proportion z-test, written out independently of the engine."""
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 2 * sps.norm.sf(abs(z))


@pytest.fixture
def answers(catalogue):
    db = catalogue
    for face in VIGILANZA_2025:
        add_answers(db, "vigilanza", datetime(2025, 5, 2, 9), {"D1": face})
    for face in (3, 3, 1):  # 2024: 3 answers, too few to compare with
        add_answers(db, "vigilanza", datetime(2024, 5, 2, 9), {"D1": face})
    d2 = [4, 3, 1]  # only 3 answers to D2: the service-wide standard cannot be assessed on it
    for i, value in enumerate(ANAGRAFE_2025):
        add_answers(db, "anagrafe", datetime(2025, 3, 1 + i, 10), {"D3": value, **({"D2": d2[i]} if i < 3 else {})})
    for i, value in enumerate(ANAGRAFE_2024):
        add_answers(db, "anagrafe", datetime(2024, 3, 1 + i, 10), {"D3": value})
    for value in TRIBUTI_2025:
        add_answers(db, "tributi", datetime(2025, 9, 1, 11), {"D3": value})
    for value in TRIBUTI_2024:
        add_answers(db, "tributi", datetime(2024, 9, 1, 11), {"D3": value})
    services = {s.slug: s for s in db.scalars(select(Servizio))}
    services["tributi"].nome_it = TRIBUTI_NAME
    target = db.scalar(select(Standard).filter_by(servizio_id=services["anagrafe"].id, domanda_codice="D3",
                                                  indicatore="quota_soddisfatti"))
    db.add_all([
        AzioneMiglioramento(servizio=services["anagrafe"], standard=target, indicatore="quota_soddisfatti",
                            domanda_codice="D3", titolo="Secondo sportello il sabato", descrizione="Apertura.",
                            ufficio=services["anagrafe"].ufficio, data_inizio=date(2025, 3, 1),
                            data_scadenza=date(2025, 12, 31), stato="in_corso"),
        AzioneMiglioramento(servizio=services["vigilanza"], indicatore="quota_soddisfatti", domanda_codice="D1",
                            titolo="Orari del comando online", descrizione="Pubblicazione.",
                            ufficio=services["vigilanza"].ufficio, data_inizio=date(2024, 6, 1),
                            data_scadenza=date(2025, 2, 28), stato="completata", esito="Fatto"),
        AzioneMiglioramento(servizio=services["tributi"], indicatore="media", titolo="Vecchia azione",
                            descrizione="Del 2023.", ufficio=services["tributi"].ufficio,
                            data_inizio=date(2023, 1, 1), data_scadenza=date(2023, 12, 31), stato="pianificata"),
    ])
    db.commit()
    return db


def by_slug(report):
    return {svc.codice: svc for svc in report.services()}


def standards_of(svc):
    return {(s.domanda_codice, s.indicatore, s.soglia): s for s in svc.standards}


def test_standards_against_hand_computation(answers):
    report = build_report(answers.connection(), 2025)
    services = by_slug(report)
    assert [(o.ente, o.ufficio, [s.codice for s in o.services]) for o in report.offices] == [
        ("Comune di Prova", "Servizi demografici", ["tributi", "anagrafe"]),  # "=" sorts before "A"
        ("Unione Test", "Polizia locale", ["vigilanza"])]

    vigilanza = services["vigilanza"]
    assert (vigilanza.compilazioni, vigilanza.n, vigilanza.quota_soddisfatti) == (8, 8, 87.5)
    [face] = vigilanza.standards
    assert (face.domanda_codice, face.soglia, face.valore, face.n, face.esito) == ("D1", 70.0, 87.5, 8, "raggiunto")

    anagrafe = services["anagrafe"]
    assert (anagrafe.compilazioni, anagrafe.domanda_complessiva, anagrafe.n) == (10, "D3", 10)
    assert anagrafe.quota_soddisfatti == 7 / 10 * 100
    results = standards_of(anagrafe)
    # The D3 target of 80% overrides the service-wide 60% on D3, as in the published table's esito_standard.
    assert set(results) == {("D3", "quota_soddisfatti", 80.0), ("D3", "media", 4.0),
                            ("D2", "quota_soddisfatti", 60.0)}
    below = results[("D3", "quota_soddisfatti", 80.0)]
    assert (below.valore, below.n, below.esito) == (70.0, 10, "non raggiunto")
    mean = results[("D3", "media", 4.0)]
    assert (mean.valore, mean.esito) == (sum(ANAGRAFE_2025) / 10, "non raggiunto")
    small = results[("D2", "quota_soddisfatti", 60.0)]
    assert (small.valore, small.n, small.esito) == (None, 3, "non valutabile")

    assert [s.generale for s in anagrafe.standards] == [True, False, False]  # D2, D3 media, D3 80
    assert anagrafe.chart_standard() == 80.0  # the overall item's own target, not the service-wide 60
    assert services["tributi"].standards == [] and services["tributi"].chart_standard() is None
    assert report.totals == {"raggiunto": 1, "non raggiunto": 2, "non valutabile": 1}


def test_trend_against_scipy(answers):
    services = by_slug(build_report(answers.connection(), 2025))
    anagrafe = services["anagrafe"].trend
    assert (anagrafe.anno_prec, anagrafe.quota_prec, anagrafe.n_prec, anagrafe.n) == (2024, 40.0, 10, 10)
    assert anagrafe.differenza == pytest.approx(70.0 - 40.0)
    # 7 of 10 against 4 of 10: too few to expect 5 of each kind in each year, so Fisher's exact test (the z-test's
    # approximation would give p ≈ 0.18).
    assert anagrafe.p_value == pytest.approx(sps.fisher_exact([[7, 3], [4, 6]]).pvalue)
    assert anagrafe.p_value == pytest.approx(0.3698, abs=1e-4) and pooled_p(7, 10, 4, 10) < 0.18
    assert not anagrafe.significativo

    tributi = services["tributi"].trend
    assert (tributi.quota, tributi.quota_prec) == (75.0, 20.0)
    assert tributi.differenza == pytest.approx(55.0)
    assert tributi.p_value == pytest.approx(sps.fisher_exact([[9, 3], [4, 16]]).pvalue)
    assert tributi.significativo and tributi.p_value < 0.05

    assert services["vigilanza"].trend is None  # 3 answers in 2024: not comparable


def test_actions_of_the_year_with_their_status(answers):
    with freeze_time("2025-12-20 10:00:00"):
        services = by_slug(build_report(answers.connection(), 2025))
    assert [(a.titolo, a.stato, a.riferimento) for a in services["anagrafe"].actions] == [
        ("Secondo sportello il sabato", "in corso", "standard % soddisfatti ≥ 80 (D3)")]
    # Still "in corso" after its deadline (31/12/2025): the Nucleo is told it is late (it read just "in corso").
    with freeze_time("2026-01-02 10:00:00"):
        services = by_slug(build_report(answers.connection(), 2025))
    assert services["anagrafe"].actions[0].stato == "in corso (scadenza superata)"
    assert [(a.titolo, a.stato, a.esito) for a in services["vigilanza"].actions] == [
        ("Orari del comando online", "completata", "Fatto")]
    assert services["tributi"].actions == []  # its only action ended in 2023


def test_the_report_judges_a_deadline_by_the_bodys_day(answers, app):
    """At 23:30 UTC on 31 December it is already 1 January in Rome: the action due on 31/12 is late there."""
    from survey_app.transparency.report import report_bytes
    with freeze_time("2025-12-31 23:30:00"):  # the server's clock, in UTC
        workbook = load_workbook(io.BytesIO(report_bytes(answers, 2025, "xlsx", 5)))
        pdf = PdfReader(io.BytesIO(report_bytes(answers, 2025, "pdf", 5)))
    states = {r[4]: r[9] for r in workbook["Azioni"].iter_rows(min_row=2, values_only=True)}
    assert states["Secondo sportello il sabato"] == "in corso (scadenza superata)"
    assert "Redatta il 1° gennaio 2026" in pdf.pages[0].extract_text()
    # The commands' --year too: the body's new year is a year one may ask for.
    import click

    from survey_app.transparency.cli import check_year
    with freeze_time("2025-12-31 23:30:00"):
        assert check_year(2026) == 2026
        with pytest.raises(click.BadParameter, match="fuori intervallo"):
            check_year(2027)


def test_services_without_answers_list_their_standards_as_non_valutabile(catalogue):
    report = build_report(catalogue.connection(), 2025)
    services = by_slug(report)
    assert set(services) == {"anagrafe", "tributi", "vigilanza"}
    assert all(svc.compilazioni == 0 and svc.quota_soddisfatti is None and svc.trend is None
               for svc in services.values())
    assert sorted((s.domanda_codice, s.indicatore, s.soglia, s.n, s.esito) for s in services["anagrafe"].standards) \
        == [("", "quota_soddisfatti", 60.0, 0, "non valutabile"), ("D3", "media", 4.0, 0, "non valutabile"),
            ("D3", "quota_soddisfatti", 80.0, 0, "non valutabile")]
    assert report.totals == {"raggiunto": 0, "non raggiunto": 0, "non valutabile": 4}
    assert services["anagrafe"].domanda_complessiva == "D3"
    assert any("meno di 5 risposte" in text for _, text in report.method)


def test_threshold_below_five_is_refused(catalogue):
    with pytest.raises(ValueError, match="soglia"):
        build_report(catalogue.connection(), 2025, threshold=4)


def test_xlsx_matches_the_report(answers):
    report = build_report(answers.connection(), 2025)
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    assert wb.sheetnames == ["Servizi", "Standard", "Andamento", "Azioni", "Nota metodologica"]

    ws = wb["Standard"]
    assert [c.value for c in ws[1]] == ["Ente", "Ufficio", "Servizio", "Codice servizio",
                                       "Standard della carta dei servizi", "Indicatore", "Domanda valutata",
                                       "Valore obiettivo", "Valore rilevato", "Risposte valide (n)", "Esito",
                                       "Testo della domanda", "Lo standard nella carta dei servizi"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:M6"
    rows = {(r[3].value, r[4].value, r[6].value): r for r in ws.iter_rows(min_row=2)}
    anagrafe = by_slug(report)["anagrafe"]
    for s in anagrafe.standards:
        row = rows[("anagrafe", s.testo, s.domanda_codice)]
        assert [c.value for c in row[5:11]] == [s.etichetta, s.domanda_codice, s.soglia, s.valore, s.n, s.esito]
    assert [c.value for c in rows[("anagrafe", "% soddisfatti ≥ 60", "D2")][7:11]] == [60.0, None, 3, "non valutabile"]
    # What the codes stand for: the question's text, and the standard as the carta dei servizi words it.
    assert rows[("anagrafe", "% soddisfatti ≥ 80 (D3)", "D3")][11].value == "Complessivamente, quanto è soddisfatto?"
    mean = rows[("anagrafe", "media ≥ 4 (D3)", "D3")]
    assert (mean[8].value, mean[8].number_format, mean[7].number_format) == (3.7, "[$-410]0.00", "[$-410]0.00")
    quota = rows[("anagrafe", "% soddisfatti ≥ 80 (D3)", "D3")]
    assert (quota[8].value, quota[8].number_format) == (70.0, "[$-410]0.0")
    tributi = next(r for r in ws.iter_rows(min_row=2) if r[3].value == "tributi")
    assert tributi[2].value == "'" + TRIBUTI_NAME and tributi[2].data_type == "s"
    assert tributi[4].value == "nessuno standard nella carta dei servizi"

    trend = {r[3]: r for r in wb["Andamento"].iter_rows(min_row=2, values_only=True)}
    expected = by_slug(report)["tributi"].trend
    row = trend["tributi"]
    assert row[4:11] + row[12:] == (12, "D3", 12, 75.0, 20, 20.0, expected.differenza, "sì")
    assert row[11] == pytest.approx(expected.p_value, rel=1e-12)  # the workbook keeps 16 digits
    assert trend["vigilanza"][8:] == (None, None, None, None, "non confrontabile")

    actions = [(r[3], r[4], r[9]) for r in wb["Azioni"].iter_rows(min_row=2, values_only=True)]
    assert sorted(actions) == [("anagrafe", "Secondo sportello il sabato", "in corso (scadenza superata)"),
                               ("vigilanza", "Orari del comando online", "completata")]
    method = dict(wb["Nota metodologica"].iter_rows(min_row=2, values_only=True))
    assert "meno di 5 risposte" in method["Regola di soppressione"]
    # The year compared with may hold a few weeks of answers: the Nucleo reads which, and the test used on few.
    trend_method = method["Andamento rispetto all'anno precedente"]
    assert trend_method.endswith("Nel 2024 le risposte vanno dal 01/03/2024 al 01/09/2024.")
    assert "test esatto di Fisher quando in un anno i soddisfatti o i non soddisfatti attesi sono meno di 5" \
        in trend_method


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_shows_every_service_and_result(answers):
    report = build_report(answers.connection(), 2025)
    report.generated = date(2026, 2, 15)
    reader, text = pdf_text(to_pdf(report))
    flat = " ".join(text.split())
    assert "Relazione al Nucleo di valutazione – soddisfazione degli utenti, anno 2025" in flat
    assert "15 febbraio 2026" in flat
    for name in ("Vigilanza", "Anagrafe", TRIBUTI_NAME):
        assert name in flat
    # One table row per standard: indicator, question, target, value, n, esito.
    assert "% soddisfatti D1 almeno 70,0% 87,5% 8 raggiunto" in flat
    assert "% soddisfatti D3 almeno 60,0%" not in flat  # overridden on D3 by its own 80% target
    assert "% soddisfatti D3 almeno 80,0% 70,0% 10 non raggiunto" in flat
    assert "% soddisfatti D2 almeno 60,0% (ogni domanda) – 3 non valutabile" in flat
    assert "standard almeno 80%" in flat and ">=" not in flat  # in words: Titillium has no ≥
    assert "40,0% (n = 10) 70,0% (n = 10) +30,0 0,370 no" in flat
    assert "87,5%" in flat and "3,70" in flat  # Italian decimals
    assert "Orari del comando online" in flat and "completata" in flat
    assert f"Pagina {len(reader.pages)} di {len(reader.pages)}" in flat
    assert "Nota metodologica" in flat
    if relazione_pdf.REGULAR.exists():
        fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
        assert any("Titillium" in name for name in fonts), fonts


def test_pdf_falls_back_to_core_fonts(answers, tmp_path, monkeypatch):
    monkeypatch.setattr(relazione_pdf, "REGULAR", tmp_path / "missing.ttf")
    report = build_report(answers.connection(), 2025)
    reader, text = pdf_text(to_pdf(report))
    flat = " ".join(text.split())
    fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert fonts == {"/Helvetica", "/Helvetica-Bold"}
    assert "Relazione al Nucleo di valutazione - soddisfazione degli utenti, anno 2025" in flat
    assert "% soddisfatti D2 almeno 60,0% (ogni domanda) - 3 non valutabile" in flat  # no latin-1 –
    assert "né l'ora esatta" in flat and "radice di" in flat  # accents kept, √ spelt out
    assert "Pagina 1 di" in flat and "non valutabile" in flat



def _office_charts(text: str) -> str:
    """The offices' bar charts: from each office's heading to its chart's caption."""
    return " ".join(part.split("Barre:")[0] for part in text.split("Ufficio:")[1:])


def test_a_long_service_name_goes_on_two_lines_in_the_chart(answers):
    """The office chart cut a long name to fit its column ("Servizi demografici, stato civ.")."""
    report = build_report(answers.connection(), 2025)
    anagrafe = next(s for s in report.services() if s.codice == "anagrafe")
    anagrafe.nome = "Servizi demografici: anagrafe, stato civile, elettorale e polizia mortuaria"
    charts = " ".join(_office_charts(pdf_text(to_pdf(report))[1]).split())
    assert "Servizi demografici: anagrafe, stato civile, elettorale e polizia mortuaria" in charts, charts
    # Three lines' worth: the second line ends at a word, with an ellipsis.
    anagrafe.nome = ("Servizi demografici: anagrafe, stato civile, elettorale, leva, polizia mortuaria, "
                     "toponomastica, statistica e censimenti permanenti della popolazione")
    charts = " ".join(_office_charts(pdf_text(to_pdf(report))[1]).split())
    assert re.search(r"Servizi demografici: anagrafe, stato civile, elettorale, [a-z ,]+[a-z](…|\.\.\.) ", charts), charts
    assert "popolazione" not in charts


def test_a_standard_reads_with_italian_decimals():
    """The XLSX wrote "media ≥ 3.8" beside the PDF's 3,80; a kiosk question's code keeps its dot."""
    mean = StandardResult("media", 3.8, "mettiamoci-la-faccia.D1", 3.75, 40, "non raggiunto")
    quota = StandardResult("quota_soddisfatti", 72.5, "D9", 80.0, 40, "raggiunto")
    assert (mean.testo, quota.testo) == ("media ≥ 3,8 (mettiamoci-la-faccia.D1)", "% soddisfatti ≥ 72,5 (D9)")


def test_a_service_section_is_not_split_from_its_trend_or_its_actions(answers):
    """A trend table or the "Nessuna azione" line could start a page alone, far from its service."""
    import copy

    report = build_report(answers.connection(), 2025)
    office = report.offices[0]
    office.services = [copy.deepcopy(svc) for _ in range(8) for svc in report.services()]
    reader, _text = pdf_text(to_pdf(report))
    assert len(reader.pages) > 3
    for number, page in enumerate(reader.pages[1:], start=2):
        first = page.extract_text().strip().splitlines()[0]
        assert not first.startswith(("Andamento", "Nessuna azione", "Azioni di miglioramento", "Soddisfatti")), (
            number, first)


def test_the_first_of_a_month_is_written_as_italian_writes_it():
    """The report's dates ("Redatta il …", the end of a running year's period) share one writer."""
    assert relazione_pdf.it_date(date(2026, 12, 1)) == "1° dicembre 2026"
    assert relazione_pdf.it_date(date(2026, 11, 24)) == "24 novembre 2026"


def test_each_ente_gets_a_report_of_its_own_services(answers, runner, client, tmp_path):
    """One instance for a Comune and an Unione: each body's Nucleo reads its own services, counts and channels
    (the report merged both, and named neither)."""
    from survey_app.models import ImportBatch

    batch = ImportBatch(fonte="Doxa", metodo="CATI", nome_file="t.csv", sha256="5" * 64, righe=2)
    answers.add(batch)
    answers.flush()
    for _ in range(2):  # a firm's calls for the Unione's service only
        add_answers(answers, "vigilanza", datetime(2025, 6, 2, 9), {"D1": 3}, canale="telefono", import_batch=batch)
    comune = build_report(answers.connection(), 2025, ente="comune-test")
    assert comune.ente == "Comune di Prova" and {s.codice for s in comune.services()} == {"anagrafe", "tributi"}
    unione = build_report(answers.connection(), 2025, ente="unione-test")
    assert {s.codice for s in unione.services()} == {"vigilanza"}
    assert by_slug(unione)["vigilanza"].compilazioni == len(VIGILANZA_2025) + 2
    method = dict(comune.method)
    assert method["Ente"] == "Comune di Prova"
    assert method["Rilevazioni di società incaricate (questionari)"] == "nessuna"  # the firm worked for the Unione
    assert "Doxa" in dict(unione.method)["Rilevazioni di società incaricate (questionari)"]
    assert dict(unione.method)["Andamento rispetto all'anno precedente"].endswith(
        "Nel 2024 le risposte vanno dal 02/05/2024 al 02/05/2024.")
    with pytest.raises(ValueError, match="ente sconosciuto"):
        build_report(answers.connection(), 2025, ente="altrove")
    # The command line and the staff area, as PDF and XLSX.
    out = tmp_path / "unione.pdf"
    result = runner.invoke(args=["export", "relazione", "--year", "2025", "--out", str(out), "--ente", "unione-test"])
    assert result.exit_code == 0, result.output
    _reader, text = pdf_text(out.read_bytes())
    assert text.startswith("Unione Test") and "Vigilanza" in text and "Anagrafe" not in text
    refused = runner.invoke(args=["export", "relazione", "--year", "2025", "--out", str(out), "--ente", "altrove"])
    assert refused.exit_code == 2 and "comune-test, unione-test" in refused.output
    login(client, runner, "t@comune.it", "--role", "trasparenza")
    page = client.get("/staff/trasparenza/").get_data(as_text=True)
    assert 'href="/staff/trasparenza/relazione/2025.xlsx?ente=comune-test"' in page
    workbook = client.get("/staff/trasparenza/relazione/2025.xlsx?ente=comune-test")
    assert "relazione-nucleo-2025-comune-test.xlsx" in workbook.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(workbook.data))["Standard"].values)
    assert {row[3] for row in rows[1:]} == {"anagrafe", "tributi"}
    assert client.get("/staff/trasparenza/relazione/2025.pdf?ente=altrove").status_code == 404


def test_the_report_says_what_each_code_stands_for(answers):
    """Standards were named by code alone ("% soddisfatti D3 almeno 80"): the Nucleo reads the question's text and the
    carta's own words for the standard."""
    standard = answers.scalar(select(Standard).join(Servizio).filter(
        Servizio.slug == "anagrafe", Standard.domanda_codice == "D3", Standard.indicatore == "quota_soddisfatti"))
    standard.descrizione = "Almeno l'80% degli utenti soddisfatti del servizio"
    answers.commit()
    report = build_report(answers.connection(), 2025)
    rows = {(r[3].value, r[4].value): r for r in load_workbook(io.BytesIO(to_xlsx(report)))["Standard"].iter_rows()}
    assert rows[("anagrafe", "% soddisfatti ≥ 80 (D3)")][12].value == "Almeno l'80% degli utenti soddisfatti del servizio"
    assert rows[("anagrafe", "media ≥ 4 (D3)")][12].value is None  # no wording in the catalogue: left empty
    _reader, text = pdf_text(to_pdf(report))
    flat = " ".join(text.split())
    assert "Domande valutate: D2 «Tempi di attesa»; D3 «Complessivamente, quanto è soddisfatto?»." in flat
    assert "Nella carta dei servizi: «Almeno l'80% degli utenti soddisfatti del servizio»." in flat


def test_the_report_states_each_campaigns_sample_against_its_target(answers):
    """The planned sample and what was collected were only on a staff page: the PIAO's monitoring needs them."""
    from survey_app.models import Compilazione, Rilevazione

    anagrafe = answers.scalar(select(Servizio).filter_by(slug="anagrafe"))
    campaign = Rilevazione(codice="primavera", titolo="Primavera 2025", questionario_id=anagrafe.questionario_id,
                           data_inizio=date(2025, 3, 1), data_fine=date(2025, 3, 31), campione_obiettivo=40,
                           servizi=[anagrafe])
    answers.add(campaign)
    answers.flush()
    march = list(answers.scalars(select(Compilazione).filter(
        Compilazione.servizio_id == anagrafe.id, Compilazione.data_ora >= datetime(2025, 3, 1),
        Compilazione.data_ora < datetime(2025, 4, 1))))
    for compilazione in march:
        compilazione.rilevazione_id = campaign.id
    answers.commit()
    method = dict(build_report(answers.connection(), 2025).method)
    share = round(len(march) / 40 * 100)
    assert method["Rilevazioni programmate e campione raccolto"] == (
        f"Primavera 2025, dal 01/03/2025 al 31/03/2025: {len(march)} questionari su 40 previsti ({share}%).")
    unione = dict(build_report(answers.connection(), 2025, ente="unione-test").method)
    assert unione["Rilevazioni programmate e campione raccolto"] == "Nessuna rilevazione programmata nell'anno."
    # A campaign shared with another ente's service: each ente's report counts its own questionnaires.
    vigilanza = answers.scalar(select(Servizio).filter_by(slug="vigilanza"))
    campaign.servizi.append(vigilanza)
    for compilazione in answers.scalars(select(Compilazione).filter_by(servizio_id=vigilanza.id)):
        if compilazione.data_ora.year == 2025:
            compilazione.rilevazione_id = campaign.id
    answers.commit()
    total = len(march) + len(VIGILANZA_2025)
    comune = dict(build_report(answers.connection(), 2025, ente="comune-test").method)
    assert comune["Rilevazioni programmate e campione raccolto"] == (
        f"Primavera 2025, dal 01/03/2025 al 31/03/2025: {len(march)} questionari per i servizi di questa relazione; "
        f"la rilevazione, condivisa con altri servizi, ne ha raccolti {total} su 40 previsti.")
    everyone = dict(build_report(answers.connection(), 2025).method)
    assert everyone["Rilevazioni programmate e campione raccolto"] == (
        f"Primavera 2025, dal 01/03/2025 al 31/03/2025: {total} questionari su 40 previsti "
        f"({round(total / 40 * 100)}%).")


def test_the_report_gives_every_figure_its_method_note_defines(answers):
    """The note defined ICS, NPS, the interval and the margin of error, and the report showed none of them."""
    from analysis.engine import Period, service_table

    add_answers(answers, "anagrafe", datetime(2025, 4, 1, 10), {"D3": 4, "D4": 10})
    report = build_report(answers.connection(), 2025)
    engine = service_table(answers.connection(), Period.year(2025)).set_index("servizio_codice")
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["Servizi"]
    header = [c.value for c in sheet[1]]
    rows = {r[3]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    anagrafe = rows["anagrafe"]
    assert anagrafe["Risposte valide (n)"] == 11 and anagrafe["Soddisfatti (%)"] == round(8 / 11 * 100, 1)
    for title, name in (("Intervallo di confidenza 95%: minimo", "ic95_inf"),
                        ("Intervallo di confidenza 95%: massimo", "ic95_sup"),
                        ("Margine di errore (± punti)", "margine_errore")):
        assert anagrafe[title] == pytest.approx(engine.loc["anagrafe", name], abs=0.05), title
    assert anagrafe["Net Promoter Score"] is None  # one NPS answer: suppressed
    for slug, row in rows.items():  # the ICS as the engine gives it, rounded as published
        assert row["Indice di customer satisfaction (0–100)"] == pytest.approx(round(engine.loc[slug, "ics"], 1)), slug
    _reader, text = pdf_text(to_pdf(report))
    flat = " ".join(text.split())
    low, high = (f"{engine.loc['anagrafe', k]:.1f}".replace(".", ",") for k in ("ic95_inf", "ic95_sup"))
    assert f"(intervallo di confidenza al 95%: {low}–{high}%)" in flat
    assert "Margine di errore ±" in flat


def test_a_difference_is_of_the_shares_as_printed():
    """45,1% against 39,1% read "+5,9" (the difference of the unrounded shares, 45.06 - 39.14): the reader does the
    subtraction on what is printed. The overview's trend likewise (52,1% and 35,6% read "+16,4")."""
    from analysis.overview import _trend as overview_trend
    from analysis.relazione import _trend

    row = pd.Series({"quota_soddisfatti_prec": 39.14, "n_prec": 200, "differenza": 45.06 - 39.14, "p_value": 0.2,
                     "significativo": False})
    trend = _trend(row, 45.1, 180, 2025)
    assert (trend.quota, trend.quota_prec, trend.differenza) == (45.1, 39.1, 6.0)
    found = overview_trend({"n": 96, "quota_soddisfatti": 52.08}, pd.Series({"n": 90, "quota_soddisfatti": 35.64}))
    assert found["differenza"] == 16.5


def test_a_standards_question_is_worded_as_the_services_respondents_read_it(catalogue, tmp_path):
    """The report named D3 with a wording written after the year (a version 2 answered only by another service),
    while the published table used the one anagrafe's respondents read (the review of this session's change)."""
    import yaml

    from survey_app.catalogue import load_catalogue

    from .conftest import SMALL_CATALOGUE
    from .helpers import add_answers

    for value in (5, 4, 4, 5, 2):
        add_answers(catalogue, "anagrafe", datetime(2025, 3, 1, 10), {"D3": value})
    data = yaml.safe_load(SMALL_CATALOGUE.read_text(encoding="utf-8"))
    data["questionari"][0]["domande"][2]["testo"]["it"] = "Nel complesso, come giudica il servizio?"
    (tmp_path / "catalogo.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_catalogue(catalogue, tmp_path / "catalogo.yaml").new_versions == ["breve v2"]
    add_answers(catalogue, "tributi", datetime(2025, 9, 1, 10), {"D3": 4})  # version 2, another service
    anagrafe = by_slug(build_report(catalogue.connection(), 2025))["anagrafe"]
    worded = {s.domanda for s in anagrafe.standards if s.domanda_codice == "D3"}
    assert worded == {"Complessivamente, quanto è soddisfatto?"}
