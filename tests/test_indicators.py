"""`flask report indicators` on a small dataset whose figures were computed by hand (and by scipy)."""

import csv
import io
import json
from datetime import datetime

import pytest
from scipy.stats import binomtest

from analysis.indicators import QUESTION_COLUMNS, indicator_table

from .helpers import add_answers


@pytest.fixture
def dataset(catalogue):
    db = catalogue
    d3 = [5, 4, 4, 3, 2, 1, 5, 4]
    d2 = [3, 4, 2, 1, 3]
    d1 = [5, 4, 3, 2]
    d4 = [10, 9, 8, 7, 6, 0, 10]
    d5 = [1, 1, 0, 1, 1]
    for i, v3 in enumerate(d3):
        values = {"D3": v3}
        for code, series in (("D2", d2), ("D1", d1), ("D4", d4), ("D5", d5)):
            if i < len(series):
                values[code] = series[i]
        if i in (4, 5):
            values["D6"] = ["attesa"] if i == 4 else ["attesa", "informazioni"]
        when = datetime(2025, 12, 31, 23) if i == 0 else datetime(2025, 3 + i, 10, 9)
        add_answers(db, "anagrafe", when, values, non_so=("D1",) if i == 7 else ())
    for face in [3, 3, 2, 1, 3]:
        add_answers(db, "anagrafe", datetime(2025, 6, 2, 11), {"D1": face, **({"D2": ["tempo-attesa"]} if face == 1 else {})},
                    questionnaire="kiosk", canale="chiosco")
    for face in [3, 3, 3, 3, 2, 1]:
        add_answers(db, "vigilanza", datetime(2025, 7, 1, 8), {"D1": face})
    # outside 2025: must not count
    add_answers(db, "anagrafe", datetime(2026, 1, 1, 0), {"D3": 1, "D2": 1})
    add_answers(db, "anagrafe", datetime(2024, 12, 31, 23), {"D3": 1})
    return db


def rows_by_key(table):
    return {(r["servizio_codice"], r["domanda_codice"]): r for r in table.to_dict(orient="records")}


def test_a_figure_with_two_targets_says_which_one_it_missed(dataset):
    """D3's mean 3.5 meets "media ≥ 3" and its 62.5% misses "≥ 80": the published row said only "non raggiunto"
    beside both, as if the mean had missed its target too."""
    from sqlalchemy import update

    from survey_app.models import Standard

    dataset.execute(update(Standard).where(Standard.indicatore == "media", Standard.domanda_codice == "D3")
                    .values(soglia=3))
    dataset.commit()
    d3 = rows_by_key(indicator_table(dataset.connection(), 2025))[("anagrafe", "D3")]
    assert (d3["media"], d3["quota_soddisfatti"]) == (3.5, 62.5)
    assert d3["standard"] == "media ≥ 3.0: raggiunto; quota_soddisfatti ≥ 80: non raggiunto"
    assert d3["esito_standard"] == "non raggiunto"  # every target must be met
    d2 = rows_by_key(indicator_table(dataset.connection(), 2025))[("anagrafe", "D2")]
    assert d2["standard"] == "quota_soddisfatti ≥ 60"  # one target: its verdict is esito_standard's


def test_question_table_matches_hand_computation(dataset):
    table = indicator_table(dataset.connection(), 2025)
    assert list(table.columns) == QUESTION_COLUMNS
    rows = rows_by_key(table)

    d3 = rows[("anagrafe", "D3")]
    assert (d3["n"], d3["media"], d3["quota_soddisfatti"]) == (8, 3.5, 62.5)  # 28/8; 5 of 8 gave 4 or 5
    assert (d3["ic95_inf"], d3["ic95_sup"]) == (30.6, 86.3)
    assert (d3["ente"], d3["ufficio"], d3["servizio"], d3["anno"]) == (
        "Comune di Prova", "Servizi demografici", "Anagrafe", 2025)
    assert (d3["tipo"], d3["scala_min"], d3["scala_max"], d3["soppresso"]) == ("scala", 1, 5, False)
    # The D3 target overrides the generic 60; two targets on one figure each carry their verdict.
    assert d3["standard"] == "media ≥ 4.0: non raggiunto; quota_soddisfatti ≥ 80: non raggiunto"
    assert d3["esito_standard"] == "non raggiunto"

    d2 = rows[("anagrafe", "D2")]  # 1–4 scale: satisfied are 3 and 4
    assert (d2["n"], d2["media"], d2["quota_soddisfatti"]) == (5, 2.6, 60.0)
    assert (d2["standard"], d2["esito_standard"]) == ("quota_soddisfatti ≥ 60", "raggiunto")
    assert d2["dimensione"] == "tempestività"

    d1 = rows[("anagrafe", "D1")]  # 4 valid answers, one "non so" excluded: suppressed
    assert d1["n"] == 4 and d1["soppresso"]
    assert all(d1[c] != d1[c] for c in ("media", "quota_soddisfatti", "ic95_inf", "ic95_sup"))  # NaN
    assert d1["esito_standard"] == ""

    nps = rows[("anagrafe", "D4")]  # 3 promoters, 2 detractors of 7
    assert (nps["n"], nps["media"], nps["quota_soddisfatti"]) == (7, 7.14, 14.3)
    assert nps["ic95_inf"] != nps["ic95_inf"]  # no interval for NPS

    yes = rows[("anagrafe", "D5")]
    assert (yes["n"], yes["media"], yes["quota_soddisfatti"]) == (5, 0.8, 80.0)

    choice = rows[("anagrafe", "D6")]
    assert (choice["n"], choice["soppresso"]) == (2, True)

    kiosk = rows[("anagrafe", "faccine.D1")]  # the kiosk's faces, from another questionnaire
    assert (kiosk["n"], kiosk["quota_soddisfatti"], kiosk["media"]) == (5, 60.0, 2.4)

    faces = rows[("vigilanza", "D1")]
    assert (faces["n"], faces["quota_soddisfatti"]) == (6, 66.7)
    assert (faces["standard"], faces["esito_standard"]) == ("quota_soddisfatti ≥ 70", "non raggiunto")
    assert faces["ente"] == "Unione Test"


