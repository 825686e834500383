"""Write the database's catalogue back to YAML, in the schema ``flask catalogue load`` reads.

The admin edits services, counters, standards and questionnaire wording on the staff pages; the export turns
the result into a file the load accepts: loading it into an empty database gives the same catalogue, and
loading it into the database it came from changes nothing. Entries come in the order they were created,
fields in the schema's order, and optional fields only when they differ from the default, so that the file
reads like a hand-written one and diffs well in git.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import FACES, Domanda, Ente, Questionario, Rilevazione, Sede, Servizio, Standard, Ufficio
from .errors import CatalogueError, validation_messages
from .schema import CatalogueFile

HEADER = ("# Catalogo esportato con `flask catalogue export`: si ricarica con `flask catalogue load`.\n"
          "# Schema e regole: docs/catalogue.md.\n")
DEFAULT_SCALE = (1, 5)
DEFAULT_TEXT_LENGTH = 2000


def text(it: str | None, en: str | None = None) -> dict[str, str] | None:
    """A text as the schema reads it: {it: …}, with en only when there is one."""
    if it is None and en is None:
        return None
    return {"it": it or ""} | ({"en": en} if en is not None else {})


def _tidy(entry: dict[str, Any]) -> dict[str, Any]:
    """Leave out what is empty: None, False, empty lists (the schema's defaults)."""
    return {key: value for key, value in entry.items() if value is not None and value is not False and value != []}


def threshold(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def sede_entry(sede: Sede) -> dict[str, Any]:
    return _tidy({"codice": sede.codice, "nome": sede.nome, "indirizzo": sede.indirizzo,
                  "comune": sede.comune.codice if sede.comune else None})


def standard_entry(standard: Standard) -> dict[str, Any]:
    return _tidy({"indicatore": standard.indicatore, "soglia": threshold(standard.soglia),
                  "domanda": standard.domanda_codice or None, "descrizione": standard.descrizione,
                  "dal": standard.anno_dal, "al": standard.anno_al})


def service_entry(servizio: Servizio) -> dict[str, Any]:
    kiosk = servizio.questionario_chiosco
    return _tidy({
        "slug": servizio.slug, "nome": text(servizio.nome_it, servizio.nome_en),
        "descrizione": text(servizio.descrizione_it, servizio.descrizione_en),
        "utenti_annui": servizio.utenti_annui, "questionario": servizio.questionario.codice,
        "questionario_chiosco": kiosk.codice if kiosk else None,
        "sedi": [sede_entry(s) for s in sorted(servizio.sedi, key=lambda s: s.id)],
        "standard": [standard_entry(s) for s in sorted(servizio.standard, key=lambda s: s.id)],
    })


def question_entry(domanda: Domanda, by_code: dict[str, Domanda]) -> dict[str, Any]:
    d = domanda
    scale = d.tipo == "scala" and (d.scala_min, d.scala_max) != DEFAULT_SCALE
    rule = dict(d.mostra_se) if d.mostra_se else None
    if rule and "valori" in rule and getattr(by_code.get(rule["domanda"]), "tipo", None) == "faccine":
        rule["valori"] = [FACES.get(v, v) for v in rule["valori"]]  # faces by name, as people write them
    return _tidy({
        "codice": d.codice, "tipo": d.tipo, "testo": text(d.testo_it, d.testo_en),
        "aiuto": text(d.aiuto_it, d.aiuto_en), "obbligatoria": d.obbligatoria,
        "scala_min": d.scala_min if scale else None, "scala_max": d.scala_max if scale else None,
        "etichette": d.etichette or None, "stile": d.stile, "non_so": d.non_so, "dimensione": d.dimensione,
        "importanza": d.importanza,
        "max_lunghezza": d.max_lunghezza if d.tipo == "testo" and d.max_lunghezza != DEFAULT_TEXT_LENGTH else None,
        "opzioni": [{"codice": o.codice, "testo": text(o.testo_it, o.testo_en)} for o in d.opzioni],
        "mostra_se": rule,
    })


def questionnaire_entry(questionario: Questionario) -> dict[str, Any]:
    """The questionnaire with the questions of its current version."""
    version = questionario.versione_corrente
    questions = list(version.domande) if version else []
    by_code = {d.codice: d for d in questions}
    return _tidy({"codice": questionario.codice, "titolo": text(questionario.titolo_it, questionario.titolo_en),
                  "introduzione": text(questionario.introduzione_it, questionario.introduzione_en),
                  "domande": [question_entry(d, by_code) for d in questions]})


def _office_entry(ufficio: Ufficio) -> dict[str, Any]:
    name = text(ufficio.nome, ufficio.nome_en) if ufficio.nome_en else ufficio.nome
    return _tidy({"codice": ufficio.codice, "nome": name, "responsabile": ufficio.responsabile,
                  "servizi": [service_entry(s) for s in sorted(ufficio.servizi, key=lambda s: s.id)]})


def _body_entry(ente: Ente) -> dict[str, Any]:
    return _tidy({"codice": ente.codice, "nome": ente.nome, "tipo": ente.tipo, "sito": ente.sito,
                  "unione": ente.unione.codice if ente.unione else None,
                  "uffici": [_office_entry(u) for u in sorted(ente.uffici, key=lambda u: u.id)]})


def _campaign_entry(campaign: Rilevazione) -> dict[str, Any]:
    return _tidy({"codice": campaign.codice, "titolo": campaign.titolo, "questionario": campaign.questionario.codice,
                  "servizi": [s.slug for s in campaign.servizi], "dal": campaign.data_inizio,
                  "al": campaign.data_fine, "campione_obiettivo": campaign.campione_obiettivo})


def catalogue_data(session: Session) -> dict[str, Any]:
    """The whole catalogue as the dict a YAML file would hold."""
    return _tidy({
        "questionari": [questionnaire_entry(q) for q in session.scalars(select(Questionario).order_by(Questionario.id))],
        "enti": [_body_entry(e) for e in session.scalars(select(Ente).order_by(Ente.id))],
        "rilevazioni": [_campaign_entry(r) for r in session.scalars(select(Rilevazione).order_by(Rilevazione.id))],
    })


def export_yaml(session: Session) -> str:
    """The catalogue as YAML text, checked against the schema the load uses: CatalogueError if it does not pass."""
    body = yaml.safe_dump(catalogue_data(session), allow_unicode=True, sort_keys=False, width=100)
    data = yaml.safe_load(body)  # what the load will read, not what we meant to write
    try:
        CatalogueFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(validation_messages(Path("(esportazione)"), data, exc)) from None
    return HEADER + body


def counts(data: dict[str, Any]) -> dict[str, int]:
    """How many entries of each kind an exported catalogue holds, for the CLI's summary."""
    services = [s for e in data.get("enti", []) for u in e.get("uffici", []) for s in u.get("servizi", [])]
    return {"enti": len(data.get("enti", [])), "servizi": len(services),
            "sedi": sum(len(s.get("sedi", [])) for s in services),
            "standard": sum(len(s.get("standard", [])) for s in services),
            "questionari": len(data.get("questionari", [])), "rilevazioni": len(data.get("rilevazioni", []))}
