"""Loading the YAML catalogue: upsert, idempotence, versioning, and refusals that name the field."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from survey_app.catalogue import CatalogueError, load_catalogue
from survey_app.models import (
    Base,
    Compilazione,
    Domanda,
    Ente,
    Questionario,
    QuestionarioVersione,
    Rilevazione,
    Servizio,
    Standard,
)

from .conftest import SMALL_CATALOGUE


def snapshot(session) -> dict:
    """Every row of every table, to compare the database before and after."""
    return {
        table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
        for table in Base.metadata.sorted_tables
    }


def small() -> dict:
    return yaml.safe_load(SMALL_CATALOGUE.read_text(encoding="utf-8"))


def write(tmp_path: Path, data, name="catalogo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_load_creates_everything(catalogue):
    db = catalogue
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    assert servizio.ente.nome == "Comune di Prova"
    assert servizio.nome("en") == "Registry office"
    assert [s.codice for s in servizio.sedi] == ["sportello-1", "sportello-2"]
    assert {(s.indicatore, s.domanda_codice, float(s.soglia)) for s in servizio.standard} == {
        ("quota_soddisfatti", "D3", 80.0), ("media", "D3", 4.0), ("quota_soddisfatti", "", 60.0)}
    assert servizio.questionario_chiosco.codice == "faccine"
    member = db.scalar(select(Ente).filter_by(codice="borgo-test"))
    assert member.unione.codice == "unione-test"
    assert [e.codice for e in member.unione.comuni_membri] == ["borgo-test"]
    vigilanza = db.scalar(select(Servizio).filter_by(slug="vigilanza"))
    assert vigilanza.sedi[0].comune.codice == "borgo-test"
    versione = servizio.questionario.versione_corrente
    assert versione.numero == 1
    d1, d2 = versione.domande[0], versione.domande[1]
    assert (d1.tipo, d1.scala_min, d1.scala_max, d1.importanza, d1.non_so) == ("scala", 1, 5, True, True)
    assert (d2.scala_min, d2.scala_max) == (1, 4)
    nps = versione.domande[3]
    assert (nps.tipo, nps.scala_min, nps.scala_max) == ("nps", 0, 10)
    faces = db.scalar(select(Questionario).filter_by(codice="faccine")).versione_corrente.domande
    assert faces[1].mostra_se == {"domanda": "D1", "valori": [1]}  # "rosso" stored as its value
    assert [o.codice for o in faces[1].opzioni] == ["tempo-attesa", "risposta-negativa"]


def test_loading_twice_changes_nothing(catalogue):
    db = catalogue
    before = snapshot(db)
    report = load_catalogue(db, SMALL_CATALOGUE)
    assert not report.changed
    assert sum(report.created.values()) == 0 and sum(report.updated.values()) == 0
    assert snapshot(db) == before


def test_update_in_place_changes_only_what_changed(catalogue, tmp_path):
    db = catalogue
    data = small()
    data["enti"][2]["uffici"][0]["servizi"][0]["utenti_annui"] = 6000
    report = load_catalogue(db, write(tmp_path, data))
    assert report.updated["servizi"] == 1
    assert report.created == {} or sum(report.created.values()) == 0
    assert db.scalar(select(Servizio.utenti_annui).filter_by(slug="anagrafe")) == 6000


def _answer(db, versione):
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    from datetime import datetime
    db.add(Compilazione(servizio=servizio, versione=versione, data_ora=datetime(2026, 3, 1, 10), canale="web",
                        lingua="it"))
    db.commit()


def test_changed_questions_without_answers_update_the_version(catalogue, tmp_path):
    db = catalogue
    data = small()
    data["questionari"][0]["domande"][0]["testo"]["it"] = "Quanto è soddisfatto della gentilezza?"
    load_catalogue(db, write(tmp_path, data))
    versioni = db.scalars(select(QuestionarioVersione).join(Questionario).filter_by(codice="breve")).all()
    assert [v.numero for v in versioni] == [1]
    assert versioni[0].domande[0].testo_it == "Quanto è soddisfatto della gentilezza?"


def test_changed_questions_with_answers_make_a_new_version(catalogue, tmp_path):
    db = catalogue
    questionario = db.scalar(select(Questionario).filter_by(codice="breve"))
    old = questionario.versione_corrente
    old_texts = [d.testo_it for d in old.domande]
    _answer(db, old)
    data = small()
    data["questionari"][0]["domande"][0]["testo"]["it"] = "Quanto è soddisfatto della gentilezza?"
    report = load_catalogue(db, write(tmp_path, data))
    assert report.new_versions == ["breve v2"]
    db.expire_all()
    versioni = db.scalars(select(QuestionarioVersione).filter_by(questionario_id=questionario.id)
                          .order_by(QuestionarioVersione.numero)).all()
    assert [v.numero for v in versioni] == [1, 2]
    assert [d.testo_it for d in versioni[0].domande] == old_texts  # the answered version is untouched
    assert versioni[1].domande[0].testo_it == "Quanto è soddisfatto della gentilezza?"
    # and loading the same file again adds no third version
    load_catalogue(db, write(tmp_path, data))
    assert db.scalar(select(func.count()).select_from(QuestionarioVersione)
                     .filter_by(questionario_id=questionario.id)) == 2


def test_title_change_does_not_make_a_version(catalogue, tmp_path):
    db = catalogue
    _answer(db, db.scalar(select(Questionario).filter_by(codice="breve")).versione_corrente)
    data = small()
    data["questionari"][0]["titolo"]["it"] = "Questionario breve 2026"
    report = load_catalogue(db, write(tmp_path, data))
    assert report.new_versions == []
    assert report.updated["questionari"] == 1


def test_directory_of_files(db, tmp_path):
    data = small()
    folder = tmp_path / "cat"
    folder.mkdir()
    write(folder, {"questionari": data["questionari"]}, "10-questionari.yaml")
    write(folder, {"enti": data["enti"]}, "20-enti.yaml")
    load_catalogue(db, folder)
    assert db.scalar(select(func.count()).select_from(Servizio)) == 3


def test_cli_load_and_reload(runner, db):
    # --dry-run says what a load would do and writes nothing (there was no way to check a catalogue first).
    checked = runner.invoke(args=["catalogue", "load", str(SMALL_CATALOGUE), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "servizi: 3 creati, 0 aggiornati, 0 invariati" in checked.output
    assert "Controllo completato, nulla è stato scritto: il caricamento farebbe le modifiche elencate." \
        in checked.output
    assert db.scalar(select(func.count()).select_from(Servizio)) == 0
    result = runner.invoke(args=["catalogue", "load", str(SMALL_CATALOGUE)])
    assert result.exit_code == 0, result.output
    assert "Catalogo caricato." in result.output
    again = runner.invoke(args=["catalogue", "load", str(SMALL_CATALOGUE)])
    assert again.exit_code == 0
    assert "nessuna modifica" in again.output
    assert "il catalogo è già aggiornato" in runner.invoke(
        args=["catalogue", "load", str(SMALL_CATALOGUE), "--dry-run"]).output


def test_a_load_is_in_the_audit_log_with_what_it_changed(runner, db, tmp_path):
    """A carta dei servizi's target changed with `flask catalogue load` left no trace in the Registro, where the same
    change on the staff pages did (an administrator's walk-through)."""
    from survey_app.models import AuditLog

    assert runner.invoke(args=["catalogue", "load", str(SMALL_CATALOGUE)]).exit_code == 0
    first = db.scalar(select(AuditLog).filter_by(azione="catalogo.carica"))
    assert first.utente_id is None and first.dettagli["da"] == "riga di comando"
    assert first.dettagli["creati"]["servizi"] == 3 and first.oggetto == SMALL_CATALOGUE.name
    assert {"tipo": "servizi", "oggetto": "anagrafe", "azione": "creato"} in first.dettagli["modifiche"]
    data = small()
    _service(data)["standard"][0]["soglia"] = 85
    path = write(tmp_path, data)
    assert runner.invoke(args=["catalogue", "load", str(path), "--dry-run"]).exit_code == 0  # a check: no trace
    assert runner.invoke(args=["catalogue", "load", str(path)]).exit_code == 0
    entries = db.scalars(select(AuditLog).filter_by(azione="catalogo.carica").order_by(AuditLog.id)).all()
    assert len(entries) == 2
    assert entries[1].dettagli["modifiche"] == [{"tipo": "standard", "oggetto": "anagrafe quota_soddisfatti D3",
                                                 "azione": "aggiornato", "campi": {"soglia": ["80.00", "85.00"]}}]
    assert entries[1].dettagli["modifiche_totali"] == 1
    # An office moved or a questionnaire changed is told by code, not by id.
    data["enti"][2]["uffici"][0]["servizi"][0]["questionario_chiosco"] = None
    other = write(tmp_path, data, name="altro.yaml")
    assert runner.invoke(args=["catalogue", "load", str(other)]).exit_code == 0
    moved = db.scalars(select(AuditLog).filter_by(azione="catalogo.carica").order_by(AuditLog.id)).all()[-1]
    assert moved.oggetto == "altro.yaml"
    assert {"tipo": "servizi", "oggetto": "anagrafe", "azione": "aggiornato",
            "campi": {"questionario_chiosco_id": ["faccine", None]}} in moved.dettagli["modifiche"]
    assert runner.invoke(args=["catalogue", "load", str(other)]).exit_code == 0  # nothing changed: nothing logged
    assert db.scalar(select(func.count()).select_from(AuditLog).filter_by(azione="catalogo.carica")) == 3


# --- refusals -------------------------------------------------------------------------------


def _service(data):
    return data["enti"][2]["uffici"][0]["servizi"][0]


def _q(data, i=0, j=0):
    return data["questionari"][i]["domande"][j]


def case_missing_field(data):
    del _service(data)["nome"]
    return ["enti[3] «comune-test» › uffici[1] «demografici» › servizi[1] «anagrafe» › campo 'nome'",
            "campo obbligatorio mancante"]


def case_unknown_question_type(data):
    _q(data, 0, 1)["tipo"] = "stelline"
    return ["questionari[1] «breve» › domande[2] «D2» › campo 'tipo'", "valore non ammesso 'stelline'"]


def case_duplicate_slug(data):
    data["enti"][2]["uffici"][0]["servizi"][1]["slug"] = "anagrafe"
    return ["servizi[2] «anagrafe» › campo 'slug': «anagrafe» è già usato"]


def case_scale_min_not_below_max(data):
    _q(data, 0, 1)["scala_min"] = 5
    return ["questionari[1] «breve» › domande[2] «D2»", "scala_min (5) deve essere minore di scala_max (4)"]


def case_branching_to_unknown_question(data):
    _q(data, 1, 1)["mostra_se"] = {"domanda": "D9", "valori": ["rosso"]}
    return ["questionari[2] «faccine»", "dipende da 'D9', che non è una domanda precedente"]


def case_bad_yaml(data):
    return ["riga 4, colonna 4: YAML non valido"]


def case_unknown_ente(data):
    data["enti"][1]["unione"] = "unione-inesistente"
    return ["enti[2] «borgo-test» › campo 'unione': ente sconosciuto «unione-inesistente»"]


def case_unknown_questionnaire(data):
    _service(data)["questionario"] = "lungo"
    return ["servizi[1] «anagrafe» › campo 'questionario': questionario sconosciuto «lungo»"]


def case_standard_on_unknown_question(data):
    _service(data)["standard"][0]["domanda"] = "D99"
    return ["standard[1] › campo 'domanda': «D99» non è una domanda del questionario «breve»"]


def case_unknown_field(data):
    _service(data)["utenti"] = 10
    return ["servizi[1] «anagrafe» › campo 'utenti': campo sconosciuto"]


def case_bad_slug(data):
    _service(data)["slug"] = "Anagrafe Centrale"
    return ["campo 'slug': formato non valido 'Anagrafe Centrale'"]


def case_choice_without_options(data):
    del _q(data, 0, 5)["opzioni"]
    return ["domande[6] «D6»", "richiede almeno due 'opzioni'"]


def case_duplicate_question_code(data):
    _q(data, 0, 2)["codice"] = "D1"
    return ["questionari[1] «breve»", "codice di domanda ripetuto: D1"]


def case_quota_out_of_range(data):
    _service(data)["standard"][0]["soglia"] = 180
    return ["standard[1]", "percentuale tra 0 e 100"]


def case_mean_off_the_scale(data):
    _service(data)["standard"].append({"indicatore": "media", "soglia": 7, "domanda": "D1"})
    return ["standard[4] › campo 'soglia'", "la media di «D1» va da 1 a 5: la soglia 7 è fuori scala"]


def case_two_targets_for_the_same_years(data):
    """The file's service already has "media ≥ 4 on D3" for every year: a second one from 2026 has no year of its
    own (it used to overwrite the first silently)."""
    _service(data)["standard"].append({"indicatore": "media", "soglia": 4.2, "domanda": "D3", "dal": 2026})
    return ["standard[2] e standard[4] danno due obiettivi per media su D3 negli stessi anni",
            "chiudere il primo con 'al'"]


def case_years_the_wrong_way_round(data):
    _service(data)["standard"].append({"indicatore": "media", "soglia": 4.2, "domanda": "D1", "dal": 2026, "al": 2024})
    return ["standard[4]", "l'anno 'dal' (2026) viene dopo l'anno 'al' (2024)"]


def case_target_on_an_nps_question(data):
    _service(data)["standard"].append({"indicatore": "quota_soddisfatti", "soglia": 30, "domanda": "D4"})
    return ["standard[4] › campo 'domanda'", "«D4» è una domanda NPS"]


def case_target_on_a_comment(data):
    """A free-text question has no share of satisfied users nor a mean: "media ≥ 4" on "Vuoi lasciarci un
    commento?" was published, and the Nucleo's report counted it "non valutabile"."""
    _service(data)["standard"].append({"indicatore": "media", "soglia": 4, "domanda": "D7"})
    return ["standard[4] › campo 'domanda'", "«D7» è una domanda di tipo «testo», che non dà né una quota di "
            "soddisfatti né una media"]


def case_target_on_a_choice_question(data):
    _service(data)["standard"].append({"indicatore": "quota_soddisfatti", "soglia": 50, "domanda": "D6"})
    return ["standard[4] › campo 'domanda'", "«D6» è una domanda di tipo «scelta_multipla»"]


def case_a_share_written_as_a_fraction(data):
    """0.7 meant as 70%: a target of 0.7% that one satisfied answer meets."""
    _service(data)["standard"].append({"indicatore": "quota_soddisfatti", "soglia": 0.7, "domanda": "D1"})
    return ["standard[4]", "in punti percentuali: 0,7 vorrebbe dire 0,7%; scrivere 70 per indicare 70%"]


def case_unknown_face(data):
    _q(data, 1, 1)["mostra_se"] = {"domanda": "D1", "valori": ["viola"]}
    return ["faccina sconosciuta 'viola'"]


def case_negative_users(data):
    _service(data)["utenti_annui"] = -4
    return ["campo 'utenti_annui': deve essere maggiore di 0"]


def case_unknown_service_in_campaign(data):
    data["rilevazioni"] = [{"codice": "cs-2026", "titolo": "CS 2026", "questionario": "breve",
                            "servizi": ["anagrafe", "mensa"], "dal": "2026-01-01", "al": "2026-02-01"}]
    return ["rilevazioni[1] «cs-2026» › campo 'servizi': servizio sconosciuto «mensa»"]


def case_campaign_period_reversed(data):
    data["rilevazioni"] = [{"codice": "cs-2026", "titolo": "CS 2026", "questionario": "breve",
                            "servizi": ["anagrafe"], "dal": "2026-03-01", "al": "2026-02-01"}]
    return ["rilevazioni[1] «cs-2026»", "termina (2026-02-01) prima di iniziare (2026-03-01)"]


def case_campaign_ending_in_year_9999(data):
    data["rilevazioni"] = [{"codice": "cs-2026", "titolo": "CS 2026", "questionario": "breve",
                            "servizi": ["anagrafe"], "dal": "2026-03-01", "al": "9999-12-31"}]
    return ["rilevazioni[1] «cs-2026» › campo 'al': deve essere al massimo 2100-12-31"]


CASES = [v for k, v in sorted(globals().items()) if k.startswith("case_")]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[5:] for c in CASES])
def test_broken_catalogue_is_refused_and_nothing_written(db, tmp_path, case):
    data = small()
    expected = case(data)
    # A mis-indented line, the commonest YAML mistake.
    text = "enti:\n  - codice: x\n    nome: y\n   tipo: comune\n" if case is case_bad_yaml else None
    path = write(tmp_path, text if text else data)
    before = snapshot(db)
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(db, path)
    message = "\n".join(excinfo.value.messages)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message
    db.rollback()
    assert snapshot(db) == before


