"""The admin's catalogue pages: services, counters, standards and questionnaire wording, checked by the catalogue's
schema, audited, exported; answered questionnaire versions never change; roles and CSRF."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from survey_app.catalogue import load_catalogue
from survey_app.catalogue.export import catalogue_data
from survey_app.models import (
    AuditLog,
    AzioneMiglioramento,
    Domanda,
    Questionario,
    QuestionarioVersione,
    Sede,
    Servizio,
    Standard,
)

from .helpers import add_answers, csrf_token, login

URL = "/staff/catalogo/"
SERVICE = f"{URL}servizi/anagrafe"
QUESTIONNAIRES = f"{URL}questionari/"


@pytest.fixture
def admin(catalogue, client, runner):
    login(client, runner, "admin@example.org", "--role", "admin")
    return client


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def token(client, url: str = URL) -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def service(session, slug: str = "anagrafe") -> Servizio:
    session.expire_all()
    return session.scalar(select(Servizio).filter_by(slug=slug))


def audits(session, action: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).filter_by(azione=action).order_by(AuditLog.id)))


def catalogue_audits(session) -> list[str]:
    return [a for a in session.scalars(select(AuditLog.azione))
            if a.split(".")[0] in ("servizio", "sede", "standard", "questionario")]


def exported_service(session, slug: str) -> dict:
    data = catalogue_data(session)
    return next(s for e in data["enti"] for u in e.get("uffici", []) for s in u.get("servizi", [])
                if s["slug"] == slug)


def service_form(client, **overrides) -> dict:
    data = {"csrf_token": token(client, SERVICE), "nome_it": "Anagrafe", "nome_en": "Registry office",
            "descrizione_it": "", "descrizione_en": "", "utenti_annui": "5000", "questionario": "breve",
            "questionario_chiosco": "faccine"}
    return {**data, **overrides}


def test_the_catalogue_lists_services_by_ente_and_office(admin):
    html = page(admin.get(URL))
    assert "Comune di Prova" in html and "Unione Test" in html and "Servizi demografici" in html
    assert f'href="{SERVICE}"' in html and 'href="/staff/catalogo/servizi/vigilanza"' in html
    assert "flask catalogue export" in html
    assert 'href="/staff/catalogo/"' in page(admin.get("/staff/password"))  # in the admin's menu


def test_service_edits_are_saved_audited_and_exported(admin, catalogue):
    response = admin.post(SERVICE, data=service_form(
        admin, nome_it="Anagrafe e stato civile", descrizione_it="Certificati e residenza",
        descrizione_en="Certificates", utenti_annui="6200", questionario_chiosco=""))
    assert response.status_code == 302 and response.headers["Location"].endswith(SERVICE)
    s = service(catalogue)
    assert (s.nome_it, s.descrizione_it, s.descrizione_en, s.utenti_annui) == (
        "Anagrafe e stato civile", "Certificati e residenza", "Certificates", 6200)
    assert s.questionario_chiosco is None
    [audit] = audits(catalogue, "servizio.modifica")
    assert audit.oggetto == "servizio anagrafe" and audit.utente_id is not None
    assert audit.dettagli["prima"]["utenti_annui"] == 5000 and audit.dettagli["dopo"]["utenti_annui"] == 6200
    assert audit.dettagli["prima"]["questionario_chiosco"] == "faccine"
    assert audit.dettagli["dopo"]["questionario_chiosco"] is None
    entry = exported_service(catalogue, "anagrafe")
    assert entry["nome"] == {"it": "Anagrafe e stato civile", "en": "Registry office"}
    assert entry["descrizione"] == {"it": "Certificati e residenza", "en": "Certificates"}
    assert entry["utenti_annui"] == 6200 and "questionario_chiosco" not in entry
    # The same values again: nothing to save, nothing audited.
    again = admin.post(SERVICE, data=service_form(
        admin, nome_it="Anagrafe e stato civile", descrizione_it="Certificati e residenza",
        descrizione_en="Certificates", utenti_annui="6200", questionario_chiosco=""), follow_redirects=True)
    assert "Nessuna modifica da salvare." in page(again)
    assert len(audits(catalogue, "servizio.modifica")) == 1


def test_invalid_service_input_is_refused_on_its_fields(admin, catalogue):
    response = admin.post(SERVICE, data=service_form(admin, nome_it="", utenti_annui="molti", questionario="boh",
                                                     descrizione_en="Only English"))
    assert response.status_code == 400
    html = page(response)
    for message in ("Nome (italiano): non può essere vuoto.",
                    "Utenti annui: indicare un numero intero, senza punti né spazi (es. 4500).",
                    "Questionario: scegliere uno dei questionari caricati.",
                    "Descrizione (italiano): non può essere vuoto."):
        assert message in html
    assert 'id="nome_it-errore"' in html and 'aria-invalid="true"' in html
    response = admin.post(SERVICE, data=service_form(admin, utenti_annui="0", nome_en="x" * 201))
    assert response.status_code == 400 and "Utenti annui: deve essere maggiore di 0." in page(response)
    assert "Nome (inglese): al massimo 200 caratteri." in page(response)  # the column's size
    s = service(catalogue)
    assert (s.nome_it, s.utenti_annui, s.descrizione_en) == ("Anagrafe", 5000, None)
    assert audits(catalogue, "servizio.modifica") == []


def test_another_questionnaire_must_have_the_questions_of_the_standards(admin, catalogue):
    response = admin.post(SERVICE, data=service_form(admin, questionario="faccine"))
    assert response.status_code == 400
    assert "«Mettiamoci la faccia» non ha le domande D3" in page(response)
    assert service(catalogue).questionario.codice == "breve"
    # tributi has no standards: it may switch.
    url = f"{URL}servizi/tributi"
    response = admin.post(url, data={"csrf_token": token(admin, url), "nome_it": "Tributi", "questionario": "faccine"})
    assert response.status_code == 302
    assert service(catalogue, "tributi").questionario.codice == "faccine"


def test_a_new_service(admin, catalogue):
    office = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe")).ufficio_id
    data = {"csrf_token": token(admin), "ufficio": str(office), "slug": "stato-civile", "nome_it": "Stato civile",
            "questionario": "breve"}
    response = admin.post(URL, data={**data, "slug": "Stato Civile", "nome_it": "", "ufficio": "999",
                                     "questionario": ""})
    assert response.status_code == 400
    html = page(response)
    for message in ("Codice del servizio: solo lettere minuscole, cifre e trattini", "Nome (italiano): non può "
                    "essere vuoto.", "Ufficio: scegliere l'ufficio del servizio.", "Questionario: campo "
                    "obbligatorio."):
        assert message in html
    response = admin.post(URL, data={**data, "slug": "tributi"})
    assert response.status_code == 400 and "esiste già un servizio «tributi»" in page(response)
    response = admin.post(URL, data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{URL}servizi/stato-civile")
    created = service(catalogue, "stato-civile")
    assert (created.nome_it, created.ufficio_id, created.questionario.codice) == ("Stato civile", office, "breve")
    [audit] = audits(catalogue, "servizio.crea")
    assert audit.oggetto == "servizio stato-civile" and audit.dettagli["ufficio"] == "demografici"
    assert exported_service(catalogue, "stato-civile") == {"slug": "stato-civile", "nome": {"it": "Stato civile"},
                                                           "questionario": "breve"}
    assert admin.get(f"{URL}servizi/stato-civile").status_code == 200


def sede_url(session, code: str, slug: str = "anagrafe") -> str:
    sede = session.scalar(select(Sede).join(Sede.servizio).where(Servizio.slug == slug, Sede.codice == code))
    return f"{URL}servizi/{slug}/sedi/{sede.id}"


def test_counters_are_added_edited_and_deleted_with_audit(admin, catalogue):
    add = f"{SERVICE}/sedi"
    data = {"csrf_token": token(admin, SERVICE), "codice": "sportello-3", "nome": "Sportello 3",
            "indirizzo": "Via Roma 1", "comune": ""}
    response = admin.post(add, data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{SERVICE}#sedi")
    [created] = audits(catalogue, "sede.crea")
    assert created.oggetto == "sede anagrafe/sportello-3"
    assert created.dettagli == {"dopo": {"codice": "sportello-3", "nome": "Sportello 3", "indirizzo": "Via Roma 1",
                                         "comune": None}}
    for bad, message in (({"codice": "sportello-1"}, "Codice della sede: il servizio ha già una sede «sportello-1»."),
                         ({"codice": "Sportello 4"}, "Codice della sede: solo lettere minuscole"),
                         ({"codice": "sportello-4", "nome": ""}, "Nome della sede: non può essere vuoto."),
                         ({"codice": "sportello-4", "comune": "borgo-test"},
                          "Comune dell'unione: scegliere uno dei comuni dell'unione.")):
        response = admin.post(add, data={**data, **bad})
        assert response.status_code == 400 and message in page(response), bad
    assert len(service(catalogue).sedi) == 3
    url = sede_url(catalogue, "sportello-3")
    assert 'value="Via Roma 1"' in page(admin.get(url))
    response = admin.post(url, data={**data, "csrf_token": token(admin, url), "codice": "sportello-tre",
                                     "indirizzo": ""})
    assert response.status_code == 302
    [edited] = audits(catalogue, "sede.modifica")
    assert edited.dettagli["prima"]["codice"] == "sportello-3" and edited.dettagli["dopo"]["codice"] == "sportello-tre"
    assert edited.dettagli["dopo"]["indirizzo"] is None
    assert {"codice": "sportello-tre", "nome": "Sportello 3"} in exported_service(catalogue, "anagrafe")["sedi"]
    # The first button only asks (WCAG 3.3.4): a POST without the second one deletes nothing, and says so.
    unconfirmed = admin.post(f"{url}/elimina", data={"csrf_token": token(admin, url)}, follow_redirects=True)
    assert "va confermata con il secondo pulsante" in page(unconfirmed) and len(service(catalogue).sedi) == 3
    assert "Eliminare la sede «Sportello 3»?" in page(admin.get(SERVICE))
    response = admin.post(f"{url}/elimina", data={"csrf_token": token(admin, url), "conferma": "1"})
    assert response.status_code == 302
    assert [s.codice for s in service(catalogue).sedi] == ["sportello-1", "sportello-2"]
    [deleted] = audits(catalogue, "sede.elimina")
    assert deleted.oggetto == "sede anagrafe/sportello-tre" and deleted.dettagli["prima"]["nome"] == "Sportello 3"


def test_a_counter_with_answers_keeps_its_code_and_is_never_deleted(admin, catalogue):
    answer = add_answers(catalogue, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5})
    answer.sede = service(catalogue).sedi[0]
    catalogue.commit()
    url = sede_url(catalogue, "sportello-1")
    assert "ha già 1 questionario raccolto" in page(admin.get(url))
    response = admin.post(f"{url}/elimina", data={"csrf_token": token(admin, url), "conferma": "1"}, follow_redirects=True)
    assert "La sede «Sportello 1» ha già 1 questionario raccolto, che resta collegato a lei: non si può eliminare." \
        in page(response)
    assert len(service(catalogue).sedi) == 2 and audits(catalogue, "sede.elimina") == []
    data = {"csrf_token": token(admin, url), "codice": "sportello-uno", "nome": "Sportello 1", "indirizzo": ""}
    response = admin.post(url, data=data)
    assert response.status_code == 400 and "con il codice «sportello-1»" in page(response)
    response = admin.post(url, data={**data, "codice": "sportello-1", "nome": "Sportello uno"})
    assert response.status_code == 302 and service(catalogue).sedi[0].nome == "Sportello uno"


def test_an_unions_counter_names_a_member_comune(admin, catalogue):
    url = f"{URL}servizi/vigilanza"
    html = page(admin.get(url))
    assert '<option value="borgo-test">Comune di Borgo Test</option>' in html
    data = {"csrf_token": token(admin, url), "codice": "presidio", "nome": "Presidio"}
    response = admin.post(f"{url}/sedi", data={**data, "comune": "comune-test"})  # not a member
    assert response.status_code == 400 and "scegliere uno dei comuni dell'unione" in page(response)
    assert admin.post(f"{url}/sedi", data={**data, "comune": "borgo-test"}).status_code == 302
    assert {"codice": "presidio", "nome": "Presidio", "comune": "borgo-test"} in exported_service(
        catalogue, "vigilanza")["sedi"]
    # A comune's service has no comune to choose.
    assert 'id="comune"' not in page(admin.get(SERVICE))


def test_standards_follow_the_schemas_rules(admin, catalogue):
    add = f"{SERVICE}/standard"
    data = {"csrf_token": token(admin, SERVICE), "indicatore": "quota_soddisfatti", "soglia": "120", "domanda": "D1",
            "descrizione": ""}
    response = admin.post(add, data=data)
    assert response.status_code == 400
    assert "Soglia: la soglia della quota di soddisfatti è una percentuale tra 0 e 100." in page(response)
    for bad, message in (({"soglia": "molto"}, "Soglia: indicare un numero, con la virgola per i decimali"),
                         ({"soglia": ""}, "Soglia: campo obbligatorio."),
                         ({"indicatore": "mediana", "soglia": "3"}, "Indicatore: valore non ammesso."),
                         ({"soglia": "80", "domanda": "D7"}, "Domanda: scegliere una domanda con valutazione"),
                         ({"soglia": "70", "domanda": "D3"}, "Dall'anno: negli stessi anni vale già lo standard "
                                                           "«% soddisfatti ≥ 80 (D3)» (tutti gli anni)"),
                         # A target that could never be judged fairly: a mean off the scale, a "share" of an NPS.
                         ({"indicatore": "media", "soglia": "7"}, "Soglia: la media di D1 va da 1 a 5, la soglia è "
                                                                  "fuori scala."),
                         ({"indicatore": "media", "soglia": "7", "domanda": ""}, "Soglia: la media di D1 va da 1 a 5"),
                         ({"soglia": "30", "domanda": "D4"}, "Domanda: D4 è una domanda NPS"),
                         # 70% written as a fraction: a target of 0,7% (the YAML load refuses it too).
                         ({"soglia": "0,7"}, "Soglia: la soglia della quota di soddisfatti è in punti percentuali: "
                                             "0,7 vorrebbe dire 0,7%; scrivere 70 per indicare 70%")):
        response = admin.post(add, data={**data, **bad})
        assert response.status_code == 400 and message in page(response), bad
    assert 'id="soglia-errore"' in page(admin.post(add, data=data))
    assert len(service(catalogue).standard) == 3 and audits(catalogue, "standard.crea") == []
    response = admin.post(add, data={**data, "indicatore": "media", "soglia": "3,8", "descrizione": "Cortesia"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{SERVICE}#standard")
    new = service(catalogue).standard[-1]
    assert (new.indicatore, new.soglia, new.domanda_codice, new.descrizione) == ("media", Decimal("3.80"), "D1",
                                                                                 "Cortesia")
    [created] = audits(catalogue, "standard.crea")
    assert created.oggetto == "standard anagrafe/media/D1" and created.dettagli["dopo"]["soglia"] == 3.8
    assert {"indicatore": "media", "soglia": 3.8, "domanda": "D1", "descrizione": "Cortesia"} in exported_service(
        catalogue, "anagrafe")["standard"]
    html = page(admin.get(SERVICE))
    assert '<td class="num">3,8</td>' in html and '<td class="num">80%</td>' in html
    url = f"{SERVICE}/standard/{new.id}"
    assert 'value="3,8"' in page(admin.get(url))
    response = admin.post(url, data={**data, "csrf_token": token(admin, url), "indicatore": "media", "soglia": "4",
                                     "domanda": ""})
    assert response.status_code == 302
    [edited] = audits(catalogue, "standard.modifica")
    assert edited.dettagli["prima"] == {"indicatore": "media", "soglia": 3.8, "domanda": "D1",
                                        "descrizione": "Cortesia", "dal": None, "al": None}
    assert edited.dettagli["dopo"] == {"indicatore": "media", "soglia": 4.0, "domanda": None, "descrizione": None,
                                       "dal": None, "al": None}


def test_deleting_a_standard_keeps_the_actions_it_prompted(admin, catalogue):
    s = service(catalogue)
    standard = s.standard[0]
    catalogue.add(AzioneMiglioramento(servizio_id=s.id, standard_id=standard.id, indicatore=standard.indicatore,
                                      domanda_codice="D3", titolo="Più sportelli", descrizione="…",
                                      ufficio_id=s.ufficio_id, data_inizio=date(2025, 1, 1),
                                      data_scadenza=date(2025, 6, 30)))
    catalogue.commit()
    url = f"{SERVICE}/standard/{standard.id}"
    response = admin.post(f"{url}/elimina", data={"csrf_token": token(admin, url), "conferma": "1"}, follow_redirects=True)
    assert "Standard eliminato." in page(response) and "1 azione di miglioramento lo citava" in page(response)
    catalogue.expire_all()
    assert catalogue.get(Standard, standard.id) is None
    action = catalogue.scalar(select(AzioneMiglioramento))
    assert action.standard_id is None and action.domanda_codice == "D3"
    [deleted] = audits(catalogue, "standard.elimina")
    assert deleted.oggetto == "standard anagrafe/quota_soddisfatti/D3"
    assert deleted.dettagli["prima"]["soglia"] == 80.0


def test_parts_of_another_service_are_not_found(admin, catalogue):
    other = catalogue.scalar(select(Sede).filter_by(codice="comando"))
    assert admin.get(f"{SERVICE}/sedi/{other.id}").status_code == 404
    standard = service(catalogue, "vigilanza").standard[0]
    assert admin.get(f"{SERVICE}/standard/{standard.id}").status_code == 404
    assert admin.get(f"{URL}servizi/nessuno").status_code == 404


def questionnaire_form(client, session, code: str = "breve", **overrides) -> dict:
    """The questionnaire's page as it is, then the overrides (field names as posted)."""
    url = f"{QUESTIONNAIRES}{code}"
    session.expire_all()
    q = session.scalar(select(Questionario).filter_by(codice=code))
    data = {"csrf_token": token(client, url), "titolo_it": q.titolo_it, "titolo_en": q.titolo_en or "",
            "introduzione_it": q.introduzione_it or "", "introduzione_en": q.introduzione_en or ""}
    for i, d in enumerate(q.versione_corrente.domande):
        data[f"domande-{i}-codice"] = d.codice
        for name in ("testo_it", "testo_en", "aiuto_it", "aiuto_en"):
            data[f"domande-{i}-{name}"] = getattr(d, name) or ""
    return {**data, **overrides}


