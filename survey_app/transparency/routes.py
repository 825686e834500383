"""Public results: `/trasparenza`, a year's version, a service's page, and the frozen files."""

from __future__ import annotations

import io
import json
from collections import Counter, OrderedDict

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from analysis.opendata import dcat_catalog, dumps
from analysis.publication import Publication

from ..extensions import db
from ..models import Pubblicazione, PubblicazioneFile
from ..settings import public_base_url
from . import bp
from .labels import in_page_language
from .publishing import DCAT, file_names, publication_view, publisher

FILE_LABELS = {"xlsx": _l("Foglio di calcolo Excel (XLSX)"), "ods": _l("Foglio di calcolo OpenDocument (ODS)"),
               "csv": _l("Dati aperti (CSV)"), "datapackage": _l("Descrizione dei dati (datapackage.json)"),
               "dcat": _l("Scheda per i cataloghi di dati aperti (DCAT-AP_IT, JSON-LD)")}


@bp.context_processor
def _publisher_in_header() -> dict:
    return {"ente_name": publisher(db.session).name}


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


def _downloads(record: Pubblicazione) -> list[dict]:
    names = file_names(record.anno)
    stored = {f.nome: f for f in record.file}
    return [{"label": str(FILE_LABELS[kind]), "file": stored[name]} for kind, name in names.items() if name in stored]


@bp.get("", strict_slashes=False)
def index():
    latest = _latest_per_year()
    current = latest[0] if latest else None
    pub = in_page_language(publication_view(current)) if current else None
    return render_template("transparency/index.html", years=latest, record=current, pub=pub,
                           groups=by_ente(pub) if pub else [], downloads=_downloads(current) if current else [])


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
    pub = in_page_language(publication_view(record))
    return render_template("transparency/year.html", record=record, pub=pub, groups=by_ente(pub),
                           downloads=_downloads(record), versions=versions, latest=versions[0])


@bp.get("/<int:anno>/<name>")
def service_or_file(anno: int, name: str):
    if "." in name:  # a file of the newest version: a stable link for the Comune's "Servizi erogati" page
        return _send(_version(anno, None), name)
    record = _version(anno, _requested_version())
    pub = in_page_language(publication_view(record))
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
    return render_template("transparency/service.html", record=record, pub=pub, summary=summary,
                           questions=questions, actions=actions, downloads=_downloads(record))


@bp.get("/<int:anno>/v<int:versione>/<name>")
def download(anno: int, versione: int, name: str):
    return _send(_version(anno, versione), name)


def _send(record: Pubblicazione, name: str):
    stored = record.file_named(name)
    if stored is None:
        abort(404)
    stem, _, suffix = name.rpartition(".")
    download_name = name if name in ("datapackage.json", "dcat-ap_it.jsonld") else f"{stem}-v{record.versione}.{suffix}"
    response = send_file(io.BytesIO(stored.contenuto), mimetype=stored.media_type, as_attachment=True,
                         download_name=download_name, etag=stored.sha256, max_age=300)
    # The version's files never change: the hash lets anyone check what they downloaded.
    response.headers["X-Content-SHA256"] = stored.sha256
    return response
