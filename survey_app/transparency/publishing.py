"""Publishing a year: build the tables once, write every file, freeze them as version k with their SHA-256.

The CLI (`flask export transparency`) and the staff "Pubblica" button both call ``publish_year``; the public pages
and the downloads read only what it stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.ods import to_ods
from analysis.opendata import MEDIA_TYPES, FileInfo, Publisher, datapackage, dcat_ap_it, dumps
from analysis.publication import Publication, build_publication, from_data, to_data
from analysis.publish import CONTROL, to_csv
from analysis.sheets import publication_sheets
from analysis.xlsx import to_xlsx

from ..extensions import db
from ..models import AuditLog, Ente, Pubblicazione, PubblicazioneFile, Servizio, Ufficio, User
from ..models.base import utcnow
from ..models.publications import REASON_LENGTH
from ..settings import is_loopback, public_base_url
from .changes import IDENTITY_FIELDS, compare, files_per_ente_added, identity_changes
from .formatting import local_today

DATAPACKAGE, DCAT = "datapackage.json", "dcat-ap_it.jsonld"


def file_names(year: int, ente: str | None = None) -> dict[str, str]:
    """Stable names inside a version: a harvester finds the same name in every version. With ``ente`` (its code),
    the names of that ente's own tables, for its own Amministrazione trasparente."""
    stem = f"soddisfazione-{year}" + (f"-{ente}" if ente else "")
    tables = {"csv": f"{stem}.csv", "xlsx": f"{stem}.xlsx", "ods": f"{stem}.ods"}
    return tables if ente else {**tables, "datapackage": DATAPACKAGE, "dcat": DCAT}


def publisher(session: Session) -> Publisher:
    """Who publishes: the instance's PUBLISHER setting, else the enti of the catalogue."""
    configured = current_app.config.get("PUBLISHER") or {}
    names = session.scalars(select(Ente.nome).where(Ente.unione_id.is_(None)).order_by(Ente.nome)).all()
    return Publisher(name=configured.get("nome") or " e ".join(names) or "Ente",
                     identifier=configured.get("codice_ipa") or current_app.config["SURVEY_INSTANCE"],
                     email=configured.get("email"), website=configured.get("sito"))


def public_urls(year: int, version: int) -> tuple[str, str]:
    base = public_base_url()
    return f"{base}/trasparenza/{year}", f"{base}/trasparenza/{year}/v{version}/"


def render_files(pub: Publication, who: Publisher, issued: date | None = None) -> list[tuple[str, bytes]]:
    """Every file of the publication, in the order they are listed: the tables of all the services, then, where
    the year has services of more than one ente, each ente's own tables, then the descriptions of them all.
    ``issued``: the day the year was first published (the DCAT record's dct:issued), this one's when None."""
    names = file_names(pub.year)
    files = _tables(pub, names)
    per_ente = []
    landing, downloads = public_urls(pub.year, pub.version)
    own_pages = {}
    entities = pub.entities() if pub.methods else []
    for ente in entities:
        own = _tables(pub.of_ente(ente["codice"]), file_names(pub.year, ente["codice"]))
        per_ente.append((ente["codice"], ente["nome"], _info(*own[0])))
        own_pages.update({name: (f"{landing}?ente={ente['codice']}", f"{name} – {ente['nome']}") for name, _ in own})
        files += own
    end = pub.method["periodo"]["fine"]
    package = datapackage(pub.year, pub.version, pub.published_at, who, _info(*files[0]), pub.threshold, end,
                          per_ente)
    files.append((names["datapackage"], dumps(package)))
    dcat = dcat_ap_it(pub.year, pub.version, pub.published_at, who, [_info(n, b) for n, b in files], landing,
                      downloads, end, own_pages, issued)
    files.append((names["dcat"], dumps(dcat)))
    return files


def _tables(pub: Publication, names: dict[str, str]) -> list[tuple[str, bytes]]:
    """The CSV, XLSX and ODS of ``pub`` (the whole year's, or one ente's)."""
    sheets = publication_sheets(pub)
    title = f"Soddisfazione degli utenti dei servizi – {pub.ente['nome'] + ' – ' if pub.ente else ''}anno {pub.year}"
    return [(names["csv"], to_csv(pub.questions_frame()).encode("utf-8")),
            (names["xlsx"], to_xlsx(sheets, created=pub.published_at, title=title)),
            (names["ods"], to_ods(sheets))]


def _info(name: str, content: bytes) -> FileInfo:
    return FileInfo(name, hashlib.sha256(content).hexdigest(), len(content))


def running_until(year: int) -> date | None:
    """For the year still running, today (in the body's time zone): its figures cover the year so far. None for a
    year that is over."""
    today = local_today()
    return today if year >= today.year else None


def period(data: dict[str, Any]) -> dict[str, Any]:
    """The period a version's data covers (``analysis.publication.period_of``); ``parziale`` for a running year."""
    return (data or {}).get("metodologia", {}).get("periodo", {})