@pytest.mark.parametrize(("text", "expected"), [
    # A field twice in one entry: YAML kept the last (4000 users, then 400) without a word.
    ("enti:\n  - codice: x\n    nome: y\n    tipo: comune\n    nome: z\n",
     "riga 5, colonna 5: YAML non valido: il campo «nome» compare due volte nella stessa voce (la prima alla riga 3)"),
    # PyYAML's English, with what it usually means in Italian first.
    ("enti:\n  - codice: x\n    nome: y\n   tipo: comune\n",
     "riga 4, colonna 4: YAML non valido: il rientro di questa riga non torna con quello delle righe sopra (expected"),
    ("enti:\n  - codice: x\n    nome: Comune: di prova\n",
     "YAML non valido: due punti dove non sono ammessi: un testo con «:» va tra virgolette (mapping values"),
    ("enti:\n\t- codice: x\n", "YAML non valido: una tabulazione: il rientro si fa con gli spazi"),
])
def test_yaml_mistakes_are_named_in_italian(db, tmp_path, text, expected):
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(db, write(tmp_path, text))
    assert expected in "\n".join(excinfo.value.messages)


def test_one_bad_entry_among_good_ones_writes_nothing(catalogue, tmp_path):
    """A valid change beside an invalid one must not be applied either."""
    db = catalogue
    data = small()
    _service(data)["utenti_annui"] = 7777
    data["enti"][2]["uffici"][0]["servizi"][1]["questionario"] = "inesistente"
    before = snapshot(db)
    with pytest.raises(CatalogueError):
        load_catalogue(db, write(tmp_path, data))
    db.rollback()
    assert snapshot(db) == before


