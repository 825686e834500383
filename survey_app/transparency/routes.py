"""Public results: `/trasparenza`, a year's version, a service's page, and the frozen files."""

from __future__ import annotations

import io
import json
from collections import Counter, OrderedDict

from flask import abort, current_app, g, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import defer, selectinload

from analysis.opendata import dcat_catalog, dumps
from analysis.publication import Publication
from analysis.sheets import method_sheet

from ..extensions import db
from ..models import Pubblicazione, PubblicazioneFile
from ..settings import public_base_url
from . import bp
from .changes import of_ente
from .labels import changes_in_page_language, in_page_language
from .publishing import DCAT, file_names, publication_view, publisher, report_entities

FILE_LABELS = {"xlsx": _l("Foglio di calcolo Excel (XLSX)"), "ods": _l("Foglio di calcolo OpenDocument (ODS)"),
               "csv": _l("Dati aperti (CSV)"), "datapackage": _l("Descrizione dei dati (datapackage.json)"),
               "dcat": _l("Scheda per i cataloghi di dati aperti (DCAT-AP_IT, JSON-LD)")}


@bp.context_processor
def _publisher_in_header() -> dict:
    """The header names who publishes: the ente whose page this is (as the version shown names it), else the
    instance's publisher."""
    return {"ente_name": g.get("page_ente") or publisher(db.session).name}


def _latest_per_year() -> list[Pubblicazione]:
    """The newest version of each year, newest year first."""
    # The listing needs neither the data nor the changes of every version: load them only for the one shown.
    records = db.session.scalars(select(Pubblicazione).options(defer(Pubblicazione.dati),
                                                               defer(Pubblicazione.modifiche))
                                 .order_by(Pubblicazione.anno.desc(), Pubblicazione.versione.desc())).all()
    seen: OrderedDict[int, Pubblicazione] = OrderedDict()
    for record in records:
        seen.setdefault(record.anno, record)
    return list(seen.values())


def _version(year: int, version: int | None) -> Pubblicazione:
    query = select(Pubblicazione).filter_by(anno=year).options(
        selectinload(Pubblicazione.file).defer(PubblicazioneFile.contenuto))
    if version is None:
        query = query.order_by(Pubblicazione.versione.desc()).limit(1)
    else:
        query = query.filter_by(versione=version)
    record = db.session.scalar(query)
    if record is None:
        abort(404)
    return record


def _requested_version() -> int | None:
    raw = request.args.get("versione")
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 10_000:
        abort(404)
    return int(raw)


def _narrowed(pub: Publication) -> tuple[Publication, str | None]:
    """The publication as the page shows it: one ente's part of it for `?ente=CODE` (each body links its own page
    from its Amministrazione trasparente), else the whole; an ente without services in it is a 404."""
    code = request.args.get("ente")
    if code is None:
        return pub, None
    own = pub.of_ente(code)
    if own is None:
        abort(404)
    g.page_ente = own.ente["nome"]
    return own, code


def _with_ente(records: list[Pubblicazione], code: str) -> list[tuple[Pubblicazione, Publication]]:
    """The versions among ``records`` that have services of the ente, each with the ente's part of it."""
    found = []
    for record in records:
        own = publication_view(record).of_ente(code)
        if own is not None:
            found.append((record, own))
    return found


def by_ente(pub: Publication) -> list[dict]:
    """The Sintesi rows grouped by ente; an Unione names its member comuni."""
    members: dict[str, list[str]] = {}
    for ente in pub.enti:
        if ente.get("unione"):
            members.setdefault(ente["unione"], []).append(ente["nome"])
    groups: OrderedDict[str, dict] = OrderedDict()
    for row in pub.summary:
        group = groups.setdefault(row["ente"], {"nome": row["ente"], "comuni": sorted(members.get(row["ente"], [])),
                                                "servizi": []})
        group["servizi"].append(row)
    return list(groups.values())


def _own_files(record: Pubblicazione, ente: str | None) -> bool:
    """Whether the version has the ente's own tables (versions published before they were made have not)."""
    return ente is not None and any(f.nome == file_names(record.anno, ente)["csv"] for f in record.file)


