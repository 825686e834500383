"""The counter kiosk: one tap records, reasons after a red face, double taps stored once."""

import re

from freezegun import freeze_time
from sqlalchemy import func, select

from survey_app.models import Compilazione, Risposta

from .helpers import csrf_token

KIOSK = "/k/anagrafe?sede=sportello-1"


def count(db, model=Compilazione):
    return db.scalar(select(func.count()).select_from(model))


def tap(client, face: str, url: str = KIOSK):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "D1": face})


def test_page_has_three_labelled_faces_and_keeps_the_counter(client, catalogue):
    html = client.get(KIOSK).get_data(as_text=True)
    for label in ("Soddisfatto", "Né soddisfatto né insoddisfatto", "Non soddisfatto"):
        assert f"<span>{label}</span>" in html
    assert len(re.findall(r'<button type="submit" name="D1" value="[123]"', html)) == 3
    assert 'action="/k/anagrafe?sede=sportello-1"' in html
    assert 'data-reset-seconds="1800"' in html and '<noscript><meta http-equiv="refresh" content="1800;' in html
    assert 'href="/privacy' in html and 'href="/accessibilita' in html


def test_green_tap_stores_one_answer(client, catalogue):
    db = catalogue
    response = tap(client, "3")
    assert response.status_code == 302 and "/k/anagrafe/grazie" in response.headers["Location"]
    compilazione = db.scalar(select(Compilazione))
    assert (compilazione.canale, compilazione.sede.codice) == ("chiosco", "sportello-1")
    assert compilazione.versione.questionario.codice == "faccine"
    assert [(r.domanda.codice, r.valore) for r in compilazione.risposte] == [("D1", 3)]


def test_red_tap_then_reasons_on_the_same_submission(client, catalogue):
    db = catalogue
    response = tap(client, "1")
    assert "/k/anagrafe/motivi" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "tempo di attesa" in page and '<noscript><meta http-equiv="refresh" content="60;url=' in page
    url = response.headers["Location"]
    client.post(url, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa", "risposta-negativa"],
                           "invia": "1"})
    assert count(db) == 1
    rows = sorted((r.domanda.codice, r.valore, r.opzione) for r in db.scalars(select(Risposta)))
    assert rows == [("D1", 1, None), ("D2", None, "risposta-negativa"), ("D2", None, "tempo-attesa")]
    # the pending submission is spent: posting again adds nothing
    client.post(url, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "invia": "1"})
    assert count(db, Risposta) == 3


def test_skip_adds_no_reason(client, catalogue):
    db = catalogue
    url = tap(client, "1").headers["Location"]
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "salta": "1"})
    assert count(db, Risposta) == 1


def test_double_tap_is_stored_once_until_the_cool_down_ends(app, client, catalogue):
    db = catalogue
    app.config["KIOSK_COOLDOWN_SECONDS"] = 10
    with freeze_time("2026-03-02 10:00:00") as clock:
        tap(client, "3")
        tap(client, "3")
        clock.tick(5)
        tap(client, "3")
        assert count(db) == 1
        tap(client, "2")  # a different face is another person
        assert count(db) == 2
        clock.tick(11)
        tap(client, "2")
        assert count(db) == 3


def test_thanks_resets_to_the_kiosk(app, client, catalogue):
    app.config["KIOSK_RESET_SECONDS"] = 4
    html = client.get("/k/anagrafe/grazie?sede=sportello-1").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="4;url=/k/anagrafe?sede=sportello-1"></noscript>' in html
    assert 'data-reset-seconds="4"' in html and 'id="kiosk-timer-stop"' in html


def test_unknown_counter_dropped(client, catalogue):
    db = catalogue
    tap(client, "3", "/k/anagrafe?sede=cantina")
    assert db.scalar(select(Compilazione)).sede is None


def test_invalid_requests_store_nothing(client, catalogue):
    db = catalogue
    assert client.post(KIOSK, data={"D1": "3"}).status_code == 400  # no CSRF token
    assert tap(client, "7").status_code == 400
    assert count(db) == 0


def test_service_without_faces_has_no_kiosk(client, catalogue):
    assert client.get("/k/tributi").status_code == 404
    assert client.get("/k/vigilanza").status_code == 200  # its own questionnaire opens with faces


def test_english(client, catalogue):
    html = client.get(KIOSK + "&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "How do you rate the service?" in html
    assert "<span>Satisfied</span>" in html and "<span>Not satisfied</span>" in html


def test_kiosk_taps_are_rate_limited_per_client(app, client, catalogue):
    app.config["KIOSK_RATE_LIMIT"] = "2 per minute"
    app.config["KIOSK_COOLDOWN_SECONDS"] = 0
    statuses = [tap(client, face).status_code for face in ("3", "2", "1")]
    assert statuses == [302, 302, 429]
    assert count(catalogue) == 2
