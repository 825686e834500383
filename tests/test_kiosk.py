"""The counter kiosk: one tap records, reasons after a red face, double taps stored once."""

import re

from freezegun import freeze_time
from sqlalchemy import func, select

from survey_app.models import Compilazione, Risposta

from .helpers import csrf_token

KIOSK = "/k/anagrafe?sede=sportello-1"
REASONS = "/k/anagrafe/motivi?sede=sportello-1"


def count(db, model=Compilazione):
    return db.scalar(select(func.count()).select_from(model))


def tap(client, face: str, url: str = KIOSK):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "D1": face})


def reasons_page(client, face_response) -> str:
    return client.get(face_response.headers["Location"]).get_data(as_text=True)


def test_page_has_three_labelled_faces_the_token_and_the_counter(client, catalogue):
    html = client.get(KIOSK).get_data(as_text=True)
    assert '<html lang="it">' in html and "<main" in html
    assert '<h1 class="kiosk-question">Come valuti il servizio?</h1>' in html
    assert "Comune di Prova" in html and "Anagrafe" in html
    buttons = re.findall(r'<button type="submit" name="D1" value="([123])"[^>]*>\s*<svg[^>]*aria-hidden="true"', html)
    assert buttons == ["3", "2", "1"]
    for label in ("Soddisfatto", "Né soddisfatto né insoddisfatto", "Non soddisfatto"):
        assert f"<span>{label}</span>" in html
    assert csrf_token(html)
    assert re.search(r'<form method="post" action="/k/anagrafe\?sede=sportello-1"', html)
    # an idle kiosk reloads itself well before its token expires, with or without JavaScript
    assert 'data-reset-seconds="1800"' in html
    assert '<noscript><meta http-equiv="refresh" content="1800;url=/k/anagrafe?sede=sportello-1"></noscript>' in html
    # The legal pages open inside the kiosk, with the way back (the public ones stranded the tablet).
    assert 'href="/k/anagrafe/privacy?sede=sportello-1"' in html
    assert 'href="/k/anagrafe/accessibilita?sede=sportello-1"' in html


def test_green_tap_stores_one_answer_at_the_hour(client, catalogue):
    db = catalogue
    with freeze_time("2026-03-02 09:47:31"):  # 10:47 in Rome
        response = tap(client, "3")
    assert response.status_code == 302
    assert response.headers["Location"] == "/k/anagrafe/grazie?sede=sportello-1"
    compilazione = db.scalar(select(Compilazione))
    assert (compilazione.canale, compilazione.sede.codice, compilazione.lingua) == ("chiosco", "sportello-1", "it")
    assert compilazione.versione.questionario.codice == "faccine"
    assert compilazione.data_ora.isoformat() == "2026-03-02T10:00:00"
    assert [(r.domanda.codice, r.valore) for r in compilazione.risposte] == [("D1", 3)]


def test_red_tap_then_reasons_on_the_same_submission(client, catalogue):
    db = catalogue
    response = tap(client, "1")
    assert response.headers["Location"] == REASONS
    page = reasons_page(client, response)
    assert "tempo di attesa" in page and 'type="checkbox"' in page
    assert '<noscript><meta http-equiv="refresh" content="60;url=/k/anagrafe?sede=sportello-1"></noscript>' in page
    assert "<h1" in page and ">Invia<" in page and ">Salta<" in page
    token = csrf_token(page)
    done = client.post(REASONS, data={"csrf_token": token, "motivi": ["tempo-attesa", "risposta-negativa"],
                                      "invia": "1"})
    assert done.headers["Location"] == "/k/anagrafe/grazie?sede=sportello-1"
    assert count(db) == 1
    rows = sorted((r.compilazione_id, r.domanda.codice, r.valore, r.opzione) for r in db.scalars(select(Risposta)))
    first = rows[0][0]
    assert rows == [(first, "D1", 1, None), (first, "D2", None, "risposta-negativa"),
                    (first, "D2", None, "tempo-attesa")]
    with client.session_transaction() as cookie:
        assert "kiosk_pending" not in cookie  # the submission's id left the session once used
    # spent: posting again adds nothing
    client.post(REASONS, data={"csrf_token": token, "motivi": ["tempo-attesa"], "invia": "1"})
    assert count(db, Risposta) == 3


