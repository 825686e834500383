"""The citizen's path: service list, questionnaire form, submit with CSRF, thank-you page."""

import pytest
from sqlalchemy import event, func, select

from survey_app.catalogue import load_catalogue
from survey_app.extensions import db as _db
from survey_app.models import Compilazione, Risposta, Servizio

from .conftest import SMALL_CATALOGUE
from .helpers import hidden_fields, submit


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_index_lists_services(client, catalogue):
    html = client.get("/").get_data(as_text=True)
    assert "Comune di Prova" in html and "Unione Test" in html
    assert 'href="/s/anagrafe"' in html and 'href="/s/vigilanza"' in html


def test_questionnaire_renders_every_question(client, catalogue):
    response = client.get("/s/anagrafe")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Quanto è soddisfatto della cortesia?" in html
    assert 'name="D1__importanza"' in html
    assert 'value="ns"' in html  # "non so"
    assert 'name="csrf_token"' in html
    assert html.count("<fieldset") >= 6


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_citizens_pages_name_the_service_and_questionnaire(client, catalogue, lang):
    """The questionnaire, thanks and already-sent pages name the service and the questionnaire in their title and
    heading: a change to the bilingual helper printed "<bound method PublicService.nome of PublicService(...)>"
    there instead, on every page of a Comune (the helper's walk-through)."""
    import re

    service, questionnaire = ("Anagrafe", "Questionario breve") if lang == "it" else ("Registry office",
                                                                                       "Short questionnaire")
    pages = [f"/s/anagrafe?lang={lang}", f"/s/anagrafe/grazie?lang={lang}", f"/k/anagrafe/grazie?sede=sportello-1&lang={lang}"]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "bound method" not in html and "PublicService(" not in html, url
        title = re.search(r"<title>(.*?)</title>", html, re.S)[1]
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)[1]
        assert service in title + heading, (url, title, heading)
    html = client.get(f"/s/anagrafe?lang={lang}").get_data(as_text=True)
    assert questionnaire in html
    vigilanza = client.get(f"/s/vigilanza?lang={lang}").get_data(as_text=True)  # no English name: the Italian
    assert "Vigilanza" in re.search(r"<title>(.*?)</title>", vigilanza, re.S)[1]


def test_unknown_service_is_404(client, catalogue):
    assert client.get("/s/inesistente").status_code == 404