def test_cli_reports_errors_with_exit_1(runner, db, tmp_path):
    data = small()
    _q(data, 0, 1)["tipo"] = "stelline"
    result = runner.invoke(args=["catalogue", "load", str(write(tmp_path, data))])
    assert result.exit_code == 1
    assert "Catalogo rifiutato, nulla è stato scritto" in result.output
    assert "campo 'tipo'" in result.output
    assert db.scalar(select(func.count()).select_from(Domanda)) == 0
    assert db.scalar(select(func.count()).select_from(Standard)) == 0


def test_summary_agrees_with_each_noun(runner, db, tmp_path):
    data = small()
    data["rilevazioni"] = [{"codice": "cs-2026", "titolo": "CS 2026", "questionario": "breve",
                            "servizi": ["anagrafe"], "dal": "2026-01-01", "al": "2026-02-01"}]
    result = runner.invoke(args=["catalogue", "load", str(write(tmp_path, data))])
    assert result.exit_code == 0, result.output
    assert "sedi: 3 create, 0 aggiornate, 0 invariate" in result.output
    assert "versioni: 2 create, 0 aggiornate, 0 invariate" in result.output
    assert "rilevazioni: 1 creata, 0 aggiornate, 0 invariate" in result.output  # "1 create" before
    assert "servizi: 3 creati, 0 aggiornati, 0 invariati" in result.output
    assert "standard: 4 creati" in result.output
    reload = runner.invoke(args=["catalogue", "load", str(tmp_path / "catalogo.yaml")])
    assert "rilevazioni: 0 create, 0 aggiornate, 1 invariata" in reload.output
    data["rilevazioni"][0]["servizi"].append("tributi")
    again = runner.invoke(args=["catalogue", "load", str(write(tmp_path, data))])
    assert "rilevazioni: 0 create, 1 aggiornata, 0 invariate" in again.output


