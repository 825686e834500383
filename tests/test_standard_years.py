"""A carta dei servizi changes: each standard has the years it applies to, and a past year stays judged by its own.

Anagrafe (small catalogue) has "% soddisfatti ≥ 80 on D3" for every year. Its D3 answers are 5 of 8 satisfied
(62.5%) in 2025 and in 2026. The Comune lowers the target to 60 from 2026: 2025 stays "non raggiunto" against 80,
2026 is "raggiunto" against 60.
"""

from __future__ import annotations

from datetime import datetime
from html import unescape

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from analysis.engine import Period, standards_results
from survey_app.catalogue import CatalogueError, load_catalogue
from survey_app.catalogue.export import catalogue_data
from survey_app.models import AuditLog, Pubblicazione, Servizio, Standard

from .conftest import SMALL_CATALOGUE
from .helpers import add_answers, csrf_token, login

SERVICE = "/staff/catalogo/servizi/anagrafe"
D3 = [5, 5, 5, 5, 5, 3, 3, 3]  # 5 of 8 above the midpoint: 62.5%; mean 4.25, above its "media ≥ 4"


@pytest.fixture
def answered(catalogue):
    for year in (2025, 2026):
        for i, d3 in enumerate(D3):
            add_answers(catalogue, "anagrafe", datetime(year, 2 + i, 10, 9), {"D3": d3})
    return catalogue


def new_carta(tmp_path, old: dict | None = None, new: dict | None = None):
    """The small catalogue with anagrafe's D3 share target as given (``old`` replaces it, ``new`` is added)."""
    data = yaml.safe_load(SMALL_CATALOGUE.read_text(encoding="utf-8"))
    service = next(s for e in data["enti"] for u in e.get("uffici", []) for s in u["servizi"] if s["slug"] == "anagrafe")
    standards = [s for s in service["standard"] if (s["indicatore"], s.get("domanda")) != ("quota_soddisfatti", "D3")]
    service["standard"] = standards + [s for s in (old, new) if s]
    path = tmp_path / "carta.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def d3_share(db, year: int) -> tuple[float, str]:
    results = standards_results(db.connection(), Period.year(year))
    row = results[(results["servizio_codice"] == "anagrafe") & (results["domanda_codice"] == "D3")
                  & (results["indicatore"] == "quota_soddisfatti")]
    assert len(row) == 1, row
    return float(row["soglia"].iloc[0]), row["esito"].iloc[0]


def test_a_new_target_applies_from_its_year_and_the_past_keeps_its_own(answered, runner, tmp_path):
    publish = ["export", "transparency", "--year", "2025", "--out", str(tmp_path / "v")]
    assert runner.invoke(args=publish).exit_code == 0
    assert d3_share(answered, 2025) == (80.0, "non raggiunto")
    load_catalogue(answered, new_carta(tmp_path, {"indicatore": "quota_soddisfatti", "soglia": 80, "domanda": "D3",
                                                  "al": 2025},
                                       {"indicatore": "quota_soddisfatti", "soglia": 60, "domanda": "D3", "dal": 2026}))
    assert d3_share(answered, 2025) == (80.0, "non raggiunto") and d3_share(answered, 2026) == (60.0, "raggiunto")
    # The published table of each year: its D3 row names that year's target and is judged by it.
    for year, standard, esito in ((2025, "quota_soddisfatti ≥ 80", "non raggiunto"),
                                  (2026, "quota_soddisfatti ≥ 60", "raggiunto")):
        out = runner.invoke(args=["report", "indicators", "--year", str(year), "--format", "csv"]).output
        table = pd.read_csv(pd.io.common.StringIO(out), keep_default_na=False)
        row = table[(table["servizio_codice"] == "anagrafe") & (table["domanda_codice"] == "D3")].iloc[0]
        assert (row["quota_soddisfatti"], row["esito_standard"]) == (62.5, esito) and standard in row["standard"]
    # 2025 as published stays true: publishing it again makes no new version, and the report says it matches.
    again = runner.invoke(args=publish[:-1] + [str(tmp_path / "v2")])
    assert again.exit_code == 0 and "Nessuna modifica rispetto alla versione 1" in again.output, again.output
    assert answered.scalar(select(Pubblicazione.versione).order_by(Pubblicazione.versione.desc())) == 1
    report = runner.invoke(args=["export", "relazione", "--year", "2025", "--out", str(tmp_path / "r.xlsx")])
    assert report.exit_code == 0
    rows = dict(list(load_workbook(tmp_path / "r.xlsx")["Nota metodologica"].values)[1:])
    assert rows["Pubblicazione in Amministrazione trasparente"].startswith("Le cifre coincidono con la versione 1")

