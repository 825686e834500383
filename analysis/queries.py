"""SQL that reduces answers to counts; everything after this works on small frames.

The queries read the daily answer counts (riepilogo_risposte, kept in step with the answers by
the app), not the answers themselves. Each numeric question comes back as a distribution
(value -> count) per service and question, which is enough to compute n, mean, deviation,
median, shares and intervals exactly, whatever the number of answers. A breakdown (``by``)
adds one grouping column.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps

import pandas as pd
from sqlalchemy import Connection, and_, case, false, func, literal, or_, select, true

from . import tables as t
from .filters import Filters

NUMERIC_TYPES = ("scala", "faccine", "nps", "si_no")
BREAKDOWNS = ("canale", "sede", "comune", "lingua", "provenienza")


CACHE_KEY = "analysis_query_cache"


@contextmanager
def reuse_results(conn: Connection) -> Iterator[None]:
    """Within the block, each query below runs once per connection and arguments.

    A publication asks for the same counts from several functions (question table, service table, standards);
    the block makes them one read each (the caller chooses the isolation: a publication uses REPEATABLE READ on
    PostgreSQL). Callers get copies of the frames, so none can alter another's.
    """
    if CACHE_KEY in conn.info:  # nested: the outer block owns the cache
        yield
        return
    conn.info[CACHE_KEY] = {}
    try:
        yield
    finally:
        conn.info.pop(CACHE_KEY, None)


def reused(conn: Connection, key: tuple, compute):
    """``compute()`` once per key inside a ``reuse_results`` block (a copy each time); simply run outside one."""
    cache = conn.info.get(CACHE_KEY)
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    found = cache[key]
    return None if found is None else found.copy()


def _reusable(query):
    signature = inspect.signature(query)

    @wraps(query)
    def run(conn: Connection, *args, **kwargs):
        cache = conn.info.get(CACHE_KEY)
        if cache is None:
            return query(conn, *args, **kwargs)
        # The same call written with positional or keyword arguments, or with a default spelled out, is one key.
        bound = signature.bind(conn, *args, **kwargs)
        bound.apply_defaults()
        key = (query.__name__, *(None if isinstance(value, Filters) and not value else value
                                 for name, value in bound.arguments.items() if name != "conn"))
        if key not in cache:
            cache[key] = query(conn, *args, **kwargs)
        found = cache[key]
        return tuple(f.copy() for f in found) if isinstance(found, tuple) else found.copy()
    return run


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


def _service_id(slug: str):
    return select(t.servizi.c.id).where(t.servizi.c.slug == slug).scalar_subquery()


def _period(start: datetime, end: datetime, service: str | None, filters: Filters | None = None):
    """Days of the period in the answer counts (periods start and end at midnight), narrowed by ``filters``."""
    s = t.riepilogo
    condition = and_(s.c.giorno >= start.date(), s.c.giorno < end.date())
    if filters:
        condition = and_(condition, filters.condition(s))
    if service is not None:
        # "= (subquery)", not "IN (subquery)": SQLite then seeks the service's rows by the key's first column.
        condition = and_(condition, s.c.servizio_id == _service_id(service))
    return condition


# The tables the breakdowns join in, aliased once: the comune of a member's counter, the ente owning the service.
_COMUNE, _ENTE = t.enti.alias("comune_sede"), t.enti.alias("ente_servizio")


def _group(by: str):
    """The grouping expression of one breakdown (its joins: ``_joined``)."""
    s = t.riepilogo
    if by in ("canale", "lingua"):
        return s.c[by]
    if by == "sede":
        return func.coalesce(t.sedi.c.codice, literal("(nessuna)"))
    if by == "comune":
        # A counter in a member comune names it; otherwise the answer belongs to the service's own ente.
        return func.coalesce(_COMUNE.c.nome, _ENTE.c.nome)
    if by == "provenienza":
        return case((s.c.import_batch_id == 0, literal("cittadino")), else_=literal("ditta ") + t.import_batches.c.metodo)
    raise ValueError(f"breakdown sconosciuto: {by} (ammessi: {', '.join(BREAKDOWNS)})")


def _joined(source, breakdowns):
    """``source`` with the joins the breakdowns' expressions need, each table once."""
    s = t.riepilogo
    if {"sede", "comune"} & set(breakdowns):
        source = source.outerjoin(t.sedi, t.sedi.c.id == s.c.sede_id)
    if "comune" in breakdowns:
        source = source.outerjoin(_COMUNE, _COMUNE.c.id == t.sedi.c.comune_id) \
            .join(t.servizi, t.servizi.c.id == s.c.servizio_id) \
            .join(t.uffici, t.uffici.c.id == t.servizi.c.ufficio_id) \
            .join(_ENTE, _ENTE.c.id == t.uffici.c.ente_id)
    if "provenienza" in breakdowns:
        source = source.outerjoin(t.import_batches, t.import_batches.c.id == s.c.import_batch_id)
    return source


