"""The analysis engine against independent computations (by hand, numpy and scipy)."""

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from sqlalchemy import select

from analysis.engine import (
    Period,
    quadrants,
    question_statistics,
    service_table,
    standards_results,
    trend,
    two_proportion_test,
)
from analysis.questions import question_stats
from analysis.services import margin_of_error, sample_size
from survey_app.catalogue import load_catalogue
from survey_app.demo.seed import seed_responses
from survey_app.models import Compilazione, Domanda, Risposta

from .helpers import add_answers
from .test_indicators import dataset  # noqa: F401  (fixture)

Y2025 = Period.year(2025)
D3 = [5, 4, 4, 3, 2, 1, 5, 4]


def cell(frame, slug, code, **extra):
    rows = frame[(frame["slug"] == slug) & (frame["codice"] == code)]
    for key, value in extra.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_question_statistics_match_numpy_and_scipy(dataset):  # noqa: F811
    stats = question_statistics(dataset.connection(), Y2025)
    d3 = cell(stats, "anagrafe", "D3", questionario="breve")
    values = np.array(D3)
    assert d3["n"] == 8
    assert d3["media"] == pytest.approx(values.mean())
    assert d3["sd"] == pytest.approx(values.std(ddof=1))
    assert d3["mediana"] == np.median(values) == 4.0
    assert d3["distribuzione"] == {1: 1, 2: 1, 3: 1, 4: 3, 5: 2}
    ci = sps.ttest_1samp(values, 0).confidence_interval(0.95)
    assert (d3["media_ic95_inf"], d3["media_ic95_sup"]) == pytest.approx((ci.low, ci.high))
    wilson = sps.binomtest(5, 8).proportion_ci(method="wilson")
    assert (d3["ic95_inf"], d3["ic95_sup"]) == pytest.approx((wilson.low * 100, wilson.high * 100))

    faces = cell(stats, "vigilanza", "D1")  # 3,3,3,3,2,1
    assert (faces["quota_verde"], faces["quota_giallo"], faces["quota_rosso"]) == pytest.approx(
        (400 / 6, 100 / 6, 100 / 6))

    nps = cell(stats, "anagrafe", "D4")  # 10,9,8,7,6,0,10
    assert (nps["promotori_pct"], nps["passivi_pct"], nps["detrattori_pct"]) == pytest.approx(
        (300 / 7, 200 / 7, 200 / 7))
    assert nps["nps"] == pytest.approx(100 / 7)

    small = cell(stats, "anagrafe", "D1", questionario="breve")  # n = 4: suppressed
    assert small["soppresso"] and np.isnan(small["media"])


def test_service_table_by_hand(dataset):  # noqa: F811
    table = service_table(dataset.connection(), Y2025).set_index("servizio_codice")
    anagrafe = table.loc["anagrafe"]
    assert anagrafe["domanda_complessiva"] == "D3"  # the one required rated item
    assert anagrafe["compilazioni"] == 13  # 8 own + 5 at the kiosk
    assert (anagrafe["n"], anagrafe["quota_soddisfatti"], anagrafe["media"]) == (8, 62.5, 3.5)
    # ICS over the attribute items big enough to publish: only D2 (mean 2.6 on 1–4) -> (2.6-1)/3*100
    assert anagrafe["ics"] == pytest.approx(160 / 3)
    expected_moe = 1.96 * np.sqrt(0.625 * 0.375 / 8) * np.sqrt((5000 - 8) / (5000 - 1)) * 100
    assert anagrafe["margine_errore"] == pytest.approx(expected_moe, rel=1e-4)
    assert anagrafe["campione_necessario"] == 690  # 5000·1.96²·.1875 / (4999·.03² + 1.96²·.1875) = 690.02
    assert table.loc["vigilanza", "ics"] == pytest.approx((4 * 100 + 50 + 0) / 6)  # faces rescaled 1–3


def test_sample_size_planner_and_margin():
    assert sample_size(70_000, p=0.25, margin=0.03, z=1.96) == 791
    assert sample_size(None, p=0.5, margin=0.05) == 384  # 1.96²·.25/.0025 = 384.16
    assert margin_of_error(0.5, 100, None, z=1.96) == pytest.approx(0.098)
    assert margin_of_error(0.5, 100, 100) == 0  # the whole population asked


