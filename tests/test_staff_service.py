"""The office's service page: scope, the same figures as the CLI, and the charts."""

from datetime import date

from analysis.engine import Period, question_statistics, service_table
from analysis.indicators import indicator_table
from survey_app.demo.seed import seed_responses

from .helpers import login


def test_service_page_scope_and_figures(client, runner, catalogue):
    db = catalogue
    seed_responses(db, 300, seed=3, end=date(2025, 12, 31))
    assert client.get("/staff/servizi/anagrafe?anno=2025").status_code == 302  # anonymous: to the login
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    assert client.get("/staff/servizi/tributi?anno=2025").status_code == 404  # out of scope
    html = client.get("/staff/servizi/anagrafe?anno=2025").get_data(as_text=True)
    summary = service_table(db.connection(), Period.year(2025), "anagrafe").iloc[0]
    italian = f"{summary['quota_soddisfatti']:.1f}".replace(".", ",")
    assert f"{italian}%" in html and f"n = {summary['n']}" in html
    table = indicator_table(db.connection(), 2025, "anagrafe")
    d3 = table[table["domanda_codice"] == "D3"].iloc[0]
    media, quota = (f"{d3[c]:.{k}f}".replace(".", ",") for c, k in (("media", 2), ("quota_soddisfatti", 1)))
    assert f'<td class="num">{d3["n"]}</td>' in html  # one source: the published table's figures
    assert f'<td class="num">{media}</td>\n    <td class="num">{quota}</td>' in html
    assert "domanda_codice" not in html and "quota_soddisfatti" not in html  # people's words, not field names
    # The sample needed says for which margin (an office manager could not tell what "campione necessario" meant).
    from analysis.services import sample_size

    needed = f"{sample_size(5000):,}".replace(",", ".")
    assert (f"campione necessario per ± 3 punti al 95%, con circa tre soddisfatti su quattro: {needed} questionari"
            in html)
    assert html.count('class="plotly-graph-div"') >= 3
    assert 'id="grafico-andamento"' in html and 'id="grafico-faccine"' in html
    assert "cdn.plot.ly" not in html and "vendor/plotly/plotly-basic.min.js" in html
    # The breakdowns' groups in the page's language.
    assert '<th scope="row">cittadino</th>' in html and '<th scope="row">ditta CATI</th>' in html
    english = client.get("/staff/servizi/anagrafe?anno=2025&lang=en").get_data(as_text=True)
    assert '<th scope="row">citizen</th>' in english and '<th scope="row">firm CATI</th>' in english
    assert "ditta" not in english and '<th scope="row">cittadino</th>' not in english
    # The charts too, though the Italian page's figures were kept first (figures_cache): kept per language.
    assert "Andamento della soddisfazione" in html and '"separators":",."' in html
    assert "Satisfaction over time" in english and "Andamento della soddisfazione" not in english
    assert '"separators":".,"' in english and "Share of answers (%)" in english
    # The catalogue's English names and texts, where it has them: the English pages kept the Italian.
    assert "<h1>Registry office <small" in english and "<h1>Anagrafe <small" in html
    assert "How satisfied are you with courtesy?" in english and "Quanto è soddisfatto della cortesia?" not in english
    overview = client.get("/staff/?anno=2025&lang=en").get_data(as_text=True)
    assert "Registry office" in overview and ">Anagrafe<" not in overview
    question = client.get("/staff/servizi/anagrafe/domande/D1?anno=2025&lang=en").get_data(as_text=True)
    assert "<h1>How satisfied are you with courtesy? <small" in question and "Short questionnaire" in question
    client.get("/staff/?lang=it")  # the language sticks in the session


