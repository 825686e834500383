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
