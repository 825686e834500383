"""Charts: the data drawn, not the pixels — shares, colours, bands, standards, quadrants, suppression."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis import charts


def test_stacked_distribution_shares_and_suppression():
    frame = pd.DataFrame({"domanda": ["Cortesia"] * 3 + ["Attesa"] * 2 + ["Orari"],
                          "valore": [3, 4, 5, 1, 5, 4], "n": [2, 3, 5, 6, 2, 3]})
    fig = charts.stacked_distribution(frame, "2025")
    by_value = {t.name: dict(zip(t.y, t.x, strict=True)) for t in fig.data}
    assert by_value["4"]["Cortesia (n = 10)"] == pytest.approx(30.0)
    assert by_value["1"]["Attesa (n = 8)"] == pytest.approx(75.0)
    for label in ("Cortesia (n = 10)", "Attesa (n = 8)"):
        assert sum(v.get(label, 0) for v in by_value.values()) == pytest.approx(100.0)
    assert not any("Orari" in y for t in fig.data for y in t.y)  # n = 3: suppressed
    assert "Dati soppressi per n < 5: Orari" in fig.layout.annotations[0].text
    # No count in the title: 18 answers summed over two questions are no number of people; each label has its own.
    assert fig.layout.title.text == "Distribuzione delle risposte<br>2025"
    assert fig.layout.xaxis.title.text == "Quota delle risposte (%)"


def test_faces_bar_colours_and_shares():
    fig = charts.faces_bar(pd.DataFrame({"faccia": ["verde", "rosso", "giallo"], "n": [6, 2, 2]}), "2025")
    drawn = {t.name: (t.y[0], t.marker.color) for t in fig.data}
    assert drawn["Verde (soddisfatto)"] == (pytest.approx(60.0), "#009E73")
    assert drawn["Rosso (insoddisfatto)"] == (pytest.approx(20.0), "#D55E00")
    assert "n = 10" in fig.layout.title.text
    small = charts.faces_bar(pd.DataFrame({"faccia": ["verde"], "n": [3]}), "2025")
    assert small.data == () and "Dati soppressi" in small.layout.annotations[0].text


def test_trend_band_contains_line_and_standard():
    frame = pd.DataFrame({"periodo": ["2024", "2025", "2026"], "quota": [60.0, 70.0, 80.0],
                          "ic95_inf": [50.0, 62.0, 71.0], "ic95_sup": [69.0, 77.0, 87.0], "n": [40, 3, 50]})
    fig = charts.trend_line(frame, "2024–2026", standard=75)
    band, line = fig.data
    assert list(line.y[:1]) == [60.0] and np.isnan(line.y[1]) and line.y[2] == 80.0  # 2025 suppressed: a gap
    upper, lower = band.y[:3], band.y[3:][::-1]
    for low, value, high in zip(lower, line.y, upper, strict=True):
        if not np.isnan(value):
            assert low <= value <= high
    assert fig.layout.shapes[0].y0 == 75 and fig.layout.shapes[0].line.dash == "dash"
    assert "Dati soppressi per n < 5: 2025" in fig.layout.annotations[-1].text
    assert fig.layout.yaxis.title.text == "% soddisfatti"


def test_a_period_without_answers_is_not_called_suppressed():
    """The kiosk's questionnaire has no overall question: zero answers to it are "none", not "fewer than 5"."""
    frame = pd.DataFrame({"periodo": ["2024", "2025", "2026"], "quota": [np.nan, 70.0, np.nan],
                          "ic95_inf": [np.nan, 62.0, np.nan], "ic95_sup": [np.nan, 77.0, np.nan], "n": [0, 3, 0]})
    note = charts.trend_line(frame, "2024–2026").layout.annotations[-1].text
    assert note == "Dati soppressi per n < 5: 2025; Nessuna risposta: 2024, 2026"


def test_service_comparison_marks_services_below_standard():
    frame = pd.DataFrame({"servizio": ["Anagrafe", "Tributi", "Biblioteca", "Mensa"],
                          "quota": [72.0, 90.0, 81.0, 50.0], "n": [100, 80, 60, 2],
                          "standard": [80.0, 75.0, np.nan, 80.0]})
    fig = charts.service_comparison(frame, "2025")
    below = next(t for t in fig.data if t.name == "Sotto lo standard")
    fine = next(t for t in fig.data if t.name.startswith("In linea"))
    assert list(below.y) == ["Anagrafe"] and below.marker.color == "#D55E00"
    assert set(fine.y) == {"Tributi", "Biblioteca"}
    standards = next(t for t in fig.data if t.name == "Standard")
    assert dict(zip(standards.y, standards.x, strict=True)) == {"Anagrafe": 80.0, "Tributi": 75.0}
    assert "Mensa" in fig.layout.annotations[0].text