def _downloads(record: Pubblicazione, ente: str | None = None) -> list[dict]:
    """The version's files to download: with ``ente``, its own tables where the version has them, and the
    descriptions of the whole."""
    stored = {f.nome: f for f in record.file}
    names = file_names(record.anno)
    if _own_files(record, ente):
        names = {**file_names(record.anno, ente), "datapackage": names["datapackage"], "dcat": names["dcat"]}
    found = [{"label": str(FILE_LABELS[kind]), "file": stored[name]} for kind, name in names.items() if name in stored]
    if ente is None:  # the data package lists each ente's CSV: the whole page offers them too
        own = [(e["nome"], file_names(record.anno, e["codice"])["csv"]) for e in record.dati.get("enti", [])]
        found += [{"label": _("%(what)s: solo %(ente)s", what=FILE_LABELS["csv"], ente=name), "file": stored[csv]}
                  for name, csv in own if csv in stored]
    return found


def _previous_year(record: Pubblicazione, in_force: bool = True) -> tuple[dict[str, dict], Pubblicazione | None]:
    """Each service's share of satisfied users as published for the year before, by service code, where it was
    published with a figure (the Sintesi shows it beside this year's), and the version it comes from: the newest for
    the version in force; for an earlier version, the one in force when it was published, so that its page does not
    change with a later publication of the year before."""
    query = select(Pubblicazione).filter_by(anno=record.anno - 1)
    if not in_force:  # published before it: an earlier id (two publications may share a second)
        query = query.where(Pubblicazione.id < record.id)
    source = db.session.scalar(query.order_by(Pubblicazione.versione.desc()).limit(1))
    if source is None:
        return {}, None
    return {row["servizio_codice"]: row for row in publication_view(source).summary
            if row.get("quota_soddisfatti") is not None}, source


def _previous_context(record: Pubblicazione | None, in_force: bool = True) -> dict:
    """The template's ``previous`` (by service code) and ``previous_source`` (the version they come from)."""
    previous, source = _previous_year(record, in_force) if record is not None else ({}, None)
    return {"previous": previous, "previous_source": source}


# The page's header says them.
SHOWN_ELSEWHERE = {"Ente", "Versione della pubblicazione", "Data di pubblicazione", "Motivo della versione"}


def method_note(pub: Publication) -> list[tuple[str, str]]:
    """The Nota metodologica of the files (the XLSX's sheet), for the year's page: period, channels, firms, scales,
    anonymity, suppression, formulas and margins of error, as published."""
    return [(row[0], row[1]) for row in method_sheet(pub).rows if row[0] not in SHOWN_ELSEWHERE]


def _ente_pages(pub: Publication | None) -> list[dict]:
    """Each ente's own page, where the publication has services of more than one."""
    entities = pub.entities() if pub is not None else []
    return entities if len(entities) > 1 else []


@bp.get("", strict_slashes=False)
def index():
    latest = _latest_per_year()
    ente = request.args.get("ente")
    if ente is None:
        current = latest[0] if latest else None
        pub = in_page_language(publication_view(current)) if current else None
        return render_template("transparency/index.html", years=latest, record=current, pub=pub, ente=None,
                               entities=_ente_pages(pub), groups=by_ente(pub) if pub else [],
                               downloads=_downloads(current) if current else [], whole_files=False,
                               **_previous_context(current))
    # An ente's page: the newest year it has services in, and the earlier ones; before its first publication, the
    # page says so (its address is on the ente's site from the start), for an ente of the catalogue with services.
    found = _with_ente(latest, ente)
    if not found:
        name = report_entities().get(ente)
        if name is None:
            abort(404)
        g.page_ente = name
        return render_template("transparency/index.html", years=[], record=None, pub=None, ente=ente, entities=[],
                               groups=[], downloads=[], whole_files=False)
    current, pub = found[0]
    pub = in_page_language(pub)
    g.page_ente = pub.ente["nome"]
    return render_template("transparency/index.html", years=[record for record, _own in found], record=current,
                           pub=pub, ente=ente, entities=[], groups=by_ente(pub), downloads=_downloads(current, ente),
                           whole_files=not _own_files(current, ente), **_previous_context(current))


