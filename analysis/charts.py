"""Plotly figures for the dashboard and the reports: colour-blind-safe, titled with period and n.

Each function takes a small DataFrame (from ``analysis.engine``) and returns a Figure; the same
functions feed every page and report. Rows with n below the threshold, or without a value, are
not drawn: the figure says which ones were suppressed.

Labels are Italian; the app hands its gettext to ``use_translator`` so that a page in English gets English ones
(this package never imports Flask; reports and the CLI, outside a request, stay Italian).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Okabe–Ito, safe for the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
def N_(text: str) -> str:  # noqa: N802 - gettext's name for "extract for the catalogue, translate when drawn"
    return text


FACES = {"verde": (N_("Verde (soddisfatto)"), GREEN), "giallo": (N_("Giallo"), ORANGE),
         "rosso": (N_("Rosso (insoddisfatto)"), VERMILION)}
FONT = "Titillium Web, sans-serif"
# Every figure on plotly_white as the process's default: naming it on each figure deep-copied the whole template
# (with add_hline's bookkeeping, about 50 of a staff service page's 380 ms).
pio.templates.default = "plotly_white"
_translate: Callable[[str], str] = str


def use_translator(translate: Callable[[str], str]) -> None:
    """Translate the labels with ``translate`` (the app's gettext, which follows each request's language)."""
    global _translate  # noqa: PLW0603 - one translator per process, set once by the app
    _translate = translate


def _(text: str) -> str:
    return _translate(text)


def _layout(fig: go.Figure, title: str, **extra) -> go.Figure:
    """The house layout. A legend goes under the chart, across: at its side it took a third of a phone's width."""
    if extra.get("showlegend", True):
        extra["legend"] = {"orientation": "h", "x": 0, "y": 0, "yref": "container", "yanchor": "bottom",
                           **extra.get("legend", {})}
        extra["margin"] = {"b": 150, **extra.get("margin", {})}
    extra["margin"] = {"t": 40 + 27 * (title.count("<br>") + 1), **extra.get("margin", {})}  # room for each line
    # Translators: the decimal mark, then the thousands separator.
    fig.update_layout(title={"text": title}, font={"family": FONT, "size": 14},
                      separators=_(",."), **extra)
    # A dark edge on every bar: yellow, orange and sky blue are under 3:1 against white (WCAG 1.4.11), and a
    # segment must stand apart from the next one of a near colour.
    fig.update_traces(marker_line_color=BLACK, marker_line_width=1, selector={"type": "bar"})
    return fig


def _wrapped(label: str, width: int, lines: int = 2) -> str:
    """A long label broken over lines (plotly's <br>), the last shortened at a word: a phone cut it at the left."""
    return "<br>".join(textwrap.wrap(str(label), width, max_lines=lines, placeholder=" …")) or str(label)


def _titled(name: str, period: str, n: int | None = None, width: int = 24) -> str:
    """The chart's title, with its count ``n`` if given; a long one (name and period over ``width`` characters)
    breaks before its period, so a phone's width never cuts its count off."""
    count = "" if n is None else f" (n = {n})"
    if len(name) + len(period) <= width:
        return f"{name} – {period}{count}"
    # A question's text as a title on two lines at most; a long period (a trend's "11/2024–02/2025 – 03/2025–06/2025")
    # broken after its dash.
    return f"{_wrapped(name, 34)}<br>{period.replace(' – ', ' –<br>') if len(period) > 24 else period}{count}"


def _suppressed(fig: go.Figure, labels: list[str], threshold: int, empty: list[str] | None = None,
                protected: list[str] | None = None) -> None:
    """Under the chart, what it leaves out and why: too few answers to show (``labels``), enough but hidden so that a
    smaller group cannot be worked out (``protected``), or none at all (``empty``: not "suppressed", which would
    suggest a few)."""
    notes = []
    if labels:
        notes.append(_("Dati soppressi per n < %(k)d: %(which)s") % {"k": threshold, "which": ", ".join(map(str, labels))})
    if protected:
        notes.append(_("Dati nascosti per proteggere un gruppo più piccolo: %(which)s")
                     % {"which": ", ".join(map(str, protected))})
    if empty:
        notes.append(_("Nessuna risposta: %(which)s") % {"which": ", ".join(map(str, empty))})
    if notes:
        fig.add_annotation(text="; ".join(notes), xref="paper", yref="paper", x=0, y=-0.2, showarrow=False,
                           xanchor="left", font={"size": 12})


def _across(axis: str, value: float) -> dict:
    """A dashed black line across the plot at ``value`` on ``axis``, as a plain shape: plotly's add_hline and add_vline
    cost about 10 ms each in their own bookkeeping."""
    other = "y" if axis == "x" else "x"
    return {"type": "line", "line": {"dash": "dash", "color": BLACK}, f"{axis}ref": axis, f"{other}ref": "paper",
            f"{axis}0": value, f"{axis}1": value, f"{other}0": 0, f"{other}1": 1}


