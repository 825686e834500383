"""One code path for every door (CLI today; the web upload and the API call the same function).

Decode, check every row, then write the batch, its questionnaires and answers in one transaction, or nothing.
The daily counts the analysis reads follow in the same transaction (``summary.batch_increments``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, selectinload

from .. import summary
from ..models import (
    IMPORT_METHODS,
    ApiToken,
    Compilazione,
    ImportBatch,
    ImportExternalId,
    Questionario,
    Rilevazione,
    Risposta,
    Servizio,
    User,
)
from .columns import DEFAULT_CHANNEL, NON_SO, all_columns
from .reader import ReadError, Table, read_table
from .validate import Context, Parsed, RowError, check_headers, check_row

MAX_LISTED_ERRORS = 1000
CHUNK = 5000  # questionnaires per bulk insert: bounded memory, few round trips


class ImportRefused(Exception):
    """The whole file is refused before its rows are read (unknown questionnaire, file already imported…).

    ``batch_id`` names the earlier batch when the refusal is a repeat (the API answers 409 Conflict).
    """

    def __init__(self, message: str, *, batch_id: int | None = None) -> None:
        super().__init__(message)
        self.batch_id = batch_id


@dataclass
class ImportReport:
    file_name: str
    rows: int = 0
    valid: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_LISTED_ERRORS
    reasons: Counter = field(default_factory=Counter)  # every error, per reason
    written: int = 0
    batch_id: int | None = None
    preview: list[Parsed] = field(default_factory=list)

    @property
    def invalid_rows(self) -> int:
        return self.rows - self.valid

    def add(self, error: RowError) -> None:
        self.reasons[error.reason] += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)


def _answer_rows(parsed: Parsed, questions: dict[str, Any]) -> list[dict[str, Any]]:
    """The item rows of one questionnaire, as plain dicts for a bulk insert."""
    rows: list[dict[str, Any]] = []
    for code, domanda in questions.items():
        value = parsed.answers.get(code)
        importance = parsed.importance.get(code)
        if value is None and importance is None:
            continue
        base = {"domanda_id": domanda.id, "valore": None, "opzione": None, "testo": None, "importanza": None,
                "non_so": False}
        if domanda.tipo == "scelta_multipla":
            rows += [{**base, "opzione": option} for option in value]
        elif domanda.tipo == "scelta_singola":
            rows.append({**base, "opzione": value})
        elif domanda.tipo == "testo":
            rows.append({**base, "testo": value})
        elif value == NON_SO:
            rows.append({**base, "non_so": True, "importanza": importance})
        else:
            rows.append({**base, "valore": value, "importanza": importance})
    return rows


COMPILAZIONE_COLUMNS = ("id", "servizio_id", "versione_id", "rilevazione_id", "data_ora", "canale", "sede_id", "lingua",
                        "import_batch_id")
ANSWER_COLUMNS = ("compilazione_id", "domanda_id", "valore", "opzione", "testo", "importanza", "non_so")


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY on the session's own connection and transaction: executemany is several times slower."""
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))


def _write(session: Session, batch: ImportBatch, versione, valid: list[Parsed], source: str) -> None:
    """Bulk inserts (the ORM's one-object-at-a-time flush would take minutes for 100,000 rows) and the counts."""
    questions = {d.codice: d for d in versione.domande}
    compilazioni = [{"servizio_id": p.servizio.id, "versione_id": versione.id, "rilevazione_id": p.rilevazione_id,
                     "data_ora": p.data_ora, "canale": p.canale, "sede_id": p.sede_id, "lingua": "it",
                     "import_batch_id": batch.id} for p in valid]
    answers = [_answer_rows(p, questions) for p in valid]
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(compilazioni), CHUNK):
        chunk = compilazioni[start:start + CHUNK]
        if postgres:
            # Ids drawn from the sequence first, then every row by COPY: an INSERT … RETURNING per batch of rows
            # is most of the time of a big import otherwise.
            ids = session.scalars(text("SELECT nextval('compilazioni_id_seq') FROM generate_series(1, :n)"),
                                  {"n": len(chunk)}).all()
            _copy(session, "compilazioni", COMPILAZIONE_COLUMNS, [{**row, "id": i} for i, row in zip(ids, chunk,
                                                                                                     strict=True)])
        else:
            # Core tables, not the ORM entities: the ORM's bulk path would run one INSERT per row here.
            table = Compilazione.__table__
            ids = session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk).all()
        items = [{**item, "compilazione_id": cid} for cid, rows in zip(ids, answers[start:start + CHUNK], strict=True)
                 for item in rows]
        if items and postgres:
            _copy(session, "risposte", ANSWER_COLUMNS, items)
        elif items:
            session.execute(insert(Risposta.__table__), items)
    external = [{"batch_id": batch.id, "fonte": source, "hash": p.external_hash} for p in valid]
    if postgres:
        _copy(session, "import_id_esterni", ("batch_id", "fonte", "hash"), external)
    else:
        session.execute(insert(ImportExternalId.__table__), external)
    summary.upsert_counts(session, summary.batch_increments(compilazioni, answers,
                                                            {d.id: d.tipo for d in versione.domande}))


def _checked(ctx: Context, rows, headers: list[str], report: ImportReport, valid: list[Parsed], progress,
             preview_rows: int) -> None:
    """Check each row as it is read (the reader streams), collecting valid rows and errors."""
    for number, values in rows:
        report.rows += 1
        parsed, errors = check_row(ctx, number, headers, values)
        for error in errors:
            report.add(error)
        if parsed is not None:
            valid.append(parsed)
            if len(report.preview) < preview_rows:
                report.preview.append(parsed)
        if progress is not None:
            progress(1)