def test_the_catalogue_refuses_two_targets_for_one_year_and_exports_the_years(answered, tmp_path):
    # The stored "≥ 80 for every year" and a file's "≥ 60 from 2026" would both judge 2026.
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(answered, new_carta(tmp_path, None, {"indicatore": "quota_soddisfatti", "soglia": 60,
                                                            "domanda": "D3", "dal": 2026}))
    message = "\n".join(refused.value.messages)
    assert "standard[3]: negli stessi anni vale già lo standard salvato quota_soddisfatti, soglia 80, domanda D3 " \
           "(per ogni anno)" in message, message
    answered.rollback()
    assert len(answered.scalars(select(Standard).filter_by(domanda_codice="D3", indicatore="quota_soddisfatti"))
               .all()) == 1
    load_catalogue(answered, new_carta(tmp_path, {"indicatore": "quota_soddisfatti", "soglia": 80, "domanda": "D3",
                                                  "al": 2025},
                                       {"indicatore": "quota_soddisfatti", "soglia": 60, "domanda": "D3", "dal": 2026}))
    service = next(s for e in catalogue_data(answered)["enti"] for u in e.get("uffici", []) for s in u["servizi"]
                   if s["slug"] == "anagrafe")
    shares = [s for s in service["standard"] if s["indicatore"] == "quota_soddisfatti" and s.get("domanda") == "D3"]
    assert shares == [{"indicatore": "quota_soddisfatti", "soglia": 80, "domanda": "D3", "al": 2025},
                      {"indicatore": "quota_soddisfatti", "soglia": 60, "domanda": "D3", "dal": 2026}]
    # Loading the export again changes nothing: the years are part of each standard's key.
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(catalogue_data(answered), allow_unicode=True), encoding="utf-8")
    report = load_catalogue(answered, path)
    assert not report.created.get("standard") and not report.updated.get("standard")


@pytest.fixture
def admin(answered, client, runner):
    login(client, runner, "admin@example.org", "--role", "admin")
    return client