def _same_figures(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Nothing to publish anew: the same data, save the day a running year's figures were taken (the version
    in force still states them rightly). The year's end does count: its final figures make a version of their own."""
    def comparable(data: dict[str, Any]) -> dict[str, Any]:
        # Each standard's result follows from the standards and figures compared here: versions published before
        # the results were kept one by one are not new for lacking them.
        data = {**data, "sintesi": [{k: v for k, v in row.items() if k != "esiti"} for row in data.get("sintesi", [])]}
        # Likewise the days the answers span (any answer that moves them changes a count compared here).
        data = {**data, "metodologia": _without_span(data.get("metodologia", {})),
                "metodologia_enti": {k: _without_span(m) for k, m in data.get("metodologia_enti", {}).items()}}
        if not period(data).get("parziale"):
            return data

        def undated(method: dict[str, Any]) -> dict[str, Any]:
            return {**method, "periodo": {**method["periodo"], "fine": None}}
        return {**data, "metodologia": undated(data["metodologia"]),
                "metodologia_enti": {k: undated(m) for k, m in data.get("metodologia_enti", {}).items()}}
    return comparable(old) == comparable(new)


def _without_span(method: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in method.items() if k != "risposte"}


def listed_services(record: Pubblicazione | None) -> set[str] | None:
    """The services of the year's latest version if it was published after the year ended (a year's partial versions
    all come before its first final one), else None: a new version of a past year lists them, and any with answers of
    the year, not services added since."""
    if record is None or period(record.dati).get("parziale"):
        return None
    return {row["servizio_codice"] for row in record.dati["sintesi"]}


def latest(session: Session, year: int) -> Pubblicazione | None:
    return session.scalar(select(Pubblicazione).filter_by(anno=year).order_by(Pubblicazione.versione.desc()).limit(1))


class PublicationSettingsError(RuntimeError):
    """Production settings that would freeze wrong addresses or no publisher code into the published files."""


def check_settings() -> None:
    """In production, refuse to publish with a loopback base URL or without the publisher's IPA code.

    Both are written for good into the DCAT and datapackage files of the version.
    """
    config = current_app.config
    if config["SURVEY_ENV"] != "production":
        return
    problems = []
    if is_loopback(config["PUBLIC_BASE_URL"]):
        problems.append(f"PUBLIC_BASE_URL è «{config['PUBLIC_BASE_URL']}»: indicare l'indirizzo pubblico del sito")
    if not (config.get("PUBLISHER") or {}).get("codice_ipa"):
        problems.append("PUBLISHER non indica il codice IPA dell'ente (chiave «codice_ipa»)")
    if problems:
        raise PublicationSettingsError("; ".join(problems))


class PublicationConflict(RuntimeError):
    """Two publications of the same year at the same moment: only one gets the version number."""


@dataclass
class Outcome:
    publication: Pubblicazione
    created: bool  # False when nothing changed since the latest version, which is returned instead


