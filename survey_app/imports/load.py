"""One code path for every door (CLI today; the web upload and the API call the same function).

Decode, check every row, then write the batch, its questionnaires and answers in one transaction, or nothing.
The daily counts the analysis reads follow in the same transaction (``summary.BatchCounts``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import summary
from ..models import (
    IMPORT_METHODS,
    ApiToken,
    AuditLog,
    ImportBatch,
    ImportExternalId,
    Pubblicazione,
    Questionario,
    QuestionarioVersione,
    Rilevazione,
    Servizio,
    User,
)
from ..models.base import random_keys
from ..transparency.formatting import in_local_time, local_today
from .columns import NON_SO
from .excluded import kept_errors
from .firms import canonical_firm
from .layout import FileRows, JsonRows
from .reader import ReadError, read_table
from .validate import ALREADY_IMPORTED, Context, Parsed, RowError, cell_text, check_row

MAX_LISTED_ERRORS = 1000  # kept for a page or the command line; the errors file asks for all of them
EXCLUDED_KEPT = 10_000  # the rows' errors a batch keeps when it leaves invalid rows out
ID_KEPT = 40  # an id_esterno's characters a report names beside a wrong row
SKIPPED_LISTED = 20  # the row numbers of skipped rows a report names
ALL_ERRORS = 200_000  # "all" for the errors file: a 10 MB file has fewer cells; bounded memory all the same
UNKNOWN_FOR_ANOTHER = 3  # unknown columns that suggest a file made for another questionnaire, not a typo
CHUNK = 5000  # questionnaires per bulk insert: bounded memory, few round trips


class ImportRefused(Exception):
    """The whole file is refused before its rows are read (unknown questionnaire, file already imported…).

    ``conflict`` when the data already landed (the API answers 409), with ``batch_id`` the batch that holds it.
    """

    def __init__(self, message: str, *, batch_id: int | None = None, conflict: bool = False) -> None:
        super().__init__(message)
        self.batch_id = batch_id
        self.conflict = conflict or batch_id is not None


@dataclass
class ImportReport:
    file_name: str
    source: str = ""  # the firm, as recorded: the name it will be filed under
    rows: int = 0
    valid: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first ``listed``
    # Rows whose id_esterno the firm sent in an earlier batch: skipped, neither written nor invalid (a whole
    # corrected file sent again), and the first of their row numbers.
    skipped: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    # The id_esterno of each row with a listed error: the firm finds and fixes its rows by it (a sorted file's row
    # numbers no longer match).
    ids: dict[int, str] = field(default_factory=dict)
    listed: int = MAX_LISTED_ERRORS
    reasons: Counter = field(default_factory=Counter)  # every error, per reason
    written: int = 0
    batch_id: int | None = None
    preview: list[Parsed] = field(default_factory=list)
    # Optional template columns the data did not have, read as empty in every row: a notice, not an error.
    absent_columns: list[str] = field(default_factory=list)
    columns_refused: bool = False  # refused on its header row: no row was read, nothing written
    years: set[int] = field(default_factory=set)  # the years of the valid rows (a published one is said so)
    # The questionnaire chosen, when many of the file's columns are not its own: most likely a file for another one.
    other_questionnaire: str | None = None

    @property
    def invalid_rows(self) -> int:
        return self.rows - self.valid - self.skipped

    def add(self, error: RowError) -> None:
        self.reasons[error.reason] += 1
        if len(self.errors) < self.listed:
            self.errors.append(error)


def _answer_rows(parsed: Parsed, questions: list[tuple[str, int, str]]) -> list[tuple]:
    """The item rows of one questionnaire, as tuples in ANSWER_COLUMNS order (without their key and the
    questionnaire's).

    ``questions`` holds (code, id, type) per question, read once from the ORM objects.
    """
    rows: list[tuple] = []
    answers, importances = parsed.answers, parsed.importance
    for code, domanda_id, tipo in questions:
        value = answers.get(code)
        importance = importances.get(code)
        if value is None and importance is None:
            continue
        if tipo == "scelta_multipla":
            rows += [(domanda_id, None, option, None, None, False) for option in value]
        elif tipo == "scelta_singola":
            rows.append((domanda_id, None, value, None, None, False))
        elif tipo == "testo":
            rows.append((domanda_id, None, None, value, None, False))
        elif value == NON_SO:
            rows.append((domanda_id, None, None, None, importance, True))
        else:
            rows.append((domanda_id, value, None, None, importance, False))
    return rows


# Column orders of the bulk writes: rows travel as tuples, cheaper than dicts to build, spool and insert.
COMPILAZIONE_COLUMNS = ("id", "servizio_id", "versione_id", "rilevazione_id", "data_ora", "canale", "sede_id", "lingua",
                        "import_batch_id")
ANSWER_COLUMNS = ("id", "compilazione_id", "domanda_id", "valore", "opzione", "testo", "importanza", "non_so")
EXTERNAL_COLUMNS = ("batch_id", "fonte", "hash")


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL's COPY on the session's own connection and transaction: executemany is several times slower."""
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _sqlite_insert(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """The driver's executemany on the session's transaction: SQLAlchemy's per-row parameter processing is most of
    the time of a big import otherwise. Values must already be in SQLite's form (see ``_sqlite_time``)."""
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (this module's constants)
    session.connection().exec_driver_sql(sql, rows)


def _sqlite_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy's DateTime stores it on SQLite


class Spool:
    """Valid rows, ready to insert, kept in a temporary file a chunk at a time: memory stays flat in the file's size.

    Each row is (questionnaire columns, its item rows, the hash of its external id); pickle is safe here, the file is
    our own and never leaves this process.
    """

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__: the spool is a context manager)
        self.buffer: list[tuple] = []

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def add(self, row: tuple) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            pickle.dump(self.buffer, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.buffer = []

    def chunks(self) -> Iterator[list[tuple]]:
        self._flush()
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)  # noqa: S301 (our own temporary file)
            except EOFError:
                return


def _ready(parsed: Parsed, versione_id: int, questions: list[tuple[str, int, str]]) -> tuple:
    columns = (parsed.servizio.id, versione_id, parsed.rilevazione_id, parsed.data_ora, parsed.canale, parsed.sede_id,
               "it")
    return columns, _answer_rows(parsed, questions), parsed.external_hash


def _write(session: Session, batch: ImportBatch, versione, spool: Spool, source: str) -> None:
    """Bulk inserts a chunk at a time (the ORM's one-object flush would take minutes for 100,000 rows), and counts."""
    counts = summary.BatchCounts({d.id: d.tipo for d in versione.domande})
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in spool.chunks():
        ids = random_keys(len(chunk))  # random, as the citizens' own (models.base.random_key)
        compilazioni = [(cid, *columns, batch.id) for cid, (columns, _items, _hash) in zip(ids, chunk, strict=True)]
        items = [(cid, *item) for cid, (_columns, rows, _hash) in zip(ids, chunk, strict=True) for item in rows]
        items = [(key, *item) for key, item in zip(random_keys(len(items)), items, strict=True)]
        external = [(batch.id, source, digest) for _columns, _items, digest in chunk]
        if postgres:
            _copy(session, "compilazioni", COMPILAZIONE_COLUMNS, compilazioni)
            _copy(session, "risposte", ANSWER_COLUMNS, items)
            _copy(session, "import_id_esterni", EXTERNAL_COLUMNS, external)
        else:
            _sqlite_insert(session, "compilazioni", COMPILAZIONE_COLUMNS,
                           [(*row[:4], _sqlite_time(row[4]), *row[5:]) for row in compilazioni])
            _sqlite_insert(session, "risposte", ANSWER_COLUMNS, items)
            _sqlite_insert(session, "import_id_esterni", EXTERNAL_COLUMNS, external)
        # (servizio_id, data_ora, canale, sede_id, lingua, batch) and (domanda_id, valore, opzione, importanza, non_so)
        counted = [(c[1], c[4], c[5], c[6], c[7], c[8]) for c in compilazioni]
        answers = [[(d, v, o, i, n) for d, v, o, _t, i, n in rows] for _columns, rows, _hash in chunk]
        counts.add(counted, answers)
    summary.upsert_counts(session, counts.rows())


def _checked(ctx: Context, rows: FileRows | JsonRows, report: ImportReport, spool: Spool | None, progress,
             preview_rows: int, keep_going: bool) -> None:
    """Check each row as it is read (the reader streams); valid rows go to the spool while they may be written."""
    questions = [(d.codice, d.id, d.tipo) for d in ctx.versione.domande]
    versione_id = ctx.versione.id
    headers = rows.headers
    id_at = headers.index("id_esterno") if "id_esterno" in headers else None
    for number, values, found in rows:
        report.rows += 1
        parsed, errors = check_row(ctx, number, headers, values, found)
        if parsed is None and len(errors) == 1 and errors[0].reason == ALREADY_IMPORTED:
            report.skipped += 1
            if len(report.skipped_rows) < SKIPPED_LISTED:
                report.skipped_rows.append(number)
            errors = []
        for error in errors:
            report.add(error)
        if errors and id_at is not None and id_at < len(values) and len(report.errors) <= report.listed:
            report.ids[number] = cell_text(values[id_at])[:ID_KEPT]
        if parsed is not None:
            report.valid += 1
            report.years.add(parsed.data_ora.year)
            if spool is not None and (keep_going or not report.reasons):
                spool.add(_ready(parsed, versione_id, questions))
            if len(report.preview) < preview_rows:
                report.preview.append(parsed)
        if progress is not None:
            progress(1)


def published_years(session: Session, years: set[int]) -> dict[int, int]:
    """Of ``years``, those already published, with their version in force: answers added to them reach the public
    figures only with a new version (the publisher sees the change before publishing it)."""
    if not years:
        return {}
    return dict(session.execute(select(Pubblicazione.anno, func.max(Pubblicazione.versione))
                                .where(Pubblicazione.anno.in_(years)).group_by(Pubblicazione.anno)).all())


def safe_file_name(name: str | None) -> str:
    """An uploaded file's own name, without folders or control characters, as batch lists show it."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:300].strip() or "file"


def import_file(session: Session, data: bytes, file_name: str, questionnaire: str, **options: Any) -> ImportReport:
    """Check every row of the file; unless it is a dry run, write the valid ones as one batch, or nothing at all.

    Without ``skip_invalid`` a single invalid row writes nothing. Raises ImportRefused for a whole-file refusal.
    Options: source, method, user, token, dry_run, skip_invalid, today, progress, preview_rows, allowed_services,
    listed (how many errors the report keeps one by one; all are counted by reason).
    """
    def rows(versione: QuestionarioVersione) -> FileRows:
        try:
            return FileRows(read_table(data, file_name), versione)
        except ReadError as exc:
            raise ImportRefused(str(exc)) from None
    return _import(session, hashlib.sha256(data).hexdigest(), file_name, questionnaire, rows, **options)


def import_rows(session: Session, rows: list[dict[str, Any]], name: str, questionnaire: str,
                **options: Any) -> ImportReport:
    """The API's JSON rows, through the same checks and writes as a file; row n is the n-th object (from 1).

    The batch's hash is that of the rows in a canonical JSON form: the same rows sent twice are refused.
    A key left out is an empty column (JSON writers drop nulls); an unknown key makes its row invalid
    (``layout.JsonRows``).
    """
    canonical = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return _import(session, hashlib.sha256(canonical.encode()).hexdigest(), name, questionnaire,
                   lambda versione: JsonRows(rows, versione), already="questi dati sono già stati importati",
                   **options)


def _audit(batch: ImportBatch, user: User | None, token: ApiToken | None) -> AuditLog:
    """Every import in the audit log, whichever door it came through (the staff page, the API, the command line)."""
    door = {"via": "pagina"} if user else {"via": "API", "token": token.nome} if token else {"via": "riga di comando"}
    return AuditLog(utente_id=user.id if user else None, azione="lotto.importa", oggetto=f"lotto {batch.id}",
                    dettagli={"file": batch.nome_file, "fonte": batch.fonte, "righe": batch.righe_importate,
                              "escluse": batch.righe_scartate, **door})


def _earlier_batch(session: Session, digest: str, source: str) -> int | None:
    """The live batch with the same content, if any, filed under another firm or, under this one, bringing all of
    it: the office uploading a firm's file that the firm had already sent is the same answers twice (another firm's
    ids are not this one's: only the file tells). The same firm may send a file that left rows out again (a campaign
    planned since for a row's date): its own ids skip the rows already in."""
    return session.scalar(select(ImportBatch.id).where(
        ImportBatch.sha256 == digest, ImportBatch.annullato_il.is_(None),
        or_(ImportBatch.fonte != source, ImportBatch.righe_scartate == 0)).order_by(ImportBatch.id).limit(1))


def _import(session: Session, digest: str, file_name: str, questionnaire: str,
            open_rows: Callable[[QuestionarioVersione], FileRows | JsonRows], *, source: str, method: str,
            user: User | None = None, token: ApiToken | None = None, dry_run: bool = False,
            skip_invalid: bool = False, today: date | None = None, progress: Callable[[int], None] | None = None,
            preview_rows: int = 10, allowed_services: set[int] | None = None,
            already: str = "questo file è già stato importato", listed: int = MAX_LISTED_ERRORS) -> ImportReport:
    if method not in IMPORT_METHODS:
        raise ImportRefused(f"metodo «{method}» non previsto: usare {', '.join(IMPORT_METHODS)}")
    source = canonical_firm(session, source)
    if not source:
        raise ImportRefused("indicare la fonte (la società che ha raccolto i dati)")
    q = session.scalar(select(Questionario).filter_by(codice=questionnaire))
    if q is None or q.versione_corrente is None:
        raise ImportRefused(f"questionario sconosciuto «{questionnaire}»")
    earlier = session.get(ImportBatch, _earlier_batch(session, digest, source) or 0)
    if earlier is not None:
        day = in_local_time(earlier.created_at)
        # Another firm's name only to the office (a firm's account, or token, learns only that the file is in).
        firm = f", fonte «{earlier.fonte}»" if earlier.fonte != source and (user is None or user.ruolo == "admin") \
            and token is None else ""
        raise ImportRefused(f"{already} (lotto {earlier.id} del {day:%d/%m/%Y}{firm}): nessuna riga scritta",
                            batch_id=earlier.id)
    versione = q.versione_corrente
    rows = open_rows(versione)
    report = ImportReport(file_name=file_name, source=source, listed=listed)
    for error in rows.errors:
        report.add(error)
    if report.errors:
        report.columns_refused = True  # the rows cannot be read against the wrong columns
        if sum(error.reason == "colonna sconosciuta" for error in report.errors) >= UNKNOWN_FOR_ANOTHER:
            report.other_questionnaire = questionnaire
        return report
    services = {s.slug: s for s in session.scalars(select(Servizio).options(selectinload(Servizio.sedi)))}
    campaigns = list(session.scalars(select(Rilevazione).filter_by(questionario_id=q.id)
                                     .options(selectinload(Rilevazione.servizi))))
    known = set(session.scalars(select(ImportExternalId.hash).filter_by(fonte=source)))
    ctx = Context(versione=versione, services=services, campaigns=campaigns, known_ids=known, source=source,
                  method=method, today=today or local_today(),
                  allowed_services=allowed_services)
    try:
        with contextlib.nullcontext() if dry_run else Spool() as spool:
            _checked(ctx, rows, report, spool, progress, preview_rows, keep_going=skip_invalid)
            report.absent_columns = rows.absent
            if report.rows == 0:
                report.add(RowError(2, "", "", "nessuna riga di dati nel file"))
            if spool is None or not report.valid or (report.errors and not skip_invalid):
                return report
            batch = ImportBatch(fonte=source, metodo=method, nome_file=file_name[:300], sha256=digest,
                                righe=report.rows, utente_id=user.id if user else None,
                                token_id=token.id if token else None, questionario_id=q.id,
                                righe_importate=report.valid, righe_scartate=report.invalid_rows,
                                righe_escluse=kept_errors(report, versione, EXCLUDED_KEPT))
            session.add(batch)
            try:
                session.flush()
                _write(session, batch, versione, spool, source)
                session.add(_audit(batch, user, token))  # in the batch's transaction: both or neither
                session.commit()
            except IntegrityError:
                # The same file or ids committed meanwhile by a concurrent request (a retry, a double click): the
                # unique external ids stop the second one; it is told which batch holds them.
                session.rollback()
                raise ImportRefused("questi dati sono stati importati nel frattempo da un'altra richiesta: nessuna "
                                    "riga scritta", batch_id=_earlier_batch(session, digest, source), conflict=True) from None
    except ReadError as exc:  # a file can turn out corrupt part-way through (an unclosed quote)
        raise ImportRefused(str(exc)) from None
    report.written, report.batch_id = report.valid, batch.id
    return report