def test_an_admin_closes_the_old_target_and_adds_the_new_one_on_the_page(admin, answered):
    old = answered.scalar(select(Standard).filter_by(indicatore="quota_soddisfatti", domanda_codice="D3"))
    token = csrf_token(admin.get(SERVICE).get_data(as_text=True))
    new = {"csrf_token": token, "indicatore": "quota_soddisfatti", "soglia": "60", "domanda": "D3",
           "descrizione": "", "dal": "2026", "al": ""}
    clash = admin.post(f"{SERVICE}/standard", data=new)
    assert clash.status_code == 400
    assert "Dall'anno: negli stessi anni vale già lo standard «% soddisfatti ≥ 80 (D3)» (tutti gli anni)" in \
        unescape(clash.get_data(as_text=True))
    wrong_way = admin.post(f"{SERVICE}/standard", data={**new, "domanda": "D1", "al": "2024"})
    assert "Fino all'anno: viene prima di «Dall'anno» (2026)." in unescape(wrong_way.get_data(as_text=True))
    assert 'id="al-errore"' in wrong_way.get_data(as_text=True)
    not_a_year = admin.post(f"{SERVICE}/standard", data={**new, "domanda": "D1", "dal": "2025/26"})
    assert "Dall'anno: indicare un anno di quattro cifre" in unescape(not_a_year.get_data(as_text=True))
    edit = f"{SERVICE}/standard/{old.id}"
    closed = admin.post(edit, data={**new, "soglia": "80", "dal": "", "al": "2025",
                                    "csrf_token": csrf_token(admin.get(edit).get_data(as_text=True))})
    assert closed.status_code == 302
    assert admin.post(f"{SERVICE}/standard", data=new).status_code == 302
    answered.expire_all()
    assert d3_share(answered, 2025) == (80.0, "non raggiunto") and d3_share(answered, 2026) == (60.0, "raggiunto")
    page = unescape(admin.get(SERVICE).get_data(as_text=True))
    assert "<td>fino al 2025</td>" in page and "<td>dal 2026</td>" in page
    audit = answered.scalar(select(AuditLog).filter_by(azione="standard.crea"))
    assert audit.oggetto == "standard anagrafe/quota_soddisfatti/D3 (dal 2026)" and audit.dettagli["dopo"]["dal"] == 2026
    # The service's chart of the year draws the year's own target.
    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    assert [float(s.soglia) for s in servizio.standard if s.applies_to(2025) and s.domanda_codice == "D3"
            and s.indicatore == "quota_soddisfatti"] == [80.0]


def test_the_trend_chart_draws_each_year_against_its_own_target(answered, tmp_path):
    from survey_app.staff.service_page import trend_frame

    load_catalogue(answered, new_carta(tmp_path, {"indicatore": "quota_soddisfatti", "soglia": 80, "domanda": "D3",
                                                  "al": 2025},
                                       {"indicatore": "quota_soddisfatti", "soglia": 60, "domanda": "D3", "dal": 2026}))
    servizio = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    frame, overall = trend_frame(answered.connection(), servizio, Period.year(2026), 5)
    targets = dict(zip(frame["periodo"], frame["standard_quota"], strict=True))
    assert overall == "D3" and (targets["2025"], targets["2026"]) == (80.0, 60.0)


def test_a_published_year_keeps_its_target_on_the_page(admin, answered, runner, tmp_path):
    """2025 is published with "≥ 80 on D3": changing that target in place, moving it to later years, deleting it,
    or adding another for 2025 would change 2025's published verdict. Each is refused, naming the way to do it."""
    assert runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path)]).exit_code == 0
    old = answered.scalar(select(Standard).filter_by(indicatore="quota_soddisfatti", domanda_codice="D3"))
    edit = f"{SERVICE}/standard/{old.id}"
    base = {"csrf_token": csrf_token(admin.get(edit).get_data(as_text=True)), "indicatore": "quota_soddisfatti",
            "soglia": "80", "domanda": "D3", "descrizione": "", "dal": "", "al": ""}
    for change, field in (({"soglia": "60"}, "Soglia"), ({"dal": "2026"}, "Dall'anno")):
        refused = admin.post(edit, data={**base, **change})
        text = unescape(refused.get_data(as_text=True))
        assert refused.status_code == 400 and f"{field}: il 2025 è già pubblicato con lo standard di allora" in text
        assert "chiudere questo standard con «Fino all'anno» 2025" in text, text
    added = admin.post(f"{SERVICE}/standard", data={**base, "indicatore": "media", "soglia": "4,5", "domanda": "D1"})
    assert "Dall'anno: il 2025 è già pubblicato" in unescape(added.get_data(as_text=True))
    deleted = admin.post(f"{edit}/elimina", data={"csrf_token": base["csrf_token"], "conferma": "1"}, follow_redirects=True)
    assert "Lo standard non è stato eliminato: il 2025 è già pubblicato" in unescape(deleted.get_data(as_text=True))
    answered.expire_all()
    assert float(answered.get(Standard, old.id).soglia) == 80.0
    # What keeps 2025 as published is accepted: its description, closing it at 2025, a new target from 2026.
    assert admin.post(edit, data={**base, "descrizione": "Carta 2023"}).status_code == 302
    assert admin.post(edit, data={**base, "al": "2025"}).status_code == 302
    assert admin.post(f"{SERVICE}/standard", data={**base, "soglia": "60", "dal": "2026"}).status_code == 302