def test_standards_results_include_non_valutabile(dataset):  # noqa: F811
    results = standards_results(dataset.connection(), Y2025, "anagrafe")
    by_key = {(r.domanda_codice, r.indicatore, r.soglia): r.esito for r in results.itertuples()}
    assert by_key[("D3", "media", 4.0)] == "non raggiunto"
    assert by_key[("D3", "quota_soddisfatti", 80.0)] == "non raggiunto"
    assert by_key[("D2", "quota_soddisfatti", 60.0)] == "raggiunto"
    assert by_key[("D1", "quota_soddisfatti", 60.0)] == "non valutabile"


@pytest.fixture
def channels(catalogue):
    db = catalogue
    for i in range(10):
        add_answers(db, "tributi", datetime(2025, 2, 1 + i, 10), {"D3": 5 if i < 8 else 2}, canale="web")
    for v in (1, 2, 4):
        add_answers(db, "tributi", datetime(2025, 3, 1, 10), {"D3": v}, canale="qr")
    for i in range(20):
        add_answers(db, "tributi", datetime(2025, 4, 1, 10), {"D3": 4 if i < 12 else 3}, canale="email")
    for i in range(30):
        add_answers(db, "tributi", datetime(2024, 4, 1, 10), {"D3": 4 if i < 9 else 2}, canale="web")
    return db


def test_breakdown_by_channel_with_secondary_suppression(channels):
    stats = question_statistics(channels.connection(), Y2025, "tributi", by="canale")
    d3 = stats[stats["codice"] == "D3"].set_index("gruppo")
    assert d3.loc["qr", "soppresso"]  # n = 3
    assert d3.loc["web", "soppresso"]  # the smallest other cell, else qr = total - web - email
    assert not d3.loc["email", "soppresso"] and d3.loc["email", "quota_soddisfatti"] == 60.0
    assert d3.loc["email", "n"] == 20 and np.isnan(d3.loc["web", "media"])


def test_breakdown_by_provenance_and_comune(channels):
    stats = question_statistics(channels.connection(), Y2025, "tributi", by="provenienza")
    assert set(stats["gruppo"]) == {"cittadino"}
    comuni = question_statistics(channels.connection(), Y2025, "tributi", by="comune")
    assert set(comuni["gruppo"]) == {"Comune di Prova"}


def test_trend_against_previous_year_matches_chi_square(channels):
    result = trend(channels.connection(), Y2025, "tributi")
    row = result[result["codice"] == "D3"].iloc[0]
    # 2025: 8 + 1 + 12 = 21 satisfied of 33; 2024: 9 of 30
    assert (row["n"], row["n_prec"]) == (33, 30)
    assert row["quota_soddisfatti"] == pytest.approx(2100 / 33)
    assert row["quota_soddisfatti_prec"] == pytest.approx(30.0)
    chi2, p, _, _ = sps.chi2_contingency([[21, 12], [9, 21]], correction=False)
    assert row["z"] ** 2 == pytest.approx(chi2)
    assert row["p_value"] == pytest.approx(p)
    assert row["significativo"] and row["periodo_prec"] == "2024"


def test_two_proportion_degenerate():
    z, p = two_proportion_test(5, 5, 3, 3)
    assert np.isnan(z) and p == 1.0
    assert np.isnan(two_proportion_test(1, 0, 1, 2)[0])


def test_small_samples_get_fishers_exact_test_and_large_ones_the_z_test():
    from scipy.stats import fisher_exact, norm

    # 0 of 5 against 54 of 128: under 5 expected satisfied in the first year, so no normal approximation.
    z, p = two_proportion_test(0, 5, 54, 128)
    assert np.isnan(z) and p == pytest.approx(fisher_exact([[0, 5], [54, 74]]).pvalue)
    # 60 of 100 against 45 of 100: the pooled z-test, written out here.
    pooled = 105 / 200
    expected = (0.60 - 0.45) / (pooled * (1 - pooled) * (2 / 100)) ** 0.5
    z, p = two_proportion_test(60, 100, 45, 100)
    assert z == pytest.approx(expected) and p == pytest.approx(2 * norm.sf(expected))


