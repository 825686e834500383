"""`flask catalogue export`: the database back to YAML that `flask catalogue load` reads, with nothing lost."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from survey_app.catalogue import CatalogueError, load_catalogue
from survey_app.catalogue.export import catalogue_data, export_yaml
from survey_app.catalogue.loader import QUESTION_COLUMNS
from survey_app.models import (
    Base,
    Ente,
    Opzione,
    Questionario,
    QuestionarioVersione,
    Rilevazione,
    Sede,
    Servizio,
    Standard,
    Ufficio,
)

from .conftest import SMALL_CATALOGUE
from .helpers import add_answers

DEMO = Path(__file__).resolve().parents[1] / "instances" / "demo" / "catalogue"


def snapshot(session) -> dict:
    """Every catalogue row by its natural key (codes instead of ids).

    The version's fingerprint is left out: it hashes the YAML as written, and the export writes defaults
    (max_lunghezza: 2000) the tidy way, so only the stored questions are compared.
    """
    def code(obj):
        return obj.codice if obj is not None else None

    questions = []
    for version in session.scalars(select(QuestionarioVersione)):
        for d in version.domande:
            questions.append((version.questionario.codice, version.numero, d.posizione,
                              tuple((name, repr(getattr(d, name))) for name in QUESTION_COLUMNS)))
    options = [(o.domanda.versione.questionario.codice, o.domanda.versione.numero, o.domanda.codice, o.posizione,
                o.codice, o.testo_it, o.testo_en) for o in session.scalars(select(Opzione))]
    return {
        "enti": sorted((e.codice, e.nome, e.tipo, e.sito, code(e.unione)) for e in session.scalars(select(Ente))),
        "uffici": sorted((u.ente.codice, u.codice, u.nome, u.responsabile or "")
                         for u in session.scalars(select(Ufficio))),
        "servizi": sorted((s.slug, s.ufficio.ente.codice, s.ufficio.codice, s.nome_it, s.nome_en or "",
                           s.descrizione_it or "", s.descrizione_en or "", s.utenti_annui or 0, s.questionario.codice,
                           code(s.questionario_chiosco) or "") for s in session.scalars(select(Servizio))),
        "sedi": sorted((s.servizio.slug, s.codice, s.nome, s.indirizzo or "", code(s.comune) or "")
                       for s in session.scalars(select(Sede))),
        "standard": sorted((s.servizio.slug, s.indicatore, s.domanda_codice, str(s.soglia), s.descrizione or "")
                           for s in session.scalars(select(Standard))),
        "questionari": sorted((q.codice, q.titolo_it, q.titolo_en or "", q.introduzione_it or "",
                               q.introduzione_en or "", len(q.versioni)) for q in session.scalars(select(Questionario))),
        "domande": sorted(questions),
        "opzioni": sorted(options),
        "rilevazioni": sorted((r.codice, r.titolo, r.questionario.codice, r.data_inizio, r.data_fine,
                               r.campione_obiettivo or 0, tuple(s.slug for s in r.servizi))
                              for r in session.scalars(select(Rilevazione))),
    }


def empty_database(session) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.commit()
    session.expire_all()


def test_export_loads_into_an_empty_database_as_the_same_catalogue(db, tmp_path):
    load_catalogue(db, DEMO)
    before = snapshot(db)
    assert len(before["servizi"]) == 16 and len(before["rilevazioni"]) == 3 and len(before["opzioni"]) > 10
    path = tmp_path / "catalogo.yaml"
    path.write_text(export_yaml(db), encoding="utf-8")
    empty_database(db)
    assert snapshot(db)["servizi"] == []
    report = load_catalogue(db, path)
    assert report.created["servizi"] == 16 and report.created["versioni"] == 4
    assert snapshot(db) == before


@pytest.mark.parametrize("source", [DEMO, SMALL_CATALOGUE], ids=["demo", "small"])
def test_loading_the_export_into_its_own_database_changes_nothing(db, tmp_path, source):
    load_catalogue(db, source)
    before = snapshot(db)
    path = tmp_path / "catalogo.yaml"
    path.write_text(export_yaml(db), encoding="utf-8")
    report = load_catalogue(db, path)
    assert not report.changed, report.lines()
    assert report.unchanged["versioni"] == len(before["questionari"]) and not report.new_versions
    assert snapshot(db) == before


def test_the_export_is_tidy(catalogue):
    data = catalogue_data(catalogue)
    assert "null" not in export_yaml(catalogue)
    offices = {u["codice"]: u for e in data["enti"] for u in e.get("uffici", [])}
    tributi = offices["demografici"]["servizi"][1]
    assert tributi == {"slug": "tributi", "nome": {"it": "Tributi"}, "questionario": "breve"}
    anagrafe = offices["demografici"]["servizi"][0]
    assert anagrafe["nome"] == {"it": "Anagrafe", "en": "Registry office"}
    assert anagrafe["sedi"] == [{"codice": "sportello-1", "nome": "Sportello 1"},
                                {"codice": "sportello-2", "nome": "Sportello 2"}]
    assert anagrafe["standard"] == [{"indicatore": "quota_soddisfatti", "soglia": 80, "domanda": "D3"},
                                    {"indicatore": "media", "soglia": 4, "domanda": "D3"},
                                    {"indicatore": "quota_soddisfatti", "soglia": 60}]
    assert offices["vigilanza"]["servizi"][0]["sedi"] == [{"codice": "comando", "nome": "Comando",
                                                           "comune": "borgo-test"}]
    member = next(e for e in data["enti"] if e["codice"] == "borgo-test")
    assert member == {"codice": "borgo-test", "nome": "Comune di Borgo Test", "tipo": "comune",
                      "unione": "unione-test"}
    breve, faccine = data["questionari"]
    d1, d2 = breve["domande"][:2]
    assert d1 == {"codice": "D1", "tipo": "scala", "testo": {"it": "Quanto è soddisfatto della cortesia?",
                                                             "en": "How satisfied are you with courtesy?"},
                  "etichette": {"min": {"it": "Per niente"}, "max": {"it": "Molto"}}, "non_so": True,
                  "dimensione": "efficacia", "importanza": True}
    assert (d2["scala_min"], d2["scala_max"]) == (1, 4)
    assert breve["domande"][6]["max_lunghezza"] == 200
    assert breve["domande"][5]["mostra_se"] == {"domanda": "D3", "minore_di": 3}
    assert faccine["domande"][1]["mostra_se"] == {"domanda": "D1", "valori": ["rosso"]}  # faces by name


def test_the_export_holds_the_current_version(catalogue, tmp_path):
    add_answers(catalogue, "anagrafe", datetime(2025, 3, 3, 10), {"D3": 5})
    data = catalogue_data(catalogue)
    data["questionari"][0]["domande"][2]["testo"]["it"] = "Nel complesso, è soddisfatto?"
    path = tmp_path / "nuovo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert load_catalogue(catalogue, path).new_versions == ["breve v2"]
    exported = yaml.safe_load(export_yaml(catalogue))
    assert exported["questionari"][0]["domande"][2]["testo"]["it"] == "Nel complesso, è soddisfatto?"


def test_cli_writes_a_file_or_stdout(catalogue, runner, tmp_path):
    path = tmp_path / "catalogo.yaml"
    result = runner.invoke(args=["catalogue", "export", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Catalogo esportato in {path}: 3 enti, 3 servizi, 3 sedi, 4 standard, 2 questionari" in result.output
    assert path.read_text(encoding="utf-8").startswith("# Catalogo esportato")
    result = runner.invoke(args=["catalogue", "export", "-"])
    assert result.exit_code == 0
    assert yaml.safe_load(result.output) == yaml.safe_load(path.read_text(encoding="utf-8"))
    reload = runner.invoke(args=["catalogue", "load", str(path)])
    assert reload.exit_code == 0 and "nessuna modifica" in reload.output
    folder = runner.invoke(args=["catalogue", "export", str(tmp_path)])
    assert folder.exit_code == 2 and "è una cartella" in folder.output


def test_an_export_the_schema_refuses_is_not_written(catalogue, runner, tmp_path):
    questionario = catalogue.scalar(select(Questionario).filter_by(codice="breve"))
    catalogue.add(Rilevazione(codice="vuota", titolo="Senza servizi", questionario=questionario,
                              data_inizio=date(2025, 1, 1), data_fine=date(2025, 2, 1)))
    catalogue.commit()
    with pytest.raises(CatalogueError) as error:
        export_yaml(catalogue)
    assert "rilevazioni[1] «vuota» › campo 'servizi': campo obbligatorio mancante" in error.value.messages[0]
    path = tmp_path / "catalogo.yaml"
    result = runner.invoke(args=["catalogue", "export", str(path)])
    assert result.exit_code == 1 and "nessun file scritto" in result.output and not path.exists()