def test_skip_adds_no_reason(client, catalogue):
    db = catalogue
    page = reasons_page(client, tap(client, "1"))
    response = client.post(REASONS, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "salta": "1"})
    assert response.headers["Location"] == "/k/anagrafe/grazie?sede=sportello-1"
    assert count(db, Risposta) == 1
    # and the skipped submission cannot be completed afterwards
    client.post(REASONS, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "invia": "1"})
    assert count(db, Risposta) == 1


def test_reasons_accepted_only_within_a_few_minutes(client, catalogue):
    db = catalogue
    with freeze_time("2026-03-02 10:00:00") as clock:
        page = reasons_page(client, tap(client, "1"))
        clock.tick(901)
        client.post(REASONS, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "invia": "1"})
    assert count(db, Risposta) == 1


def test_reasons_sent_after_the_extra_time_are_still_stored(client, catalogue):
    """"Mi serve più tempo" gives the reasons page 10 minutes; the server took reasons for 5, so a citizen who used
    the extra time was thanked and their reasons dropped (the review of this change). Nine minutes later: stored."""
    db = catalogue
    with freeze_time("2026-03-02 10:00:00") as clock:
        page = reasons_page(client, tap(client, "1"))
        assert "data-once" in page  # on the reasons page, once: 60 s + 600 s fit the 15 minutes
        clock.tick(9 * 60)
        client.post(REASONS, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "invia": "1"})
    assert count(db, Risposta) == 2


def test_reasons_page_needs_a_red_face_just_stored(client, catalogue):
    db = catalogue
    response = client.get(REASONS)
    assert response.status_code == 302 and response.headers["Location"] == KIOSK
    # the page reset to the faces: the next visitor cannot add reasons to the previous one's face
    page = reasons_page(client, tap(client, "1"))
    client.get(KIOSK)
    client.post(REASONS, data={"csrf_token": csrf_token(page), "motivi": ["tempo-attesa"], "invia": "1"})
    assert count(db, Risposta) == 1


def test_unknown_reason_refused(client, catalogue):
    db = catalogue
    page = reasons_page(client, tap(client, "1"))
    response = client.post(REASONS, data={"csrf_token": csrf_token(page), "motivi": ["cantina"], "invia": "1"})
    assert response.status_code == 400
    assert count(db, Risposta) == 1


def test_double_tap_is_stored_once_until_the_cool_down_ends(app, client, catalogue):
    db = catalogue
    app.config["KIOSK_COOLDOWN_SECONDS"] = 10
    with freeze_time("2026-03-02 10:00:00") as clock:
        token = csrf_token(client.get(KIOSK).get_data(as_text=True))
        for _ in range(2):  # a double tap posts twice from the same page, with no new page in between
            again = client.post(KIOSK, data={"csrf_token": token, "D1": "3"})
            assert again.headers["Location"] == "/k/anagrafe/grazie?sede=sportello-1"  # still thanked
        clock.tick(5)
        client.post(KIOSK, data={"csrf_token": token, "D1": "3"})
        assert count(db) == 1
        client.post(KIOSK, data={"csrf_token": token, "D1": "2"})  # a different face is another person
        assert count(db) == 2
        clock.tick(11)
        client.post(KIOSK, data={"csrf_token": token, "D1": "2"})
        assert count(db) == 3


def test_a_queue_of_the_same_face_stores_every_citizen(app, client, catalogue):
    """The thanks page goes back to the faces after 5 s, inside the 10 s against double taps: the next person's
    green face was taken for a double tap of the last one's, and one citizen in two was lost."""
    assert app.config["KIOSK_RESET_SECONDS"] < app.config["KIOSK_COOLDOWN_SECONDS"]
    with freeze_time("2026-03-02 10:00:00") as clock:
        for _ in range(4):
            thanks = tap(client, "3")  # the faces page, then the tap
            client.get(thanks.headers["Location"])
            clock.tick(app.config["KIOSK_RESET_SECONDS"])  # the thanks page goes back to the faces
        for _ in range(3):  # red faces, the reasons left for the next one to skip
            assert tap(client, "1").headers["Location"] == REASONS
            clock.tick(2)
    assert count(catalogue) == 7
    assert count(catalogue, Risposta) == 7