def test_submit_stores_one_row_per_item_and_redirects(client, catalogue):
    db = catalogue
    response = submit(client, "/s/anagrafe", {
        "D1": "4", "D1__importanza": "5", "D2": "2", "D3": "2", "D4": "9", "D5": "1",
        "D6": ["attesa", "informazioni"], "D7": "  Più sportelli  ", "canale": "qr", "sede": "sportello-2",
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/s/anagrafe/grazie")
    compilazione = db.scalar(select(Compilazione))
    assert (compilazione.canale, compilazione.sede.codice, compilazione.lingua) == ("qr", "sportello-2", "it")
    assert compilazione.data_ora.minute == 0 and compilazione.data_ora.second == 0
    rows = {(r.domanda.codice, r.valore, r.opzione, r.testo, r.importanza) for r in compilazione.risposte}
    assert rows == {
        ("D1", 4, None, None, 5), ("D2", 2, None, None, None), ("D3", 2, None, None, None),
        ("D4", 9, None, None, None), ("D5", 1, None, None, None), ("D6", None, "attesa", None, None),
        ("D6", None, "informazioni", None, None), ("D7", None, None, "Più sportelli", None),
    }
    thanks = client.get(response.headers["Location"])
    assert "Grazie per la tua valutazione" in thanks.get_data(as_text=True)


def test_follow_up_dropped_when_condition_fails(client, catalogue):
    db = catalogue
    submit(client, "/s/anagrafe", {"D3": "5", "D6": ["attesa"]})
    assert [r.domanda.codice for r in db.scalars(select(Risposta))] == ["D3"]


def test_non_so_is_stored_as_such(client, catalogue):
    db = catalogue
    submit(client, "/s/anagrafe", {"D1": "ns", "D3": "4"})
    d1 = db.scalar(select(Risposta).where(Risposta.non_so.is_(True)))
    assert d1.domanda.codice == "D1" and d1.valore is None


def test_unknown_channel_and_counter_are_dropped(client, catalogue):
    db = catalogue
    submit(client, "/s/anagrafe", {"D3": "4", "canale": "fax", "sede": "cantina"})
    compilazione = db.scalar(select(Compilazione))
    assert compilazione.canale == "web" and compilazione.sede is None


def test_csrf_failure_stores_nothing(client, catalogue):
    db = catalogue
    response = client.post("/s/anagrafe", data={"D3": "4"})
    assert response.status_code == 400
    assert count(db, Compilazione) == 0
    bad = client.post("/s/anagrafe", data={"D3": "4", "csrf_token": "forged"})
    assert bad.status_code == 400
    assert count(db, Compilazione) == 0


def test_missing_required_answer_keeps_the_others(client, catalogue):
    db = catalogue
    response = submit(client, "/s/anagrafe", {"D1": "4", "D7": "ciao"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Questa domanda richiede una risposta." in html
    assert '<input checked id="D1-3" name="D1" type="radio" value="4">' in html
    assert "ciao</textarea>" in html
    assert count(db, Compilazione) == 0


def test_out_of_range_value_is_refused(client, catalogue):
    db = catalogue
    response = submit(client, "/s/anagrafe", {"D3": "9"})
    assert response.status_code == 422
    assert count(db, Compilazione) == 0


def test_honeypot_stores_nothing_but_thanks(client, catalogue):
    db = catalogue
    response = submit(client, "/s/anagrafe", {"D3": "4", "sito_web": "http://spam"})
    assert response.status_code == 302
    assert count(db, Compilazione) == 0


def test_faces_questionnaire(client, catalogue):
    db = catalogue
    html = client.get("/s/vigilanza").get_data(as_text=True)
    assert "Faccina verde" in html
    client.post("/s/vigilanza", data={**hidden_fields(html), "D1": "1", "D2": ["tempo-attesa"]})
    rows = sorted((r.domanda.codice, r.valore, r.opzione) for r in db.scalars(select(Risposta)))
    assert rows == [("D1", 1, None), ("D2", None, "tempo-attesa")]


def test_reload_or_back_button_never_stores_twice(client, catalogue):
    db = catalogue
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    first = client.post("/s/anagrafe", data={**fields, "D3": "4"})
    again = client.post("/s/anagrafe", data={**fields, "D3": "4"})
    assert first.status_code == again.status_code == 302
    assert count(db, Compilazione) == 1
    # answering again on purpose (the notice's link) gives a fresh token
    submit(client, "/s/anagrafe", {"D3": "2"}, page="/s/anagrafe?nuovo=1")
    assert count(db, Compilazione) == 2


def test_forged_form_token_is_refused_with_answers_kept(client, catalogue):
    db = catalogue
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    response = client.post("/s/anagrafe", data={**fields, "form_token": "invented", "D3": "4"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Il modulo è scaduto" in html
    assert '<input checked id="D3-3" name="D3" type="radio" value="4">' in html
    assert count(db, Compilazione) == 0


def test_a_lost_session_cookie_sends_the_answers_back_not_a_bare_error(app):
    """The browser restarted between opening the questionnaire and sending it (its session cookie, and with it the
    CSRF token's secret, gone): a 400 page said "Torna all'elenco dei servizi" and every answer was lost. The
    answers now come back with a fresh token; nothing is stored until they are sent again, and then once. (No app
    context held open: the ``catalogue`` fixture's ``g`` would carry one browser's CSRF token into the next.)"""
    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        _db.session.remove()

    def stored() -> int:
        with app.app_context():
            found = _db.session.scalar(select(func.count()).select_from(Compilazione))
            _db.session.remove()
            return found

    fields = hidden_fields(app.test_client().get("/s/anagrafe").get_data(as_text=True))
    restarted = app.test_client()  # the same page's fields, without its cookie
    response = restarted.post("/s/anagrafe", data={**fields, "D3": "4", "D7": "Orari più ampi"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and stored() == 0
    assert "Il modulo è scaduto: controlla le risposte e invialo di nuovo." in html
    assert '<input checked id="D3-3" name="D3" type="radio" value="4">' in html and "Orari più ampi</textarea>" in html
    again = hidden_fields(html)
    assert restarted.post("/s/anagrafe", data={**again, "D3": "4", "D7": "Orari più ampi"}).status_code == 302
    assert stored() == 1


def test_too_long_comment_is_refused_next_to_the_field(client, catalogue):
    db = catalogue
    response = submit(client, "/s/anagrafe", {"D3": "4", "D7": "x" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Il testo può contenere al massimo 200 caratteri." in html
    assert 'aria-describedby="D7-errore"' in html
    assert count(db, Compilazione) == 0
    # 200 characters as the browser counts them (its maxlength), line breaks sent as CRLF: stored, each break one.
    lines = "\r\n".join(["x" * 49] * 4)  # 196 + 3 breaks = 199 for the browser, 202 as sent
    assert submit(client, "/s/anagrafe?nuovo=1", {"D3": "4", "D7": lines}, page="/s/anagrafe?nuovo=1").status_code == 302
    assert db.scalar(select(Risposta.testo).where(Risposta.testo.is_not(None))) == "\n".join(["x" * 49] * 4)


def test_the_english_home_page_names_offices_in_english(client, catalogue):
    """The English home page headed each office with its Italian name though the catalogue had the English."""
    from survey_app.models import Ufficio

    catalogue.scalar(select(Ufficio).filter_by(codice="demografici")).nome_en = "Registry office"
    catalogue.commit()
    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<h3 class="h5 mt-3">Registry office</h3>' in english and "Servizi demografici" not in english
    assert '<h3 class="h5 mt-3">Servizi demografici</h3>' in client.get("/?lang=it").get_data(as_text=True)


def test_answer_to_unknown_question_is_refused(client, catalogue):
    db = catalogue
    response = submit(client, "/s/anagrafe", {"D3": "4", "D99": "5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "non fanno parte di questo questionario (D99)" in html
    assert '<input checked id="D3-3" name="D3" type="radio" value="4">' in html  # answers kept
    assert count(db, Compilazione) == 0


def test_out_of_range_value_has_an_italian_message_next_to_the_field(client, catalogue):
    response = submit(client, "/s/anagrafe", {"D3": "4", "D2": "7", "D6": ["attesa", "zzz"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count("Risposta non ammessa: scegli una delle risposte proposte.") >= 4  # 2 fields + summary
    assert 'id="D2-errore"' in html and 'id="D6-errore"' in html
    english = submit(client, "/s/anagrafe?lang=en", {"D3": "4", "D2": "7"}, page="/s/anagrafe?lang=en")
    assert "Answer not allowed" in english.get_data(as_text=True)


def test_privacy_and_accessibility_pages_linked_from_every_public_page(client, catalogue):
    for url in ("/", "/s/anagrafe", "/s/anagrafe/grazie", "/privacy", "/accessibilita"):
        html = client.get(url).get_data(as_text=True)
        assert 'href="/privacy"' in html and 'href="/accessibilita"' in html, url
    privacy = client.get("/privacy").get_data(as_text=True)
    assert "art. 13" in privacy and "indirizzo IP" in privacy


def test_english(client, catalogue):
    html = client.get("/s/anagrafe?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "How satisfied are you with courtesy?" in html
    assert "Registry office" in html


def test_italian_texts_on_an_english_page_are_marked_italian(client, catalogue):
    """WCAG 3.1.2: a questionnaire without an English text for a question showed the Italian one inside an English
    page, and a screen reader read "Tempi di attesa" with an English voice. Each such text is marked lang="it"."""
    english = client.get("/s/anagrafe?lang=en&nuovo=1").get_data(as_text=True)
    assert '<legend class="question-text"><span lang="it">Tempi di attesa</span></legend>' in english
    assert '<legend class="question-text">Overall, how satisfied are you?' in english  # translated: not marked
    assert '<label for="D6-0"><span lang="it">attesa</span></label>' in english  # an option
    assert '1 = <span lang="it">Per niente</span>' in english  # a scale's end
    assert '<span lang="it">Complessivamente, quanto è soddisfatto?</span>' not in english
    # The follow-up's hint names its question as the page shows it, and the answer it waits for.
    hint = english.split('id="D6-quando"', 1)[1].split("</p>", 1)[0]
    assert "Overall, how satisfied are you?" in hint and "<span" not in hint.replace('<span lang="it">', "")
    # Never inside the page's title (text only), never on the Italian page.
    title = english.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<span" not in title and "&lt;span" not in title
    italian = client.get("/s/anagrafe?lang=it&nuovo=1").get_data(as_text=True)
    assert 'lang="it">' not in italian.replace('<html lang="it">', "")
    # A sent-back page (with the summary of errors) marks its links too.
    sent_back = submit(client, "/s/anagrafe?lang=en", {"D2": "9"}, page="/s/anagrafe?lang=en&nuovo=1")
    assert '<a href="#q-D2"><span lang="it">Tempi di attesa</span></a>' in sent_back.get_data(as_text=True)
    # The kiosk's reasons, and the kiosk's question when it has no English.
    from .helpers import csrf_token

    faces = "/k/anagrafe?sede=sportello-1&lang=en"
    assert "How do you rate the service?" in client.get(faces).get_data(as_text=True)
    red = client.post(faces, data={"csrf_token": csrf_token(client.get(faces).get_data(as_text=True)), "D1": "1"})
    kiosk = client.get(red.headers["Location"]).get_data(as_text=True)
    assert '<span lang="it">Perché?</span>' in kiosk and '<span lang="it">risposta negativa</span>' in kiosk
    assert "waiting time" in kiosk and '<span lang="it">tempo di attesa</span>' not in kiosk
    # The thanks page names an untranslated service in its sentence, marked too.
    from survey_app.models import Servizio

    catalogue.scalar(select(Servizio).filter_by(slug="tributi")).nome_en = None
    catalogue.commit()
    thanks = client.get("/s/tributi/grazie?lang=en").get_data(as_text=True)
    assert '<span lang="it">Tributi</span>' in thanks
    assert "<span" not in thanks.split("<title>", 1)[1].split("</title>", 1)[0]


def test_english_interface_strings(client, catalogue):
    html = client.get("/s/anagrafe?lang=en").get_data(as_text=True)
    assert "Send your rating" in html and "Skip to content" in html and "Privacy notice" in html
    # the choice sticks for the next pages, and Italian comes back on request
    assert "Rate the services you received" in client.get("/").get_data(as_text=True)
    assert "Valuta i servizi che hai ricevuto" in client.get("/?lang=it").get_data(as_text=True)


def test_every_interface_string_has_an_english_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parent.parent / "survey_app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    # A plural entry's string is a tuple of forms: every form must be filled in.
    untranslated = [m.id for m in catalogue if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert not catalogue.fuzzy and not any(m.fuzzy for m in catalogue if m.id)  # pybabel skips fuzzy files


def test_a_kept_page_gives_every_visitor_their_own_tokens(app):
    """The blank page is rendered once and kept; its tokens are new on every visit, and each one works.

    No app context is held open here (the ``catalogue`` fixture holds one, and its ``g`` would carry one browser's
    CSRF token into the next browser's request).
    """
    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        _db.session.remove()
    client, other = app.test_client(), app.test_client()  # two browsers: two sessions
    first, second = (hidden_fields(client.get("/s/anagrafe").get_data(as_text=True)) for _ in range(2))
    third = hidden_fields(other.get("/s/anagrafe").get_data(as_text=True))
    assert len({first["form_token"], second["form_token"], third["form_token"]}) == 3
    assert third["csrf_token"] != first["csrf_token"]
    assert not any("slot" in value for value in (*first.values(), *third.values()))
    assert client.post("/s/anagrafe", data={**second, "D3": "4"}).status_code == 302
    assert other.post("/s/anagrafe", data={**third, "D3": "2"}).status_code == 302
    with app.app_context():
        assert count(_db.session, Compilazione) == 2
        _db.session.remove()


def test_a_kept_page_follows_the_catalogue_and_the_address(client, catalogue):
    db = catalogue
    before = client.get("/s/anagrafe").get_data(as_text=True)
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    servizio.nome_it = "Anagrafe rinnovata"
    servizio.ufficio.ente.nome = "Comune Rinominato"
    db.commit()
    after = client.get("/s/anagrafe").get_data(as_text=True)
    assert "Anagrafe rinnovata" not in before
    assert "Anagrafe rinnovata" in after and "Comune Rinominato" in after  # no stale page after an edit
    counter = client.get("/s/anagrafe?canale=qr&sede=sportello-2").get_data(as_text=True)
    assert 'name="sede" value="sportello-2"' in counter and 'name="canale" value="qr"' in counter
    assert 'name="sede"' not in after
    english = client.get("/s/anagrafe?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and 'action="/s/anagrafe?lang=en"' in english


def test_a_page_sent_back_with_errors_keeps_the_qr_codes_counter_in_its_links(client, catalogue):
    """The error page's address lost canale and sede: its language link, and Back's "new questionnaire" link after
    sending, then stored the next person on that phone as web without a counter."""
    url = "/s/anagrafe?canale=qr&sede=sportello-2"
    page = client.get(url).get_data(as_text=True)
    assert 'action="/s/anagrafe?canale=qr&amp;sede=sportello-2"' in page
    sent_back = client.post(url, data=hidden_fields(page))  # nothing answered
    assert sent_back.status_code == 422
    html = sent_back.get_data(as_text=True)
    assert 'action="/s/anagrafe?canale=qr&amp;sede=sportello-2"' in html
    assert 'href="/s/anagrafe?canale=qr&amp;sede=sportello-2&amp;lang=en"' in html  # the language link
    answered = client.post(url, data={**hidden_fields(html), "D1": "4", "D3": "5"})
    assert answered.status_code == 302
    back = client.get(url).get_data(as_text=True)  # Back after sending: the notice, and a way to answer again
    assert 'href="/s/anagrafe?nuovo=1&amp;canale=qr&amp;sede=sportello-2"' in back
    stored = catalogue.scalar(select(Compilazione))
    assert (stored.canale, stored.sede.codice) == ("qr", "sportello-2")


def test_the_page_reads_its_service_outside_a_transaction_and_the_submission_inside_one(app, backend):
    """On PostgreSQL the blank page's one query runs in autocommit (no BEGIN and ROLLBACK around it); the submission
    reads the service in the transaction that stores the answers."""
    if backend != "postgresql":
        pytest.skip("SQLite opens no transaction for a read")
    with app.app_context():
        load_catalogue(_db.session, SMALL_CATALOGUE)
        _db.session.remove()
        engine = _db.engine
    lookups = []

    def record(conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("SELECT servizi.id"):
            lookups.append(conn.connection.dbapi_connection.autocommit)

    event.listen(engine, "before_cursor_execute", record)
    try:
        client = app.test_client()
        fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
        assert client.post("/s/anagrafe", data={**fields, "D3": "4"}).status_code == 302
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert lookups == [True, False]
    with app.app_context():
        assert count(_db.session, Compilazione) == 1
        _db.session.remove()
