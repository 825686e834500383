"""Keep the daily answer counts (riepilogo_risposte) in step with the answers.

Every Risposta written through the ORM updates the counts in the same transaction (an
after-flush hook), so a submission and its counts commit or roll back together. The firms'
imports, written in bulk, add ``BatchCounts`` in their own transaction; other bulk loads
(the demo seed, benchmarks) call ``rebuild``, which recomputes the counts from the answers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, delete, event, false, func, insert, literal_column, select, true, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import NUMERIC_TYPES, SUMMARY_KEY, Compilazione, Domanda, RiepilogoRisposte, Risposta
from .models.base import random_keys

MEASURES = ("n", "n_importanza", "somma_importanza")


def _dims(compilazione: Compilazione) -> dict:
    return {
        "servizio_id": compilazione.servizio_id,
        "giorno": compilazione.data_ora.date(),
        "canale": compilazione.canale,
        "sede_id": compilazione.sede_id or 0,
        "lingua": compilazione.lingua,
        "import_batch_id": compilazione.import_batch_id or 0,
    }


@cache
def _upsert_statement(dialect: str):
    """One INSERT … ON CONFLICT DO UPDATE adding to the counts, built once and run with many rows."""
    table = RiepilogoRisposte.__table__
    builder = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    stmt = builder(table)
    return stmt.on_conflict_do_update(index_elements=list(SUMMARY_KEY),
                                      set_={m: table.c[m] + stmt.excluded[m] for m in MEASURES})


_BY_KEY = itemgetter(*SUMMARY_KEY)


def _upsert(session: Session | Connection, rows: list[dict]) -> None:
    if rows:
        # In key order: every writer (citizens, the firms' imports, the kiosk) then locks the count rows it adds to in
        # the same order, so two of them never wait for each other in a circle (PostgreSQL would cancel one with a
        # deadlock error, and a citizen would get an error page).
        rows.sort(key=_BY_KEY)
        # Keys for the rows it inserts (random, models/summary.py), drawn at once: the column's default would be
        # called row by row. A row that already exists keeps its key.
        for row, key in zip(rows, random_keys(len(rows)), strict=True):
            row["id"] = key
        bind = session if isinstance(session, Connection) else session.get_bind()
        session.execute(_upsert_statement(bind.dialect.name), rows)


def upsert_counts(session: Session | Connection, rows: list[dict]) -> None:
    """Add count increments computed by a bulk writer (the firms' imports, a citizen's questionnaire), in the
    caller's transaction."""
    _upsert(session, rows)


def rows_for(session: Session, answers: list[Risposta]) -> list[dict]:
    """The count increments for answers just flushed."""
    totals: Counter = Counter()
    importance: defaultdict = defaultdict(lambda: [0, 0])
    respondents: set[tuple] = set()
    for r in answers:
        compilazione = r.compilazione or session.get(Compilazione, r.compilazione_id)
        domanda = r.domanda or session.get(Domanda, r.domanda_id)
        dims = _dims(compilazione)
        key = tuple(sorted({**dims, "domanda_id": domanda.id, "valore": -1 if r.valore is None else r.valore,
                            "opzione": r.opzione or "", "non_so": bool(r.non_so), "rispondente": False}.items()))
        totals[key] += 1
        if r.importanza is not None:
            importance[key][0] += 1
            importance[key][1] += r.importanza
        if domanda.tipo not in NUMERIC_TYPES:
            respondents.add((compilazione.id, domanda.id, tuple(sorted(dims.items()))))
    rows = [{**dict(key), "n": n, "n_importanza": importance[key][0], "somma_importanza": importance[key][1]}
            for key, n in totals.items()]
    for compilazione_id, domanda_id, dims in respondents:
        # A respondent is counted once, with the first answer to the question (kiosk reasons arrive later).
        already = session.scalar(select(func.count()).select_from(Risposta).where(
            Risposta.compilazione_id == compilazione_id, Risposta.domanda_id == domanda_id,
            Risposta.id.not_in([r.id for r in answers])))
        if not already:
            rows.append({**dict(dims), "domanda_id": domanda_id, "valore": -1, "opzione": "", "non_so": False,
                         "rispondente": True, "n": 1, "n_importanza": 0, "somma_importanza": 0})
    return rows