def _split(frame: pd.DataFrame, label: str, value: str, threshold: int) -> tuple[pd.DataFrame, list[str]]:
    hidden = (frame["n"] < threshold) | frame[value].isna()
    return frame[~hidden], list(frame.loc[hidden, label])


DISTRIBUTION_ROW = 52  # px per question: its text on up to three lines
DISTRIBUTION_LABEL = 24  # characters per line of a question's label


def stacked_distribution(frame: pd.DataFrame, period: str, threshold: int = 5,
                         names: dict[int, str] | None = None) -> go.Figure:
    """One 100% bar per question, one segment per value (low in vermilion, high in blue); ``names``: the values'
    words in the legend ("sì", "no") where a number says nothing."""
    # A suppressed question comes without counts (n empty): it is named under the chart, never drawn.
    totals = frame.groupby("domanda", sort=False)["n"].sum(min_count=1)
    shown = [q for q, n in totals.items() if pd.notna(n) and n >= threshold]
    hidden = [q for q in totals.index if q not in shown]
    values = sorted(frame["valore"].dropna().unique()) if len(frame) else []
    palette = [VERMILION, ORANGE, YELLOW, SKY, BLUE]
    colours = {v: palette[round(i * (len(palette) - 1) / max(len(values) - 1, 1))] for i, v in enumerate(values)}
    labels = {q: _wrapped(f"{q} (n = {totals[q]})", DISTRIBUTION_LABEL, 3) for q in shown}
    answers = _("risposte")
    fig = go.Figure()
    for value in values:
        rows = frame[(frame["valore"] == value) & frame["domanda"].isin(shown)].set_index("domanda")["n"]
        shares = [rows.get(q, 0) / totals[q] * 100 for q in shown]
        name = (names or {}).get(value, str(value))
        fig.add_trace(go.Bar(name=name, y=[labels[q] for q in shown], x=shares, orientation="h",
                             marker_color=colours[value], customdata=[rows.get(q, 0) for q in shown],
                             hovertemplate=_("Valore") + f" {name}: %{{x:.1f}}% (%{{customdata}} {answers})<extra></extra>"))
    _suppressed(fig, hidden, threshold)
    # No count in the title: answers summed over questions are no number of people (25 for 17 questionnaires);
    # each question's label carries its own. No axis title: the labels say they are questions, and it sat on them
    # on a phone.
    return _layout(fig, _titled(_("Distribuzione delle risposte"), period), barmode="stack",
                   height=240 + DISTRIBUTION_ROW * max(len(shown), 3),
                   xaxis={"title": {"text": _("Quota delle risposte (%)")}, "range": [0, 100]},
                   yaxis={"autorange": "reversed", "automargin": True, "dtick": 1},
                   legend={"title": {"text": _("Valore")}})


def faces_bar(frame: pd.DataFrame, period: str, threshold: int = 5, title: str | None = None) -> go.Figure:
    """Shares of green, yellow and red faces; ``title``: the faces' questionnaire ("Faccine" without one)."""
    counts = frame.set_index("faccia")["n"].reindex(list(FACES), fill_value=0)
    suppressed = counts.isna().any()  # the page left the counts out: suppressed, whatever their number
    total = int(counts.fillna(0).sum())
    answers = _("risposte")
    fig = go.Figure()
    if total >= threshold and not suppressed:
        for face, (label, colour) in FACES.items():
            label = _(label)  # noqa: PLW2901 - the same label, in the page's language
            fig.add_trace(go.Bar(name=label, x=[label], y=[counts[face] / total * 100], marker_color=colour,
                                 customdata=[int(counts[face])],
                                 hovertemplate=f"%{{x}}: %{{y:.1f}}% (%{{customdata}} {answers})<extra></extra>"))
    else:
        _suppressed(fig, [_("tutte le faccine")], threshold)
    return _layout(fig, _titled(title or _("Faccine"), period, None if suppressed else total), showlegend=False,
                   yaxis={"title": {"text": _("Quota delle risposte (%)")}, "range": [0, 100]},
                   xaxis={"title": {"text": _("Faccina")}})


