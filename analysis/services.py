"""Per service: overall satisfaction, ICS, margin of error and the sample a campaign needs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .stats import Z95

RATED_TYPES = ("scala", "faccine")


def sample_size(population: int | None, p: float = 0.25, margin: float = 0.03, z: float = 1.96) -> int:
    """n = N·z²·p(1−p) / ((N−1)·e² + z²·p(1−p)), rounded to the nearest unit (infinite N without population).

    With N = 70,000, p = 0.25, e = 0.03, z = 1.96 this gives 791.
    """
    if not 0 < p < 1 or not 0 < margin < 1:
        raise ValueError("p ed e devono essere compresi tra 0 e 1")
    core = z**2 * p * (1 - p)
    if not population:
        return math.floor(core / margin**2 + 0.5)
    return math.floor(population * core / ((population - 1) * margin**2 + core) + 0.5)


def margin_of_error(p: float, n: int, population: int | None = None, z: float = Z95) -> float:
    """Half-width of the normal interval of a proportion, with the finite-population correction when N is known."""
    if n <= 0:
        return float("nan")
    error = z * math.sqrt(p * (1 - p) / n)
    if population and population > 1:
        error *= math.sqrt(max(population - n, 0) / (population - 1))
    return error


def overall_question(questions: pd.DataFrame) -> str | None:
    """The overall-satisfaction item: the one required rated question, else the last rated one."""
    rated = questions[questions["tipo"].isin(RATED_TYPES)].sort_values("posizione")
    if rated.empty:
        return None
    required = rated[rated["obbligatoria"].astype(bool)]
    return (required if len(required) == 1 else rated).iloc[-1]["codice"]


def ics(stats: pd.DataFrame, importance: pd.DataFrame | None = None) -> float:
    """Indice di customer satisfaction 0–100 over the rated items of one service.

    Each item's mean is rescaled ((media − min)/(max − min) × 100) and averaged, weighted by the item's
    mean stated importance where importance was asked for every item, with equal weights otherwise.
    """
    # A service has a handful of items: plain Python on its columns costs less than pandas' filters and merge,
    # which matters when a publication computes this for hundreds of services.
    items = [(code, mean, low, high) for code, kind, mean, low, high in
             zip(stats["codice"], stats["tipo"], stats["media"], stats["scala_min"], stats["scala_max"], strict=True)
             if kind in RATED_TYPES and pd.notna(mean)]
    if not items:
        return float("nan")
    rescaled = [(mean - low) / (high - low) * 100 for _, mean, low, high in items]
    weights = [1.0] * len(items)
    if importance is not None and not importance.empty:
        stated = dict(zip(importance["codice"], importance["importanza_media"], strict=True))
        found = [stated.get(code) for code, *_ in items]
        if all(w is not None and pd.notna(w) for w in found):
            weights = found
    return float(np.average(np.asarray(rescaled, dtype=float), weights=np.asarray(weights, dtype=float)))


def service_row(service: pd.Series, stats: pd.DataFrame, importance: pd.DataFrame, submissions: int,
                questions: pd.DataFrame, threshold: int, overall: str | None = None) -> dict:
    """One service's figures: stats and importance are this service's own-questionnaire rows.

    ``overall`` is the questionnaire's overall item when the caller already knows it.
    """
    if overall is None:
        overall = overall_question(questions)
    row = stats[stats["codice"] == overall]
    n = int(row["n"].iloc[0]) if len(row) else 0
    small = n < threshold
    quota = float(row["quota_soddisfatti"].iloc[0]) if len(row) else float("nan")
    # Items too small to publish stay out of the index too: it would let them be recovered.
    attributes = stats[(stats["codice"] != overall) & (stats["n"] >= threshold)]
    ics_items = attributes if attributes["tipo"].isin(RATED_TYPES).any() else row
    population = int(service["utenti_annui"]) if pd.notna(service["utenti_annui"]) else None
    return {
        "servizio_id": int(service["servizio_id"]),
        "ente": service["ente"],
        "ufficio": service["ufficio"],
        "servizio_codice": service["slug"],
        "servizio": service["nome_it"],
        "utenti_annui": population,
        "compilazioni": submissions,
        "domanda_complessiva": overall,
        "n": n,
        "media": None if small or not len(row) else float(row["media"].iloc[0]),
        "quota_soddisfatti": None if small else quota,
        "ic95_inf": None if small or not len(row) else float(row["ic95_inf"].iloc[0]),
        "ic95_sup": None if small or not len(row) else float(row["ic95_sup"].iloc[0]),
        "ics": None if small else _none_if_nan(ics(ics_items, importance)),
        "margine_errore": None if small else margin_of_error(quota / 100, n, population) * 100,
        "campione_necessario": sample_size(population) if population else None,
        "soppresso": small,
    }


def _none_if_nan(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value