def _breakdown(by: str | None, source):
    """The grouping expression for a breakdown and the joins it needs."""
    if by is None:
        return None, source
    return _group(by), _joined(source, (by,))


@_reusable
def load_question_counts(conn: Connection, start: datetime, end: datetime, service: str | None = None,
                         by: str | None = None, filters: Filters | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Value counts of numeric items and respondent counts of the others, per service and question id.

    Returns (numeric, other): numeric has servizio_id, domanda_id, [gruppo], valore, n;
    other has servizio_id, domanda_id, [gruppo], n (respondents who answered the item).
    """
    s = t.riepilogo
    group, source = _breakdown(by, s)
    extra = [group.label("gruppo")] if group is not None else []
    grouping = [group] if extra else []
    valid = and_(s.c.valore >= 0, s.c.non_so == false(), s.c.rispondente == false())
    numeric = select(s.c.servizio_id, s.c.domanda_id, *extra, s.c.valore, func.sum(s.c.n).label("n")) \
        .select_from(source).where(_period(start, end, service, filters), valid) \
        .group_by(s.c.servizio_id, s.c.domanda_id, *grouping, s.c.valore)
    other = select(s.c.servizio_id, s.c.domanda_id, *extra, func.sum(s.c.n).label("n")) \
        .select_from(source).where(_period(start, end, service, filters), s.c.rispondente == true()) \
        .group_by(s.c.servizio_id, s.c.domanda_id, *grouping)
    names = ["gruppo"] if extra else []
    numeric_df = pd.DataFrame(conn.execute(numeric).all(),
                              columns=["servizio_id", "domanda_id", *names, "valore", "n"])
    other_df = pd.DataFrame(conn.execute(other).all(), columns=["servizio_id", "domanda_id", *names, "n"])
    return numeric_df.astype({"valore": "int64", "n": "int64"}), other_df.astype({"n": "int64"})


@_reusable
def load_breakdown_cells(conn: Connection, start: datetime, end: datetime, service: str, questionnaire: str,
                         question: str, filters: Filters | None = None,
                         scale: tuple[int, int] | None = None) -> pd.DataFrame:
    """How many valid answers one question got in each combination of the breakdowns' groups: one column per
    breakdown (the groups as ``load_question_counts`` names them) and n. Each breakdown's group is the sum of its
    cells, which is what a reader of several breakdowns side by side can work with (analysis/disclosure.py).
    ``scale``: only the versions of the question on that scale (a new version may change it within a period, and
    the breakdowns then have a row per scale)."""
    s, d, v, q = t.riepilogo, t.domande, t.versioni, t.questionari
    groups = [_group(by).label(by) for by in BREAKDOWNS]
    question_ids = select(d.c.id).select_from(d.join(v, v.c.id == d.c.versione_id)
                                              .join(q, q.c.id == v.c.questionario_id)) \
        .where(d.c.codice == question, q.c.codice == questionnaire)
    if scale is not None:
        question_ids = question_ids.where(d.c.scala_min == scale[0], d.c.scala_max == scale[1])
    valid = and_(s.c.valore >= 0, s.c.non_so == false(), s.c.rispondente == false(), s.c.domanda_id.in_(question_ids))
    query = select(*groups, func.sum(s.c.n).label("n")).select_from(_joined(s, BREAKDOWNS)) \
        .where(_period(start, end, service, filters), valid).group_by(*groups)
    return pd.DataFrame(conn.execute(query).all(), columns=[*BREAKDOWNS, "n"]).astype({"n": "int64"})


@_reusable
def load_option_counts(conn: Connection, start: datetime, end: datetime, service: str | None = None,
                       filters: Filters | None = None) -> pd.DataFrame:
    """How many chose each option of the choice questions: servizio_id, domanda_id, opzione, n."""
    s = t.riepilogo
    query = select(s.c.servizio_id, s.c.domanda_id, s.c.opzione, func.sum(s.c.n).label("n")) \
        .where(_period(start, end, service, filters), s.c.opzione != "") \
        .group_by(s.c.servizio_id, s.c.domanda_id, s.c.opzione)
    return pd.DataFrame(conn.execute(query).all(), columns=["servizio_id", "domanda_id", "opzione", "n"]) \
        .astype({"n": "int64"})


@_reusable
def load_importance(conn: Connection, start: datetime, end: datetime, service: str | None = None,
                    filters: Filters | None = None) -> pd.DataFrame:
    """Stated importance per service and question: servizio_id, domanda_id, n_importanza, somma_importanza."""
    s = t.riepilogo
    query = select(s.c.servizio_id, s.c.domanda_id, func.sum(s.c.n_importanza).label("n_importanza"),
                   func.sum(s.c.somma_importanza).label("somma_importanza")) \
        .where(_period(start, end, service, filters), s.c.n_importanza > 0) \
        .group_by(s.c.servizio_id, s.c.domanda_id)
    return pd.DataFrame(conn.execute(query).all(),
                        columns=["servizio_id", "domanda_id", "n_importanza", "somma_importanza"]) \
        .astype({"n_importanza": "int64", "somma_importanza": "float64"})


@_reusable
def load_submission_counts(conn: Connection, start: datetime, end: datetime,
                           service: str | None = None, filters: Filters | None = None) -> pd.DataFrame:
    c = t.compilazioni
    condition = and_(c.c.data_ora >= start, c.c.data_ora < end)
    if filters:
        condition = and_(condition, filters.condition(c))
    if service is not None:
        condition = and_(condition, c.c.servizio_id == _service_id(service))
    query = select(c.c.servizio_id, func.count().label("compilazioni")).where(condition).group_by(c.c.servizio_id)
    return pd.DataFrame(conn.execute(query).all(), columns=["servizio_id", "compilazioni"])


@_reusable
def load_questions(conn: Connection) -> pd.DataFrame:
    """Every question of every version, with its questionnaire and the version number."""
    d, v, q = t.domande, t.versioni, t.questionari
    query = select(d.c.id.label("domanda_id"), d.c.codice, d.c.posizione, d.c.tipo, d.c.testo_it,
                   d.c.scala_min, d.c.scala_max, d.c.dimensione, d.c.obbligatoria, v.c.numero,
                   q.c.codice.label("questionario")) \
        .select_from(d.join(v, v.c.id == d.c.versione_id).join(q, q.c.id == v.c.questionario_id))
    return pd.DataFrame(conn.execute(query).mappings().all(),
                        columns=["domanda_id", "codice", "posizione", "tipo", "testo_it", "scala_min",
                                 "scala_max", "dimensione", "obbligatoria", "numero", "questionario"])


@_reusable
def load_options(conn: Connection) -> pd.DataFrame:
    o = t.opzioni
    query = select(o.c.domanda_id, o.c.codice.label("opzione"), o.c.posizione, o.c.testo_it)
    return pd.DataFrame(conn.execute(query).all(), columns=["domanda_id", "opzione", "posizione", "testo_it"])


@_reusable
def load_services(conn: Connection) -> pd.DataFrame:
    s, u, e, q = t.servizi, t.uffici, t.enti, t.questionari
    query = select(s.c.id.label("servizio_id"), s.c.slug, s.c.nome_it, s.c.utenti_annui,
                   u.c.nome.label("ufficio"), e.c.nome.label("ente"), e.c.codice.label("ente_codice"),
                   q.c.codice.label("questionario")) \
        .select_from(s.join(u, u.c.id == s.c.ufficio_id).join(e, e.c.id == u.c.ente_id)
                     .join(q, q.c.id == s.c.questionario_id))
    return pd.DataFrame(conn.execute(query).mappings().all(),
                        columns=["servizio_id", "slug", "nome_it", "utenti_annui", "ufficio", "ente",
                                 "ente_codice", "questionario"])


def offered_in(services: pd.DataFrame, answered: set, listed: set | None) -> pd.DataFrame:
    """The services a year's tables list: the whole catalogue, or, once the year was published after it ended
    (``listed``: the services that version listed), those and any with answers of the year. A service added to the
    catalogue since is not made up into a year it was never part of ("nessuna risposta", standards not assessable)."""
    if listed is None:
        return services
    return services[services["slug"].isin(listed | answered)]


def answer_days(conn: Connection, year: int, services: list[int] | None = None) -> tuple[date, date] | None:
    """The first and last day of the year with an answer (to one of ``services``), or None."""
    c = t.compilazioni
    start, end = year_bounds(year)
    within = and_(c.c.data_ora >= start, c.c.data_ora < end)
    if services is not None:
        within = and_(within, c.c.servizio_id.in_(services))
    first, last = conn.execute(select(func.min(c.c.data_ora), func.max(c.c.data_ora)).where(within)).one()
    if first is None:
        return None
    return tuple(value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])
                 for value in (first, last))


@_reusable
def load_standards(conn: Connection, year: int) -> pd.DataFrame:
    """The standards of the carta dei servizi in force in ``year``: a past year is judged by the targets it had."""
    st = t.standard
    query = select(st.c.servizio_id, st.c.indicatore, st.c.domanda_codice, st.c.soglia, st.c.descrizione) \
        .where(or_(st.c.anno_dal.is_(None), st.c.anno_dal <= year), or_(st.c.anno_al.is_(None), st.c.anno_al >= year))
    frame = pd.DataFrame(conn.execute(query).all(),
                         columns=["servizio_id", "indicatore", "domanda_codice", "soglia", "descrizione"])
    return frame.astype({"soglia": "float64"}).fillna({"descrizione": ""})


def load_campaigns(conn: Connection, start, day) -> pd.DataFrame:
    """Campaigns begun by ``day`` and running on some day from ``start`` on, one row per campaign × service, by end
    date: the questionnaires the service has collected in it so far, and the whole campaign's (its target is the
    campaign's, summed over its services by the planner)."""
    r, rs, c = t.rilevazioni, t.rilevazione_servizi, t.compilazioni
    total = select(func.count()).where(c.c.rilevazione_id == r.c.id).scalar_subquery()
    own = select(func.count()).where(c.c.rilevazione_id == r.c.id, c.c.servizio_id == rs.c.servizio_id) \
        .scalar_subquery()
    others = rs.alias("others")
    services = select(func.count()).where(others.c.rilevazione_id == r.c.id).scalar_subquery()
    query = select(rs.c.servizio_id, r.c.codice.label("campagna"), r.c.titolo.label("campagna_titolo"),
                   r.c.data_inizio.label("campagna_inizio"), r.c.data_fine.label("campagna_fine"),
                   r.c.campione_obiettivo.label("campagna_obiettivo"),
                   own.label("campagna_raccolti"), total.label("campagna_raccolti_totale"),
                   services.label("campagna_servizi")) \
        .select_from(r.join(rs, rs.c.rilevazione_id == r.c.id)) \
        .where(r.c.data_inizio <= day, r.c.data_fine >= start).order_by(r.c.data_fine, r.c.id)
    frame = pd.DataFrame(conn.execute(query).mappings().all(),
                         columns=["servizio_id", "campagna", "campagna_titolo", "campagna_inizio", "campagna_fine",
                                  "campagna_obiettivo", "campagna_raccolti", "campagna_raccolti_totale",
                                  "campagna_servizi"])
    # Lightweight tables carry no types: SQLite gives the day as text, PostgreSQL as a date.
    return frame.assign(**{name: [date.fromisoformat(str(day)) for day in frame[name]]
                           for name in ("campagna_inizio", "campagna_fine")})
