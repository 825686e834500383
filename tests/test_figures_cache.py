"""Staff figures are kept for FIGURES_CACHE_SECONDS, the page says since when, and a bulk change clears them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from survey_app import create_app
from survey_app.catalogue.loader import load_catalogue
from survey_app.extensions import db as _db
from survey_app.figures_cache import cached
from survey_app.models import ImportBatch, Standard

from .conftest import SMALL_CATALOGUE, _config
from .helpers import add_answers, login


@pytest.fixture
def cached_app(database_url, tmp_path):
    app = create_app({**_config(database_url, tmp_path / "instance"), "FIGURES_CACHE_SECONDS": 300})
    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        for value in (5, 5, 4, 2, 1, 5):
            add_answers(_db.session, "anagrafe", datetime(2025, 3, 3, 10), {"D3": value})
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def figures(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_kept_figures_are_kept_per_language(cached_app):
    """The charts' labels are in the page's language: an English visit never gets the Italian page's kept charts."""
    client = cached_app.test_client()
    login(client, cached_app.test_cli_runner(), "a@comune.it", "--role", "admin")
    italian = figures(client, "/staff/servizi/anagrafe?anno=2025&lang=it")
    english = figures(client, "/staff/servizi/anagrafe?anno=2025&lang=en")
    assert "Distribuzione delle risposte" in italian and "Distribution of answers" not in italian
    assert "Distribution of answers" in english and "Distribuzione delle risposte" not in english


def test_citizens_answers_show_when_the_figures_expire_bulk_changes_at_once(cached_app):
    client = cached_app.test_client()
    login(client, cached_app.test_cli_runner(), "a@comune.it", "--role", "admin")
    for url in ("/staff/?anno=2025", "/staff/servizi/anagrafe?anno=2025"):
        first = figures(client, url)
        assert "Cifre calcolate il" in first and "ogni 5 minuti" in first
        assert "66,7" in first  # 4 of 6 satisfied
    with cached_app.app_context():
        for _ in range(6):  # a citizen's answer: kept figures until they expire
            add_answers(_db.session, "anagrafe", datetime(2025, 3, 4, 10), {"D3": 1})
        _db.session.remove()
    for url in ("/staff/?anno=2025", "/staff/servizi/anagrafe?anno=2025"):
        assert "66,7" in figures(client, url)
    with cached_app.app_context():  # a firm's batch lands: every kept figure goes
        _db.session.add(ImportBatch(fonte="Doxa", metodo="CATI", nome_file="x.csv", sha256="0" * 64, righe=0))
        _db.session.commit()
        _db.session.remove()
    for url in ("/staff/?anno=2025", "/staff/servizi/anagrafe?anno=2025"):
        assert "33,3" in figures(client, url)  # 4 of 12
    page = "/staff/servizi/anagrafe?anno=2025"
    assert "media ≥ 4,0: non raggiunto; % soddisfatti ≥ 80: non raggiunto" in unescape(figures(client, page))
    with cached_app.app_context():  # a new target: shown at once too
        standard = _db.session.scalar(select(Standard).filter_by(domanda_codice="D3", indicatore="quota_soddisfatti"))
        standard.soglia = Decimal("30")
        _db.session.commit()
        _db.session.remove()
    assert "media ≥ 4,0: non raggiunto; % soddisfatti ≥ 30: raggiunto" in unescape(figures(client, page))


def test_two_hosts_share_the_figures_in_redis_and_their_clearing(database_url, tmp_path, redis_url):
    hosts = [create_app({**_config(database_url, tmp_path / f"host{i}"), "FIGURES_CACHE_SECONDS": 300,
                         "CACHE_REDIS_URL": redis_url}) for i in (1, 2)]
    first, second = hosts
    with first.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        add_answers(_db.session, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5})
        key = f"test-{tmp_path.name}"
        value, computed = cached(key, lambda: "calcolato sul primo")
        _db.session.remove()
    with second.app_context():  # the other host finds it, with the time it was computed
        assert cached(key, lambda: "calcolato sul secondo") == (value, computed)
        _db.session.add(ImportBatch(fonte="Doxa", metodo="CATI", nome_file="x.csv", sha256="0" * 64, righe=0))
        _db.session.commit()  # a bulk change on this host…
        _db.session.remove()
    with first.app_context():  # …clears the figures of both
        assert cached(key, lambda: "ricalcolato")[0] == "ricalcolato"
    other = create_app({**_config("sqlite:///" + str(tmp_path / "altra.sqlite3"), tmp_path / "altra"),
                        "FIGURES_CACHE_SECONDS": 300, "CACHE_REDIS_URL": redis_url})
    with other.app_context():  # another installation on the same Redis: its own figures
        assert cached(key, lambda: "altra installazione")[0] == "altra installazione"
    for app in (*hosts, other):
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
