"""Validate a YAML catalogue as a whole, then upsert it in one transaction.

``load_catalogue`` is what the CLI calls and what the tests exercise: it reads every file
and validates each against the schema (reader.py), checks all of them against each other and the
database (checks.py), and writes only when no error was found.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import (
    AuditLog,
    Compilazione,
    Domanda,
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
from .checks import reference_errors
from .errors import CatalogueError
from .reader import Catalogue, read_catalogue, read_files
from .schema import DomandaIn, QuestionarioIn, question_fingerprint_data

__all__ = ["LoadReport", "apply_questionnaire", "load_catalogue", "read_catalogue"]


# The participles of the summary agree with these nouns and their number: "sedi: 2 create, 1 aggiornata",
# "servizi: 1 creato".
FEMININE = {"sedi", "versioni", "rilevazioni"}
SINGULAR = {"enti": "ente", "uffici": "ufficio", "servizi": "servizio", "sedi": "sede", "standard": "standard",
            "questionari": "questionario", "versioni": "versione", "rilevazioni": "rilevazione"}


def participle(stem: str, kind: str, n: int) -> str:
    """``stem`` ("creat") agreeing with ``n`` of ``kind``: "1 creata", "2 creati", "0 create"."""
    return f"{n} {stem}{('a' if n == 1 else 'e') if kind in FEMININE else ('o' if n == 1 else 'i')}"


def how_many(n: int, kind: str) -> str:
    """``n`` of ``kind`` (a plural noun): "1 ente", "3 enti"."""
    return f"{n} {SINGULAR.get(kind, kind) if n == 1 else kind}"


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    new_versions: list[str] = field(default_factory=list)
    # What was created or changed, field by field (before, after): written to the audit log with the load.
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        out = []
        for kind in kinds:
            out.append(f"{kind}: {participle('creat', kind, self.created[kind])}, "
                       f"{participle('aggiornat', kind, self.updated[kind])}, "
                       f"{participle('invariat', kind, self.unchanged[kind])}")
        out += [f"nuova versione del questionario {v}" for v in self.new_versions]
        return out


def load_catalogue(session: Session, path: Path | str, dry_run: bool = False) -> LoadReport:
    """Validate ``path`` and upsert it; commit once, or raise CatalogueError having written nothing. A ``dry_run``
    checks everything and reports what would change, then rolls back."""
    catalogue, errors = read_files(Path(path))
    errors += reference_errors(session, catalogue)
    if errors:
        raise CatalogueError(errors)
    report = LoadReport()
    try:
        _apply(session, catalogue, report)
        if dry_run:
            session.rollback()
        else:
            if report.changed or report.new_versions:
                # A carta dei servizi's target changed from the command line is as much the record's business as
                # one changed on the staff pages: who (the command line), when, what, before and after.
                session.add(AuditLog(azione="catalogo.carica", oggetto=Path(path).resolve().name[:200], dettagli={
                    "da": "riga di comando", "creati": dict(report.created), "aggiornati": dict(report.updated),
                    "nuove_versioni": report.new_versions, "modifiche": report.changes[:MAX_AUDITED_CHANGES],
                    "modifiche_totali": len(report.changes)}))
            session.commit()
    except Exception:
        session.rollback()
        raise
    return report


MAX_AUDITED_CHANGES = 500  # a whole catalogue loaded for the first time is summed up by its counts


# Keys the audit log gives by the code a person knows (a service's slug, an office's, a questionnaire's or an ente's
# code), not by id.
CODED = {"servizio_id": (Servizio, "slug"), "ufficio_id": (Ufficio, "codice"), "questionario_id": (Questionario, "codice"),
         "questionario_chiosco_id": (Questionario, "codice"), "comune_id": (Ente, "codice"),
         "unione_id": (Ente, "codice"), "ente_id": (Ente, "codice")}


def _sync(session: Session, obj: Any, values: dict[str, Any]) -> dict[str, list]:
    """Set ``values`` on ``obj``; what changed, as (before, after) in words."""
    changed = {}
    for name, value in values.items():
        before = getattr(obj, name)
        if before != value:
            changed[name] = [_word(session, name, before), _word(session, name, value)]
            setattr(obj, name, value)
    return changed


def _word(session: Session, name: str, value: Any) -> Any:
    """A value as the audit log keeps it (JSON): services by their slug, offices, questionnaires and enti by their
    code, dates and amounts as text."""
    if isinstance(value, list):
        return [_word(session, name, v) for v in value]
    if isinstance(value, Servizio):
        return value.slug
    if name in CODED and isinstance(value, int):
        model, code = CODED[name]
        found = session.get(model, value)
        return getattr(found, code) if found is not None else value
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def _named(session: Session, key: dict) -> str:
    """An object's key in words (``_word``): a service's slug rather than its id."""
    words = (str(_word(session, name, value)) for name, value in key.items())
    return " ".join(word for word in words if word not in ("", "None"))


def _upsert(session: Session, report: LoadReport, kind: str, model: type, key: dict, values: dict) -> Any:
    obj = session.scalars(select(model).filter_by(**key)).one_or_none()
    if obj is None:
        obj = model(**key, **values)
        session.add(obj)
        session.flush()
        report.created[kind] += 1
        report.changes.append({"tipo": kind, "oggetto": _named(session, key), "azione": "creato"})
    elif changed := _sync(session, obj, values):
        session.flush()
        report.updated[kind] += 1
        report.changes.append({"tipo": kind, "oggetto": _named(session, key), "azione": "aggiornato",
                               "campi": changed})
    else:
        report.unchanged[kind] += 1
    return obj


def _texts(prefix: str, text) -> dict[str, str | None]:
    return {f"{prefix}_it": text.it if text else None, f"{prefix}_en": text.en if text else None}


def _given(entry: BaseModel, optional: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The columns of the optional fields ``entry`` names, by field: ``sito: null`` clears the stored value, while
    a field left out of the file keeps it (an ente repeated to add an ufficio must not lose its sito)."""
    return {column: value for name, columns in optional.items() if name in entry.model_fields_set
            for column, value in columns.items()}


