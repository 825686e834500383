"""The schema exists only through migrations, and migrations agree with the models."""

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from survey_app.extensions import db as _db
from survey_app.models import Base


def test_models_and_migrations_agree(app):
    with app.app_context(), _db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_empty_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        tables = set(inspect(_db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_cli_upgrade_from_empty(tmp_path):
    """`flask db upgrade` on a brand-new SQLite file, as `make run` does."""
    env = {"SURVEY_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "survey_app", "db", "upgrade"],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "survey.sqlite3").exists()


def test_analysis_never_imports_flask():
    code = "import sys, analysis, analysis.indicators, analysis.publish; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_analysis_tables_match_the_models():
    from analysis import tables

    for table in tables.ALL:
        model_table = Base.metadata.tables[table.name]
        missing = {c.name for c in table.columns} - set(model_table.columns.keys())
        assert not missing, f"{table.name}: {missing}"


def test_counts_migration_counts_the_answers_already_stored(app):
    """Upgrading an instance that has answers fills the daily counts exactly as a rebuild does."""
    from datetime import date

    from survey_app.catalogue import load_catalogue
    from survey_app.demo.seed import seed_responses

    from .conftest import SMALL_CATALOGUE
    from .test_summary import counts

    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        seed_responses(_db.session, 120, seed=9, end=date(2026, 5, 31))
        expected = counts(_db.session)
        _db.session.remove()
        downgrade(revision="0002")
        upgrade()
        assert counts(_db.session) == expected


def test_random_keys_migration_rekeys_the_stored_answers(app):
    """0010 gives the answers already stored random keys; their items and comment states follow them, and a
    downgrade gives sequential INTEGER keys back, with the same content."""
    from datetime import date

    from sqlalchemy import select

    from survey_app.catalogue import load_catalogue
    from survey_app.demo.seed import seed_responses
    from survey_app.models import CommentoStato, Compilazione, Risposta
    from survey_app.models.base import RANDOM_KEY_MIN

    from .conftest import SMALL_CATALOGUE

    def content(session):
        rows = session.execute(select(Compilazione.id, Compilazione.data_ora, Compilazione.canale, Risposta.domanda_id,
                                      Risposta.valore, Risposta.opzione, Risposta.testo, CommentoStato.stato)
                               .join(Risposta, Risposta.compilazione_id == Compilazione.id)
                               .outerjoin(CommentoStato, CommentoStato.risposta_id == Risposta.id)).all()
        by_key = {}
        for key, *rest in rows:
            by_key.setdefault(key, []).append(tuple(str(v) for v in rest))
        return sorted(sorted(items) for items in by_key.values()), sorted(by_key)

    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        seed_responses(_db.session, 60, seed=4, end=date(2026, 5, 31))
        commented = _db.session.scalars(select(Risposta.id).where(Risposta.testo.is_not(None))).all()[:3]
        assert commented, "the seed wrote no comment"
        _db.session.add_all([CommentoStato(risposta_id=key, stato="letto") for key in commented])
        _db.session.commit()
        expected, keys = content(_db.session)
        assert min(keys) >= RANDOM_KEY_MIN
        _db.session.remove()

        downgrade(revision="0009")
        old, old_keys = content(_db.session)
        assert old == expected and old_keys == list(range(1, len(keys) + 1))
        _db.session.remove()

        upgrade()
        new, new_keys = content(_db.session)
        assert new == expected and min(new_keys) >= RANDOM_KEY_MIN and not set(new_keys) & set(keys)
        assert _db.session.query(CommentoStato).count() == len(commented)


def test_random_count_keys_migration_rekeys_the_stored_counts(app):
    """0011 gives the daily counts already stored random keys, with the same content; a downgrade gives sequential
    keys back."""
    from datetime import date

    from sqlalchemy import select

    from survey_app.catalogue import load_catalogue
    from survey_app.demo.seed import seed_responses
    from survey_app.models import RiepilogoRisposte
    from survey_app.models.base import RANDOM_KEY_MIN

    from .conftest import SMALL_CATALOGUE
    from .test_summary import counts

    def keys(session):
        return sorted(session.scalars(select(RiepilogoRisposte.id)))

    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        seed_responses(_db.session, 40, seed=3, end=date(2026, 5, 31))
        expected, random_keys = counts(_db.session), keys(_db.session)
        _db.session.remove()

        downgrade(revision="0010")
        assert counts(_db.session) == expected and keys(_db.session) == list(range(1, len(random_keys) + 1))
        _db.session.remove()

        upgrade()
        assert counts(_db.session) == expected
        new_keys = keys(_db.session)
        assert len(new_keys) == len(random_keys) and min(new_keys) >= RANDOM_KEY_MIN
        assert not set(new_keys) & set(random_keys)