def versions(session, code: str = "breve") -> list[QuestionarioVersione]:
    session.expire_all()
    return list(session.scalar(select(Questionario).filter_by(codice=code)).versioni)


def test_questionnaires_list_their_version_and_answers(admin, catalogue):
    add_answers(catalogue, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5})
    html = page(admin.get(QUESTIONNAIRES))
    assert "Questionario breve" in html and "Mettiamoci la faccia" in html
    assert f'href="{QUESTIONNAIRES}breve"' in html
    assert "nel file YAML del catalogo" in html


def test_wording_without_answers_updates_the_version_in_place(admin, catalogue):
    url = f"{QUESTIONNAIRES}breve"
    assert "non ha ancora risposte" in page(admin.get(url))
    response = admin.post(url, data=questionnaire_form(admin, catalogue, **{
        "domande-2-testo_it": "Nel complesso, quanto è soddisfatto?", "domande-2-aiuto_it": "Pensi all'ultima visita",
        "titolo_en": "Brief questionnaire"}), follow_redirects=True)
    assert "Versione 1 aggiornata: non aveva ancora risposte." in page(response)
    [version] = versions(catalogue)
    d3 = version.domande[2]
    assert (d3.codice, d3.testo_it, d3.testo_en, d3.aiuto_it) == (
        "D3", "Nel complesso, quanto è soddisfatto?", "Overall, how satisfied are you?", "Pensi all'ultima visita")
    assert version.domande[0].importanza and version.domande[5].mostra_se == {"domanda": "D3", "minore_di": 3}
    [audit] = audits(catalogue, "questionario.modifica")
    assert audit.oggetto == "questionario breve" and not audit.dettagli["nuova_versione"]
    assert audit.dettagli["prima"]["domande"]["D3"]["testo"] == {"it": "Complessivamente, quanto è soddisfatto?",
                                                                 "en": "Overall, how satisfied are you?"}
    assert audit.dettagli["dopo"]["domande"]["D3"]["aiuto"] == {"it": "Pensi all'ultima visita"}
    assert list(audit.dettagli["dopo"]["domande"]) == ["D3"]  # only what changed
    assert audit.dettagli["prima"]["titolo"] == {"it": "Questionario breve", "en": "Short questionnaire"}


