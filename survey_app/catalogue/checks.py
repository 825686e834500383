"""Checks of a read catalogue across its files and against what the database already holds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Ente, Pubblicazione, Questionario, Rilevazione, Servizio, Standard, Ufficio
from ..transparency.formatting import local_today
from ..transparency.publishing import latest as newest_version
from .errors import entry_label
from .reader import Catalogue, Located
from .schema import (
    StandardIn,
    already_published,
    rejudged_years,
    threshold_message,
    threshold_problem,
    years_overlap,
    years_text,
)


def reference_errors(session: Session, catalogue: Catalogue) -> list[str]:
    """Checks across files and against what the database already holds: every problem found.

    A reference to an entry the schema refused (``catalogue.refused``) is not called unknown: that entry's own
    errors say what is wrong with it.
    """
    errors: list[str] = []
    refused = catalogue.refused

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
    homes = [(ente.item.codice, u.codice) for ente in catalogue.enti for u in ente.item.uffici for _s in u.servizi]
    stored = _stored_services(session)
    placement = _placement_errors(services, homes, stored)
    errors += placement.values()
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
        if ref in refused["enti"]:
            continue
        if ref and ref not in enti_types:
            errors.append(f"{ente.path}: {ente.where} › campo 'unione': ente sconosciuto «{ref}»")
        elif ref and enti_types[ref] != "unione":
            errors.append(f"{ente.path}: {ente.where} › campo 'unione': «{ref}» non è un'unione")

    scales = {q.item.codice: [(d.codice, d.tipo, d.scala_min, d.scala_max) for d in q.item.domande]
              for q in catalogue.questionari}
    for q in session.scalars(select(Questionario)):
        if q.codice not in scales and q.codice not in refused["questionari"] and q.versione_corrente is not None:
            scales[q.codice] = [(d.codice, d.tipo, d.scala_min, d.scala_max) for d in q.versione_corrente.domande]
    questions = {code: {d[0] for d in items} for code, items in scales.items()}
    for service in services:
        item = service.item
        for name in ("questionario", "questionario_chiosco"):
            ref = getattr(item, name)
            if ref and ref not in questions and ref not in refused["questionari"]:
                errors.append(f"{service.path}: {service.where} › campo '{name}': questionario sconosciuto «{ref}»")
        for k, sede in enumerate(item.sedi):
            if sede.comune and sede.comune not in enti_types and sede.comune not in refused["enti"]:
                errors.append(f"{service.path}: {service.where} › sedi{entry_label({'codice': sede.codice}, k)} "
                              f"› campo 'comune': ente sconosciuto «{sede.comune}»")
        known = questions.get(item.questionario, set())
        for k, standard in enumerate(item.standard):
            if standard.al is not None and standard.al < local_today().year:
                continue  # a past carta's target: it judges the answers of its years, to its questionnaire of then
            if standard.domanda and item.questionario in questions and standard.domanda not in known:
                errors.append(f"{service.path}: {service.where} › standard[{k + 1}] › campo 'domanda': "
                              f"«{standard.domanda}» non è una domanda del questionario «{item.questionario}»")
            elif problem := threshold_problem(standard.indicatore, standard.soglia, standard.domanda,
                                              scales.get(item.questionario, [])):
                field = "domanda" if problem[0] in ("nps", "tipo") else "soglia"
                errors.append(f"{service.path}: {service.where} › standard[{k + 1}] › campo '{field}': "
                              f"{threshold_message(problem, standard.soglia)}")

    # An entry refused for another ufficio's slug is not that service: the checks below, of the service as it will
    # be, read the stored one, and do not blame that entry again.
    services = [s for s in services if s.item.slug not in placement]
    errors += _stored_standard_errors(session, catalogue, services, stored, scales)
    errors += _published_year_errors(session, services)
    errors += _campaign_errors(session, catalogue, services, stored, set(questions))
    return errors


def _campaign_errors(session: Session, catalogue: Catalogue, services: list[Located],
                     stored: dict[str, StoredService], questionnaires: set[str]) -> list[str]:
    """A campaign collects the answers to its questionnaire: each of its services must use that questionnaire (as
    the staff form asks), or it would collect nothing for it. A service the campaign already had keeps its place
    if it has moved to another questionnaire since, as on the staff page."""
    refused = catalogue.refused
    uses = {slug: home.questionario for slug, home in stored.items()}
    uses.update({s.item.slug: s.item.questionario for s in services})
    linked = {tuple(row) for row in session.execute(select(Rilevazione.codice, Questionario.codice, Servizio.slug)
                                                    .join(Rilevazione.questionario).join(Rilevazione.servizi))}
    errors = []
    for campaign in catalogue.rilevazioni:
        item, at = campaign.item, f"{campaign.path}: {campaign.where}"
        if item.questionario not in questionnaires and item.questionario not in refused["questionari"]:
            errors.append(f"{at} › campo 'questionario': questionario sconosciuto «{item.questionario}»")
        for slug in item.servizi:
            if slug in refused["servizi"]:
                continue
            if slug not in uses:
                errors.append(f"{at} › campo 'servizi': servizio sconosciuto «{slug}»")
            elif uses[slug] != item.questionario and (item.codice, item.questionario, slug) not in linked:
                errors.append(f"{at} › campo 'servizi': il servizio «{slug}» usa il questionario «{uses[slug]}», "
                              f"non «{item.questionario}» della rilevazione, che non raccoglierebbe nulla per lui. "
                              "Toglierlo dalla rilevazione, o dargli il questionario della rilevazione")
    return errors


@dataclass
class StoredService:
    """A service already in the database: where it is and which questionnaire it uses."""

    id: int
    ente: str
    ente_nome: str
    ufficio: str
    ufficio_nome: str
    questionario: str


def _stored_services(session: Session) -> dict[str, StoredService]:
    rows = session.execute(select(Servizio.slug, Servizio.id, Ente.codice, Ente.nome, Ufficio.codice, Ufficio.nome,
                                  Questionario.codice)
                           .join(Servizio.ufficio).join(Ufficio.ente).join(Servizio.questionario))
    return {slug: StoredService(*rest) for slug, *rest in rows}


def _placement_errors(services: list[Located], homes: list[tuple[str, str]],
                      stored: dict[str, StoredService]) -> dict[str, str]:
    """A slug names one service: an entry under another ufficio than the stored service's is refused, since
    updating it would silently move that service (with its answers) and rewrite it, unless the entry names where
    the service is now (``sposta_da``). Where it is already, or a new service, ``sposta_da`` is not read.
    Returns the error of each slug refused."""
    errors: dict[str, str] = {}
    for service, (ente, ufficio) in zip(services, homes, strict=True):
        item, known = service.item, stored.get(service.item.slug)
        if known is None or (known.ente, known.ufficio) == (ente, ufficio):
            continue
        now = f"nell'ente «{known.ente}» ({known.ente_nome}), ufficio «{known.ufficio}» ({known.ufficio_nome})"
        move = item.sposta_da
        if move is None:
            errors[item.slug] = (
                f"{service.path}: {service.where} › campo 'slug': esiste già un servizio «{item.slug}», {now}. "
                "Per aggiornarlo, scriverlo sotto quell'ufficio; per un servizio nuovo, scegliere un altro slug; "
                f"per spostarlo qui con le sue risposte, aggiungere sposta_da: {{ente: {known.ente}, "
                f"ufficio: {known.ufficio}}}")
        elif (move.ente, move.ufficio) != (known.ente, known.ufficio):
            errors[item.slug] = (
                f"{service.path}: {service.where} › campo 'sposta_da': il servizio «{item.slug}» è {now}, "
                f"non nell'ente «{move.ente}», ufficio «{move.ufficio}»")
    return errors


def published_past_years(session: Session) -> dict[str, list[int]]:
    """Each service's years before this one that are published with it (their newest version lists it): their
    standards are part of what was published. A service added since has none."""
    this_year, years = local_today().year, {}
    for year in sorted(y for y in session.scalars(select(Pubblicazione.anno).distinct()) if y < this_year):
        for code in {row["servizio_codice"] for row in newest_version(session, year).dati["sintesi"]}:
            years.setdefault(code, []).append(year)
    return years


def _published_year_errors(session: Session, services: list[Located]) -> list[str]:
    """A year already published stays judged by the targets it was published with, as on the service's page: a
    standard of the file that would judge one otherwise (its threshold edited in place, its years moved, or a new
    one reaching back into it) is refused, with the way to enter a new carta dei servizi."""
    published = published_past_years(session)
    if not published:
        return []
    stored = {(slug, s.indicatore, s.domanda_codice, s.anno_dal): s
              for slug, s in session.execute(select(Servizio.slug, Standard).join(Standard.servizio))}
    this_year, errors = local_today().year, []
    for service in services:
        for k, st in enumerate(service.item.standard, start=1):
            old: Standard | None = stored.get((service.item.slug, st.indicatore, st.domanda or "", st.dal))
            was = (float(old.soglia), old.anno_dal, old.anno_al) if old is not None else None
            al = old.anno_al if old is not None and "al" not in st.model_fields_set else st.al  # left out: kept
            will = (_stored_threshold(st), st.dal, al)
            changed = rejudged_years(published.get(service.item.slug, []), was, will)
            if not changed:
                continue
            where = f"{service.path}: {service.where} › standard[{k}]"
            if old is None:
                errors.append(f"{where} › campo 'dal': {already_published(changed)} senza questo standard: l'esito "
                              f"cambierebbe. Un nuovo obiettivo vale da quest'anno: 'dal: {this_year}'")
            else:
                field = "soglia" if was[0] != will[0] else "al"
                errors.append(f"{where} › campo '{field}': {already_published(changed)} con lo standard salvato "
                              f"{_standard_label(old)} ({years_text(old.anno_dal, old.anno_al) or 'per ogni anno'}): "
                              f"l'esito cambierebbe. Per un nuovo obiettivo: ripetere questo standard com'è, chiuso "
                              f"con 'al: {this_year - 1}', e aggiungerne uno nuovo con 'dal: {this_year}'")
    return errors


def _stored_threshold(standard: StandardIn) -> float:
    """The threshold as the database keeps it (two decimals), so that a file's 80 is the stored 80.00."""
    return float(Decimal(str(standard.soglia)).quantize(Decimal("0.01")))