def test_cool_down_is_configurable(app, client, catalogue):
    app.config["KIOSK_COOLDOWN_SECONDS"] = 2
    with freeze_time("2026-03-02 10:00:00") as clock:
        token = csrf_token(client.get(KIOSK).get_data(as_text=True))
        client.post(KIOSK, data={"csrf_token": token, "D1": "3"})
        clock.tick(3)
        client.post(KIOSK, data={"csrf_token": token, "D1": "3"})
    assert count(catalogue) == 2


def test_red_double_tap_stored_once_and_still_asks_why(client, catalogue):
    db = catalogue
    with freeze_time("2026-03-02 10:00:00"):
        token = csrf_token(client.get(KIOSK).get_data(as_text=True))
        # a real double tap posts twice from the same page, with no new page in between
        for _ in range(2):
            response = client.post(KIOSK, data={"csrf_token": token, "D1": "1"})
            assert response.headers["Location"] == REASONS
    assert count(db) == 1


def test_cool_down_is_per_kiosk(client, catalogue):
    db = catalogue
    with freeze_time("2026-03-02 10:00:00"):
        tap(client, "3")
        tap(client, "3", "/k/anagrafe?sede=sportello-2")
    assert sorted(c.sede.codice for c in db.scalars(select(Compilazione))) == ["sportello-1", "sportello-2"]


def test_thanks_resets_to_the_kiosk(app, client, catalogue):
    app.config["KIOSK_RESET_SECONDS"] = 4
    html = client.get("/k/anagrafe/grazie?sede=sportello-1").get_data(as_text=True)
    assert "Grazie per la tua valutazione" in html
    assert '<noscript><meta http-equiv="refresh" content="4;url=/k/anagrafe?sede=sportello-1"></noscript>' in html
    assert 'data-reset-seconds="4"' in html and 'id="kiosk-timer-more"' in html
    assert 'href="/k/anagrafe?sede=sportello-1"' in html


def test_thanks_default_reset_is_five_seconds(client, catalogue):
    html = client.get("/k/anagrafe/grazie?sede=sportello-1").get_data(as_text=True)
    assert 'content="5;url=/k/anagrafe?sede=sportello-1"' in html