def test_wording_with_answers_makes_a_new_version_and_the_answered_one_stays(admin, catalogue, tmp_path):
    add_answers(catalogue, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5})
    url = f"{QUESTIONNAIRES}breve"
    assert "salvare crea la versione 2" in page(admin.get(url))
    response = admin.post(url, data=questionnaire_form(admin, catalogue, **{"domande-2-testo_it": "Nel complesso?"}),
                          follow_redirects=True)
    assert "Salvato nella nuova versione 2: la versione 1 ha già risposte e resta com'era" in page(response)
    old, new = versions(catalogue)
    assert (old.numero, new.numero) == (1, 2)
    assert old.domande[2].testo_it == "Complessivamente, quanto è soddisfatto?"
    assert new.domande[2].testo_it == "Nel complesso?" and len(new.domande) == len(old.domande) == 7
    assert [o.codice for o in new.domande[5].opzioni] == ["attesa", "informazioni"]
    [audit] = audits(catalogue, "questionario.modifica")
    assert audit.dettagli["nuova_versione"] and audit.dettagli["versione"] == {"prima": 1, "dopo": 2}
    # The export holds the new wording, and loading it changes nothing.
    data = next(q for q in catalogue_data(catalogue)["questionari"] if q["codice"] == "breve")
    assert data["domande"][2]["testo"]["it"] == "Nel complesso?"
    from survey_app.catalogue.export import export_yaml

    path = tmp_path / "catalogo.yaml"
    path.write_text(export_yaml(catalogue), encoding="utf-8")
    assert not load_catalogue(catalogue, path).changed
    # A title alone is not a question: no version 3 even though version 2 now has answers.
    add_answers(catalogue, "anagrafe", datetime(2025, 3, 4, 10), {"D3": 4})
    response = admin.post(url, data=questionnaire_form(admin, catalogue, titolo_it="Questionario breve 2025"),
                          follow_redirects=True)
    assert "Titolo e introduzione aggiornati; le domande non sono cambiate." in page(response)
    assert len(versions(catalogue)) == 2