def _apply(session: Session, catalogue: Catalogue, report: LoadReport) -> None:
    questionnaires = {q.item.codice: apply_questionnaire(session, report, q.item) for q in catalogue.questionari}

    def questionnaire(code: str | None) -> Questionario | None:
        if code is None:
            return None
        if code not in questionnaires:
            questionnaires[code] = session.scalars(select(Questionario).filter_by(codice=code)).one()
        return questionnaires[code]

    enti: dict[str, Ente] = {}

    def ente(code: str | None) -> Ente | None:
        if code is None:
            return None
        if code not in enti:
            enti[code] = session.scalars(select(Ente).filter_by(codice=code)).one()
        return enti[code]

    # Unioni first, so that their member comuni can point at them.
    for entry in sorted(catalogue.enti, key=lambda entry: entry.item.tipo != "unione"):
        e = entry.item
        unione = ente(e.unione)
        enti[e.codice] = _upsert(session, report, "enti", Ente, {"codice": e.codice},
                                 {"nome": e.nome, "tipo": e.tipo,
                                  **_given(e, {"sito": {"sito": e.sito},
                                               "unione": {"unione_id": unione.id if unione else None}})})

    for entry in catalogue.enti:
        e = entry.item
        for u in e.uffici:
            ufficio = _upsert(session, report, "uffici", Ufficio, {"ente_id": enti[e.codice].id, "codice": u.codice},
                              {"nome": u.names[0], "nome_en": u.names[1],
                               **_given(u, {"responsabile": {"responsabile": u.responsabile}})})
            for s in u.servizi:
                kiosk = questionnaire(s.questionario_chiosco)
                servizio = _upsert(
                    session, report, "servizi", Servizio, {"slug": s.slug},
                    {"ufficio_id": ufficio.id, **_texts("nome", s.nome), "questionario_id": questionnaire(s.questionario).id,
                     **_given(s, {"descrizione": _texts("descrizione", s.descrizione),
                                  "utenti_annui": {"utenti_annui": s.utenti_annui},
                                  "questionario_chiosco": {"questionario_chiosco_id": kiosk.id if kiosk else None}})},
                )
                for sede in s.sedi:
                    comune = ente(sede.comune)
                    _upsert(session, report, "sedi", Sede, {"servizio_id": servizio.id, "codice": sede.codice},
                            {"nome": sede.nome, **_given(sede, {"indirizzo": {"indirizzo": sede.indirizzo},
                                                                "comune": {"comune_id": comune.id if comune else None}})})
                for st in s.standard:
                    _upsert(session, report, "standard", Standard,
                            {"servizio_id": servizio.id, "indicatore": st.indicatore, "domanda_codice": st.domanda or "",
                             "anno_dal": st.dal},
                            {"soglia": Decimal(str(st.soglia)).quantize(Decimal("0.01")),
                             **_given(st, {"descrizione": {"descrizione": st.descrizione},
                                           "al": {"anno_al": st.al}})})

    for entry in catalogue.rilevazioni:
        r = entry.item
        # Ordered as the relationship is, so that the same services compare equal.
        wanted = list(session.scalars(select(Servizio).where(Servizio.slug.in_(r.servizi)).order_by(Servizio.slug)))
        _upsert(session, report, "rilevazioni", Rilevazione, {"codice": r.codice},
                {"titolo": r.titolo, "questionario_id": questionnaire(r.questionario).id, "servizi": wanted,
                 "data_inizio": r.dal, "data_fine": r.al,
                 **_given(r, {"campione_obiettivo": {"campione_obiettivo": r.campione_obiettivo}})})