@pytest.mark.parametrize(("k", "n"), [(5, 8), (3, 5), (4, 6), (0, 7), (7, 7)])
def test_wilson_interval_matches_scipy(k, n):
    from analysis.stats import wilson_interval

    low, high = wilson_interval(k, n)
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


def test_year_boundaries(dataset):
    table = indicator_table(dataset.connection(), 2026)
    rows = rows_by_key(table)
    assert rows[("anagrafe", "D3")]["n"] == 1
    assert indicator_table(dataset.connection(), 2023).empty


def test_cli_csv(runner, dataset):
    result = runner.invoke(args=["report", "indicators", "--year", "2025", "--format", "csv"])
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.output))
    assert reader.fieldnames == QUESTION_COLUMNS
    rows = {(r["servizio_codice"], r["domanda_codice"]): r for r in reader}
    d3 = rows[("anagrafe", "D3")]
    assert (d3["n"], d3["media"], d3["quota_soddisfatti"], d3["ic95_inf"], d3["ic95_sup"]) == (
        "8", "3.50", "62.5", "30.6", "86.3")
    assert d3["soppresso"] == "false"
    assert rows[("anagrafe", "D1")]["media"] == "" and rows[("anagrafe", "D1")]["soppresso"] == "true"
    assert rows[("anagrafe", "D2")]["scala_max"] == "4"


def test_cli_json_and_service_filter(runner, dataset):
    result = runner.invoke(args=["report", "indicators", "--year", "2025", "--service", "vigilanza",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    records = payload["domande"]
    assert {r["servizio_codice"] for r in records} == {"vigilanza"}
    assert records[0]["quota_soddisfatti"] == 66.7 and records[0]["n"] == 6
    [service] = payload["servizi"]
    assert (service["servizio_codice"], service["domanda_complessiva"], service["n"]) == ("vigilanza", "D1", 6)
    assert service["quota_soddisfatti"] == pytest.approx(400 / 6)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cli_a_year_without_answers_says_so_and_one_nobody_means_is_refused(runner, dataset, fmt):
    result = runner.invoke(args=["report", "indicators", "--year", "2003", "--format", fmt])
    assert result.exit_code == 0
    assert "Attenzione: nessuna risposta nell'anno 2003: la tabella è vuota." in result.stderr
    if fmt == "csv":
        assert result.stdout.startswith("anno,ente,ufficio,servizio_codice,") and len(result.stdout.splitlines()) == 1
    else:
        assert json.loads(result.stdout)["domande"] == []
    for year in ("1999", "2999"):
        refused = runner.invoke(args=["report", "indicators", "--year", year])
        assert refused.exit_code == 2 and f"anno {year} fuori intervallo" in refused.output


def test_cli_unknown_service(runner, dataset):
    result = runner.invoke(args=["report", "indicators", "--year", "2025", "--service", "mensa"])
    assert result.exit_code == 2
    assert "servizio sconosciuto «mensa»" in result.output


def test_each_service_is_worded_as_its_own_respondents_read_it(catalogue, tmp_path):
    """One answer to a reworded D2 on anagrafe relabelled D2 on tributi, whose respondents had all read the old
    wording (an administrator's walk-through): the published row takes its service's newest answered wording."""
    import yaml
    from sqlalchemy import select

    from survey_app.catalogue import load_catalogue
    from survey_app.models import Questionario

    from .conftest import SMALL_CATALOGUE

    for slug in ("anagrafe", "tributi"):
        add_answers(catalogue, slug, datetime(2025, 3, 1, 10), {"D3": 4, "D2": 3})
    data = yaml.safe_load(SMALL_CATALOGUE.read_text(encoding="utf-8"))
    data["questionari"][0]["domande"][1]["testo"]["it"] = "Quanto ha atteso allo sportello?"
    del data["questionari"][0]["domande"][1]["dimensione"]  # version 2 gives D2 no dimension
    (tmp_path / "catalogo.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_catalogue(catalogue, tmp_path / "catalogo.yaml").new_versions == ["breve v2"]
    assert catalogue.scalar(select(Questionario).filter_by(codice="breve")).versione_corrente.numero == 2
    add_answers(catalogue, "anagrafe", datetime(2025, 9, 1, 10), {"D3": 5, "D2": 4})  # version 2
    rows = rows_by_key(indicator_table(catalogue.connection(), 2025))
    assert rows[("anagrafe", "D2")]["domanda"] == "Quanto ha atteso allo sportello?"
    assert rows[("tributi", "D2")]["domanda"] == "Tempi di attesa"  # tributi's respondents read only version 1
    assert (rows[("anagrafe", "D2")]["n"], rows[("tributi", "D2")]["n"]) == (2, 1)
    # Each row is its version as it is: version 2's D2 has no dimension (not version 1's, brought back).
    assert (rows[("anagrafe", "D2")]["dimensione"], rows[("tributi", "D2")]["dimensione"]) == ("", "tempestività")