def test_invalid_wording_is_refused_and_nothing_changes(admin, catalogue):
    url = f"{QUESTIONNAIRES}breve"
    response = admin.post(url, data=questionnaire_form(admin, catalogue, titolo_it="", **{"domande-1-testo_it": "",
                                                                              "domande-1-aiuto_en": "Help only"}))
    assert response.status_code == 400
    html = page(response)
    assert "Titolo (italiano): non può essere vuoto." in html
    assert html.count("Testo (italiano): non può essere vuoto.") == 2 and 'id="domande-1-testo_it-errore"' in html
    # The summary above the form lists the three, each a link to its field, a question's too.
    summary = html.split('id="riepilogo-errori">', 1)[1].split("</div>", 1)[0]
    assert "Il modulo contiene 3 errori:" in summary
    assert '<a href="#domande-1-testo_it">Testo (italiano): non può essere vuoto.</a>' in summary
    assert '<a href="#titolo_it">Titolo (italiano): non può essere vuoto.</a>' in summary
    assert "Aiuto (italiano): non può essere vuoto." in html
    [version] = versions(catalogue)
    assert version.domande[1].testo_it == "Tempi di attesa"
    assert audits(catalogue, "questionario.modifica") == []
    # Extra or missing question entries never change the structure.
    data = questionnaire_form(admin, catalogue, **{"domande-7-codice": "D8", "domande-7-testo_it": "In più"})
    del data["domande-6-testo_it"]
    response = admin.post(url, data=data)
    assert response.status_code == 400 and "Testo (italiano): non può essere vuoto." in page(response)
    assert catalogue.scalar(select(func.count()).select_from(Domanda)) == 9
    # Questions changed by the YAML after the page was opened: the texts would land on other questions.
    data = questionnaire_form(admin, catalogue, **{"domande-0-codice": "D2", "domande-1-codice": "D1"})
    response = admin.post(url, data=data)
    assert response.status_code == 400 and "sono cambiate dopo l'apertura di questa pagina" in page(response)
    assert versions(catalogue)[0].domande[0].testo_it == "Quanto è soddisfatto della cortesia?"
    assert admin.get(f"{QUESTIONNAIRES}nessuno").status_code == 404