def test_an_optional_field_left_out_keeps_its_value_and_null_clears_it(db, tmp_path):
    """Repeating an ente to add an ufficio must not erase its sito, nor anything else the file does not name."""
    data = small()
    unione, borgo, comune = data["enti"]
    comune["sito"] = "https://www.comune.prova.it"
    anagrafe = comune["uffici"][0]["servizi"][0]
    anagrafe["descrizione"] = {"it": "Certificati e residenza", "en": "Certificates"}
    anagrafe["sedi"][0]["indirizzo"] = "Via Roma 1"
    anagrafe["standard"][0]["descrizione"] = "Almeno l'80% di soddisfatti"
    unione["uffici"][0]["servizi"][0]["sedi"][0]["comune"] = "borgo-test"
    data["questionari"][0]["introduzione"] = {"it": "Grazie per il tempo che ci dedica."}
    data["rilevazioni"] = [{"codice": "cs-2026", "titolo": "CS 2026", "questionario": "breve",
                            "servizi": ["anagrafe"], "dal": "2026-01-01", "al": "2026-02-01",
                            "campione_obiettivo": 300}]
    load_catalogue(db, write(tmp_path, data, "pieno.yaml"))
    before = snapshot(db)

    bare = {
        "enti": [
            {"codice": "borgo-test", "nome": "Comune di Borgo Test", "tipo": "comune"},
            {"codice": "unione-test", "nome": "Unione Test", "tipo": "unione", "uffici": [
                {"codice": "vigilanza", "nome": "Polizia locale", "servizi": [
                    {"slug": "vigilanza", "nome": {"it": "Vigilanza"}, "questionario": "faccine",
                     "sedi": [{"codice": "comando", "nome": "Comando"}]}]}]},
            {"codice": "comune-test", "nome": "Comune di Prova", "tipo": "comune", "uffici": [
                {"codice": "demografici", "nome": "Servizi demografici", "servizi": [
                    {"slug": "anagrafe", "nome": {"it": "Anagrafe", "en": "Registry office"}, "questionario": "breve",
                     "sedi": [{"codice": "sportello-1", "nome": "Sportello 1"}],
                     "standard": [{"indicatore": "quota_soddisfatti", "soglia": 80, "domanda": "D3"}]}]}]},
        ],
        "questionari": [{key: value for key, value in data["questionari"][0].items() if key != "introduzione"}],
        "rilevazioni": [{key: value for key, value in data["rilevazioni"][0].items() if key != "campione_obiettivo"}],
    }
    report = load_catalogue(db, write(tmp_path, bare, "ridotto.yaml"))
    assert not report.changed, report.lines()
    assert snapshot(db) == before

    # An explicit null (or nothing after the colon) clears the field.
    bare["enti"][0]["unione"] = None
    bare["enti"][2]["sito"] = None
    office = bare["enti"][2]["uffici"][0]
    office["responsabile"] = None
    service = office["servizi"][0]
    service.update(descrizione=None, utenti_annui=None, questionario_chiosco=None)
    service["sedi"][0]["indirizzo"] = None
    service["standard"][0]["descrizione"] = None
    bare["enti"][1]["uffici"][0]["servizi"][0]["sedi"][0]["comune"] = None
    bare["questionari"][0]["introduzione"] = None
    bare["rilevazioni"][0]["campione_obiettivo"] = None
    load_catalogue(db, write(tmp_path, bare, "ridotto.yaml"))
    db.expire_all()
    comune = db.scalar(select(Ente).filter_by(codice="comune-test"))
    assert comune.sito is None and db.scalar(select(Ente).filter_by(codice="borgo-test")).unione is None
    assert comune.uffici[0].responsabile is None
    servizio = db.scalar(select(Servizio).filter_by(slug="anagrafe"))
    assert (servizio.descrizione_it, servizio.descrizione_en, servizio.utenti_annui) == (None, None, None)
    assert servizio.questionario_chiosco is None
    assert servizio.sedi[0].indirizzo is None and servizio.standard[0].descrizione is None
    assert db.scalar(select(Servizio).filter_by(slug="vigilanza")).sedi[0].comune is None
    assert db.scalar(select(Questionario).filter_by(codice="breve")).introduzione_it is None
    assert db.scalar(select(Rilevazione).filter_by(codice="cs-2026")).campione_obiettivo is None


