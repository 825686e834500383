"""``POST /api/v1/imports`` (JSON rows or a file), ``GET /api/v1/imports[/<id>]``, ``GET /api/v1/openapi.json``.

The same code path as the CLI and the web upload (``imports.load``); the token decides the firm (the batches'
source) and the services it may send rows for. Every answer, errors included, is JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from functools import wraps

from flask import jsonify, request, url_for
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..extensions import db
from ..imports.load import (
    ImportRefused,
    ImportReport,
    import_file,
    import_rows,
    published_years,
    safe_file_name,
)
from ..models import Compilazione, ImportBatch, Rilevazione
from ..models.base import utcnow
from . import bp
from .auth import request_token
from .openapi import document
from .schemas import (
    Batch,
    BatchList,
    Error,
    ImportForm,
    ImportRequest,
    ImportResult,
    PublishedYear,
    RowErrorOut,
    field_errors,
)

FILE_LIMIT = 10 * 1024 * 1024
LAST_USE_STEP = timedelta(minutes=5)
STATUS_MESSAGES = {
    400: "richiesta non valida",
    401: "token mancante, non valido o revocato",
    404: "risorsa inesistente",
    405: "metodo HTTP non ammesso per questo indirizzo",
    413: f"richiesta troppo grande: al massimo {FILE_LIMIT >> 20} MB per file",
    415: "inviare application/json o multipart/form-data",
    429: "troppe richieste: riprovare più tardi",
}


def reply(model: BaseModel, status: int = 200, **headers: str):
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    response.headers.update(headers)
    return response


def error(status: int, message: str | None = None, **fields):
    response = reply(Error(errore=message or STATUS_MESSAGES.get(status, "errore"), **fields), status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def http_error(exc: HTTPException):
    """JSON, in Italian, for every HTTP error under /api/ (rate and size limits included); see ``errors``."""
    response = error(exc.code or 500)
    for name, value in exc.get_headers():  # Allow with 405, Retry-After with 429…
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        token = request_token(db.session)
        if token is None:
            return error(401)
        now, last = utcnow(), token.ultimo_uso
        if last is not None and last.tzinfo is None:  # SQLite gives back naive UTC
            last = last.replace(tzinfo=UTC)
        if last is None or now - last > LAST_USE_STEP:
            # Recorded at most every few minutes: a write per request would queue behind a big import on SQLite.
            token.ultimo_uso = now
            try:
                db.session.commit()
            except OperationalError:
                db.session.rollback()
        return view(token, *args, **kwargs)
    return wrapped


def result(report: ImportReport, *, dry_run: bool, skip_invalid: bool) -> ImportResult:
    # A dry run is "verificato" only when a real run would write: invalid rows without skip_invalid are refused.
    would_write = report.valid and (skip_invalid or not report.errors)
    unchanged = report.skipped and not report.valid and not report.errors
    state = "importato" if report.written else "verificato" if dry_run and would_write else \
        "invariato" if unchanged else "rifiutato"
    return ImportResult(stato=state, lotto=report.batch_id, righe=report.rows, righe_valide=report.valid,
                        righe_non_valide=report.invalid_rows, righe_importate=report.written,
                        righe_gia_importate=report.skipped,
                        errori=[RowErrorOut(riga=e.row, id_esterno=report.ids.get(e.row, ""), colonna=e.column,
                                            valore=e.value, motivo=e.reason) for e in report.errors],
                        errori_totali=sum(report.reasons.values()), errori_per_motivo=dict(report.reasons),
                        colonne_assenti=report.absent_columns,
                        anni_pubblicati=[PublishedYear(anno=year, versione=version) for year, version in
                                         sorted(published_years(db.session, report.years).items())])


@bp.post("/imports")
@token_required
def create_import(token):
    options = {"source": token.fonte, "token": token, "allowed_services": {s.id for s in token.servizi}}
    try:
        if request.mimetype == "application/json":
            raw = request.get_data()
            if len(raw) > FILE_LIMIT:  # the API's limit for rows as for a file (the app's own is higher)
                raise RequestEntityTooLarge()
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested beyond the parser's depth
                return error(400, "il corpo non è JSON valido")
            params = ImportRequest.model_validate(body)
            run = lambda: import_rows(db.session, params.righe, params.nome_file, params.questionario,  # noqa: E731
                                      method=params.metodo, dry_run=params.dry_run, skip_invalid=params.skip_invalid,
                                      **options)
        elif request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                return error(400, "manca il file (campo «file»)", dettagli=[{"campo": "file",
                                                                             "motivo": "campo obbligatorio"}])
            params = ImportForm.model_validate(request.form.to_dict())
            data = upload.read(FILE_LIMIT + 1)
            if len(data) > FILE_LIMIT:
                raise RequestEntityTooLarge()
            name = safe_file_name(upload.filename)
            run = lambda: import_file(db.session, data, name, params.questionario, method=params.metodo,  # noqa: E731
                                      dry_run=params.dry_run, skip_invalid=params.skip_invalid, **options)
        else:
            return error(415)
    except ValidationError as exc:
        return error(400, "campi della richiesta non validi", dettagli=field_errors(exc))
    try:
        report = run()
    except ImportRefused as exc:
        db.session.rollback()
        return error(409 if exc.conflict else 422, str(exc), lotto=exc.batch_id)
    outcome = result(report, dry_run=params.dry_run, skip_invalid=params.skip_invalid)
    if report.written:
        return reply(outcome, 201, Location=url_for(".get_import", batch_id=report.batch_id))
    return reply(outcome, 200 if outcome.stato in ("verificato", "invariato") else 422)


def batch_out(batch: ImportBatch) -> Batch:
    campaigns = db.session.scalars(
        select(Rilevazione.codice).where(Rilevazione.id.in_(
            select(Compilazione.rilevazione_id).where(Compilazione.import_batch_id == batch.id).distinct()))
        .order_by(Rilevazione.codice)).all()
    return Batch(id=batch.id, stato="annullato" if batch.annullato_il else "importato", fonte=batch.fonte,
                 metodo=batch.metodo, questionario=batch.questionario.codice if batch.questionario else None,
                 nome_file=batch.nome_file, sha256=batch.sha256, righe=batch.righe,
                 righe_importate=batch.righe_importate, righe_scartate=batch.righe_scartate,
                 creato_il=batch.created_at, annullato_il=batch.annullato_il, rilevazioni=list(campaigns))


@bp.get("/imports")
@token_required
def list_imports(token):
    """The firm's own batches, newest first (the last 100)."""
    batches = db.session.scalars(select(ImportBatch).filter_by(fonte=token.fonte)
                                 .order_by(ImportBatch.id.desc()).limit(100))
    return reply(BatchList(lotti=[batch_out(b) for b in batches]))


@bp.get("/imports/<int:batch_id>")
@token_required
def get_import(token, batch_id: int):
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.fonte != token.fonte:
        return error(404, f"lotto {batch_id} inesistente")  # another firm's batch looks the same as none
    excluded = [RowErrorOut(riga=row, colonna=column, valore=value, motivo=reason)
                for row, column, value, reason in batch.righe_escluse or []]
    return reply(batch_out(batch).model_copy(update={"righe_escluse": excluded}))


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