PAGES = [URL, SERVICE, f"{URL}questionari/", f"{URL}questionari/breve"]


@pytest.mark.parametrize("options", [("--role", "trasparenza"), ("--role", "responsabile", "--scope", "anagrafe"),
                                     ("--role", "rilevatore", "--scope", "anagrafe", "--firm", "Doxa")])
def test_other_roles_get_403(catalogue, client, runner, options):
    login(client, runner, "someone@example.org", *options)
    sede, standard = service(catalogue).sedi[0], service(catalogue).standard[0]
    parts = [f"{SERVICE}/sedi/{sede.id}", f"{SERVICE}/standard/{standard.id}"]
    for url in PAGES + parts:
        assert client.get(url).status_code == 403, url
    data = {"csrf_token": token(client, "/staff/password"), "nome_it": "X", "codice": "x", "nome": "X",
            "indicatore": "media", "soglia": "4", "titolo_it": "X"}
    for url in PAGES + parts + [f"{SERVICE}/sedi", f"{SERVICE}/standard", f"{parts[0]}/elimina",
                                f"{parts[1]}/elimina"]:
        assert client.post(url, data=data).status_code in (403, 405), url
    assert service(catalogue).nome_it == "Anagrafe" and len(service(catalogue).sedi) == 2
    assert catalogue_audits(catalogue) == []