def test_quadrants_match_an_independent_computation(db):
    load_catalogue(db, Path(__file__).resolve().parent.parent / "instances" / "demo" / "catalogue")
    seed_responses(db, 1500, seed=11, end=datetime(2025, 12, 31).date())
    slug = "anagrafe-stato-civile"
    result = quadrants(db.connection(), Y2025, slug).set_index("codice")
    rows = db.execute(
        select(Domanda.codice, Risposta.valore, Risposta.importanza)
        .join(Risposta.domanda).join(Risposta.compilazione)
        .where(Compilazione.servizio.has(slug=slug), Compilazione.data_ora >= datetime(2025, 1, 1),
               Compilazione.data_ora < datetime(2026, 1, 1), Domanda.importanza.is_(True))).all()
    raw = pd.DataFrame(rows, columns=["codice", "valore", "importanza"])
    means = raw.groupby("codice").agg(valore=("valore", "mean"), importanza=("importanza", "mean"))
    assert set(result.index) == set(means.index) and len(means) == 8
    for code, item in means.iterrows():
        assert result.loc[code, "importanza_media"] == pytest.approx(item["importanza"])
        assert result.loc[code, "media"] == pytest.approx(item["valore"])
        high_imp = item["importanza"] >= means["importanza"].mean()
        high_sat = item["valore"] >= means["valore"].mean()
        assert result.loc[code, "priorita"] == (high_imp and not high_sat)


distributions = st.dictionaries(st.integers(min_value=1, max_value=5), st.integers(min_value=1, max_value=40),
                                min_size=1, max_size=5)


def _frames(dist):
    counts = pd.DataFrame({"servizio_id": 1, "domanda_id": 1, "valore": list(dist), "n": list(dist.values())})
    questions = pd.DataFrame({"domanda_id": [1], "codice": ["D1"], "tipo": ["scala"], "scala_min": [1],
                              "scala_max": [5], "questionario": ["q"]})
    return counts, questions


@settings(max_examples=200, deadline=None)
@given(distributions)
def test_properties_of_question_figures(dist):
    counts, questions = _frames(dist)
    row = question_stats(counts, questions).iloc[0]
    assert 0 <= row["quota_soddisfatti"] <= 100
    assert row["ic95_inf"] - 1e-9 <= row["quota_soddisfatti"] <= row["ic95_sup"] + 1e-9
    if row["n"] > 1:
        assert row["media_ic95_inf"] - 1e-9 <= row["media"] <= row["media_ic95_sup"] + 1e-9
    raw = np.repeat(list(dist), list(dist.values()))
    assert row["media"] == pytest.approx(raw.mean())
    assert row["mediana"] == np.median(raw)


@settings(max_examples=100, deadline=None)
@given(distributions, st.randoms(use_true_random=False))
def test_question_figures_do_not_depend_on_row_order(dist, rnd):
    counts, questions = _frames(dist)
    shuffled = counts.sample(frac=1, random_state=rnd.randint(0, 9999))
    a = question_stats(counts, questions).iloc[0]
    b = question_stats(shuffled, questions).iloc[0]
    for name in ("n", "media", "sd", "mediana", "quota_soddisfatti", "ic95_inf", "ic95_sup"):
        assert a[name] == pytest.approx(b[name], nan_ok=True)


def test_reasons_after_red_face(catalogue):
    db = catalogue
    reasons = [["tempo-attesa"], ["tempo-attesa", "risposta-negativa"], ["tempo-attesa"], ["risposta-negativa"],
               ["tempo-attesa"], []]
    for chosen in reasons:
        add_answers(db, "vigilanza", datetime(2025, 5, 5, 9), {"D1": 1, **({"D2": chosen} if chosen else {})})
    from analysis.engine import option_table

    table = option_table(db.connection(), Y2025, "vigilanza").set_index("opzione")
    assert table.loc["tempo-attesa", "n"] == 4 and table.loc["risposta-negativa", "n"] == 2
    assert table.loc["tempo-attesa", "rispondenti"] == 5  # five people gave at least one reason
    assert table.loc["tempo-attesa", "quota"] == pytest.approx(80.0)
    assert table.loc["tempo-attesa", "testo_opzione"] == "tempo di attesa"
    few = option_table(db.connection(), Y2025, "vigilanza", threshold=6)
    assert few["soppresso"].all() and few["n"].isna().all()


@pytest.mark.parametrize("by", ["canale", "sede", "comune", "lingua", "provenienza"])
def test_every_breakdown_adds_up_to_the_total(db, by):
    load_catalogue(db, Path(__file__).resolve().parent.parent / "instances" / "demo" / "catalogue")
    seed_responses(db, 800, seed=13, end=datetime(2025, 12, 31).date())
    period = Y2025
    total = question_statistics(db.connection(), period).set_index(["servizio_id", "questionario", "codice"])["n"]
    broken = question_statistics(db.connection(), period, by=by)
    sums = broken.groupby(["servizio_id", "questionario", "codice"])["n"].sum()
    assert sums.sort_index().to_dict() == total.sort_index().to_dict()
    assert broken["gruppo"].notna().all()
    # no group with figures shown has fewer than 5 answers
    assert (broken.loc[~broken["soppresso"], "n"] >= 5).all()
