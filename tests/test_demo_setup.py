"""`flask demo setup` (what `make run` calls on every start): catalogue, answers, actions, a publication, once."""

import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from survey_app.models import AzioneMiglioramento, Compilazione, Pubblicazione, User

DEMO = Path(__file__).resolve().parent.parent / "instances" / "demo" / "catalogue"


def test_demo_setup_publishes_last_year_once(app, runner, db):
    shutil.copytree(DEMO, Path(app.instance_path) / "catalogue")
    first = runner.invoke(args=["demo", "setup", "--responses", "400"])
    assert first.exit_code == 0, first.output
    last_year = date.today().year - 1
    assert f"Pubblicata la versione 1 dell'anno {last_year}" in first.output
    record = db.scalar(select(Pubblicazione))
    assert (record.anno, record.versione, record.pubblicata_da) == (last_year, 1, "dimostrazione")
    actions = db.scalars(select(AzioneMiglioramento)).all()
    assert len(actions) == 3 and all(a.in_year(last_year) for a in actions)
    assert any(a["titolo"] == "Appuntamenti prenotabili online" for a in record.dati["azioni"])
    second = runner.invoke(args=["demo", "setup", "--responses", "400"])
    assert second.exit_code == 0 and "Pubblicata" not in second.output
    assert db.scalar(select(func.count()).select_from(Pubblicazione)) == 1
    assert db.scalar(select(func.count()).select_from(AzioneMiglioramento)) == 3
    assert db.scalar(select(func.count()).select_from(Compilazione)) == 400
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_a_comunes_own_instance_gets_its_catalogue_and_no_demonstration_data(app, runner, db):
    """`make run` with SURVEY_INSTANCE=valfiorita (the shell deploy.md sets up) wrote 3,000 synthetic answers into
    the Comune's instance, published last year with a demo action and made demo@example.org an admin; in production
    `flask demo setup` did the same."""
    shutil.copytree(DEMO, Path(app.instance_path) / "catalogue")
    app.config["SURVEY_INSTANCE"] = "valfiorita"
    result = runner.invoke(args=["demo", "setup", "--responses", "50"])
    assert result.exit_code == 0, result.output
    assert "Catalogo caricato." in result.output and "Istanza «valfiorita»: nessun dato dimostrativo" in result.output
    assert runner.invoke(args=["demo", "seed", "--responses", "5"]).exit_code == 1
    app.config["SURVEY_INSTANCE"] = "demo"
    app.config["SURVEY_ENV"] = "production"
    assert "Nessun dato dimostrativo in produzione" in runner.invoke(args=["demo", "setup"]).output
    seeded = runner.invoke(args=["demo", "seed", "--responses", "5"])
    assert seeded.exit_code == 1 and "in produzione" in seeded.output
    for model in (Compilazione, Pubblicazione, AzioneMiglioramento, User):
        assert db.scalar(select(func.count()).select_from(model)) == 0, model
