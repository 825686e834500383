"""Plotly figures for the dashboard and the reports: Italian labels, colour-blind-safe, titled with period and n.

Each function takes a small DataFrame (from ``analysis.engine``) and returns a Figure; the same
functions feed every page and report. Rows with n below the threshold, or without a value, are
not drawn: the figure says which ones were suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Okabe–Ito, safe for the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
FACES = {"verde": ("Verde (soddisfatto)", GREEN), "giallo": ("Giallo", ORANGE), "rosso": ("Rosso (insoddisfatto)", VERMILION)}
FONT = "Titillium Web, sans-serif"


def _layout(fig: go.Figure, title: str, **extra) -> go.Figure:
    fig.update_layout(title={"text": title}, template="plotly_white", font={"family": FONT, "size": 14},
                      separators=",.", **extra)
    return fig


def _suppressed(fig: go.Figure, labels: list[str], threshold: int) -> None:
    if labels:
        fig.add_annotation(text=f"Dati soppressi per n < {threshold}: {', '.join(map(str, labels))}",
                           xref="paper", yref="paper", x=0, y=-0.2, showarrow=False, xanchor="left",
                           font={"size": 12})


def _split(frame: pd.DataFrame, label: str, value: str, threshold: int) -> tuple[pd.DataFrame, list[str]]:
    hidden = (frame["n"] < threshold) | frame[value].isna()
    return frame[~hidden], list(frame.loc[hidden, label])


def stacked_distribution(frame: pd.DataFrame, period: str, threshold: int = 5) -> go.Figure:
    """One 100% bar per question, one segment per value (low in vermilion, high in blue)."""
    totals = frame.groupby("domanda", sort=False)["n"].sum()
    shown = [q for q, n in totals.items() if n >= threshold]
    hidden = [q for q, n in totals.items() if n < threshold]
    values = sorted(frame["valore"].unique()) if len(frame) else []
    palette = [VERMILION, ORANGE, YELLOW, SKY, BLUE]
    colours = {v: palette[round(i * (len(palette) - 1) / max(len(values) - 1, 1))] for i, v in enumerate(values)}
    labels = {q: f"{q} (n = {totals[q]})" for q in shown}
    fig = go.Figure()
    for value in values:
        rows = frame[(frame["valore"] == value) & frame["domanda"].isin(shown)].set_index("domanda")["n"]
        shares = [rows.get(q, 0) / totals[q] * 100 for q in shown]
        fig.add_trace(go.Bar(name=str(value), y=[labels[q] for q in shown], x=shares, orientation="h",
                             marker_color=colours[value], customdata=[rows.get(q, 0) for q in shown],
                             hovertemplate=f"Valore {value}: %{{x:.1f}}% (%{{customdata}} risposte)<extra></extra>"))
    _suppressed(fig, hidden, threshold)
    total = int(sum(totals[q] for q in shown))
    return _layout(fig, f"Distribuzione delle risposte – {period} (n = {total})", barmode="stack",
                   xaxis={"title": {"text": "% delle risposte"}, "range": [0, 100]},
                   yaxis={"title": {"text": "Domanda"}, "autorange": "reversed"}, legend={"title": {"text": "Valore"}})


def faces_bar(frame: pd.DataFrame, period: str, threshold: int = 5) -> go.Figure:
    """Shares of green, yellow and red faces."""
    counts = frame.set_index("faccia")["n"].reindex(list(FACES), fill_value=0)
    total = int(counts.sum())
    fig = go.Figure()
    if total >= threshold:
        for face, (label, colour) in FACES.items():
            fig.add_trace(go.Bar(name=label, x=[label], y=[counts[face] / total * 100], marker_color=colour,
                                 customdata=[int(counts[face])],
                                 hovertemplate="%{x}: %{y:.1f}% (%{customdata} risposte)<extra></extra>"))
    else:
        _suppressed(fig, ["tutte le faccine"], threshold)
    return _layout(fig, f"Mettiamoci la faccia – {period} (n = {total})", showlegend=False,
                   yaxis={"title": {"text": "% delle risposte"}, "range": [0, 100]}, xaxis={"title": {"text": "Faccina"}})


def trend_line(frame: pd.DataFrame, period: str, threshold: int = 5, standard: float | None = None) -> go.Figure:
    """% satisfied over time with its 95% interval as a band; suppressed points are gaps."""
    data = frame.copy()
    hidden = list(data.loc[(data["n"] < threshold) | data["quota"].isna(), "periodo"])
    mask = data["periodo"].isin(hidden)
    for column in ("quota", "ic95_inf", "ic95_sup"):
        data[column] = data[column].where(~mask, np.nan)
    x = list(data["periodo"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(data["ic95_sup"]) + list(data["ic95_inf"])[::-1], fill="toself",
                             mode="lines",
                             fillcolor="rgba(86,180,233,0.3)", line={"width": 0}, name="Intervallo al 95%",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=data["quota"], mode="lines+markers", name="% soddisfatti",
                             line={"color": BLUE, "width": 3}, customdata=data["n"], connectgaps=False,
                             hovertemplate="%{x}: %{y:.1f}% (n = %{customdata})<extra></extra>"))
    if standard is not None:
        fig.add_hline(y=standard, line_dash="dash", line_color=BLACK,
                      annotation_text=f"Standard ≥ {standard:g}", annotation_position="top left")
    _suppressed(fig, hidden, threshold)
    total = int(frame["n"].sum())
    return _layout(fig, f"Andamento della soddisfazione – {period} (n = {total})",
                   yaxis={"title": {"text": "% soddisfatti"}, "range": [0, 100]}, xaxis={"title": {"text": "Periodo"}})


def service_comparison(frame: pd.DataFrame, period: str, threshold: int = 5, measure: str = "quota") -> go.Figure:
    """Services side by side, each against its own standard (vermilion when below it)."""
    shown, hidden = _split(frame, "servizio", measure, threshold)
    shown = shown.sort_values(measure)
    standard = shown["standard"] if "standard" in shown else pd.Series(np.nan, index=shown.index)
    below = shown[measure] < standard
    title = "% soddisfatti" if measure == "quota" else "Media"
    fig = go.Figure()
    for flag, name, colour in ((False, "In linea con lo standard o senza standard", BLUE),
                               (True, "Sotto lo standard", VERMILION)):
        part = shown[below == flag]
        fig.add_trace(go.Bar(name=name, x=part[measure], y=part["servizio"], orientation="h", marker_color=colour,
                             customdata=part["n"], hovertemplate=f"%{{y}}: %{{x:.1f}} (n = %{{customdata}})<extra>{name}</extra>"))
    with_standard = shown[standard.notna()]
    if len(with_standard):
        fig.add_trace(go.Scatter(name="Standard", x=with_standard["standard"], y=with_standard["servizio"], mode="markers",
                                 marker={"symbol": "line-ns-open", "size": 28, "color": BLACK, "line": {"width": 3}},
                                 hovertemplate="Standard di %{y}: %{x}<extra></extra>"))
    _suppressed(fig, hidden, threshold)
    total = int(frame["n"].sum())
    return _layout(fig, f"Confronto tra servizi – {period} (n = {total})", barmode="overlay",
                   xaxis={"title": {"text": title}, **({"range": [0, 100]} if measure == "quota" else {})},
                   yaxis={"title": {"text": "Servizio"}})


def importance_scatter(frame: pd.DataFrame, period: str, threshold: int = 5) -> go.Figure:
    """Importance against satisfaction, split at their means into four quadrants."""
    shown, hidden = _split(frame, "domanda", "soddisfazione", threshold)
    fig = go.Figure(go.Scatter(x=shown["importanza"], y=shown["soddisfazione"], mode="markers+text",
                               text=shown["domanda"], textposition="top center", marker={"color": BLUE, "size": 12},
                               customdata=shown["n"], name="Aspetti",
                               hovertemplate="%{text}: importanza %{x:.2f}, soddisfazione %{y:.2f} (n = %{customdata})<extra></extra>"))
    if len(shown):
        mean_importance, mean_satisfaction = shown["importanza"].mean(), shown["soddisfazione"].mean()
        fig.add_vline(x=mean_importance, line_dash="dash", line_color=BLACK)
        fig.add_hline(y=mean_satisfaction, line_dash="dash", line_color=BLACK)
        for text, x, y, xa, ya in (("Priorità di intervento", 1, 0, "right", "bottom"), ("Punti di forza", 1, 1, "right", "top"),
                                   ("Da mantenere", 0, 1, "left", "top"), ("Secondari", 0, 0, "left", "bottom")):
            fig.add_annotation(text=text, xref="paper", yref="paper", x=x, y=y, xanchor=xa, yanchor=ya,
                               showarrow=False, font={"size": 13, "color": BLACK})
    _suppressed(fig, hidden, threshold)
    total = int(frame["n"].sum()) if len(frame) else 0
    return _layout(fig, f"Importanza e soddisfazione – {period} (n = {total})", showlegend=False,
                   xaxis={"title": {"text": "Importanza media"}}, yaxis={"title": {"text": "Soddisfazione media"}})


def reasons_bar(frame: pd.DataFrame, period: str, threshold: int = 5, respondents: int | None = None,
                title: str = "Motivi dell'insoddisfazione", axis: str = "Motivo") -> go.Figure:
    """How often each reason (or any option, column ``motivo``) was chosen, as a share of the people who answered.

    For a multiple choice the shares add up to more than 100%: each person may choose several.
    """
    base = respondents if respondents is not None else int(frame["n"].sum())
    data = frame.sort_values("n", ascending=True)
    fig = go.Figure()
    if base >= threshold:
        fig.add_trace(go.Bar(x=data["n"] / base * 100, y=data["motivo"], orientation="h", marker_color=VERMILION,
                             customdata=data["n"], hovertemplate="%{y}: %{x:.1f}% (%{customdata} scelte)<extra></extra>"))
    else:
        _suppressed(fig, ["tutte le risposte"], threshold)
    return _layout(fig, f"{title} – {period} (n = {base})", showlegend=False,
                   xaxis={"title": {"text": "% di chi ha risposto"}}, yaxis={"title": {"text": axis}})


def figure_to_html(fig: go.Figure) -> str:
    """The figure as an HTML fragment; the page serves plotly.js itself (never from a CDN)."""
    return fig.to_html(full_html=False, include_plotlyjs=False)
