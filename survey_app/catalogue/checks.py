"""Checks of a read catalogue across its files and against what the database already holds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Ente, Questionario, Servizio
from .errors import CatalogueError, entry_label
from .reader import Catalogue, Located
from .schema import threshold_message, threshold_problem


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