def test_no_token_is_refused_in_italian_with_a_way_back(client, catalogue):
    db = catalogue
    response = client.post(KIOSK, data={"D1": "3"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<html lang="it">' in html and "Richiesta non valida" in html and "Il modulo è scaduto." in html
    # a locked-down tablet has no address bar: the page leads back to the faces, and resets by itself
    assert 'href="/k/anagrafe?sede=sportello-1"' in html
    assert '<meta http-equiv="refresh" content="10;url=/k/anagrafe?sede=sportello-1">' in html
    assert client.post(KIOSK, data={"csrf_token": "scaduto", "D1": "3"}).status_code == 400
    assert count(db) == 0


def test_invalid_face_refused(client, catalogue):
    db = catalogue
    for face in ("7", "0", "", "verde", "-1", "2.5"):
        assert tap(client, face).status_code == 400, face
    token = csrf_token(client.get(KIOSK).get_data(as_text=True))
    assert client.post(KIOSK, data={"csrf_token": token}).status_code == 400
    assert count(db) == 0


def test_service_without_faces_has_no_kiosk(client, catalogue):
    assert client.get("/k/tributi").status_code == 404
    # Whoever sets the tablet up learns why, and where its citizens can answer meanwhile.
    html = client.get("/k/tributi").get_data(as_text=True)
    assert "Nessun tablet per questo servizio" in html and "questionario_chiosco" in html
    assert "/s/tributi" in html and "non è più attivo" not in html
    assert client.get("/k/inesistente").status_code == 404
    assert client.get("/k/tributi/grazie").status_code == 404
    assert client.get("/k/vigilanza?sede=comando").status_code == 200  # its own questionnaire opens with faces


def test_english(client, catalogue):
    db = catalogue
    url = KIOSK + "&lang=en"
    html = client.get(url).get_data(as_text=True)
    assert '<html lang="en">' in html and "How do you rate the service?" in html and "Registry office" in html
    assert "<span>Satisfied</span>" in html and "<span>Not satisfied</span>" in html
    response = tap(client, "3", url)
    assert response.headers["Location"] == "/k/anagrafe/grazie?sede=sportello-1&lang=en"
    assert db.scalar(select(Compilazione)).lingua == "en"
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en">' in thanks and "url=/k/anagrafe?sede=sportello-1&amp;lang=en" in thanks


def test_kiosk_language_comes_from_its_url_only(client, catalogue):
    client.get("/privacy?lang=en")  # a visitor switched language on a linked page
    html = client.get(KIOSK).get_data(as_text=True)
    assert '<html lang="it">' in html and "<span>Soddisfatto</span>" in html


def test_kiosk_taps_are_rate_limited_per_client(app, client, catalogue):
    app.config["KIOSK_RATE_LIMIT"] = "2 per minute"
    app.config["KIOSK_COOLDOWN_SECONDS"] = 0
    statuses = [tap(client, face).status_code for face in ("3", "2", "1")]
    assert statuses == [302, 302, 429]
    assert count(catalogue) == 2


def test_a_mistyped_counter_is_refused_not_dropped(client, catalogue):
    """A tablet set up with a wrong sede= would store every tap without its counter: the page says so instead."""
    response = client.get("/k/anagrafe?sede=sportelo-1")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "«sportelo-1»" in html and "sportello-1, sportello-2" in html
    token = csrf_token(client.get(KIOSK).get_data(as_text=True))
    assert client.post("/k/anagrafe?sede=sportelo-1", data={"csrf_token": token, "D1": "3"}).status_code == 404
    assert count(catalogue) == 0
    assert client.get(KIOSK).status_code == 200
    # No counter at all, where the service has two: the same (every tap would be stored without one).
    missing = client.get("/k/anagrafe")
    assert missing.status_code == 404 and "Sede mancante" in missing.get_data(as_text=True)
    assert "le sedi del servizio sono sportello-1, sportello-2" in missing.get_data(as_text=True)
    assert client.post("/k/anagrafe", data={"csrf_token": token, "D1": "3"}).status_code == 404
    assert count(catalogue) == 0


def test_the_legal_pages_open_inside_the_kiosk_and_lead_back_to_the_faces(client, catalogue):
    for page, heading in (("privacy", "Informativa sul trattamento dei dati (art. 13 GDPR)"),
                          ("accessibilita", "Dichiarazione di accessibilità")):
        response = client.get(f"/k/anagrafe/{page}?sede=sportello-1")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and f"<h1>{heading}</h1>" in html
        assert html.count('href="/k/anagrafe?sede=sportello-1">Torna al questionario</a>') == 2
        assert 'data-reset-url="/k/anagrafe?sede=sportello-1" data-reset-seconds="180"' in html  # then, the next person
        assert 'class="kiosk"' in html and "it-header" not in html  # the kiosk's frame, not the whole site's
        # Every other address is written out, not linked: a link took the tablet to a mail app or another site.
        assert all(href.startswith("/k/anagrafe") for href in re.findall(r'<a [^>]*href="([^"]+)"', html)), html
        public = client.get(f"/{page}").get_data(as_text=True)
        written = "www.garanteprivacy.it" if page == "privacy" else "www.agid.gov.it"
        assert f'<span class="kiosk-address">{written}</span>' in html and f">{written}</a>" in public
    english = client.get("/k/anagrafe/privacy?sede=sportello-1&lang=en").get_data(as_text=True)
    assert "Back to the questionnaire" in english and 'href="/k/anagrafe?sede=sportello-1&amp;lang=en"' in english
    assert client.get("/k/anagrafe/privacy?sede=sportelo-1").status_code == 404  # the counter is checked as ever
    assert client.get("/k/anagrafe/altro").status_code in (404, 405)

