"""Validate a YAML catalogue as a whole, then upsert it in one transaction.

``load_catalogue`` is what the CLI calls and what the tests exercise: it reads every file,
validates each against the schema and all of them against each other and the database,
and writes only when no error was found.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import (
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
from .errors import CatalogueError, entry_label, validation_messages
from .schema import (
    CatalogueFile,
    DomandaIn,
    QuestionarioIn,
    question_fingerprint_data,
    threshold_message,
    threshold_problem,
)


@dataclass
class Located:
    """A validated entry with where it came from, for messages."""

    path: Path
    where: str
    item: Any


@dataclass
class Catalogue:
    enti: list[Located] = field(default_factory=list)
    questionari: list[Located] = field(default_factory=list)
    rilevazioni: list[Located] = field(default_factory=list)


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    new_versions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        out = [
            f"{kind}: {self.created[kind]} creati, {self.updated[kind]} aggiornati, {self.unchanged[kind]} invariati"
            for kind in kinds
        ]
        out += [f"nuova versione del questionario {v}" for v in self.new_versions]
        return out


def catalogue_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise CatalogueError([f"{path}: nessun file .yaml nella cartella"])
        return files
    if not path.exists():
        raise CatalogueError([f"{path}: file non trovato"])
    return [path]


def read_catalogue(path: Path) -> Catalogue:
    """Parse and validate every file; raise CatalogueError listing all problems found."""
    errors: list[str] = []
    catalogue = Catalogue()
    for file in catalogue_files(Path(path)):
        data = _read_yaml(file, errors)
        if data is None:
            continue
        try:
            parsed = CatalogueFile.model_validate(data)
        except ValidationError as exc:
            errors += validation_messages(file, data, exc)
            continue
        for section in ("enti", "questionari", "rilevazioni"):
            for index, item in enumerate(getattr(parsed, section)):
                where = section + entry_label(data[section][index], index)
                getattr(catalogue, section).append(Located(file, where, item))
    if errors:
        raise CatalogueError(errors)
    return catalogue


def _read_yaml(file: Path, errors: list[str]) -> dict | None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.append(f"{file}: il file non è in UTF-8")
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f"riga {mark.line + 1}, colonna {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(f"{file}: {position}YAML non valido ({problem})")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        errors.append(f"{file}: il catalogo deve essere una sezione con 'enti', 'questionari' o 'rilevazioni'")
        return None
    return data


def check_references(session: Session, catalogue: Catalogue) -> None:
    """Checks across files and against what the database already holds."""
    errors: list[str] = []

    def duplicates(entries: list[Located], key, kind: str) -> None:
        seen: dict[str, Located] = {}
        for entry in entries:
            code = key(entry.item)
            if code in seen:
                first = seen[code]
                errors.append(
                    f"{entry.path}: {entry.where} › campo '{kind}': «{code}» è già usato in "
                    f"{first.path}: {first.where}"
                )
            else:
                seen[code] = entry

    services = [
        Located(ente.path, f"{ente.where} › uffici{entry_label({'codice': u.codice}, i)} › "
                f"servizi{entry_label({'slug': s.slug}, j)}", s)
        for ente in catalogue.enti
        for i, u in enumerate(ente.item.uffici)
        for j, s in enumerate(u.servizi)
    ]
    duplicates(catalogue.enti, lambda e: e.codice, "codice")
    duplicates(catalogue.questionari, lambda q: q.codice, "codice")
    duplicates(catalogue.rilevazioni, lambda r: r.codice, "codice")
    duplicates(services, lambda s: s.slug, "slug")
    for ente in catalogue.enti:
        duplicates([Located(ente.path, f"{ente.where} › uffici{entry_label({'codice': u.codice}, i)}", u)
                    for i, u in enumerate(ente.item.uffici)], lambda u: u.codice, "codice")

    enti_types = {e.codice: e.tipo for e in session.scalars(select(Ente))}
    enti_types.update({e.item.codice: e.item.tipo for e in catalogue.enti})
    for ente in catalogue.enti:
        ref = ente.item.unione
        if ref and ref not in enti_types:
            errors.append(f"{ente.path}: {ente.where} › campo 'unione': ente sconosciuto «{ref}»")
        elif ref and enti_types[ref] != "unione":
            errors.append(f"{ente.path}: {ente.where} › campo 'unione': «{ref}» non è un'unione")

    scales = {q.item.codice: [(d.codice, d.tipo, d.scala_min, d.scala_max) for d in q.item.domande]
              for q in catalogue.questionari}
    for q in session.scalars(select(Questionario)):
        if q.codice not in scales and q.versione_corrente is not None:
            scales[q.codice] = [(d.codice, d.tipo, d.scala_min, d.scala_max) for d in q.versione_corrente.domande]
    questions = {code: {d[0] for d in items} for code, items in scales.items()}
    for service in services:
        item = service.item
        for name in ("questionario", "questionario_chiosco"):
            ref = getattr(item, name)
            if ref and ref not in questions:
                errors.append(f"{service.path}: {service.where} › campo '{name}': questionario sconosciuto «{ref}»")
        for k, sede in enumerate(item.sedi):
            if sede.comune and sede.comune not in enti_types:
                errors.append(f"{service.path}: {service.where} › sedi{entry_label({'codice': sede.codice}, k)} "
                              f"› campo 'comune': ente sconosciuto «{sede.comune}»")
        known = questions.get(item.questionario, set())
        for k, standard in enumerate(item.standard):
            if standard.domanda and item.questionario in questions and standard.domanda not in known:
                errors.append(f"{service.path}: {service.where} › standard[{k + 1}] › campo 'domanda': "
                              f"«{standard.domanda}» non è una domanda del questionario «{item.questionario}»")
            elif problem := threshold_problem(standard.indicatore, standard.soglia, standard.domanda,
                                              scales.get(item.questionario, [])):
                field = "domanda" if problem[0] == "nps" else "soglia"
                errors.append(f"{service.path}: {service.where} › standard[{k + 1}] › campo '{field}': "
                              f"{threshold_message(problem, standard.soglia)}")

    slugs = {s.item.slug for s in services} | set(session.scalars(select(Servizio.slug)))
    for campaign in catalogue.rilevazioni:
        item = campaign.item
        if item.questionario not in questions:
            errors.append(f"{campaign.path}: {campaign.where} › campo 'questionario': "
                          f"questionario sconosciuto «{item.questionario}»")
        for slug in item.servizi:
            if slug not in slugs:
                errors.append(f"{campaign.path}: {campaign.where} › campo 'servizi': servizio sconosciuto «{slug}»")
    if errors:
        raise CatalogueError(errors)


def load_catalogue(session: Session, path: Path | str) -> LoadReport:
    """Validate ``path`` and upsert it; commit once, or raise CatalogueError having written nothing."""
    catalogue = read_catalogue(Path(path))
    check_references(session, catalogue)
    report = LoadReport()
    try:
        _apply(session, catalogue, report)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


def _sync(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert(session: Session, report: LoadReport, kind: str, model: type, key: dict, values: dict) -> Any:
    obj = session.scalars(select(model).filter_by(**key)).one_or_none()
    if obj is None:
        obj = model(**key, **values)
        session.add(obj)
        session.flush()
        report.created[kind] += 1
    elif _sync(obj, values):
        session.flush()
        report.updated[kind] += 1
    else:
        report.unchanged[kind] += 1
    return obj


def _texts(prefix: str, text) -> dict[str, str | None]:
    return {f"{prefix}_it": text.it if text else None, f"{prefix}_en": text.en if text else None}


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
                                 {"nome": e.nome, "tipo": e.tipo, "sito": e.sito,
                                  "unione_id": unione.id if unione else None})

    for entry in catalogue.enti:
        e = entry.item
        for u in e.uffici:
            ufficio = _upsert(session, report, "uffici", Ufficio, {"ente_id": enti[e.codice].id, "codice": u.codice},
                              {"nome": u.nome, "responsabile": u.responsabile})
            for s in u.servizi:
                kiosk = questionnaire(s.questionario_chiosco)
                servizio = _upsert(
                    session, report, "servizi", Servizio, {"slug": s.slug},
                    {"ufficio_id": ufficio.id, **_texts("nome", s.nome), **_texts("descrizione", s.descrizione),
                     "utenti_annui": s.utenti_annui, "questionario_id": questionnaire(s.questionario).id,
                     "questionario_chiosco_id": kiosk.id if kiosk else None},
                )
                for sede in s.sedi:
                    comune = ente(sede.comune)
                    _upsert(session, report, "sedi", Sede, {"servizio_id": servizio.id, "codice": sede.codice},
                            {"nome": sede.nome, "indirizzo": sede.indirizzo,
                             "comune_id": comune.id if comune else None})
                for st in s.standard:
                    _upsert(session, report, "standard", Standard,
                            {"servizio_id": servizio.id, "indicatore": st.indicatore, "domanda_codice": st.domanda or ""},
                            {"soglia": Decimal(str(st.soglia)).quantize(Decimal("0.01")), "descrizione": st.descrizione})

    for entry in catalogue.rilevazioni:
        r = entry.item
        campaign = _upsert(session, report, "rilevazioni", Rilevazione, {"codice": r.codice},
                           {"titolo": r.titolo, "questionario_id": questionnaire(r.questionario).id,
                            "data_inizio": r.dal, "data_fine": r.al, "campione_obiettivo": r.campione_obiettivo})
        wanted = list(session.scalars(select(Servizio).where(Servizio.slug.in_(r.servizi)).order_by(Servizio.slug)))
        if [s.id for s in campaign.servizi] != [s.id for s in wanted]:
            campaign.servizi = wanted
            report.updated["rilevazioni"] += 1


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
                           {**_texts("titolo", q.titolo), **_texts("introduzione", q.introduzione)})
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