def trend_line(frame: pd.DataFrame, period: str, threshold: int = 5, standard: float | None = None) -> go.Figure:
    """% satisfied over time with its 95% interval as a band; suppressed points are gaps. The target is ``standard``
    across the chart, or each period's own from the frame's ``standard_quota`` column (a new carta dei servizi changes
    it from a year on: each year is drawn against the target it had)."""
    if standard is None and "standard_quota" in frame:
        targets = [None if pd.isna(value) else float(value) for value in frame["standard_quota"]]
        if len({t for t in targets if t is not None}) == 1 and None not in targets:
            standard = targets[0]
        elif any(t is not None for t in targets):
            return _with_targets(trend_line(frame.drop(columns="standard_quota"), period, threshold), targets)
    data = frame.copy()
    hidden = list(data.loc[(data["n"] < threshold) | data["quota"].isna(), "periodo"])
    empty = list(data.loc[data["n"] == 0, "periodo"])
    mask = data["periodo"].isin(hidden)
    for column in ("quota", "ic95_inf", "ic95_sup"):
        data[column] = data[column].where(~mask, np.nan)
    x = list(data["periodo"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(data["ic95_sup"]) + list(data["ic95_inf"])[::-1], fill="toself",
                             mode="lines",
                             fillcolor="rgba(86,180,233,0.3)", line={"width": 0}, name=_("Intervallo al 95%"),
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=data["quota"], mode="lines+markers", name=_("% soddisfatti"),
                             line={"color": BLUE, "width": 3}, customdata=data["n"], connectgaps=False,
                             hovertemplate="%{x}: %{y:.1f}% (n = %{customdata})<extra></extra>"))
    if standard is not None:
        fig.update_layout(shapes=[_across("y", standard)])
        fig.add_annotation(text=_("Standard") + f" ≥ {standard:g}", xref="paper", yref="y", x=0, y=standard,
                           xanchor="left", yanchor="bottom", showarrow=False)
    # Enough answers and still no figure: hidden to protect a smaller group (a filter that period would be refused).
    protected = list(data.loc[(data["n"] >= threshold) & data["quota"].isna(), "periodo"])
    _suppressed(fig, [p for p in hidden if p not in empty and p not in protected], threshold, empty, protected)
    total = int(frame["n"].sum())
    return _layout(fig, _titled(_("Andamento della soddisfazione"), period, total),
                   yaxis={"title": {"text": _("% soddisfatti")}, "range": [0, 100]},
                   xaxis={"title": {"text": _("Periodo")}})


def _with_targets(fig: go.Figure, targets: list[float | None]) -> go.Figure:
    """A dashed segment at each period's own target (None: no target that period), labelled once."""
    shapes = [{"type": "line", "line": {"dash": "dash", "color": BLACK}, "xref": "x", "yref": "y",
               "x0": i - 0.4, "x1": i + 0.4, "y0": value, "y1": value}
              for i, value in enumerate(targets) if value is not None]
    fig.update_layout(shapes=shapes)
    first = next(i for i, value in enumerate(targets) if value is not None)
    for i, value in enumerate(targets):
        if value is not None and (i == first or value != targets[i - 1]):
            fig.add_annotation(text=_("Standard") + f" ≥ {value:g}", xref="x", yref="y", x=i - 0.4, y=value,
                               xanchor="left", yanchor="bottom", showarrow=False)
    return fig


COMPARISON_ROW = 36  # px per service: room for a name on two lines, and every name shown (plotly skips some when
# the rows are thinner than their labels: at the default height, 8 names for 15 bars)
COMPARISON_LABEL = 26  # characters per line of a service's name


def service_comparison(frame: pd.DataFrame, period: str, threshold: int = 5, measure: str = "quota") -> go.Figure:
    """Services side by side, each against its own standard (vermilion when below it); as tall as its services
    need, their names broken over two lines rather than cut on a phone."""
    shown, hidden = _split(frame, "servizio", measure, threshold)
    shown = shown.sort_values(measure).assign(
        servizio=lambda f: [_wrapped(name, COMPARISON_LABEL) for name in f["servizio"]])
    standard = shown["standard"] if "standard" in shown else pd.Series(np.nan, index=shown.index)
    below = shown[measure] < standard
    title = _("% soddisfatti") if measure == "quota" else _("Media")
    fig = go.Figure()
    for flag, name, colour in ((False, _("In linea con lo standard o senza standard"), BLUE),
                               (True, _("Sotto lo standard"), VERMILION)):
        part = shown[below == flag]
        fig.add_trace(go.Bar(name=name, x=part[measure], y=part["servizio"], orientation="h", marker_color=colour,
                             customdata=part["n"], hovertemplate=f"%{{y}}: %{{x:.1f}} (n = %{{customdata}})<extra>{name}</extra>"))
    with_standard = shown[standard.notna()]
    if len(with_standard):
        fig.add_trace(go.Scatter(name=_("Standard"), x=with_standard["standard"], y=with_standard["servizio"],
                                 mode="markers",
                                 marker={"symbol": "line-ns-open", "size": COMPARISON_ROW * 0.6, "color": BLACK,
                                         "line": {"width": 3}},
                                 hovertemplate=_("Standard") + ": %{y}, %{x}<extra></extra>"))
    _suppressed(fig, hidden, threshold)
    total = int(frame["n"].sum())
    # The names take half a phone's width: the title always on two lines.
    return _layout(fig, _titled(_("Confronto tra servizi"), period, total, width=0), barmode="overlay",
                   height=230 + COMPARISON_ROW * max(len(shown), 4),
                   xaxis={"title": {"text": title}, **({"range": [0, 100]} if measure == "quota" else {})},
                   yaxis={"title": {"text": _("Servizio")}, "automargin": True, "dtick": 1,
                          # by value, best at the top, whichever trace a bar is in (else the vermilion ones first)
                          "categoryorder": "array", "categoryarray": list(shown["servizio"])})