def safe_file_name(name: str | None) -> str:
    """An uploaded file's own name, without folders or control characters, as batch lists show it."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:300].strip() or "file"


def import_file(session: Session, data: bytes, file_name: str, questionnaire: str, **options: Any) -> ImportReport:
    """Check every row of the file; unless it is a dry run, write the valid ones as one batch, or nothing at all.

    Without ``skip_invalid`` a single invalid row writes nothing. Raises ImportRefused for a whole-file refusal.
    Options: source, method, user, token, dry_run, skip_invalid, today, progress, preview_rows, allowed_services.
    """
    def table() -> Table:
        try:
            return read_table(data, file_name)
        except ReadError as exc:
            raise ImportRefused(str(exc)) from None
    return _import(session, hashlib.sha256(data).hexdigest(), file_name, questionnaire, table, **options)


def import_rows(session: Session, rows: list[dict[str, Any]], name: str, questionnaire: str,
                **options: Any) -> ImportReport:
    """The API's JSON rows, through the same checks and writes as a file; row n is the n-th object (from 1).

    The batch's hash is that of the rows in a canonical JSON form: the same rows sent twice are refused.
    A key left out of every row is an empty column (JSON writers drop nulls); an unknown key is still refused.
    """
    canonical = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return _import(session, hashlib.sha256(canonical.encode()).hexdigest(), name, questionnaire,
                   lambda: rows_table(rows), every_column=False, **options)


def rows_table(rows: list[dict[str, Any]]) -> Table:
    """JSON objects as the reader's table: the union of their keys, in the order first seen, as the columns."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    original = list(keys)

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    numbered = ((number, [cell(row.get(key)) for key in original]) for number, row in enumerate(rows, start=1))
    return Table([" ".join(key.split()).lower() for key in original], original, numbered)


def _import(session: Session, digest: str, file_name: str, questionnaire: str, open_table: Callable[[], Table], *,
            source: str, method: str, user: User | None = None, token: ApiToken | None = None,
            dry_run: bool = False, skip_invalid: bool = False, today: date | None = None,
            progress: Callable[[int], None] | None = None, preview_rows: int = 10,
            allowed_services: set[int] | None = None, every_column: bool = True) -> ImportReport:
    if method not in IMPORT_METHODS:
        raise ImportRefused(f"metodo «{method}» non previsto: usare {', '.join(IMPORT_METHODS)}")
    source = " ".join(source.split())
    if not source:
        raise ImportRefused("indicare la fonte (la società che ha raccolto i dati)")
    q = session.scalar(select(Questionario).filter_by(codice=questionnaire))
    if q is None or q.versione_corrente is None:
        raise ImportRefused(f"questionario sconosciuto «{questionnaire}»")
    earlier = session.scalar(select(ImportBatch).where(ImportBatch.sha256 == digest, ImportBatch.fonte == source,
                                                       ImportBatch.annullato_il.is_(None)))
    if earlier is not None:
        raise ImportRefused(f"questo file è già stato importato (lotto {earlier.id} del "
                            f"{earlier.created_at:%d/%m/%Y}): nessuna riga scritta", batch_id=earlier.id)
    table = open_table()

    versione = q.versione_corrente
    report = ImportReport(file_name=file_name)
    # The reader lower-cases headers ("D1 " -> "d1"): name them as the questionnaire does.
    canonical = {name.lower(): name for name in all_columns(versione)}
    headers = [canonical.get(name, name) for name in table.headers]
    if not every_column:
        headers += [name for name in all_columns(versione) if name not in headers]  # absent: empty in every row
    for error in check_headers(headers, versione):
        report.add(error)
    if report.errors:
        return report  # the rows cannot be read against the wrong columns
    services = {s.slug: s for s in session.scalars(select(Servizio).options(selectinload(Servizio.sedi)))}
    campaigns = list(session.scalars(select(Rilevazione).filter_by(questionario_id=q.id)
                                     .options(selectinload(Rilevazione.servizi))))
    known = set(session.scalars(select(ImportExternalId.hash).filter_by(fonte=source)))
    ctx = Context(versione=versione, services=services, campaigns=campaigns, known_ids=known, source=source,
                  default_channel=DEFAULT_CHANNEL[method], today=today or date.today(),
                  allowed_services=allowed_services)
    valid: list[Parsed] = []
    try:
        _checked(ctx, table.rows, headers, report, valid, progress, preview_rows)
    except ReadError as exc:  # a file can turn out corrupt part-way through (an unclosed quote)
        raise ImportRefused(str(exc)) from None
    report.valid = len(valid)
    if report.rows == 0:
        report.add(RowError(2, "", "", "nessuna riga di dati nel file"))
    if dry_run or not valid or (report.errors and not skip_invalid):
        return report

    batch = ImportBatch(fonte=source, metodo=method, nome_file=file_name[:300], sha256=digest, righe=report.rows,
                        utente_id=user.id if user else None, token_id=token.id if token else None,
                        questionario_id=q.id, righe_importate=len(valid), righe_scartate=report.rows - len(valid))
    session.add(batch)
    session.flush()
    _write(session, batch, versione, valid, source)
    session.commit()
    report.written, report.batch_id = len(valid), batch.id
    return report
