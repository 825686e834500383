"""Per service × question (× group) statistics from value counts: the one source of every figure.

``question_stats`` returns, for each numeric question, n, mean, standard deviation, median,
the full distribution, quota_soddisfatti with its Wilson interval, the Student-t interval of
the mean, the faces shares and the NPS parts. Nothing is rounded or suppressed here:
``analysis.suppression`` and the publishing code do that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from .stats import wilson_interval

GROUP_KEYS = ["servizio_id", "questionario", "codice", "tipo", "scala_min", "scala_max"]
SUMS = ["n", "somma", "somma2", "soddisfatti", "promotori", "detrattori"]


def satisfied_mask(valore: pd.Series, scala_min: pd.Series, scala_max: pd.Series) -> pd.Series:
    """Strictly above the midpoint: 4–5 on 1–5, 3–4 on 1–4, 4–6 on 1–6, 6–10 on 1–10, green face, yes."""
    return valore > (scala_min + scala_max) / 2


def _median(distribution: dict[int, int]) -> float:
    """The median of a value -> count distribution: the mean of the two middle values when the total is even.

    A plain loop: the distributions have a handful of values, and a year's statistics ask for thousands of them.
    """
    total = sum(distribution.values())
    low_rank, high_rank = (total + 1) // 2, total // 2 + 1
    lower = None
    running = 0
    for value in sorted(distribution):
        running += distribution[value]
        if lower is None and running >= low_rank:
            lower = value
        if running >= high_rank:
            return (lower + value) / 2
    raise ValueError("empty distribution")


def summarise(counts: pd.DataFrame, questions: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    """Sufficient statistics and the distribution per group, from (… valore, n) counts."""
    keys = GROUP_KEYS + (extra or [])
    if counts.empty:
        return pd.DataFrame(columns=[*keys, *SUMS, "distribuzione"])
    data = counts.merge(questions, on="domanda_id", how="inner")
    n = data["n"]
    data = data.assign(
        somma=data["valore"] * n,
        somma2=data["valore"] ** 2 * n,
        soddisfatti=n.where(satisfied_mask(data["valore"], data["scala_min"], data["scala_max"]), 0),
        promotori=n.where(data["valore"] >= 9, 0),
        detrattori=n.where(data["valore"] <= 6, 0),
    )
    grouped = data.groupby(keys, dropna=False)
    summary = grouped[SUMS].sum()
    # Sorted by the same keys as the summary, so each group's values are one consecutive slice: cutting the
    # arrays by group sizes avoids one MultiIndex lookup per group (seconds for a few thousand groups).
    distribution = data.groupby([*keys, "valore"], dropna=False)["n"].sum()
    sizes = distribution.groupby(level=list(range(len(keys))), dropna=False, sort=True).size()
    assert sizes.index.equals(summary.index)
    values = distribution.index.get_level_values("valore").to_numpy().tolist()
    counts = distribution.to_numpy().tolist()
    bounds = np.concatenate([[0], np.cumsum(sizes.to_numpy())]).tolist()
    summary["distribuzione"] = [
        {int(v): int(c) for v, c in zip(values[a:b], counts[a:b], strict=True)}
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return summary.reset_index()


def figures(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean, deviation, median, quota (NPS for NPS items) and both intervals, unrounded."""
    if summary.empty:
        return summary.assign(**{c: pd.Series(dtype=float) for c in FIGURE_COLUMNS})
    n = summary["n"].astype(float)
    is_nps = (summary["tipo"] == "nps").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        media = summary["somma"] / n
        variance = (summary["somma2"] - n * media**2) / (n - 1)
        sd = np.sqrt(variance.clip(lower=0)).where(n > 1)
        quota = np.where(is_nps, (summary["promotori"] - summary["detrattori"]) / n * 100,
                         summary["soddisfatti"] / n * 100)
        t_half = sps.t.ppf(0.975, (n - 1).where(n > 1)) * sd / np.sqrt(n)
    low, high = wilson_interval(summary["soddisfatti"], n)
    distributions = summary["distribuzione"]
    share = {face: [d.get(value, 0) / total * 100 if total else np.nan for d, total in zip(distributions, n, strict=True)]
             for face, value in (("verde", 3), ("giallo", 2), ("rosso", 1))}
    faces = (summary["tipo"] == "faccine").to_numpy()
    return summary.assign(
        media=media,
        sd=sd,
        mediana=[_median(d) if d else np.nan for d in distributions],
        quota_soddisfatti=quota,
        ic95_inf=np.where(is_nps, np.nan, low * 100),
        ic95_sup=np.where(is_nps, np.nan, high * 100),
        media_ic95_inf=media - t_half,
        media_ic95_sup=media + t_half,
        quota_verde=np.where(faces, share["verde"], np.nan),
        quota_giallo=np.where(faces, share["giallo"], np.nan),
        quota_rosso=np.where(faces, share["rosso"], np.nan),
        promotori_pct=np.where(is_nps, summary["promotori"] / n * 100, np.nan),
        passivi_pct=np.where(is_nps, (n - summary["promotori"] - summary["detrattori"]) / n * 100, np.nan),
        detrattori_pct=np.where(is_nps, summary["detrattori"] / n * 100, np.nan),
        nps=np.where(is_nps, quota, np.nan),
    )


FIGURE_COLUMNS = ["media", "sd", "mediana", "quota_soddisfatti", "ic95_inf", "ic95_sup", "media_ic95_inf",
                  "media_ic95_sup", "quota_verde", "quota_giallo", "quota_rosso", "promotori_pct", "passivi_pct",
                  "detrattori_pct", "nps"]


def question_stats(counts: pd.DataFrame, questions: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    return figures(summarise(counts, questions, extra))


def option_shares(option_counts: pd.DataFrame, respondents: pd.DataFrame, questions: pd.DataFrame,
                  options: pd.DataFrame) -> pd.DataFrame:
    """How many chose each option (e.g. the reasons after a red face) and the share of respondents."""
    if option_counts.empty:
        return pd.DataFrame(columns=[*GROUP_KEYS, "opzione", "testo_opzione", "n", "rispondenti", "quota"])
    labelled = option_counts.merge(options.rename(columns={"testo_it": "testo_opzione"}),
                                   on=["domanda_id", "opzione"], how="left")
    labelled = labelled.merge(questions, on="domanda_id")
    totals = respondents.merge(questions, on="domanda_id").groupby(GROUP_KEYS, dropna=False)["n"].sum() \
        .rename("rispondenti").reset_index()
    keys = [*GROUP_KEYS, "opzione"]
    chosen = labelled.groupby(keys, dropna=False).agg(n=("n", "sum"), testo_opzione=("testo_opzione", "last"),
                                                     posizione=("posizione_x", "min")).reset_index()
    chosen = chosen.merge(totals, on=GROUP_KEYS, how="left")
    chosen["quota"] = chosen["n"] / chosen["rispondenti"] * 100
    return chosen.sort_values([*GROUP_KEYS, "posizione"]).drop(columns="posizione").reset_index(drop=True)