def test_staff_pages_declare_the_language_they_are_in(client, runner, catalogue):
    login(client, runner, "a@comune.it", "--role", "admin")
    html = client.get("/staff/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Staff area" in html
    assert '<html lang="it">' in client.get("/staff/qr/?lang=it").get_data(as_text=True)


def test_the_service_page_breaks_the_overall_item_down_with_suppression(client, runner, catalogue):
    from html import unescape

    seed_responses(catalogue, 800, seed=3, end=date(2025, 12, 31))
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    html = unescape(client.get("/staff/servizi/anagrafe?anno=2025").get_data(as_text=True))
    stats = question_statistics(catalogue.connection(), Period.year(2025), "anagrafe", by="canale")
    d3 = stats[(stats["codice"] == "D3") & (stats["questionario"] == "breve")]
    assert "Per canale" in html
    names = {"web": "web (link)", "qr": "codice QR", "chiosco": "tablet allo sportello", "sportello": "allo sportello",
             "email": "email", "telefono": "telefono", "carta": "questionario cartaceo"}  # not the codes
    # The seed's paper questionnaires (4, hidden) were filled at the two counters, the QR codes' only other
    # channel: sportello-1 + sportello-2 − qr gave them away, so the QR codes' figures are hidden too
    # (analysis/disclosure.py).
    audited = {"qr"}
    for row in d3.itertuples():
        cell = f'<th scope="row">{names[row.gruppo]}</th><td class="num">{row.n}</td>'
        assert cell in html
        if row.soppresso or row.gruppo in audited:
            assert cell + '\n    <td class="num" colspan="3">soppresso</td>' in html
        else:
            assert f"{row.quota_soddisfatti:.1f}".replace(".", ",") in html
    assert d3["soppresso"].any() and not d3["soppresso"].all()  # the seed has both kinds of cell
    assert not d3[d3["gruppo"] == "qr"]["soppresso"].any()  # hidden by the audit alone


def test_each_chart_has_its_values_as_a_table(client, runner, catalogue):
    """A screen reader met the trend chart as an image named by its tick labels ("2024 2025 2026 0 20 40"): each
    chart is now a figure whose caption points to a table of the values it draws, the same as its download."""
    import io
    import re
    from html import unescape

    import pandas as pd

    seed_responses(catalogue, 300, seed=3, end=date(2025, 12, 31))
    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    html = unescape(client.get("/staff/servizi/anagrafe?anno=2025").get_data(as_text=True))
    assert html.count("<figure class=\"cs-chart\">") == html.count('class="plotly-graph-div"') >= 3
    assert html.count("Andamento: i valori del grafico sono nella tabella «Dati del grafico» qui sotto.") == 1
    assert html.count(": i valori del grafico sono nella tabella «Dati del grafico» qui sotto.") >= 3
    trend = pd.read_csv(io.BytesIO(client.get("/staff/servizi/anagrafe/dati/andamento.csv?anno=2025").data))
    table = re.search(r"<caption>Andamento</caption>(.*?)</table>", html, re.S).group(1)
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>((?:<td>[^<]*</td>)*)</tr>', table)
    assert [period for period, _cells in rows] == [str(p) for p in trend["periodo"]]
    for (_period, cells), record in zip(rows, trend.to_dict(orient="records"), strict=True):
        values = re.findall(r"<td>([^<]*)</td>", cells)
        expected = "—" if pd.isna(record["quota"]) else f"{record['quota']:.1f}".replace(".", ",")
        assert values[0] == expected and values[3] == str(record["n"]), (values, record)


def test_a_faces_service_draws_its_reasons_once_and_no_bare_axes(client, runner, catalogue):
    """Vigilanza's own questionnaire is the faces one: its reasons were drawn twice (as "Motivi" and as a choice
    question), and with every option suppressed both drew empty axes from -1 to 6."""
    from datetime import datetime

    from .helpers import add_answers

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "vigilanza")
    for face in (3, 3, 3, 1, 1):
        add_answers(catalogue, "vigilanza", datetime(2025, 5, 6, 10), {"D1": face, "D2": ["tempo-attesa"]}
                    if face == 1 else {"D1": face})
    few = client.get("/staff/servizi/vigilanza?anno=2025").get_data(as_text=True)
    assert 'id="grafico-motivi"' not in few and "Domande a scelta" not in few  # 2 red faces: suppressed
    for _ in range(5):
        add_answers(catalogue, "vigilanza", datetime(2025, 5, 7, 10), {"D1": 1, "D2": ["tempo-attesa"]})
    many = client.get("/staff/servizi/vigilanza?anno=2025").get_data(as_text=True)
    assert 'id="grafico-motivi"' in many and "Domande a scelta" not in many
    # In English, the options as the catalogue gives them (the chart and its table said "tempo di attesa").
    english = client.get("/staff/servizi/vigilanza?anno=2025&lang=en").get_data(as_text=True)
    assert '<th scope="row">waiting time</th>' in english and "tempo di attesa" not in english


def test_a_kiosk_question_is_drawn_as_faces_and_named_in_the_pages_language(client, runner, catalogue):
    """The question page of a kiosk question drew "Valore 3 2 1" in the distribution's blues and oranges, titled with
    its code; the service page's table kept the kiosk's questions in Italian on the English page."""
    from datetime import datetime

    from .helpers import add_answers
    from .test_staff_overview import _chart_traces

    login(client, runner, "r@comune.it", "--role", "responsabile", "--scope", "anagrafe")
    for face in (3, 3, 3, 2, 1, 1):
        add_answers(catalogue, "anagrafe", datetime(2025, 5, 6, 10), {"D1": face}, questionnaire="kiosk",
                    canale="chiosco")
    html = client.get("/staff/servizi/anagrafe/domande/faccine.D1?anno=2025&lang=it").get_data(as_text=True)
    traces = list(_chart_traces(html).values())
    assert [t["name"] for t in traces] == ["Verde (soddisfatto)", "Giallo", "Rosso (insoddisfatto)"]
    assert [round(t["y"][0], 1) for t in traces] == [50.0, 16.7, 33.3]
    assert "Come valuti il servizio?" in html and "Valore 3" not in html
    english = client.get("/staff/servizi/anagrafe?anno=2025&lang=en").get_data(as_text=True)
    assert ">How do you rate the service?</a>" in english and "Come valuti il servizio?" not in english
