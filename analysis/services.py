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
    stated = None
    if importance is not None and not importance.empty:
        stated = dict(zip(importance["codice"], importance["importanza_media"], strict=True))
    return ics_of(stats.to_dict(orient="records"), stated)


def ics_of(items: list[dict], stated: dict[str, float] | None = None) -> float:
    """``ics`` on plain records (codice, tipo, media, scala_min, scala_max) and importance by question code.

    A service has a handful of items: plain Python costs less than pandas' filters, which matters when the
    overview or a publication computes this for hundreds of services.
    """
    rated = [(r["codice"], r["media"], r["scala_min"], r["scala_max"]) for r in items
             if r["tipo"] in RATED_TYPES and pd.notna(r["media"])]
    if not rated:
        return float("nan")
    rescaled = [(mean - low) / (high - low) * 100 for _, mean, low, high in rated]
    weights = [1.0] * len(rated)
    if stated:
        found = [stated.get(code) for code, *_ in rated]
        if all(w is not None and pd.notna(w) for w in found):
            weights = found
    return float(np.average(np.asarray(rescaled, dtype=float), weights=np.asarray(weights, dtype=float)))


def service_row(service: dict, stats: list[dict], stated: dict[str, float] | None, submissions: int,
                overall: str | None, threshold: int) -> dict:
    """One service's figures from plain records: ``stats`` are its own-questionnaire question rows, ``stated``
    the mean stated importance by question code, ``overall`` its questionnaire's overall item."""
    row = next((r for r in stats if r["codice"] == overall), None)
    n = int(row["n"]) if row else 0
    small = n < threshold
    quota = float(row["quota_soddisfatti"]) if row else float("nan")
    # Items too small to publish stay out of the index too: it would let them be recovered.
    attributes = [r for r in stats if r["codice"] != overall and r["n"] >= threshold]
    ics_items = attributes if any(r["tipo"] in RATED_TYPES for r in attributes) else ([row] if row else [])
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
        "media": None if small or not row else float(row["media"]),
        "quota_soddisfatti": None if small else quota,
        "ic95_inf": None if small or not row else float(row["ic95_inf"]),
        "ic95_sup": None if small or not row else float(row["ic95_sup"]),
        "ics": None if small else _none_if_nan(ics_of(ics_items, stated)),
        "margine_errore": None if small else margin_of_error(quota / 100, n, population) * 100,
        "campione_necessario": sample_size(population) if population else None,
        "soppresso": small,
    }


def _none_if_nan(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value