@dataclass
class Draft:
    """What publishing the year now would freeze, compared with its version in force."""

    previous: Pubblicazione | None
    pub: Publication
    data: dict[str, Any]
    who: Publisher
    moved: list[dict[str, Any]]  # the address or publisher the files carry, where they changed
    unchanged: bool  # nothing to publish anew: the same figures, actions, address and publisher

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The changes a new version would list (as ``Pubblicazione.modifiche``)."""
        return _changes(self.previous.dati, self.data) + self.moved if self.previous else []


def next_version(session: Session, year: int) -> Draft:
    """The year's figures as they stand, against the latest version: what ``publish_year`` would publish, and what
    the staff page shows before anyone ticks "Ho controllato"."""
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    previous = latest(session, year)
    pub = build_publication(session.connection(), year, threshold, running_until(year), listed_services(previous))
    data = to_data(pub)
    who = publisher(session)
    # The address and the publisher are frozen into the DCAT and datapackage files: a version published before
    # PUBLIC_BASE_URL or PUBLISHER were set right is replaced, even with the same figures.
    moved = identity_changes(frozen_identity(session, previous), identity(year, who)) if previous else []
    unchanged = previous is not None and not moved and _same_figures(previous.dati, _json_roundtrip(data))
    return Draft(previous, pub, data, who, moved, unchanged)


def one_line(text: str | None) -> str:
    """A text on one line, its runs of spaces and line breaks one space (a reason goes into a list item and a
    spreadsheet cell)."""
    return " ".join((text or "").split())


def clean_reason(text: str | None) -> str | None:
    """Why a version is published, on one line (``one_line``); None when empty. A ValueError, in Italian, for a
    control character or when longer than the record keeps."""
    reason = one_line(text)
    if CONTROL.search(reason):
        raise ValueError("il motivo contiene caratteri di controllo non ammessi: ricopiarlo senza formattazione")
    if len(reason) > REASON_LENGTH:
        raise ValueError(f"il motivo è lungo {len(reason)} caratteri: al massimo {REASON_LENGTH}")
    return reason or None


def publish_year(session: Session, year: int, user: User | None = None, actor: str | None = None,
                 reason: str | None = None) -> Outcome:
    """Create version k of the year, unless its figures and actions equal the latest version's. ``reason`` (why, in
    the publisher's words; ``clean_reason``) goes with the version: its page and its Nota metodologica say it."""
    reason = clean_reason(reason)
    check_settings()
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    if session.get_bind().dialect.name == "postgresql":
        # Every figure from one snapshot: answers committed while the tables are built must not make the
        # Sintesi and the Nota metodologica count different totals. (SQLite has a single writer.)
        session.commit()
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    draft = next_version(session, year)
    previous, pub, data, who = draft.previous, draft.pub, draft.data, draft.who
    if draft.unchanged:
        return Outcome(previous, created=False)
    version = (session.scalar(select(func.max(Pubblicazione.versione)).filter_by(anno=year)) or 0) + 1
    published_at = utcnow().replace(microsecond=0)
    # The files state the time as the Comune reads it (Europe/Rome), the record keeps UTC.
    pub.version, pub.published_at = version, published_at.astimezone(ZoneInfo(current_app.config["SURVEY_TIMEZONE"]))
    pub.reason = reason or ""
    record = Pubblicazione(anno=year, versione=version, pubblicata_il=published_at, utente_id=user.id if user else None,
                           pubblicata_da=(user.email if user else actor) or "riga di comando",
                           soglia_soppressione=threshold, dati=data,
                           modifiche=draft.changes, motivo=reason)
    first = session.scalar(select(func.min(Pubblicazione.pubblicata_il)).filter_by(anno=year))
    issued = None if first is None else (first if first.tzinfo else first.replace(tzinfo=UTC)).astimezone(
        pub.published_at.tzinfo).date()
    for name, content in render_files(pub, who, issued):
        suffix = "." + name.rsplit(".", 1)[-1]
        record.file.append(PubblicazioneFile(nome=name, media_type=MEDIA_TYPES[suffix], contenuto=content,
                                             sha256=hashlib.sha256(content).hexdigest(), dimensione=len(content)))
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        # Someone else published the same year a moment ago: their version k stands, this one is not made.
        session.rollback()
        raise PublicationConflict(year) from None
    session.add(AuditLog(utente_id=user.id if user else None, azione="pubblicazione.crea",
                         oggetto=f"{year} v{version}",
                         dettagli={"file": {f.nome: f.sha256 for f in record.file},
                                   "modifiche": len(record.modifiche), "da": record.pubblicata_da,
                                   **({"motivo": reason} if reason else {})}))
    session.commit()
    return Outcome(record, created=True)


def identity(year: int, who: Publisher) -> dict[str, str | None]:
    """Where and by whom the year's files say they are published, with today's settings. The address only when
    PUBLIC_BASE_URL is set: otherwise it is whichever host the page or the command happened to use, not a setting
    that changed. Empty values count as none."""
    found = {IDENTITY_FIELDS["name"]: who.name, IDENTITY_FIELDS["code"]: who.identifier,
             IDENTITY_FIELDS["email"]: who.email or None, IDENTITY_FIELDS["website"]: who.website or None}
    if current_app.config.get("PUBLIC_BASE_URL"):
        found[IDENTITY_FIELDS["address"]] = public_urls(year, 0)[0]
    return found


def frozen_identity(session: Session, record: Pubblicazione) -> dict[str, str | None] | None:
    """The same as ``identity``, as ``record``'s DCAT and data package froze it; None for a version without them."""
    stored = dict(session.execute(select(PubblicazioneFile.nome, PubblicazioneFile.contenuto).where(
        PubblicazioneFile.pubblicazione_id == record.id, PubblicazioneFile.nome.in_((DCAT, DATAPACKAGE)))).all())
    if DCAT not in stored:
        return None
    dcat = json.loads(stored[DCAT])
    package = json.loads(stored[DATAPACKAGE]) if DATAPACKAGE in stored else {}
    agent, mail = dcat["dct:publisher"], dcat["dcat:contactPoint"].get("vcard:hasEmail", {}).get("@id")
    return {IDENTITY_FIELDS["address"]: dcat["dcat:landingPage"]["@id"], IDENTITY_FIELDS["name"]: agent["foaf:name"],
            IDENTITY_FIELDS["code"]: agent["dct:identifier"],
            IDENTITY_FIELDS["email"]: mail.removeprefix("mailto:") if mail else None,
            IDENTITY_FIELDS["website"]: package.get("publisher", {}).get("path") or None}


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """What the new version changes; a year published before each ente had its own files gets them, and says so."""
    changes = compare(old, new)
    if new.get("metodologia_enti") and not old.get("metodologia_enti"):
        changes.append(files_per_ente_added())
    return changes


def _json_roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    """The data as the JSON column gives it back (tuples become lists, and so on), for a fair comparison."""
    return json.loads(json.dumps(data))


def publication_view(record: Pubblicazione) -> Publication:
    return from_data(record.dati, record.versione, record.pubblicata_il, reason=record.motivo)


def report_entities() -> dict[str, str]:
    """Code to name of the enti with services: each body's Nucleo di valutazione can have its own report."""
    return dict(db.session.execute(select(Ente.codice, Ente.nome).join(Ufficio).join(Servizio).distinct()
                                   .order_by(Ente.nome)).all())
