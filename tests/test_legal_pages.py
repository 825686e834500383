"""Privacy notice and accessibility statement from the instance's config, the questionnaires' estimated length on
the pages and the poster, and follow-up hints that name the question they depend on."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app import create_app
from survey_app.catalogue import load_catalogue
from survey_app.extensions import db as _db
from survey_app.models import Servizio
from survey_app.public.duration import estimate_minutes, minutes_by_questionnaire
from survey_app.qr.posters import poster_svg
from survey_app.qr.service import poster_for

from .conftest import _config

LEGAL_ENTI = {
    "comune-test": {
        "indirizzo": "Piazza Municipio 1, 10000 Prova (TO)",
        "pec": "protocollo@pec.prova.example",
        "email": "urp@prova.example",
        "dpo_nome": "Studio Privacy Esempio",
        "dpo_email": "dpo@prova.example",
        "dpo_pec": "dpo@pec.prova.example",
    },
    "unione-test": {"indirizzo": "Via dell'Unione 2, 13000 Test (VC)", "email": "segreteria@unione.example",
                    "dpo_email": "rpd@unione.example"},
}
ACCESSIBILITY = {
    "ente": "Comune di Prova",
    "stato": "parzialmente conforme",
    "data_dichiarazione": "2025-03-14",
    "data_revisione": "2025-09-30",
    "feedback": "mailto:accessibilita@prova.example",
    "contenuti_non_accessibili": ["Le locandine PDF non sono PDF/UA."],
}


@pytest.fixture
def legal(app, catalogue):
    app.config.update(LEGAL_ENTI=LEGAL_ENTI, ACCESSIBILITY=ACCESSIBILITY,
                      LEGAL_RESPONSABILI=[{"nome": "Hosting Esempio S.r.l.", "attivita": "hosting"}])
    return catalogue


def section(html: str, anchor: str) -> str:
    """The markup from an element's id to the end of its <section>."""
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


# --- privacy notice ------------------------------------------------------------------------------------------------

def test_privacy_names_each_controller_with_its_contacts_and_dpo(client, legal):
    html = client.get("/privacy").get_data(as_text=True)
    comune = section(html, "titolare-comune-test")
    assert ">Comune di Prova</h3>" in comune
    assert "Piazza Municipio 1, 10000 Prova (TO)" in comune
    assert 'href="mailto:protocollo@pec.prova.example"' in comune and 'href="mailto:urp@prova.example"' in comune
    assert "Studio Privacy Esempio" in comune
    assert 'href="mailto:dpo@prova.example"' in comune and 'href="mailto:dpo@pec.prova.example"' in comune
    unione = section(html, "titolare-unione-test")
    assert ">Unione Test</h3>" in unione and "Via dell&#39;Unione 2, 13000 Test (VC)" in unione
    assert 'href="mailto:rpd@unione.example"' in unione
    assert "non ancora indicat" not in comune + unione
    # a member comune without services of its own is not a controller here: the Unione runs the service
    assert "Comune di Borgo Test" not in html
    assert "Hosting Esempio S.r.l. (hosting)" in html
    assert "artt. 15-22 GDPR" in html and "non è possibile ricondurle a te" in html


def test_privacy_links_the_garante(client, legal):
    html = client.get("/privacy").get_data(as_text=True)
    assert "Garante per la protezione dei dati personali" in html
    assert '<a href="https://www.garanteprivacy.it">' in html


@pytest.mark.parametrize(("months", "expected"), [(18, "18 mesi"), (24, "24 mesi"), (1, "1 mese dalla")])
def test_retention_follows_the_configured_months(app, client, legal, months, expected):
    app.config["COMMENT_RETENTION_MONTHS"] = months
    html = client.get("/privacy").get_data(as_text=True)
    assert f"i commenti liberi sono conservati per {expected}" in html
    others = {"18 mesi", "24 mesi"} - {expected}
    assert not any(f"conservati per {other}" in html for other in others)


def test_privacy_states_the_counters_and_the_cookie_as_configured(app, client, legal):
    """It said the counters last "pochi minuti" (the hourly limit keeps them an hour) and that the only cookie
    protects the form (it also remembers, for 30 minutes, the services just answered)."""
    from html import unescape

    app.config["SUBMIT_RATE_LIMIT"] = "20 per minute;200 per hour"
    html = unescape(client.get("/privacy").get_data(as_text=True))
    assert "pochi minuti" not in html
    assert "i contatori che limitano gli invii durano al massimo 60 minuti" in html
    assert "a ricordare per 30 minuti i servizi per cui hai appena risposto" in html


def test_privacy_without_config_says_what_is_missing(client, catalogue):
    html = client.get("/privacy").get_data(as_text=True)
    assert client.get("/privacy").status_code == 200
    assert html.count("indirizzo non ancora indicato dall'ente") == 2  # two enti offer services
    assert html.count("contatti non ancora indicati dall'ente") == 2
    assert html.count("contatto non ancora indicato dall'ente") == 2  # the DPOs
    assert "non ancora indicati dagli enti" in html  # data processors
    assert "mailto:" not in html