def test_importance_scatter_quadrants_at_the_means():
    frame = pd.DataFrame({"domanda": ["Attesa", "Cortesia", "Orari", "Modulistica"],
                          "importanza": [4.6, 4.2, 3.0, 3.4], "soddisfazione": [2.8, 4.4, 3.9, 3.0],
                          "n": [50, 50, 50, 50]})
    fig = charts.importance_scatter(frame, "2025")
    vertical = next(s for s in fig.layout.shapes if s.x0 == s.x1)
    horizontal = next(s for s in fig.layout.shapes if s.y0 == s.y1)
    assert vertical.x0 == pytest.approx((4.6 + 4.2 + 3.0 + 3.4) / 4)
    assert horizontal.y0 == pytest.approx((2.8 + 4.4 + 3.9 + 3.0) / 4)
    texts = {a.text for a in fig.layout.annotations}
    assert {"Priorità di intervento", "Punti di forza", "Da mantenere", "Secondari"} <= texts
    assert fig.layout.xaxis.title.text == "Importanza media"
    # No n in the title: 200 answers over four questions are not 200 people (an office manager read "n = 693").
    assert fig.layout.title.text == "Importanza e soddisfazione<br>2025" and "n =" not in fig.layout.title.text
    # Room above the highest point for its label (cut at the top before), and on every side for the corners' names.
    low, high = fig.layout.yaxis.range
    assert high >= 4.4 + 0.3 * (4.4 - 2.8) - 1e-9 and low <= 2.8 - 0.2 * (4.4 - 2.8) + 1e-9
    assert fig.layout.xaxis.range[0] < 3.0 and fig.layout.xaxis.range[1] > 4.6


def test_reasons_sorted_and_shares_of_respondents():
    frame = pd.DataFrame({"motivo": ["tempo di attesa", "risposta negativa", "necessità di tornare"], "n": [8, 2, 5]})
    fig = charts.reasons_bar(frame, "2025", respondents=10)
    bar = fig.data[0]
    assert list(bar.y) == ["risposta negativa", "necessità di tornare", "tempo di attesa"]  # drawn bottom-up
    assert list(bar.x) == pytest.approx([20.0, 50.0, 80.0])
    assert "n = 10" in fig.layout.title.text


def test_html_fragment_has_no_cdn_script():
    html = charts.figure_to_html(charts.faces_bar(pd.DataFrame({"faccia": ["verde"], "n": [9]}), "2025"))
    assert "<script src=" not in html and "cdn" not in html.lower()
    # One toolbar button, the picture's download: no Plotly Cloud upload, one tab stop a chart.
    assert '"displaylogo": false' in html and '"modeBarButtons": [["toImage"]]' in html


def test_charts_do_not_import_flask():
    code = "import sys, analysis.charts; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_long_title_breaks_before_its_period_and_a_campaigns_previous_period_reads_as_dates():
    from datetime import datetime

    from analysis.engine import Period

    campaign = Period(datetime(2025, 4, 3), datetime(2025, 5, 3), "Indagine di primavera allo sportello")
    assert campaign.previous().label == "04/03/2025–02/04/2025"  # was "2025-03-04/2025-04-03"
    assert campaign.previous().previous().label == "02/02/2025–03/03/2025"
    frame = pd.DataFrame({"periodo": [campaign.previous().label, campaign.label], "quota": [60.0, 70.0],
                          "ic95_inf": [50.0, 62.0], "ic95_sup": [69.0, 77.0], "n": [40, 30]})
    title = charts.trend_line(frame, campaign.label).layout.title.text
    assert title == "Andamento della soddisfazione<br>Indagine di primavera allo sportello (n = 70)"
    # On a phone "Andamento della soddisfazione – 2024" lost its second year and its count: it breaks too.
    assert charts.trend_line(frame, "2025").layout.title.text == "Andamento della soddisfazione<br>2025 (n = 70)"
    faces = pd.DataFrame({"faccia": ["verde", "giallo", "rosso"], "n": [20, 10, 5]})
    assert charts.faces_bar(faces, "2025").layout.title.text == "Faccine – 2025 (n = 35)"  # it fits
    # Named after its questionnaire when the page knows it (a Comune's own, not always "Mettiamoci la faccia").
    assert charts.faces_bar(faces, "2025", title="Com'è andata?").layout.title.text == "Com'è andata? – 2025 (n = 35)"