def test_a_published_year_keeps_its_target_through_the_yaml(answered, runner, tmp_path):
    """The same rule as on the page, for `flask catalogue load`: 2025 is published with "≥ 80 on D3", so a file
    that edits that target in place, ends it before 2025 or adds a target reaching back into 2025 is refused whole,
    naming the entry, its field and the way to do it; the new carta written as docs/catalogue.md says loads."""
    assert runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path)]).exit_code == 0
    share = {"indicatore": "quota_soddisfatti", "domanda": "D3"}
    entry = "servizi[1] «anagrafe» › standard[3]"
    for old, new, error in (
            ({**share, "soglia": 60}, None,
             f"{entry} › campo 'soglia': il 2025 è già pubblicato con lo standard salvato quota_soddisfatti, soglia 80, "
             "domanda D3 (per ogni anno): l'esito cambierebbe. Per un nuovo obiettivo: ripetere questo standard "
             "com'è, chiuso con 'al: 2025', e aggiungerne uno nuovo con 'dal: 2026'"),
            ({**share, "soglia": 80, "al": 2024}, None, f"{entry} › campo 'al': il 2025 è già pubblicato"),
            ({**share, "soglia": 80}, {"indicatore": "media", "soglia": 4.5, "domanda": "D1", "dal": 2025},
             "servizi[1] «anagrafe» › standard[4] › campo 'dal': il 2025 è già pubblicato senza questo standard: "
             "l'esito cambierebbe. Un nuovo obiettivo vale da quest'anno: 'dal: 2026'"),
            # Two entries refused in one file: both named (the second one's check broke on the first's message).
            ({**share, "soglia": 60}, {"indicatore": "media", "soglia": 4.5, "domanda": "D1"},
             "standard[4] › campo 'dal': il 2025 è già pubblicato senza questo standard")):
        with pytest.raises(CatalogueError) as refused:
            load_catalogue(answered, new_carta(tmp_path, old, new))
        assert error in "\n".join(refused.value.messages), refused.value.messages
        answered.rollback()
        assert d3_share(answered, 2025) == (80.0, "non raggiunto")
    service = answered.scalar(select(Servizio).filter_by(slug="anagrafe"))
    assert [(s.indicatore, s.domanda_codice) for s in service.standard] == [
        ("quota_soddisfatti", "D3"), ("media", "D3"), ("quota_soddisfatti", "")]
    # The file as it was, or with only the description changed, loads; so does the new carta from 2026.
    load_catalogue(answered, new_carta(tmp_path, {**share, "soglia": 80, "descrizione": "Carta 2023"}))
    load_catalogue(answered, new_carta(tmp_path, {**share, "soglia": 80, "al": 2025},
                                       {**share, "soglia": 60, "dal": 2026}))
    assert d3_share(answered, 2025) == (80.0, "non raggiunto") and d3_share(answered, 2026) == (60.0, "raggiunto")


def test_several_published_years_are_named_in_italian():
    """"il 2024, 2025 è già pubblicato" read wrong: each year with its article, and the verb in the plural."""
    from survey_app.catalogue.schema import already_published

    assert already_published([2025]) == "il 2025 è già pubblicato"
    assert already_published([2024, 2025]) == "il 2024 e il 2025 sono già pubblicati"
    assert already_published([2023, 2024, 2025]) == "il 2023, il 2024 e il 2025 sono già pubblicati"
