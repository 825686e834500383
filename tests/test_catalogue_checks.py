"""Loading the YAML catalogue: what it refuses when checked against the database (a slug another ufficio owns,
standards a questionnaire change would orphan, campaigns on services of another questionnaire)."""

from datetime import datetime

import pytest
from sqlalchemy import select

from survey_app.catalogue import CatalogueError, load_catalogue
from survey_app.models import Compilazione, Servizio, Standard

from .helpers import add_answers
from .test_catalogue import small, snapshot, write


def _refused(db, path) -> str:
    before = snapshot(db)
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(db, path)
    db.rollback()
    assert snapshot(db) == before
    message = "\n".join(excinfo.value.messages)
    assert str(path) in message
    return message


def _new_ente(service: dict) -> dict:
    return {"enti": [{"codice": "altro-comune", "nome": "Comune di Altrove", "tipo": "comune",
                      "uffici": [{"codice": "tributi", "nome": "Ufficio tributi", "servizi": [service]}]}]}


def test_a_new_entry_with_a_slug_another_ufficio_owns_is_refused(catalogue, runner, tmp_path):
    """It took that service over: moved, renamed, its questionnaire switched under standards on D3."""
    db = catalogue
    add_answers(db, "anagrafe", datetime(2026, 3, 2, 10), {"D3": 5})
    path = write(tmp_path, _new_ente({"slug": "anagrafe", "nome": {"it": "Anagrafe di Altrove"},
                                      "questionario": "faccine"}))
    message = _refused(db, path)
    assert ("enti[1] «altro-comune» › uffici[1] «tributi» › servizi[1] «anagrafe» › campo 'slug': esiste già un "
            "servizio «anagrafe», nell'ente «comune-test» (Comune di Prova), ufficio «demografici» "
            "(Servizi demografici)") in message
    assert "sposta_da: {ente: comune-test, ufficio: demografici}" in message
    assert message.count(str(path)) == 1  # not also blamed for the stored service's standards on D3
    result = runner.invoke(args=["catalogue", "load", str(path)])
    assert result.exit_code == 1 and "esiste già un servizio «anagrafe»" in result.output


def test_a_service_moves_only_when_the_file_says_from_where(catalogue, tmp_path):
    db = catalogue
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    old_id = servizio.id
    add_answers(db, "anagrafe", datetime(2026, 3, 2, 10), {"D3": 5})
    entry = {"slug": "anagrafe", "nome": {"it": "Anagrafe"}, "questionario": "breve",
             "sposta_da": {"ente": "comune-test", "ufficio": "tributi"}}
    message = _refused(db, write(tmp_path, _new_ente(entry)))
    assert ("servizi[1] «anagrafe» › campo 'sposta_da': il servizio «anagrafe» è nell'ente «comune-test» "
            "(Comune di Prova), ufficio «demografici» (Servizi demografici), non nell'ente «comune-test», "
            "ufficio «tributi»") in message

    entry["sposta_da"]["ufficio"] = "demografici"
    path = write(tmp_path, _new_ente(entry))
    report = load_catalogue(db, path)
    assert report.updated["servizi"] == 1 and report.created["servizi"] == 0
    db.expire_all()
    moved = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    assert (moved.id, moved.ente.codice, moved.ufficio.codice) == (old_id, "altro-comune", "tributi")
    assert [c.servizio_id for c in db.scalars(select(Compilazione))] == [old_id]
    assert len(moved.sedi) == 2 and len(moved.standard) == 3  # it keeps its counters and standards
    # The same file again: the service is where it says, sposta_da is not read.
    assert not load_catalogue(db, path).changed


def test_reloading_keeps_updating_services_in_place(catalogue, tmp_path):
    data = small()
    data["enti"][2]["uffici"][0]["servizi"][1]["nome"] = {"it": "Tributi e tasse"}
    report = load_catalogue(catalogue, write(tmp_path, data))
    assert report.updated["servizi"] == 1 and report.created["servizi"] == 0


