"""The service page's period and filters, the page per question and the downloads: every figure checked against
the stored answers themselves (not the daily counts the pages read), with scope held through every parameter."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from analysis.stats import round_half_up
from survey_app.demo.seed import seed_responses
from survey_app.models import Ente, ImportBatch, Rilevazione, Sede, Servizio

from .helpers import login

SQL = """
SELECT c.id, c.data_ora, c.canale, c.lingua, c.import_batch_id, s.codice AS sede, d.codice AS domanda,
       v.numero, r.valore, r.opzione, r.non_so
FROM risposte r JOIN compilazioni c ON c.id = r.compilazione_id JOIN domande d ON d.id = r.domanda_id
JOIN questionario_versioni v ON v.id = d.versione_id JOIN questionari q ON q.id = v.questionario_id
JOIN servizi sv ON sv.id = c.servizio_id LEFT JOIN sedi s ON s.id = c.sede_id
WHERE sv.slug = :slug AND q.codice = :questionnaire
"""


@pytest.fixture
def seeded(client, runner, catalogue):
    seed_responses(catalogue, 1500, seed=5, end=date(2025, 12, 31))
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe", "--scope", "vigilanza")
    return catalogue


def firm_batches(session, *methods: str) -> list[ImportBatch]:
    """One stored import batch of the firm Doxa per method, in order (the answers the tests add point to them)."""
    batches = [ImportBatch(fonte="Doxa", metodo=method, nome_file=f"{method.lower()}-{i}.csv",
                           sha256=hashlib.sha256(f"{method}-{i}".encode()).hexdigest(), righe=0)
               for i, method in enumerate(methods)]
    session.add_all(batches)
    session.flush()
    return batches


def answers(session, slug: str = "anagrafe", questionnaire: str = "breve") -> pd.DataFrame:
    frame = pd.read_sql_query(text(SQL), session.connection(), params={"slug": slug, "questionnaire": questionnaire})
    frame["data_ora"] = pd.to_datetime(frame["data_ora"], utc=True).dt.tz_localize(None)
    return frame


def overall(frame: pd.DataFrame, code: str = "D3", satisfied: int = 4) -> tuple[int, float]:
    """n and % satisfied (from ``satisfied`` up: 4–5 on 1–5, green face) of the overall item, by hand."""
    item = frame[(frame["domanda"] == code) & frame["valore"].notna() & ~frame["non_so"].astype(bool)]
    return len(item), round_half_up((item["valore"] >= satisfied).mean() * 100, 1)


def italian(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return unescape(response.get_data(as_text=True))


def test_each_filter_narrows_the_figures_to_those_answers(client, seeded):
    raw = answers(seeded)
    year = raw[raw["data_ora"].dt.year == 2025]
    cases = {"canale=qr": year[year["canale"] == "qr"], "sede=sportello-2": year[year["sede"] == "sportello-2"],
             "lingua=en": year[year["lingua"] == "en"],
             "provenienza=cittadino": year[year["import_batch_id"].isna()]}
    batch = seeded.scalar(select(ImportBatch).filter_by(metodo="CATI"))
    cases[f"provenienza={batch.id}"] = year[year["import_batch_id"] == batch.id]
    cases["canale=qr&sede=sportello-1"] = year[(year["canale"] == "qr") & (year["sede"] == "sportello-1")]
    for query, expected in cases.items():
        n, quota = overall(expected)
        assert n >= 5, query  # the seed gives every case enough answers to show
        html = page(client, f"/staff/servizi/anagrafe?anno=2025&{query}")
        assert f"{italian(quota)}% (IC 95%" in html and f"n = {n}" in html, query
        assert "Filtri attivi:" in html
        # The year links keep the filters.
        for part in query.split("&"):
            assert "anno=2024" in html and part in html


def test_the_comune_filter_follows_the_counter_or_the_service_ente(client, seeded):
    raw = answers(seeded, "vigilanza", "faccine")
    year = raw[raw["data_ora"].dt.year == 2025]
    html = page(client, "/staff/servizi/vigilanza?anno=2025")
    assert '<option value="borgo-test">' in html  # the member comune of the counter
    for comune, expected in (("borgo-test", year[year["sede"] == "comando"]),
                             ("unione-test", year[year["sede"].isna()])):
        n, quota = overall(expected, "D1", 3)
        assert n >= 5
        html = page(client, f"/staff/servizi/vigilanza?anno=2025&comune={comune}")
        assert f"n = {n}" in html and f"{italian(quota)}%" in html, comune


def test_a_range_of_months_and_a_campaign_are_periods(client, seeded):
    raw = answers(seeded)
    months = raw[(raw["data_ora"] >= datetime(2025, 3, 1)) & (raw["data_ora"] < datetime(2025, 6, 1))]
    n, quota = overall(months)
    html = page(client, "/staff/servizi/anagrafe?da=2025-03&a=2025-05")
    assert "03/2025–05/2025" in html and f"n = {n}" in html and f"{italian(quota)}%" in html
    # The page's one form sends the months, a filter and the year it was on together: the months set the period,
    # the filter stays (two forms lost whichever was not the one submitted).
    # (A counter: in these months every channel is hidden for some question, so a filter on one is refused.)
    counter = months[months["sede"] == "sportello-1"]
    form = re.search(r'<form method="get"[^>]*aria-label="Mesi e filtri">(.*?)</form>', html, re.S).group(1)
    assert {"da", "a", "canale", "sede"} <= set(re.findall(r'name="([a-z]+)"', form))
    html = page(client, "/staff/servizi/anagrafe?anno=2025&da=2025-03&a=2025-05&sede=sportello-1")
    assert "03/2025–05/2025" in html and f"n = {overall(counter)[0]}" in html and "Sede = <strong>" in html
    assert client.get("/staff/servizi/anagrafe?anno=2025&da=2025-03&a=2025-05&canale=qr").status_code == 403
    # Only "from": up to this month. Only "to": from the January of its year.
    this_month = datetime.now(ZoneInfo("Europe/Rome")).strftime("%m/%Y")
    n, quota = overall(raw[raw["data_ora"] >= datetime(2025, 3, 1)])
    html = page(client, "/staff/servizi/anagrafe?da=2025-03&a=")
    assert f"03/2025–{this_month}" in html and f"n = {n}" in html and f"{italian(quota)}%" in html
    n, quota = overall(raw[(raw["data_ora"] >= datetime(2025, 1, 1)) & (raw["data_ora"] < datetime(2025, 6, 1))])
    html = page(client, "/staff/servizi/anagrafe?a=2025-05")
    assert "01/2025–05/2025" in html and f"n = {n}" in html and f"{italian(quota)}%" in html
    anagrafe = seeded.scalar(select(Servizio).filter_by(slug="anagrafe"))
    seeded.add(Rilevazione(codice="primavera", titolo="Indagine di primavera", questionario=anagrafe.questionario,
                           data_inizio=date(2025, 4, 1), data_fine=date(2025, 4, 30), servizi=[anagrafe]))
    seeded.commit()
    april = raw[(raw["data_ora"] >= datetime(2025, 4, 1)) & (raw["data_ora"] < datetime(2025, 5, 1))]
    html = page(client, "/staff/servizi/anagrafe?rilevazione=primavera&canale=web")
    n, quota = overall(april[april["canale"] == "web"])
    assert "Indagine di primavera" in html and f"n = {n}" in html and f"{italian(quota)}%" in html
    # A campaign of another service is not one of this page's periods.
    assert client.get("/staff/servizi/vigilanza?rilevazione=primavera").status_code == 404


@pytest.mark.parametrize(("query", "status", "named"), [
    ("anno=-1", 400, "anno"), ("anno=2031", 404, "anno"), ("canale=%3Cscript%3E", 400, "canale"),
    # A value this service's answers do not have: the page names it (not "the page does not exist").
    ("canale=sportello", 404, "canale"), ("sede=comando", 404, "sede"), ("comune=nessuno", 404, "comune"),
    ("provenienza=9999999999", 400, "provenienza"), ("provenienza=999", 404, "provenienza"),
    ("rilevazione=nessuna", 404, None), ("rilevazione=x&anno=2025", 400, "rilevazione"),
    ("lingua=it%27%20OR%201%3D1--", 400, "lingua"),
])
def test_bad_parameters_get_a_clear_answer_never_a_500(client, seeded, query, status, named):
    for url in (f"/staff/servizi/anagrafe?{query}", f"/staff/servizi/anagrafe/domande/D3?{query}",
                f"/staff/servizi/anagrafe/dati/indicatori.csv?{query}"):
        response = client.get(url)
        assert response.status_code == status, url
        if named:
            html = unescape(response.get_data(as_text=True))
            assert f"«{named}»" in html, url
            if status == 404:
                assert f"«{query.split('=')[1]}»" in html and "non esiste" not in html, url


@pytest.mark.parametrize(("query", "field", "message"), [
    ("da=2025-13&a=2025-05", "da", "«2025-13» non è un mese: scrivere anno e mese, per esempio 2025-03 o 03/2025."),
    ("da=marzo&a=2025-05", "da", "«marzo» non è un mese"),
    ("da=2025-05&a=2025-01", "a", "Il mese finale viene prima di quello iniziale"),
    ("da=2020-01&a=2026-12", "a", "Al massimo 60 mesi (5 anni)"),
    ("da=9999-12", "da", "L'anno deve essere tra 2000 e 2100."),  # was a 500: the month after it is in year 10000
])
def test_a_wrong_month_is_shown_beside_its_field_with_the_period_the_page_was_on(client, seeded, query, field,
                                                                                 message):
    """A month typed wrong (a browser without a month picker gives a text box) was a separate 400 page naming the URL
    parameter: the service and question pages now show the year they were on, the error beside the field and the
    months as typed; a download, which must not give another period than asked, is still a 400."""
    raw = answers(seeded)
    n, quota = overall(raw[raw["data_ora"].dt.year == 2025])
    for url in (f"/staff/servizi/anagrafe?anno=2025&{query}", f"/staff/servizi/anagrafe/domande/D3?anno=2025&{query}"):
        html = unescape(page(client, url))
        assert "Mese non valido: la pagina mostra l'anno 2025. Correggere il campo indicato." in html, url
        assert f'aria-invalid="true" aria-describedby="{field}-errore"' in html, url
        assert re.search(rf'<div class="invalid-feedback" id="{field}-errore">[^<]*{re.escape(message)}', html), url
        other = "a" if field == "da" else "da"
        assert f'id="{other}-errore"' not in html
        typed = dict(part.split("=") for part in query.split("&"))
        assert f'name="{field}" placeholder="AAAA-MM" value="{typed[field]}"' in html  # nothing typed is lost
        if other in typed:
            assert f'name="{other}" placeholder="AAAA-MM" value="{typed[other]}"' in html
    assert f"n = {n}" in html and f"{italian(quota)}%" in html
    download = client.get(f"/staff/servizi/anagrafe/dati/indicatori.csv?anno=2025&{query}")
    assert download.status_code == 400 and f"«{field}»" in unescape(download.get_data(as_text=True))


def test_a_wrong_month_on_a_months_page_keeps_those_months(client, seeded):
    """On a page of months (no year in its form), a month corrected wrong fell back to the newest year, and the
    message said so (the review of this change): the form sends the months it was on."""
    raw = answers(seeded)
    n, _quota = overall(raw[(raw["data_ora"] >= datetime(2025, 3, 1)) & (raw["data_ora"] < datetime(2025, 6, 1))])
    html = unescape(page(client, "/staff/servizi/anagrafe?da=2025-03&a=2025-05"))
    assert '<input type="hidden" name="periodo" value="2025-03/2025-05">' in html
    html = unescape(page(client, "/staff/servizi/anagrafe?da=2025-03&a=2025-5x&periodo=2025-03/2025-05"))
    assert "Mese non valido: la pagina mostra 03/2025–05/2025. Correggere il campo indicato." in html
    assert f"n = {n}" in html and 'name="a" placeholder="AAAA-MM" value="2025-5x"' in html
    # Both wrong: said in the plural; a forged "periodo" is ignored (the year, as without one).
    html = unescape(page(client, "/staff/servizi/anagrafe?anno=2025&da=x&a=y&periodo=1999-01/2030-12"))
    assert "Mesi non validi: la pagina mostra l'anno 2025. Correggere i campi indicati." in html


def test_months_typed_the_italian_way_are_understood(client, seeded):
    raw = answers(seeded)
    n, quota = overall(raw[(raw["data_ora"] >= datetime(2025, 3, 1)) & (raw["data_ora"] < datetime(2025, 6, 1))])
    for query in ("da=03/2025&a=05/2025", "da=3-2025&a=2025/5", "da=+03%2F2025+&a=2025-05"):
        html = page(client, f"/staff/servizi/anagrafe?{query}")
        assert "03/2025–05/2025" in html and f"n = {n}" in html and f"{italian(quota)}%" in html, query
        assert 'name="da" placeholder="AAAA-MM" value="2025-03"' in html  # the picker's own form


def test_the_question_page_counts_each_value_and_option(client, seeded):
    raw = answers(seeded)
    year = raw[(raw["data_ora"].dt.year == 2025) & (raw["canale"] == "web")]
    html = page(client, "/staff/servizi/anagrafe/domande/D1?anno=2025&canale=web")
    d1 = year[(year["domanda"] == "D1") & year["valore"].notna() & ~year["non_so"].astype(bool)]
    for value in range(1, 6):
        count = int((d1["valore"] == value).sum())
        assert f'<td class="num">{count}</td><td class="num">{italian(count / len(d1) * 100)}</td>' in html, value
    assert 'class="plotly-graph-div"' in html
    # In English: the scale's end labels as the catalogue gives them, the type and the dimension (all were Italian).
    from survey_app.models import Domanda

    for question in seeded.scalars(select(Domanda).filter_by(codice="D1")):
        question.etichette = {"min": {"it": "Per niente", "en": "Not at all"}, "max": {"it": "Molto", "en": "Very"}}
    seeded.commit()
    english = page(client, "/staff/servizi/anagrafe/domande/D1?anno=2025&canale=web&lang=en")
    assert "1 (Not at all)" in english and "5 (Very)" in english and "Per niente" not in english
    assert " · scale · effectiveness</p>" in english
    page(client, "/staff/servizi/anagrafe?lang=it")
    html = page(client, "/staff/servizi/anagrafe/domande/D6?anno=2025")
    d6 = raw[(raw["data_ora"].dt.year == 2025) & (raw["domanda"] == "D6")]
    respondents = d6["id"].nunique()
    assert respondents >= 5
    for option, label in (("attesa", "attesa"), ("informazioni", "informazioni")):
        count = int((d6["opzione"] == option).sum())
        assert f'<th scope="row">{label}</th><td class="num">{count}</td>' \
               f'<td class="num">{italian(count / respondents * 100)}</td>' in html
    html = page(client, "/staff/servizi/anagrafe/domande/D7?anno=2025")
    assert "/staff/commenti?servizio=anagrafe&domanda=D7&anno=2025" in html
    # The kiosk's questionnaire has its own codes; unknown questions and others' services are 404.
    assert client.get("/staff/servizi/anagrafe/domande/faccine.D1?anno=2025").status_code == 200
    for url in ("/staff/servizi/anagrafe/domande/D99", "/staff/servizi/anagrafe/domande/altro.D1",
                "/staff/servizi/tributi/domande/D1", "/staff/servizi/tributi/dati/indicatori.csv",
                "/staff/servizi/tributi/domande/D1/dati.csv"):
        assert client.get(url).status_code == 404, url


def test_every_table_and_chart_downloads_as_shown(client, seeded):
    html = page(client, "/staff/servizi/anagrafe?anno=2025&canale=qr")
    links = sorted({part.split('"')[0] for part in html.split('href="')[1:] if "/dati/" in part.split('"')[0]})
    names = {link.split("/dati/")[1].split("?")[0] for link in links}
    assert {"indicatori.csv", "indicatori.xlsx", "per-sede.csv", "andamento.csv", "distribuzione.xlsx"} <= names
    # D6's options by QR are each too few to show: no chart of bare axes, and no download of it; without the filter
    # they are drawn.
    assert "scelte-D6" not in html and "/dati/scelte-D6.csv" in page(client, "/staff/servizi/anagrafe?anno=2025")
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert "attachment" in response.headers["Content-Disposition"]
        if link.split("?")[0].endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(response.data))
            if "/indicatori." not in link:  # a chart's data or a breakdown: as shown, not float noise
                assert not re.search(r"\d\.\d{3,}", response.data.decode()), link
                assert "n" not in frame or pd.api.types.is_integer_dtype(frame["n"]), link
            if "/scelte-" in link:  # a question's options are its answers, not "reasons"
                assert "risposta" in frame and "motivo" not in frame, link
        else:
            sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
            rows = list(sheet.values)
            # People's headings in the workbook, the codes' names in the CSV.
            frame = pd.DataFrame(rows[1:], columns=rows[0]).rename(columns={"Periodo": "periodo",
                                                                            "Filtro: canale": "filtro_canale"})
        periods = list(frame["periodo"].astype(str))
        if "/andamento." in link:  # a row per year, up to the page's
            assert len(periods) > 1 and periods == sorted(set(periods)) and periods[-1] == "2025", link
        else:
            assert len(frame) and set(periods) == {"2025"}, link
        assert set(frame["filtro_canale"]) == {"qr"}, link
    # Counters by their code and, as the filters show them, by name.
    counters = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/per-sede.csv?anno=2025").data))
    named = dict(zip(counters["sede"], counters["sede_nome"], strict=True))
    assert named["sportello-1"] == "Sportello 1" and "Sportello 1" in page(client, "/staff/servizi/anagrafe?anno=2025")
    languages = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/per-lingua.csv?anno=2025").data))
    assert dict(zip(languages["lingua"], languages["lingua_nome"], strict=True))["it"] == "italiano"
    channels = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/per-canale.csv?anno=2025").data))
    # Channels by name too: the filters and the breakdown offered "carta", "qr", "web".
    assert dict(zip(channels["canale"], channels["canale_nome"], strict=True))["qr"] == "codice QR"
    html = page(client, "/staff/servizi/anagrafe?anno=2025")
    assert '<option value="qr">codice QR</option>' in html and '<option value="it">italiano</option>' in html
    assert '<th scope="row">codice QR</th>' in html
    table = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/indicatori.csv?anno=2025&canale=qr").data))
    n, quota = overall(answers(seeded).query("canale == 'qr' and data_ora.dt.year == 2025", engine="python"))
    d3 = table[table["domanda_codice"] == "D3"].iloc[0]
    assert d3["n"] == n and d3["quota_soddisfatti"] == quota
    question = client.get("/staff/servizi/anagrafe/domande/D6/dati.xlsx?anno=2025")
    assert question.status_code == 200 and load_workbook(io.BytesIO(question.data)).active.max_row == 3
    assert client.get("/staff/servizi/anagrafe/domande/D7/dati.csv?anno=2025").status_code == 404  # comments
    assert client.get("/staff/servizi/anagrafe/dati/nessuna.csv?anno=2025").status_code == 404
    assert client.get("/staff/servizi/anagrafe/dati/indicatori.pdf?anno=2025").status_code == 404


def test_the_filters_offer_only_what_the_service_has(client, seeded):
    html = page(client, "/staff/servizi/anagrafe?anno=2025")
    assert '<option value="sportello-1">Sportello 1</option>' in html
    assert '<option value="comando">' not in html  # the other service's counter
    assert 'name="comune"' not in html  # a comune's own service has one comune: no filter to offer
    unione = seeded.scalar(select(Ente).filter_by(codice="unione-test"))
    assert seeded.scalar(select(Sede).filter_by(codice="comando")).comune.unione_id == unione.id


def test_the_kiosks_channel_has_no_answer_to_the_overall_question_not_a_suppressed_one(client, seeded):
    from .helpers import add_answers

    for face in (3, 3, 2, 1, 3, 3, 2):  # the kiosk's faces questionnaire has no D3
        add_answers(seeded, "anagrafe", datetime(2025, 4, 2, 10), {"D1": face}, questionnaire="kiosk",
                    canale="chiosco")
    html = page(client, "/staff/servizi/anagrafe?anno=2025&canale=chiosco")
    summary = html.split("Soddisfatti (domanda complessiva D3)", 1)[1].split("</dd>", 1)[0]
    assert "nessuna risposta alla domanda complessiva" in summary and "soppresso" not in summary


def test_a_group_hidden_alone_in_a_breakdown_gets_company_so_subtraction_cannot_reveal_it():
    from survey_app.staff.breakdowns import protect_complements

    def group(name, n, quota):
        return {"gruppo": name, "n": n, "quota_soddisfatti": quota, "media": 3.0 if quota else None,
                "ic95_inf": quota, "ic95_sup": quota, "soppresso": quota is None, "nome": None}

    # The walk-through's case: the total (60) and cittadino and CATI shown would give PAPI's 2 answers away.
    rows = protect_complements([group("cittadino", 50, 60.0), group("ditta CATI", 8, 50.0),
                                group("ditta PAPI", 2, None)], threshold=5)
    hidden = {row["gruppo"] for row in rows if row["soppresso"]}
    assert hidden == {"ditta CATI", "ditta PAPI"}
    cati = next(row for row in rows if row["gruppo"] == "ditta CATI")
    assert cati["n"] == 8 and all(cati[k] is None for k in ("quota_soddisfatti", "media", "ic95_inf", "ic95_sup"))
    # Two small groups together still under the threshold: the smallest shown one joins them.
    rows = protect_complements([group("web", 40, 70.0), group("qr", 6, 50.0), group("chiosco", 9, 80.0),
                                group("telefono", 2, None), group("carta", 1, None)], threshold=5)
    assert {row["gruppo"] for row in rows if row["soppresso"]} == {"telefono", "carta", "qr"}
    # A group hidden with more answers than the threshold (by a mirror in another table) is still one: the total
    # minus the others gave its 3 satisfied of 9 (a walk-through did it). The smallest group shown joins it.
    rows = protect_complements([group("inglese", 9, None), group("italiano", 93, 55.9), group("tedesco", 12, 50.0)],
                               threshold=5)
    assert {row["gruppo"] for row in rows if row["soppresso"]} == {"inglese", "tedesco"}
    # Nothing hidden, or nothing else to hide: as it was.
    untouched = [group("web", 40, 70.0), group("qr", 6, 50.0)]
    assert protect_complements(untouched, threshold=5) == untouched
    assert protect_complements([group("web", 3, None)], threshold=5)[0]["soppresso"]


def test_a_group_hidden_in_one_breakdown_is_hidden_where_it_is_mirrored():
    """The walk-through's case across tables: PAPI (1) and CATI (6) hidden by provenance, but "telefono" (CATI's very
    rows) shown by channel: total − citizens − telefono gave the lone paper answer away."""
    from survey_app.staff.breakdowns import protect_mirrors

    def group(name, n, quota):
        return {"gruppo": name, "n": n, "quota_soddisfatti": quota, "media": 3.0 if quota else None,
                "ic95_inf": quota, "ic95_sup": quota, "soppresso": quota is None, "nome": None}

    found = protect_mirrors({
        "provenienza": [group("cittadino", 52, 71.2), group("ditta CATI", 6, None), group("ditta PAPI", 1, None)],
        "canale": [group("web", 40, 70.0), group("qr", 12, 75.0), group("telefono", 6, 83.3), group("carta", 1, None)],
        "lingua": [group("it", 55, 72.0), group("en", 4, None)],
    }, threshold=5)
    hidden = {by: {row["gruppo"] for row in rows if row["soppresso"]} for by, rows in found.items()}
    assert "telefono" in hidden["canale"] and "carta" in hidden["canale"]
    telefono = next(row for row in found["canale"] if row["gruppo"] == "telefono")
    assert telefono["quota_soddisfatti"] is None and telefono["n"] == 6
    # Every hidden size is hidden wherever it appears, and each table still hides at least 5 answers together.
    sizes = {row["n"] for rows in found.values() for row in rows if row["soppresso"]}
    for rows in found.values():
        assert not any(row["n"] in sizes and not row["soppresso"] for row in rows)
        assert sum(row["n"] for row in rows if row["soppresso"]) in (0, *range(5, 1000))
    # Nothing hidden anywhere: as it was.
    plain = {"canale": [group("web", 40, 70.0), group("qr", 12, 75.0)]}
    assert protect_mirrors({k: list(v) for k, v in plain.items()}, threshold=5) == plain


def test_a_hidden_group_that_shown_groups_add_up_to_stays_hidden(client, runner, catalogue):
    """A firm's 3 CAWI answers came by web; every citizen answered by web or QR. CAWI is hidden by provenance, CATI
    with it, and "telefono" (CATI's very rows) by channel; but web + QR − the citizens still gave CAWI's figures."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    cawi, cati = firm_batches(catalogue, "CAWI", "CATI")
    when = datetime(2025, 4, 2, 10)
    for score, canale, batch, count in ((4, "web", None, 42), (5, "qr", None, 18), (1, "web", cawi, 3),
                                        (4, "telefono", cati, 20)):
        for _ in range(count):
            add_answers(catalogue, "anagrafe", when, {"D3": score}, canale=canale, import_batch=batch)

    def shown(by: str) -> dict:
        frame = pd.read_csv(io.BytesIO(client.get(f"/staff/servizi/anagrafe/dati/per-{by}.csv?anno=2025").data))
        return {row[by]: (row["n"], row["quota_soddisfatti"]) for row in frame.to_dict(orient="records")
                if not pd.isna(row["quota_soddisfatti"])}

    channels, provenance = shown("canale"), shown("provenienza")
    assert "ditta CAWI" not in provenance and "telefono" not in channels
    # The subtraction the page allowed: (web + qr − citizens) satisfied, over 3 answers.
    ways = [channels.get("web"), channels.get("qr"), provenance.get("cittadino")]
    assert None in ways, ways
    # What stays shown is right: the groups that close no way keep their figures.
    assert channels.get("web", (45, 93.3)) == (45, 93.3) and provenance.get("cittadino", (60, 100.0)) == (60, 100.0)
    # The same subtraction through a filter: web among citizens (42) against web on the page without filters.
    assert "web" in channels
    among_citizens = pd.read_csv(io.BytesIO(client.get(
        "/staff/servizi/anagrafe/dati/per-canale.csv?anno=2025&provenienza=cittadino").data))
    web = among_citizens[among_citizens["canale"] == "web"].iloc[0]
    assert web["n"] == 42 and pd.isna(web["quota_soddisfatti"])


def test_a_filter_that_leaves_out_a_handful_is_refused(client, runner, catalogue):
    """7 answers by web and 2 by QR: the page filtered on web, against the page without filters, gave the two QR
    answers away (the whole page, every question)."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    for canale, score, count in (("web", 4, 7), ("qr", 1, 2)):
        for _ in range(count):
            add_answers(catalogue, "anagrafe", datetime(2025, 4, 2, 10), {"D3": score, "D1": score}, canale=canale)
    for url in ("/staff/servizi/anagrafe?anno=2025&canale=web", "/staff/servizi/anagrafe/dati/indicatori.csv?anno=2025&canale=web",
                "/staff/servizi/anagrafe/domande/D1?anno=2025&canale=web"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "restano fuori solo 2 questionari, meno di 5" in response.get_data(as_text=True), url
        assert re.findall(r'<li><a href="([^"]+)">', response.get_data(as_text=True)) == [
            "/staff/servizi/anagrafe/domande/D1?anno=2025" if "domande" in url else "/staff/servizi/anagrafe?anno=2025"]
    assert client.get("/staff/servizi/anagrafe?anno=2025&canale=qr").status_code == 200  # leaves 7 out
    assert client.get("/staff/servizi/anagrafe?anno=2025").status_code == 200
    # The form offers "web" disabled, saying why, on the service's page and a question's; "QR" stays choosable.
    for url in ("/staff/servizi/anagrafe?anno=2025", "/staff/servizi/anagrafe/domande/D1?anno=2025"):
        channels = unescape(client.get(url).get_data(as_text=True)).split('id="filtro-canale"', 1)[1].split("</select>")[0]
        assert '<option value="web" disabled>web (link) (non disponibile: gruppo troppo piccolo)</option>' in channels
        assert '<option value="qr">codice QR</option>' in channels


def test_a_filter_on_a_group_the_page_hides_is_refused(client, runner, catalogue):
    """4 paper questionnaires are hidden (fewer than 5), and the 5 phone interviews with them, so that the total
    minus the shown channels gives only their sum. Choosing "telefono" in the page's own filter showed its 80% of 5:
    with the total, the paper questionnaires' figures followed. A filter on a group the page hides is refused."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    papi, cati = firm_batches(catalogue, "PAPI", "CATI")
    when = datetime(2025, 4, 2, 10)
    for scores, canale, batch in (([4] * 12 + [2] * 8, "web", None), ([5] * 6 + [1] * 4, "qr", None),
                                  ([5] * 4, "carta", papi), ([4] * 4 + [1], "telefono", cati)):
        for score in scores:
            add_answers(catalogue, "anagrafe", when, {"D3": score, "D1": score}, canale=canale, import_batch=batch)
    frame = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/per-canale.csv?anno=2025").data))
    hidden = set(frame[frame["quota_soddisfatti"].isna()]["canale"])
    assert hidden == {"carta", "telefono"}, frame
    # The page's own form offers those groups disabled, saying why (offered, each led to a 403 page); the others
    # stay choosable.
    form = unescape(client.get("/staff/servizi/anagrafe?anno=2025").get_data(as_text=True))
    for name, value in (("canale", "telefono"), ("provenienza", str(cati.id))):
        select_box = form.split(f'id="filtro-{name}"', 1)[1].split("</select>", 1)[0]
        assert re.search(rf'<option value="{value}" disabled>[^<]*\(non disponibile: gruppo troppo piccolo\)</option>',
                         select_box), (name, value, select_box)
    channels = form.split('id="filtro-canale"', 1)[1].split("</select>")[0]
    assert '<option value="web">web (link)</option>' in channels  # (paper, under 5, shows a page of suppressed cells)
    assert '<option value="carta">questionario cartaceo</option>' in channels
    for url in ("/staff/servizi/anagrafe?anno=2025&canale=telefono",
                "/staff/servizi/anagrafe/dati/indicatori.csv?anno=2025&canale=telefono",
                "/staff/servizi/anagrafe/domande/D1?anno=2025&canale=telefono",
                f"/staff/servizi/anagrafe?anno=2025&provenienza={cati.id}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "quel gruppo è nascosto perché dal totale non si ricavino le risposte di un gruppo con meno di 5 " \
            "questionari" in unescape(response.get_data(as_text=True)), url
    # The refusal names the group as the filter offers it, and leads back to the same page without that filter
    # (a download's to the service page), the period and the other filters kept.
    refused = unescape(client.get("/staff/servizi/anagrafe/domande/D1?anno=2025&canale=telefono&lingua=it").get_data(
        as_text=True))
    # It says where the group is hidden, by the filter's own title: the overall question may show it (an office
    # manager read "web (link)" refused beside a table showing it).
    where = re.search(r"Il filtro «Canale» = «telefono» non si può usare in questo periodo: nella pagina della "
                      r"domanda (D[13]), tabella «Canale», quel gruppo è nascosto", refused)
    assert where, refused
    # ...and leads to that question's page, where the table hiding it is (unless it is this page).
    question = [] if where.group(1) == "D1" else [
        ("/staff/servizi/anagrafe/domande/D3?anno=2025", "La pagina della domanda D3, senza filtri")]
    assert re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', refused) == [
        ("/staff/servizi/anagrafe/domande/D1?anno=2025&lingua=it", "La stessa pagina senza il filtro «Canale»"),
        ("/staff/servizi/anagrafe/domande/D1?anno=2025", "La stessa pagina senza filtri"), *question]
    refused = unescape(client.get("/staff/servizi/anagrafe/dati/indicatori.csv?anno=2025&canale=telefono").get_data(
        as_text=True))
    assert re.findall(r'<li><a href="([^"]+)">', refused)[0] == "/staff/servizi/anagrafe?anno=2025"
    # Only the page's own arguments go into the links: "slug" in the query was a 500 inside the error handler, and a
    # question's download would have carried "codice" to the service page (the review of this change).
    odd = client.get("/staff/servizi/anagrafe/dati/indicatori.csv?anno=2025&canale=telefono&slug=x&codice=D1&_external=1")
    assert odd.status_code == 403
    assert re.findall(r'<li><a href="([^"]+)">', odd.get_data(as_text=True))[0] == "/staff/servizi/anagrafe?anno=2025"
    for link in ("/staff/servizi/anagrafe/domande/D1?anno=2025&lingua=it", "/staff/servizi/anagrafe?anno=2025"):
        assert client.get(link).status_code == 200, link
    # A group the page shows may be chosen; so may one of fewer than 5, whose every figure stays hidden.
    assert client.get("/staff/servizi/anagrafe?anno=2025&canale=web").status_code == 200
    assert "100,0" not in page(client, "/staff/servizi/anagrafe?anno=2025&canale=carta")
    assert client.get("/staff/servizi/anagrafe?anno=2025&provenienza=cittadino").status_code == 200


def test_filters_set_beside_each_other_give_no_handful_away(client, runner, catalogue):
    """Two ways past the check above, found by a review: a single batch against its method's group (6 of a firm's
    10 CATI answers shown gave the other 4 away), and two filters against one (web among citizens, 42, against
    web, 45: a firm's 3 CAWI answers)."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    first, second, cawi = firm_batches(catalogue, "CATI", "CATI", "CAWI")
    when = datetime(2025, 4, 2, 10)
    for d3, canale, batch, count in ((5, "web", None, 42), (4, "qr", None, 20), (5, "telefono", first, 6),
                                     (1, "telefono", second, 4), (1, "web", cawi, 3)):
        for _ in range(count):
            add_answers(catalogue, "anagrafe", when, {"D3": d3}, canale=canale, import_batch=batch)
    for url, left in ((f"/staff/servizi/anagrafe?anno=2025&provenienza={first.id}", 4),
                      ("/staff/servizi/anagrafe?anno=2025&canale=web&provenienza=cittadino", 3)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert f"restano fuori solo {left} questionari, meno di 5" in unescape(response.get_data(as_text=True)), url
    assert client.get("/staff/servizi/anagrafe?anno=2025&canale=web").status_code == 200


def test_a_group_hidden_for_one_question_is_not_a_filter_either(client, runner, catalogue):
    """One paper answer says "non so" to D1: D1's paper group is 4 (hidden) and its phone group of 5 hidden with
    it, while the overall question D3 hides nothing. The phone filter showed D1 for those 5 (the question's page and
    the service page's table), and with the unfiltered D1 page the 4 paper answers followed."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    papi, cati = firm_batches(catalogue, "PAPI", "CATI")
    when = datetime(2025, 4, 2, 10)
    for score, canale, batch, count in ((5, "web", None, 30), (4, "qr", None, 10), (5, "carta", papi, 4),
                                        (2, "telefono", cati, 5)):
        for _ in range(count):
            add_answers(catalogue, "anagrafe", when, {"D3": score, "D1": score}, canale=canale, import_batch=batch)
    add_answers(catalogue, "anagrafe", when, {"D3": 4}, canale="carta", import_batch=papi, non_so=("D1",))
    overall = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/per-canale.csv?anno=2025").data))
    assert not overall["quota_soddisfatti"].isna().any(), overall  # D3: every channel shown
    for url in ("/staff/servizi/anagrafe/domande/D1?anno=2025&canale=telefono",
                "/staff/servizi/anagrafe?anno=2025&canale=telefono"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "è nascosto" in unescape(response.get_data(as_text=True)), url
    assert client.get("/staff/servizi/anagrafe/domande/D1?anno=2025&canale=web").status_code == 200


def test_the_audit_hides_only_what_closes_a_way():
    import numpy as np

    from analysis.disclosure import _Span, disclosed, protect_combinations
    from survey_app.staff.breakdowns import _hidden, protect_mirrors

    def group(name, n, shown=True):
        return {"gruppo": name, "n": n, "quota_soddisfatti": 50.0 if shown else None, "media": None,
                "ic95_inf": None, "ic95_sup": None, "soppresso": not shown, "nome": None}

    cells = pd.DataFrame([("web", "cittadino", 42), ("qr", "cittadino", 18), ("web", "ditta CAWI", 3),
                          ("telefono", "ditta CATI", 20)], columns=["canale", "provenienza", "n"])
    tables = {"canale": [group("qr", 18), group("telefono", 20, False), group("web", 45)],
              "provenienza": [group("cittadino", 60), group("ditta CATI", 20, False), group("ditta CAWI", 3, False)]}
    assert disclosed(tables, cells, 5) == [("provenienza", "ditta CAWI")]
    found = protect_combinations(tables, cells, 5, lambda t, by, g: protect_mirrors(_hidden(t, by, g), 5))
    assert disclosed(found, cells, 5) == []
    hidden = {(by, row["gruppo"]) for by, rows in found.items() for row in rows if row["soppresso"]}
    # The smallest group that closes the way (qr, 18); the citizens keep their figures.
    assert ("canale", "qr") in hidden and ("provenienza", "cittadino") not in hidden
    # A citizen's language the others cannot reach (both languages on both channels): nothing more to hide.
    cells = pd.DataFrame([("web", "it", 40), ("web", "en", 2), ("qr", "it", 17), ("qr", "en", 1)],
                         columns=["canale", "lingua", "n"])
    tables = {"canale": [group("qr", 18), group("web", 42)], "lingua": [group("en", 3, False), group("it", 57, False)]}
    assert disclosed(tables, cells, 5) == [] and protect_combinations(tables, cells, 5, None) == tables
    # Two shown groups one inside the other: web (50) holds counter A (49, all by web); their difference is the one
    # web answer given elsewhere, a cell of its own. Something is hidden so that no reader gets it.
    cells = pd.DataFrame([("web", "A", 49), ("web", "(nessuna)", 1), ("qr", "(nessuna)", 10)],
                         columns=["canale", "sede", "n"])
    tables = {"canale": [group("qr", 10), group("web", 50)], "sede": [group("(nessuna)", 11), group("A", 49)]}
    found = protect_combinations(tables, cells, 5, lambda t, by, g: protect_mirrors(_hidden(t, by, g), 5))
    lone = np.array([0.0, 1.0, 0.0])  # the web answer given at no counter
    assert _Span(tables, cells).reaches(lone) and not _Span(found, cells).reaches(lone)
    assert any(not row["soppresso"] for rows in found.values() for row in rows)  # not everything hidden
    # A hidden group whose answers are gone between the two reads (no cells): nothing to give away, nothing to hide.
    tables = {"canale": [group("qr", 18), group("web", 42), group("carta", 2, False)]}
    assert disclosed(tables, cells, 5) == [] and protect_combinations(tables, cells, 5, None) == tables


def test_a_question_whose_scale_changed_in_the_period_is_broken_down_per_scale(client, runner, catalogue, tmp_path):
    """3 answers on 1–5, then a new version on 1–10 and 50 more: each table had two "web" rows, the audit took the
    small one for all 53 answers and ended in an error page."""
    from survey_app.catalogue import load_catalogue

    from .helpers import add_answers
    from .test_catalogue import small, write

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    for score in (5, 4, 1):
        add_answers(catalogue, "anagrafe", datetime(2025, 2, 1, 10), {"D3": score})
    data = small()
    overall = next(d for d in data["questionari"][0]["domande"] if d["codice"] == "D3")
    overall["scala_min"], overall["scala_max"] = 1, 10
    assert load_catalogue(catalogue, write(tmp_path, data)).new_versions == ["breve v2"]
    for i in range(50):
        add_answers(catalogue, "anagrafe", datetime(2025, 6, 1, 10), {"D3": 1 + i % 10})
    assert client.get("/staff/servizi/anagrafe?anno=2025").status_code == 200
    response = client.get("/staff/servizi/anagrafe/dati/per-canale.csv?anno=2025")
    assert response.status_code == 200
    rows = pd.read_csv(io.BytesIO(response.data)).sort_values("n")
    assert list(rows["n"]) == [3, 50]
    assert pd.isna(rows.iloc[0]["quota_soddisfatti"]) and rows.iloc[1]["quota_soddisfatti"] == 50.0  # 6–10 of 1–10


def test_an_nps_questions_groups_are_headed_nps(client, seeded):
    """The NPS question's "Per gruppo" tables were headed "% soddisfatti" over NPS values (-10,3)."""
    html = page(client, "/staff/servizi/anagrafe/domande/D4?anno=2025")
    groups = r'<th scope="col">(?:Canale|Sede|Comune|Lingua|Provenienza)</th><th scope="col" class="num">n</th>' \
             r'<th scope="col" class="num">([^<]*)</th>'
    heads = re.findall(groups, html)
    assert heads and set(heads) == {"NPS"}
    scale = page(client, "/staff/servizi/anagrafe/domande/D3?anno=2025")
    assert set(re.findall(groups, scale)) == {"% soddisfatti"}


def test_the_trend_of_a_filtered_page_hides_an_earlier_year_where_the_filter_chooses_a_hidden_group(
        client, runner, catalogue):
    """The filters were checked for the page's own year: in 2024 the QR group of 6 was hidden beside 2 phone
    answers, but 2025 filtered by QR drew 2024's QR point, and 2024's total minus web minus QR gave the 2 away."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    (cati,) = firm_batches(catalogue, "CATI")
    for year, groups in ((2024, (("web", None, [4] * 14 + [2] * 6), ("qr", None, [5] * 6), ("telefono", cati, [1, 1]))),
                         (2025, (("web", None, [4] * 20 + [2] * 10), ("qr", None, [5] * 20 + [1] * 10),
                                 ("email", None, [4] * 10)))):
        for canale, batch, scores in groups:
            for score in scores:
                add_answers(catalogue, "anagrafe", datetime(year, 4, 2, 10), {"D3": score}, canale=canale,
                            import_batch=batch)
    by_channel = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/per-canale.csv?anno=2024").data))
    assert set(by_channel[by_channel["quota_soddisfatti"].isna()]["canale"]) == {"qr", "telefono"}
    assert client.get("/staff/servizi/anagrafe?anno=2024&canale=qr").status_code == 403  # refused on its own year
    response = client.get("/staff/servizi/anagrafe?anno=2025&canale=qr")
    assert response.status_code == 200  # 2025 hides nothing
    trend = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/andamento.csv?anno=2025&canale=qr").data))
    points = dict(zip(trend["periodo"].astype(str), trend["quota"], strict=True))
    assert pd.isna(points["2024"]), trend  # was 100.0: QR's 6 satisfied of 6
    assert points["2025"] == pytest.approx(66.7)
    html = page(client, "/staff/servizi/anagrafe?anno=2025&canale=qr")
    assert "100,0" not in html
    # The chart says why the point is missing: not "n < 5" beside its n = 6.
    assert "Dati nascosti per proteggere un gruppo pi" in html and "Dati soppressi per n" not in html
    # Web, shown in every year, keeps its points.
    web = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/andamento.csv?anno=2025&canale=web").data))
    assert dict(zip(web["periodo"].astype(str), web["quota"], strict=True))["2024"] == pytest.approx(70.0)
    # Nor may a range over both years be filtered by QR: minus 2025 by QR it is 2024 by QR (the review did it). The
    # range itself hides nothing of QR (the 10 e-mail answers of 2025 are hidden beside the 2 phone ones).
    for url, part in (("/staff/servizi/anagrafe?da=2024-01&a=2025-12&canale=qr", "2024"),
                      ("/staff/servizi/anagrafe?da=2024-04&a=2025-06&canale=qr", "2024 (04/2024–12/2024)"),
                      ("/staff/servizi/anagrafe/dati/indicatori.csv?da=2024-01&a=2025-12&canale=qr", "2024")):
        refused = client.get(url)
        assert refused.status_code == 403, url
        assert f"non si può usare in un periodo che comprende il {part}: in quell'anno" in \
            unescape(refused.get_data(as_text=True)), url
    assert client.get("/staff/servizi/anagrafe?da=2025-01&a=2025-12&canale=qr").status_code == 200
    assert client.get("/staff/servizi/anagrafe?da=2024-01&a=2025-12&canale=web").status_code == 200


def test_a_group_hidden_in_the_kiosks_question_is_named_by_the_kiosk_questions_address(client, runner, catalogue):
    """The kiosk questionnaire's D1 hid web (10 taps at the kiosk, 2 through QR, 6 on the web): the refusal named "D1" and
    linked the service's own D1, whose channel table hides nothing (the review of this session's change)."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    when = datetime(2025, 4, 2, 10)
    for face, canale, count in ((3, "chiosco", 10), (1, "qr", 2), (2, "web", 6)):
        for _ in range(count):
            add_answers(catalogue, "anagrafe", when, {"D1": face}, questionnaire="faccine", canale=canale)
    for _ in range(20):
        add_answers(catalogue, "anagrafe", when, {"D3": 4}, canale="web")
    refused = client.get("/staff/servizi/anagrafe?anno=2025&canale=web")
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 403
    assert "nella pagina della domanda faccine.D1, tabella «Canale», quel gruppo è nascosto" in html
    link = "/staff/servizi/anagrafe/domande/faccine.D1?anno=2025"
    assert f'<a href="{link}">La pagina della domanda faccine.D1, senza filtri</a>' in html
    question = unescape(client.get(link).get_data(as_text=True))
    assert "soppresso" in question.split("<caption>Canale</caption>", 1)[1].split("</table>", 1)[0]


def test_a_range_over_two_years_is_refused_where_one_year_leaves_a_handful_out(client, runner, catalogue):
    """Web among Italian answers over 2024–2025 leaves out 13 against web alone; in 2024 alone, 3: the range minus
    2025 (allowed) gives 2024's, and against 2024's web the 3 English answers' figures."""
    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    for year, groups in ((2024, (("web", "it", 20), ("web", "en", 3), ("qr", "it", 20))),
                         (2025, (("web", "it", 20), ("web", "en", 10), ("qr", "it", 20)))):
        for canale, lingua, count in groups:
            for _ in range(count):
                add_answers(catalogue, "anagrafe", datetime(year, 5, 2, 10), {"D3": 4}, canale=canale, lingua=lingua)
    assert client.get("/staff/servizi/anagrafe?anno=2025&canale=web&lingua=it").status_code == 200
    assert client.get("/staff/servizi/anagrafe?anno=2024&canale=web&lingua=it").status_code == 403
    refused = client.get("/staff/servizi/anagrafe?da=2024-01&a=2025-12&canale=web&lingua=it")
    assert refused.status_code == 403
    assert "Con questi filtri, nel 2024 restano fuori solo 3 questionari, meno di 5" in \
        unescape(refused.get_data(as_text=True))