def _standard_label(standard: Standard) -> str:
    threshold = f"{float(standard.soglia):g}".replace(".", ",")
    question = f"domanda {standard.domanda_codice}" if standard.domanda_codice else "tutte le domande"
    return f"{standard.indicatore}, soglia {threshold}, {question}"


def _stored_standard_errors(session: Session, catalogue: Catalogue, services: list[Located],
                            stored: dict[str, StoredService], scales: dict[str, list[tuple]]) -> list[str]:
    """The standards already stored, which a load keeps, must still fit the questionnaire each service will use
    after the load: a new questionnaire for the service, or new questions in its questionnaire, must not leave a
    standard on a question that is no longer there (the export would write a file the load refuses)."""
    in_file = {s.item.slug: s for s in services}
    questionnaires = {q.item.codice: q for q in catalogue.questionari}
    by_id = {home.id: (slug, home) for slug, home in stored.items()}
    errors = []
    for standard in session.scalars(select(Standard).order_by(Standard.servizio_id, Standard.id)):
        slug, home = by_id[standard.servizio_id]
        if slug in catalogue.refused["servizi"]:
            continue  # what the file says of it is not known
        entry = in_file.get(slug)
        same = [(k, st) for k, st in enumerate(entry.item.standard if entry is not None else [], start=1)
                if st.indicatore == standard.indicatore and (st.domanda or "") == standard.domanda_codice]
        if any(st.dal == standard.anno_dal for _k, st in same):
            continue  # the file gives this standard: it is checked as the file's
        for k, st in same:
            if years_overlap((st.dal, st.al), (standard.anno_dal, standard.anno_al)):
                stored_years = years_text(standard.anno_dal, standard.anno_al) or "per ogni anno"
                errors.append(f"{entry.path}: {entry.where} › standard[{k}]: negli stessi anni vale già lo standard "
                              f"salvato {_standard_label(standard)} ({stored_years}). Ripetere nel file quello "
                              "salvato chiudendolo con 'al' (l'anno prima di 'dal'), oppure modificarlo dalla pagina "
                              "del servizio")
        if standard.anno_al is not None and standard.anno_al < local_today().year:
            continue  # a past carta's target: it judges the answers of its years, to its questionnaire of then
        code = entry.item.questionario if entry is not None else home.questionario
        if code not in scales:
            continue  # an unknown questionnaire, reported on its own
        soglia = float(standard.soglia)
        label = f"«{slug}» ({_standard_label(standard)})"
        if standard.domanda_codice and standard.domanda_codice not in {q[0] for q in scales[code]}:
            reason = (f"non ha la domanda «{standard.domanda_codice}», a cui si riferisce uno standard già salvato "
                      f"del servizio {label}")
        elif found := threshold_problem(standard.indicatore, soglia, standard.domanda_codice or None, scales[code]):
            reason = (f"renderebbe impossibile valutare uno standard già salvato del servizio {label}: "
                      f"{threshold_message(found, soglia)}")
        else:
            continue
        if entry is not None and code != home.questionario:
            errors.append(f"{entry.path}: {entry.where} › campo 'questionario': il questionario «{code}» {reason}. "
                          "Eliminare prima lo standard dalla pagina del servizio, oppure lasciare il questionario "
                          f"«{home.questionario}»")
        elif code in questionnaires:
            q = questionnaires[code]
            errors.append(f"{q.path}: {q.where} › campo 'domande': il questionario così {reason}. Eliminare prima "
                          "lo standard dalla pagina del servizio, oppure tenere la domanda com'era")
    return errors