def importance_scatter(frame: pd.DataFrame, period: str, threshold: int = 5) -> go.Figure:
    """Importance against satisfaction, split at their means into four quadrants."""
    shown, hidden = _split(frame, "domanda", "soddisfazione", threshold)
    fig = go.Figure(go.Scatter(x=shown["importanza"], y=shown["soddisfazione"], mode="markers+text",
                               text=shown["domanda"], textposition="top center", marker={"color": BLUE, "size": 12},
                               customdata=shown["n"], name=_("Aspetti"),
                               hovertemplate="%{text}: " + _("importanza") + " %{x:.2f}, " + _("soddisfazione")
                                             + " %{y:.2f} (n = %{customdata})<extra></extra>"))
    if len(shown):
        mean_importance, mean_satisfaction = shown["importanza"].mean(), shown["soddisfazione"].mean()
        fig.update_layout(shapes=[_across("x", mean_importance), _across("y", mean_satisfaction)])
        for text, x, y, xa, ya in ((N_("Priorità di intervento"), 1, 0, "right", "bottom"),
                                   (N_("Punti di forza"), 1, 1, "right", "top"),
                                   (N_("Da mantenere"), 0, 1, "left", "top"), (N_("Secondari"), 0, 0, "left", "bottom")):
            fig.add_annotation(text=_(text), xref="paper", yref="paper", x=x, y=y, xanchor=xa, yanchor=ya,
                               showarrow=False, font={"size": 13, "color": BLACK})
    _suppressed(fig, hidden, threshold)
    # No count in the title: answers summed over questions are no number of people (693 for 126 questionnaires);
    # each point's hover gives its own. Room around the points: a label above the highest one was cut at the top,
    # and the corners' quadrant names sat on the points nearest them.
    return _layout(fig, _titled(_("Importanza e soddisfazione"), period), showlegend=False,
                   xaxis={"title": {"text": _("Importanza media")}, **_padded(shown["importanza"], 0.15, 0.15)},
                   yaxis={"title": {"text": _("Soddisfazione media")}, **_padded(shown["soddisfazione"], 0.2, 0.3)})


def _padded(values: pd.Series, below: float, above: float) -> dict:
    """An axis range around ``values`` with a share of their span (at least 0.5) free below and above."""
    if not len(values):
        return {}
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 0.5)
    return {"range": [low - below * span, high + above * span]}


def reasons_bar(frame: pd.DataFrame, period: str, threshold: int = 5, respondents: int | None = None,
                title: str | None = None, axis: str | None = None) -> go.Figure:
    """How often each reason (or any option, column ``motivo``) was chosen, as a share of the people who answered.

    For a multiple choice the shares add up to more than 100%: each person may choose several.
    """
    base = respondents if respondents is not None else int(frame["n"].sum())
    data = frame.sort_values("n", ascending=True)
    fig = go.Figure()
    if base >= threshold:
        fig.add_trace(go.Bar(x=data["n"] / base * 100, y=data["motivo"], orientation="h", marker_color=VERMILION,
                             customdata=data["n"],
                             hovertemplate="%{y}: %{x:.1f}% (%{customdata} " + _("scelte") + ")<extra></extra>"))
    else:
        _suppressed(fig, [_("tutte le risposte")], threshold)
    title = title or _("Motivi dell'insoddisfazione")
    return _layout(fig, _titled(title, period, base), showlegend=False, xaxis={"title": {"text": _("Quota di chi ha risposto (%)")}},
                   yaxis={"title": {"text": axis or _("Motivo")}})


def figure_to_html(fig: go.Figure, lang: str = "it") -> str:
    """The figure as an HTML fragment; the page serves plotly.js itself (never from a CDN), and its Italian locale,
    which ``lang`` "it" asks for: the toolbar's tips in Italian, and a decimal comma on the axes and in the tips."""
    # The toolbar keeps one button, the picture's download: zooming a bar chart adds nothing its data table does not
    # give, seven buttons a chart were 49 tab stops on a service page, and plotly 4's "Share chart..." offered to
    # upload the office's figures to Plotly Cloud.
    return fig.to_html(full_html=False, include_plotlyjs=False, config={
        "displaylogo": False, "modeBarButtons": [["toImage"]], "locale": "it" if lang == "it" else "en"})