def test_whole_months_are_compared_with_as_many_whole_months_before():
    """March–June 2025 was compared with 30/10/2024–28/02/2025 (as many days), not with November–February."""
    from datetime import datetime

    from analysis.engine import Period

    spring = Period(datetime(2025, 3, 1), datetime(2025, 7, 1), "03/2025–06/2025").previous()
    assert (spring.start, spring.end, spring.label) == (datetime(2024, 11, 1), datetime(2025, 3, 1), "11/2024–02/2025")
    january = Period(datetime(2025, 1, 1), datetime(2025, 2, 1), "01/2025").previous()
    assert (january.start, january.end, january.label) == (datetime(2024, 12, 1), datetime(2025, 1, 1), "12/2024")
    long = Period(datetime(2024, 3, 1), datetime(2025, 7, 1), "03/2024–06/2025").previous()
    assert (long.start, long.label) == (datetime(2022, 11, 1), "11/2022–02/2024")
    assert Period.year(2025).previous().label == "2024"


def test_the_served_plotly_bundle_is_the_version_plotly_draws_for():
    """The pages load plotly.js's basic bundle from npm (package.json): its version must be the one the Python
    package writes figures for, or an upgrade of either could draw charts wrongly without an error."""
    import json
    from pathlib import Path

    from plotly.offline import get_plotlyjs_version

    package = json.loads((Path(__file__).resolve().parent.parent / "package.json").read_text())
    assert package["dependencies"]["plotly.js-basic-dist-min"] == get_plotlyjs_version()


def test_each_year_is_drawn_against_its_own_target():
    """A new carta dei servizi from 2026: 2024 and 2025 had 80, 2026 has 30; 2024 had none of this kind."""
    frame = pd.DataFrame({"periodo": ["2024", "2025", "2026"], "quota": [60.0, 35.6, 40.0],
                          "ic95_inf": [50.0, 30.0, 33.0], "ic95_sup": [69.0, 41.0, 47.0], "n": [40, 90, 50],
                          "standard_quota": [np.nan, 80.0, 30.0]})
    fig = charts.trend_line(frame, "2024–2026")
    segments = [(s.x0, s.x1, s.y0) for s in fig.layout.shapes]
    assert segments == [(0.6, 1.4, 80.0), (1.6, 2.4, 30.0)]  # around 2025 and 2026 only, each at its own height
    labels = [a.text for a in fig.layout.annotations if a.text.startswith("Standard")]
    assert labels == ["Standard ≥ 80", "Standard ≥ 30"]
    # The same target every year is still one line across the chart.
    same = charts.trend_line(frame.assign(standard_quota=75.0), "2024–2026")
    assert [(s.xref, s.x0, s.x1, s.y0) for s in same.layout.shapes] == [("paper", 0, 1, 75)]


def _contrast(colour: str, background: str = "#ffffff") -> float:
    """WCAG's contrast ratio of two #rrggbb colours."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_bar_has_an_edge_of_at_least_3_to_1_against_white():
    """The distribution's yellow, orange and sky blue were under 3:1 against white (WCAG 1.4.11), with no edge."""
    assert min(_contrast(c) for c in (charts.YELLOW, charts.ORANGE, charts.SKY)) < 3  # why the edge is needed
    distribution = pd.DataFrame({"domanda": ["D1"] * 5, "valore": [1, 2, 3, 4, 5], "n": [2, 3, 5, 8, 7]})
    faces = pd.DataFrame({"faccia": ["rosso", "giallo", "verde"], "n": [3, 4, 9]})
    reasons = pd.DataFrame({"motivo": ["attesa", "orari"], "n": [4, 6]})
    comparison = pd.DataFrame({"servizio": ["Anagrafe", "Tributi"], "quota": [70.0, 55.0], "n": [40, 30],
                               "standard": [80.0, None]})
    figures = [charts.stacked_distribution(distribution, "2025"), charts.faces_bar(faces, "2025"),
               charts.reasons_bar(reasons, "2025", respondents=10), charts.service_comparison(comparison, "2025")]
    for fig in figures:
        bars = [trace for trace in fig.data if trace.type == "bar"]
        assert bars, fig.layout.title.text
        for trace in bars:
            assert trace.marker.line.width >= 1 and _contrast(trace.marker.line.color) >= 3, fig.layout.title.text