def fingerprint(q: QuestionarioIn) -> str:
    canonical = json.dumps(question_fingerprint_data(q), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def apply_questionnaire(session: Session, report: LoadReport, q: QuestionarioIn) -> Questionario:
    """Upsert one questionnaire: its title and introduction in place, its questions by the version rule.

    Same questions: nothing. Changed questions: the current version is updated while it has no answers,
    otherwise a new version is made and the answered one stays as it was. The YAML load and the admin's
    questionnaire page both come through here. ``report`` tells the caller which of these happened.
    """
    questionario = _upsert(session, report, "questionari", Questionario, {"codice": q.codice},
                           {**_texts("titolo", q.titolo), **_given(q, {"introduzione": _texts("introduzione",
                                                                                               q.introduzione)})})
    impronta = fingerprint(q)
    current = questionario.versione_corrente
    # The fingerprint cannot tell an explicit default (max_lunghezza: 2000) from an omitted one, so questions
    # that store the same are the same too: an exported catalogue reloads without a new version.
    if current is not None and (current.impronta == impronta or _stored_questions(current) == _incoming_questions(q)):
        report.unchanged["versioni"] += 1
        return questionario
    answered = current is not None and session.scalar(
        select(exists().where(Compilazione.versione_id == current.id))
    )
    if current is None or answered:
        # A version with answers is frozen: the new questions go into a new version.
        numero = 1 if current is None else current.numero + 1
        current = QuestionarioVersione(questionario=questionario, numero=numero, impronta=impronta)
        session.add(current)
        report.created["versioni"] += 1
        if numero > 1:
            report.new_versions.append(f"{q.codice} v{numero}")
    else:
        current.domande.clear()
        session.flush()
        current.impronta = impronta
        report.updated["versioni"] += 1
    current.domande.extend(_build_question(position, d) for position, d in enumerate(q.domande, start=1))
    session.flush()
    return questionario


# What _question_values fills in, read back from a stored question.
QUESTION_COLUMNS = ("codice", "tipo", "testo_it", "testo_en", "aiuto_it", "aiuto_en", "obbligatoria", "scala_min",
                    "scala_max", "etichette", "stile", "non_so", "dimensione", "importanza", "max_lunghezza",
                    "mostra_se")


def _question_values(d: DomandaIn) -> dict[str, Any]:
    """The columns of a question as stored, options aside."""
    return {
        "codice": d.codice, "tipo": d.tipo, **_texts("testo", d.testo), **_texts("aiuto", d.aiuto),
        "obbligatoria": d.obbligatoria, "scala_min": d.scala_min, "scala_max": d.scala_max,
        "etichette": d.etichette.model_dump(exclude_none=True) if d.etichette else None,
        "stile": d.stile, "non_so": d.non_so, "dimensione": d.dimensione, "importanza": d.importanza,
        "max_lunghezza": d.max_lunghezza or (2000 if d.tipo == "testo" else None),
        "mostra_se": d.mostra_se.model_dump(exclude_none=True) if d.mostra_se else None,
    }


def _incoming_questions(q: QuestionarioIn) -> list[tuple[dict, list[tuple]]]:
    return [(_question_values(d), [(o.codice, o.testo.it, o.testo.en) for o in d.opzioni or []]) for d in q.domande]


def _stored_questions(version: QuestionarioVersione) -> list[tuple[dict, list[tuple]]]:
    return [({name: getattr(d, name) for name in QUESTION_COLUMNS}, [(o.codice, o.testo_it, o.testo_en)
                                                                     for o in d.opzioni])
            for d in version.domande]


def _build_question(position: int, d: DomandaIn) -> Domanda:
    return Domanda(
        posizione=position, **_question_values(d),
        opzioni=[Opzione(codice=o.codice, posizione=i, **_texts("testo", o.testo))
                 for i, o in enumerate(d.opzioni or [], start=1)],
    )