class BatchCounts:
    """The count increments of questionnaires written in bulk, keyed as ``rows_for`` keys ORM writes, summed over
    every chunk a writer adds, for one upsert at the end.

    ``add`` takes (servizio_id, data_ora, canale, sede_id, lingua, import_batch_id) per questionnaire and its item rows
    as (domanda_id, valore, opzione, importanza, non_so); ``types`` maps question ids to their type.
    """

    def __init__(self, types: dict[int, str]) -> None:
        self.types = types
        self.totals: Counter = Counter()
        self.importance: dict[tuple, list[int]] = {}
        self.respondents: Counter = Counter()

    def add(self, compilazioni: list[tuple], answers: list[list[tuple]]) -> None:
        totals, importance, respondents, types = self.totals, self.importance, self.respondents, self.types
        for (servizio_id, data_ora, canale, sede_id, lingua, batch_id), items in zip(compilazioni, answers,
                                                                                     strict=True):
            dims = (("canale", canale), ("giorno", data_ora.date()), ("import_batch_id", batch_id),
                    ("lingua", lingua), ("sede_id", sede_id or 0), ("servizio_id", servizio_id))
            answered: set[int] = set()
            for domanda_id, valore, opzione, importanza, non_so in items:
                key = dims + (("domanda_id", domanda_id), ("non_so", non_so), ("opzione", opzione or ""),
                              ("rispondente", False), ("valore", -1 if valore is None else valore))
                totals[key] += 1
                if importanza is not None:
                    pair = importance.setdefault(key, [0, 0])
                    pair[0] += 1
                    pair[1] += importanza
                if types[domanda_id] not in NUMERIC_TYPES:
                    answered.add(domanda_id)
            for domanda_id in answered:  # a respondent once per question, however many options were chosen
                respondents[dims + (("domanda_id", domanda_id),)] += 1

    def rows(self) -> list[dict[str, Any]]:
        rows = [{**dict(key), "n": n, "n_importanza": self.importance.get(key, [0, 0])[0],
                 "somma_importanza": self.importance.get(key, [0, 0])[1]} for key, n in self.totals.items()]
        rows += [{**dict(key), "valore": -1, "opzione": "", "non_so": False, "rispondente": True, "n": n,
                  "n_importanza": 0, "somma_importanza": 0} for key, n in self.respondents.items()]
        return rows


@event.listens_for(Session, "after_flush")
def _count_new_answers(session: Session, flush_context) -> None:
    answers = [obj for obj in session.new if isinstance(obj, Risposta)]
    if answers:
        _upsert(session, rows_for(session, answers))


def rebuild(session: Session) -> None:
    """Recompute every count from the answers (after bulk loads); the caller commits."""
    r, c, d = Risposta.__table__, Compilazione.__table__, Domanda.__table__
    target = RiepilogoRisposte.__table__
    giorno = type_coerce(func.date(c.c.data_ora), Date)  # a date on both databases (SQLite gives text)
    # Constants as SQL text, so that PostgreSQL sees the same expression in SELECT and GROUP BY.
    zero, none = literal_column("0"), literal_column("-1")
    dims = [c.c.servizio_id, r.c.domanda_id, giorno, c.c.canale, func.coalesce(c.c.sede_id, zero), c.c.lingua,
            func.coalesce(c.c.import_batch_id, zero)]
    value, option = func.coalesce(r.c.valore, none), func.coalesce(r.c.opzione, literal_column("''"))
    dont_know = func.coalesce(r.c.non_so, false())
    names = ["servizio_id", "domanda_id", "giorno", "canale", "sede_id", "lingua", "import_batch_id"]
    session.execute(delete(target))
    items = select(*dims, value, option, dont_know, false(), func.count(), func.count(r.c.importanza),
                   func.coalesce(func.sum(r.c.importanza), zero)) \
        .select_from(r.join(c, c.c.id == r.c.compilazione_id)) \
        .group_by(*dims, value, option, dont_know)
    _insert_keyed(session, target, names, items)
    answered = select(r.c.compilazione_id, r.c.domanda_id).distinct() \
        .select_from(r.join(d, d.c.id == r.c.domanda_id)).where(d.c.tipo.not_in(NUMERIC_TYPES)).subquery()
    people = select(*dims[:1], answered.c.domanda_id, *dims[2:], none, literal_column("''"), false(), true(),
                    func.count(), zero, zero) \
        .select_from(answered.join(c, c.c.id == answered.c.compilazione_id)) \
        .group_by(c.c.servizio_id, answered.c.domanda_id, *dims[2:])
    _insert_keyed(session, target, names, people)


REBUILD_CHUNK = 20_000


def _insert_keyed(session: Session, target, names: list[str], counts) -> None:
    """The rows ``counts`` selects, each with a random key of its own (an INSERT … SELECT would call the key's
    default once for the whole statement)."""
    columns = [*names, "valore", "opzione", "non_so", "rispondente", *MEASURES]
    rows = session.execute(counts).all()
    for start in range(0, len(rows), REBUILD_CHUNK):
        chunk = rows[start:start + REBUILD_CHUNK]
        session.execute(insert(target), [{"id": key, **dict(zip(columns, row, strict=True))}
                                         for key, row in zip(random_keys(len(chunk)), chunk, strict=True)])