def test_the_summarys_words_agree_with_their_number():
    """"1 invariati", "1 creati", "1 enti" (a new Comune's walk-through): the participle and the noun agree."""
    from survey_app.catalogue.loader import LoadReport, how_many

    report = LoadReport()
    report.created.update({"rilevazioni": 1, "servizi": 2})
    report.unchanged.update({"servizi": 1, "sedi": 1})
    assert report.lines() == ["rilevazioni: 1 creata, 0 aggiornate, 0 invariate",
                              "sedi: 0 create, 0 aggiornate, 1 invariata",
                              "servizi: 2 creati, 0 aggiornati, 1 invariato"]
    assert [how_many(1, "enti"), how_many(3, "enti"), how_many(1, "standard"), how_many(1, "sedi")] == \
        ["1 ente", "3 enti", "1 standard", "1 sede"]


def test_anchors_and_merge_keys_still_load_with_duplicate_keys_refused(db, tmp_path):
    """The duplicate-key check built each key before PyYAML merged "<<": a catalogue with a merge key stopped
    loading (the review of this change). An alias, a merge, and a field the merge overrides all load."""
    from survey_app.catalogue.reader import _read_yaml

    text = ("comune: &comune {tipo: comune, nome: Base}\n"
            "enti:\n  - <<: *comune\n    codice: x\n    nome: Comune di X\n  - *comune\n")
    errors: list[str] = []
    data = _read_yaml(write(tmp_path, text), errors)
    assert errors == [] and data["enti"][0] == {"tipo": "comune", "nome": "Comune di X", "codice": "x"}
    assert data["enti"][1] == {"tipo": "comune", "nome": "Base"}