def test_privacy_without_catalogue(client, db):
    html = client.get("/privacy").get_data(as_text=True)
    assert "il catalogo dei servizi non è ancora stato caricato" in html


def test_production_starts_and_warns_about_missing_legal_details(database_url, tmp_path, catalogue, monkeypatch,
                                                                 caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")  # in-memory rate limits are fine for one worker
    production = create_app({**_config(database_url, tmp_path / "production"), "SURVEY_ENV": "production"})
    try:
        with caplog.at_level(logging.WARNING):
            response = production.test_client().get("/privacy")
            again = production.test_client().get("/accessibilita")
            production.test_client().get("/privacy")
        assert response.status_code == again.status_code == 200
        assert "contatto non ancora indicato dall'ente" in response.get_data(as_text=True)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        privacy = [w for w in warnings if "privacy page" in w]
        assert len(privacy) == 1  # once per process, not on every visit
        assert "LEGAL_ENTI['comune-test']" in privacy[0] and "dpo_email" in privacy[0]
        assert any("ACCESSIBILITY['data_dichiarazione']" in w for w in warnings)
    finally:
        with production.app_context():
            _db.engine.dispose()


# --- accessibility statement ---------------------------------------------------------------------------------------

def test_accessibility_statement_from_config(client, legal):
    html = client.get("/accessibilita").get_data(as_text=True)
    assert "Comune di Prova si impegna a rendere il proprio sito web accessibile" in html
    assert "si applica al sito http://localhost." in html  # settings.public_base_url()
    assert "Il sito è parzialmente conforme" in html
    assert "<li>Le locandine PDF non sono PDF/UA.</li>" in html
    assert '<time datetime="2025-03-14">14 marzo 2025</time>' in html
    assert '<time datetime="2025-09-30">30 settembre 2025</time>' in html
    assert '<a href="mailto:accessibilita@prova.example">accessibilita@prova.example</a>' in html
    assert "entro 30 giorni" in html
    assert "Difensore civico per il digitale" in html and '<a href="https://www.agid.gov.it/">' in html
    assert "axe-core" in html


def test_accessibility_feedback_by_url_and_public_base_url(app, client, legal):
    app.config["ACCESSIBILITY"] = {**ACCESSIBILITY, "stato": "Conforme", "feedback": "https://form.example/a11y"}
    app.config["PUBLIC_BASE_URL"] = "https://valuta.prova.example/"
    html = client.get("/accessibilita").get_data(as_text=True)
    assert "Il sito è conforme ai requisiti" in html
    assert '<a href="https://form.example/a11y">https://form.example/a11y</a>' in html
    assert "si applica al sito https://valuta.prova.example." in html


def test_accessibility_without_config_says_what_is_missing(app, client, catalogue):
    app.config["ACCESSIBILITY"] = {"stato": "quasi conforme", "data_dichiarazione": "14/03/2025",
                                   "feedback": "javascript:alert(1)"}  # malformed: treated as missing
    html = client.get("/accessibilita").get_data(as_text=True)
    assert "L'amministrazione responsabile di questo sito non è ancora stata indicata." in html
    assert "Lo stato di conformità non è ancora stato dichiarato dall'ente." in html
    assert html.count("non ancora indicata dall'ente") == 2  # both dates
    assert "recapito non ancora indicato dall'ente" in html
    assert "javascript:" not in html and "Difensore civico per il digitale" in html
    app.config["ACCESSIBILITY"] = {"stato": "non conforme"}
    html = client.get("/accessibilita").get_data(as_text=True)
    assert "Il sito non è conforme" in html
    assert "L'elenco dei contenuti non accessibili non è ancora stato indicato dall'ente." in html


def test_english_versions(client, legal):
    privacy = client.get("/privacy?lang=en")
    html = privacy.get_data(as_text=True)
    assert privacy.status_code == 200 and '<html lang="en">' in html
    assert "Privacy notice (art. 13 GDPR)" in html and "What we record" in html
    assert 'href="mailto:dpo@prova.example"' in html
    statement = client.get("/accessibilita?lang=en")
    html = statement.get_data(as_text=True)
    assert statement.status_code == 200 and "Accessibility statement" in html
    assert '<time datetime="2025-03-14">March 14, 2025</time>' in html


# --- estimated length ----------------------------------------------------------------------------------------------

def test_duration_rule_by_hand():
    closed, text, with_importance = (SimpleNamespace(tipo=t, importanza=i) for t, i in
                                     (("scala", False), ("testo", False), ("scala", True)))
    assert estimate_minutes([]) == 1
    assert estimate_minutes([closed] * 7) == 1  # 56 s
    assert estimate_minutes([closed] * 3 + [text]) == 1  # 54 s
    assert estimate_minutes([closed] * 4 + [text]) == 2  # 62 s
    assert estimate_minutes([with_importance] * 8 + [closed] * 4 + [text]) == 4  # 128 + 32 + 30 = 190 s


def test_duration_of_the_test_catalogue(catalogue):
    db = catalogue
    anagrafe = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    vigilanza = db.scalar(select(Servizio).filter_by(slug="vigilanza"))
    # breve: D1 scale + importance (16 s), D2-D6 closed (5 × 8 s), D7 free text (30 s) = 86 s
    assert estimate_minutes(anagrafe.questionario.versione_corrente.domande) == 2
    # faccine: D1 faces (8 s), D2 reasons (8 s) = 16 s
    assert estimate_minutes(vigilanza.questionario.versione_corrente.domande) == 1
    assert minutes_by_questionnaire(db, [anagrafe.questionario_id, vigilanza.questionario_id]) == {
        anagrafe.questionario_id: 2, vigilanza.questionario_id: 1}
    assert minutes_by_questionnaire(db, []) == {}


def test_pages_show_the_computed_length(client, catalogue):
    home = client.get("/").get_data(as_text=True)
    assert "meno di un minuto" not in home
    assert "richiede da 1 a 2 minuti, secondo il servizio" in home
    assert home.count("(circa 2 minuti)") == 2 and home.count("(circa 1 minuto)") == 1
    assert "richiede circa 2 minuti." in client.get("/s/anagrafe").get_data(as_text=True)
    assert "richiede circa 1 minuto." in client.get("/s/vigilanza").get_data(as_text=True)


def test_home_with_one_length_only(client, catalogue):
    db = catalogue
    vigilanza = db.scalar(select(Servizio).filter_by(slug="vigilanza"))
    for slug in ("anagrafe", "tributi"):
        db.scalar(select(Servizio).filter_by(slug=slug)).questionario = vigilanza.questionario
    db.commit()
    assert "il questionario è anonimo e richiede circa 1 minuto." in client.get("/").get_data(as_text=True)


def test_poster_states_the_computed_length(catalogue):
    db = catalogue
    anagrafe = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    svg = poster_svg(poster_for(anagrafe, "sportello-1")).decode()
    assert "Inquadra il codice QR con il telefono: circa 2 minuti, la risposta è anonima." in svg
    assert "30 secondi" not in svg
    vigilanza = db.scalar(select(Servizio).filter_by(slug="vigilanza"))
    assert "circa 1 minuto," in poster_for(vigilanza).instructions


# --- follow-up hints -----------------------------------------------------------------------------------------------

def test_follow_up_hint_names_the_question_it_depends_on(client, catalogue):
    html = client.get("/s/anagrafe").get_data(as_text=True)
    # D6 follows D3, with D4 and D5 in between: "the previous question" would point at D5
    assert ("Rispondi solo se alla domanda «Complessivamente, quanto è soddisfatto?» hai dato meno di 3."
            in html)
    assert "domanda precedente" not in html
    faces = client.get("/s/vigilanza").get_data(as_text=True)
    assert "Rispondi solo se alla domanda «Come valuti il servizio?» hai scelto: faccina rossa." in faces


FOLLOW_UPS = """
questionari:
  - codice: scelte
    titolo: {it: Scelte}
    domande:
      - {codice: D1, tipo: scelta_singola, testo: {it: "Come ci hai contattato?", en: "How did you contact us?"},
         opzioni: [{codice: sportello, testo: {it: allo sportello, en: at the desk}},
                   {codice: telefono, testo: {it: al telefono, en: by phone}}]}
      - {codice: D2, tipo: si_no, testo: {it: "Hai risolto?"}}
      - {codice: D3, tipo: testo, testo: {it: "Che cosa è mancato?"}, mostra_se: {domanda: D2, valori: ["no"]}}
      - {codice: D4, tipo: scala, testo: {it: "Attesa al telefono"}, mostra_se: {domanda: D1, valori: [telefono]}}
enti:
  - codice: ente-scelte
    nome: Comune delle Scelte
    tipo: comune
    uffici:
      - codice: urp
        nome: URP
        servizi:
          - {slug: urp, nome: {it: URP}, questionario: scelte}
"""


def test_follow_up_hint_names_options_and_yes_no_as_shown(client, db, tmp_path):
    path = tmp_path / "scelte.yaml"
    path.write_text(FOLLOW_UPS, encoding="utf-8")
    load_catalogue(db, path)
    html = client.get("/s/urp").get_data(as_text=True)
    assert "Rispondi solo se alla domanda «Hai risolto?» hai scelto: No." in html
    assert "Rispondi solo se alla domanda «Come ci hai contattato?» hai scelto: al telefono." in html
    english = client.get("/s/urp?lang=en").get_data(as_text=True)
    assert "How did you contact us?" in english and "by phone" in english