def test_anonymous_goes_to_login(catalogue, client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_csrf_is_required(admin, catalogue):
    s = service(catalogue)
    sede, standard = s.sedi[0], s.standard[0]
    posts = {SERVICE: service_form(admin, nome_it="Senza token"),
             f"{SERVICE}/sedi": {"codice": "sportello-9", "nome": "Nove"},
             f"{SERVICE}/sedi/{sede.id}": {"codice": "sportello-1", "nome": "Senza token"},
             f"{SERVICE}/sedi/{sede.id}/elimina": {},
             f"{SERVICE}/standard": {"indicatore": "media", "soglia": "4", "domanda": "D1"},
             f"{SERVICE}/standard/{standard.id}/elimina": {},
             f"{QUESTIONNAIRES}breve": questionnaire_form(admin, catalogue, titolo_it="Senza token"),
             URL: {"ufficio": str(s.ufficio_id), "slug": "nuovo", "nome_it": "Nuovo", "questionario": "breve"}}
    for url, data in posts.items():
        data.pop("csrf_token", None)
        assert admin.post(url, data=data).status_code == 400, url
    s = service(catalogue)
    assert s.nome_it == "Anagrafe" and len(s.sedi) == 2 and len(s.standard) == 3
    assert catalogue.scalar(select(Questionario.titolo_it).filter_by(codice="breve")) == "Questionario breve"
    assert catalogue.scalar(select(func.count()).select_from(Servizio)) == 3
    assert catalogue_audits(catalogue) == []



def test_control_characters_are_refused_in_every_catalogue_text_and_nothing_is_saved(admin, catalogue, tmp_path):
    """A vertical tab (Word's Shift+Enter) in a service's name was saved: the firms' XLSX template was then a 500,
    the posters' SVG unreadable, and the published CSV kept it while the same version's workbook dropped it. Each
    text of the catalogue is refused beside its field, as on the command line; and a service's yearly users have a
    ceiling (10^20 was a 500 and 2^63 was stored)."""
    from survey_app.models import Rilevazione

    from .test_campaigns import form_data

    vt = "Tributi\x0blocali"
    for data, field in ((service_form(admin, nome_it=vt), "nome_it"),
                        (service_form(admin, descrizione_en="Two\x0blines"), "descrizione_en")):
        response = admin.post(SERVICE, data=data)
        html = page(response)
        assert response.status_code == 400 and f'id="{field}-errore"' in html, field
        assert "il testo contiene caratteri di controllo non ammessi: ricopiarlo senza" in html, field
    response = admin.post(SERVICE, data=service_form(admin, utenti_annui="99999999999999999999"))
    assert response.status_code == 400 and "Utenti annui: al massimo 100.000.000 l'anno." in page(response)
    assert service(catalogue).utenti_annui == 5000 and audits(catalogue, "servizio.modifica") == []
    counter = {"csrf_token": token(admin, SERVICE), "codice": "sportello-3", "nome": "Sportello\x02",
               "indirizzo": "", "comune": ""}
    response = admin.post(f"{SERVICE}/sedi", data=counter)
    assert response.status_code == 400 and "Nome della sede: il testo contiene caratteri di controllo" in page(response)
    response = admin.post(f"{SERVICE}/sedi", data={**counter, "nome": "Sportello 3", "indirizzo": "Via\x0bRoma"})
    assert response.status_code == 400 and "Indirizzo: il testo contiene caratteri di controllo" in page(response)
    standard = {"csrf_token": token(admin, SERVICE), "indicatore": "media", "soglia": "4", "domanda": "D1",
                "descrizione": "Corte\x0csia"}
    assert admin.post(f"{SERVICE}/standard", data=standard).status_code == 400
    url = f"{QUESTIONNAIRES}breve"
    response = admin.post(url, data=questionnaire_form(admin, catalogue, **{"domande-1-testo_it": "Atte\x0bsa"}))
    assert response.status_code == 400 and 'id="domande-1-testo_it-errore"' in page(response)
    response = admin.post("/staff/rilevazioni/", data=form_data(admin, "/staff/rilevazioni/", titolo="Prima\x0bvera"))
    assert response.status_code == 400 and 'id="titolo-errore"' in page(response)
    assert catalogue.scalar(select(func.count()).select_from(Sede).filter_by(codice="sportello-3")) == 0
    assert catalogue.scalar(select(func.count()).select_from(Rilevazione)) == 0
    assert catalogue_audits(catalogue) == []
    # The catalogue file says the same, naming where.
    from .test_catalogue import small, write

    data = small()
    data["enti"][-1]["uffici"][0]["servizi"][0]["nome"] = {"it": vt}
    with pytest.raises(Exception, match="caratteri di controllo"):
        load_catalogue(catalogue, write(tmp_path, data))