def test_a_new_questionnaire_must_have_the_questions_of_the_stored_standards(catalogue, tmp_path):
    data = small()
    anagrafe = data["enti"][2]["uffici"][0]["servizi"][0]
    anagrafe["questionario"] = "faccine"
    del anagrafe["standard"]  # left out of the file, they stay in the database
    message = _refused(catalogue, write(tmp_path, data))
    assert ("servizi[1] «anagrafe» › campo 'questionario': il questionario «faccine» non ha la domanda «D3», a cui "
            "si riferisce uno standard già salvato del servizio «anagrafe» (quota_soddisfatti, soglia 80, "
            "domanda D3). Eliminare prima lo standard dalla pagina del servizio, oppure lasciare il questionario "
            "«breve»") in message
    assert "(media, soglia 4, domanda D3)" in message


def test_new_questions_must_keep_the_questions_of_the_stored_standards(catalogue, tmp_path):
    data = small()
    breve = data["questionari"][0]
    breve["domande"] = [d for d in breve["domande"] if d["codice"] not in ("D3", "D6")]
    message = _refused(catalogue, write(tmp_path, {"questionari": [breve]}))
    assert ("questionari[1] «breve» › campo 'domande': il questionario così non ha la domanda «D3», a cui si "
            "riferisce uno standard già salvato del servizio «anagrafe» (quota_soddisfatti, soglia 80, domanda D3)"
            ) in message

    breve = small()["questionari"][0]
    breve["domande"][2]["scala_max"] = 3
    message = _refused(catalogue, write(tmp_path, {"questionari": [breve]}))
    assert ("il questionario così renderebbe impossibile valutare uno standard già salvato del servizio «anagrafe» "
            "(media, soglia 4, domanda D3): la media di «D3» va da 1 a 3: la soglia 4 è fuori scala") in message


def _campaign(**changes) -> dict:
    return {"codice": "cs-2026", "titolo": "CS 2026", "questionario": "breve", "servizi": ["anagrafe"],
            "dal": "2026-03-01", "al": "2026-04-30", **changes}


def test_a_campaign_on_a_service_of_another_questionnaire_is_refused(catalogue, tmp_path):
    data = small()
    data["rilevazioni"] = [_campaign(servizi=["anagrafe", "vigilanza"])]
    message = _refused(catalogue, write(tmp_path, data))
    assert ("rilevazioni[1] «cs-2026» › campo 'servizi': il servizio «vigilanza» usa il questionario «faccine», "
            "non «breve» della rilevazione") in message
    assert "«anagrafe»" not in message
    # The file's own questionnaire for the service counts, not the stored one.
    data["enti"][0]["uffici"][0]["servizi"][0].update(questionario="breve", standard=[])
    assert load_catalogue(catalogue, write(tmp_path, data)).created["rilevazioni"] == 1


def test_a_service_the_campaign_already_had_stays_after_a_questionnaire_change(catalogue, tmp_path):
    """As on the staff page: the campaign keeps its answers for the service, and its export loads again."""
    data = small()
    data["rilevazioni"] = [_campaign()]
    load_catalogue(catalogue, write(tmp_path, data))
    anagrafe = data["enti"][2]["uffici"][0]["servizi"][0]
    anagrafe.update(questionario="faccine", standard=[])
    catalogue.execute(Standard.__table__.delete())  # the standards on D3, which faccine lacks
    catalogue.commit()
    report = load_catalogue(catalogue, write(tmp_path, data))
    assert report.updated["servizi"] == 1


def test_every_mistake_of_the_campaigns_in_one_run(catalogue, tmp_path):
    data = small()
    data["rilevazioni"] = [_campaign(campione_obiettivo=-5, dal="2026-05-01", servizi=["anagrafe", "vigilanza"]),
                           _campaign(codice="cs-2027", servizi=["mensa"])]
    data["questionari"][1]["domande"][0]["tipo"] = "stelline"  # a refused questionnaire is not called unknown
    message = _refused(catalogue, write(tmp_path, data))
    assert "rilevazioni[1] «cs-2026» › campo 'al': il periodo termina (2026-04-30) prima di iniziare (2026-05-01)" \
        in message
    assert "rilevazioni[1] «cs-2026» › campo 'campione_obiettivo': deve essere maggiore di 0" in message
    assert "rilevazioni[1] «cs-2026» › campo 'servizi': il servizio «vigilanza» usa il questionario «faccine»" \
        in message
    assert "rilevazioni[2] «cs-2027» › campo 'servizi': servizio sconosciuto «mensa»" in message
    assert "questionari[2] «faccine» › domande[1] «D1» › campo 'tipo'" in message
    assert "sconosciuto «faccine»" not in message