@bp.get("/catalogo.jsonld")
def catalogue():
    """DCAT-AP_IT catalogue of the newest version of every year, built from the frozen DCAT files."""
    datasets = []
    for record in _latest_per_year():
        stored = record.file_named(DCAT)
        if stored is not None:
            datasets.append(json.loads(stored.contenuto))
    homepage = public_base_url() + url_for(".index")
    response = current_app.response_class(dumps(dcat_catalog(publisher(db.session), homepage, datasets)),
                                          mimetype="application/ld+json")
    response.cache_control.max_age = 300
    return response


@bp.get("/<int:anno>")
def year(anno: int):
    record = _version(anno, _requested_version())
    versions = db.session.scalars(select(Pubblicazione).filter_by(anno=anno).options(defer(Pubblicazione.dati))
                                  .order_by(Pubblicazione.versione.desc())).all()
    whole = in_page_language(publication_view(record))
    pub, ente = _narrowed(whole)
    latest = versions[0]
    if ente is None:
        changes = {v.versione: v.modifiche for v in versions}
    else:  # the versions with the ente's services, and the changes to them
        versions = [v for v, _own in _with_ente(versions, ente)]
        services = {row["servizio_codice"] for row in pub.summary}
        changes = {v.versione: of_ente(v.modifiche, pub.ente["nome"], services) for v in versions}
    as_published = publication_view(record)  # the note as the files state it (Italian)
    note = method_note(as_published.of_ente(ente) if ente else as_published)
    return render_template("transparency/year.html", record=record, pub=pub, groups=by_ente(pub), ente=ente,
                           entities=[] if ente else _ente_pages(whole), downloads=_downloads(record, ente),
                           versions=versions, latest=latest, changes=changes_in_page_language(changes), note=note,
                           whole_files=ente is not None and not _own_files(record, ente),
                           **_previous_context(record, record.versione == latest.versione))


@bp.get("/<int:anno>/<name>")
def service_or_file(anno: int, name: str):
    if "." in name:  # a file of the newest version: a stable link for the Comune's "Servizi erogati" page
        return _send(_version(anno, None), name)
    record = _version(anno, _requested_version())
    pub, ente = _narrowed(in_page_language(publication_view(record)))
    summary = pub.service(name)
    if summary is None:
        abort(404)
    questions = [q for q in pub.questions if q["servizio_codice"] == name]
    # A question whose scale changed with a new questionnaire version has a row per scale: say which is which.
    codes = Counter(q["domanda_codice"] for q in questions)
    questions = [{**q, "etichetta": q["etichetta"] + (f" ({q['scala_min']}–{q['scala_max']})"
                                                      if codes[q["domanda_codice"]] > 1 else "")}
                 for q in questions]
    actions = [a for a in pub.actions if a["servizio_codice"] == name]
    latest = db.session.scalar(select(func.max(Pubblicazione.versione)).filter_by(anno=anno))
    context = _previous_context(record, record.versione == latest)
    return render_template("transparency/service.html", record=record, pub=pub, summary=summary, ente=ente,
                           questions=questions, actions=actions, downloads=_downloads(record, ente),
                           whole_files=ente is not None and not _own_files(record, ente), latest_version=latest,
                           **{**context, "previous": context["previous"].get(name)})


@bp.get("/<int:anno>/v<int:versione>/<name>")
def download(anno: int, versione: int, name: str):
    return _send(_version(anno, versione), name)


def _send(record: Pubblicazione, name: str):
    stored = record.file_named(name)
    if stored is None:
        abort(404)
    # Saved under the name the version's datapackage.json gives it, so that a folder of downloaded files validates
    # (a "-v2" added to it broke every resource's path); the version is in the data package and on the page.
    response = send_file(io.BytesIO(stored.contenuto), mimetype=stored.media_type, as_attachment=True,
                         download_name=name, etag=stored.sha256, max_age=300)
    # The version's files never change: the hash lets anyone check what they downloaded.
    response.headers["X-Content-SHA256"] = stored.sha256
    return response
