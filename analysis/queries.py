"""SQL that reduces answers to counts; everything after this works on small frames.

Each numeric question is brought back as a distribution (value -> count) per service and
question, which is enough to compute n, mean, deviation, median, shares and intervals
exactly, whatever the number of answers.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, distinct, false, func, or_, select

from . import tables as t

NUMERIC_TYPES = ("scala", "faccine", "nps", "si_no")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


def _period(start: datetime, end: datetime, service: str | None):
    condition = and_(t.compilazioni.c.data_ora >= start, t.compilazioni.c.data_ora < end)
    if service is not None:
        condition = and_(condition, t.compilazioni.c.servizio_id.in_(
            select(t.servizi.c.id).where(t.servizi.c.slug == service).scalar_subquery()))
    return condition


def load_question_counts(conn: Connection, start: datetime, end: datetime,
                         service: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Value counts of numeric items and respondent counts of the others, per service and question id.

    Returns (numeric, other): numeric has servizio_id, domanda_id, valore, n;
    other has servizio_id, domanda_id, n (respondents who answered the item).
    """
    c, r, d = t.compilazioni, t.risposte, t.domande
    valid = and_(r.c.valore.is_not(None), or_(r.c.non_so.is_(None), r.c.non_so == false()))
    numeric = select(c.c.servizio_id, r.c.domanda_id, r.c.valore, func.count().label("n")) \
        .select_from(r.join(c, c.c.id == r.c.compilazione_id)) \
        .where(_period(start, end, service), valid) \
        .group_by(c.c.servizio_id, r.c.domanda_id, r.c.valore)
    other = select(c.c.servizio_id, r.c.domanda_id, func.count(distinct(r.c.compilazione_id)).label("n")) \
        .select_from(r.join(c, c.c.id == r.c.compilazione_id).join(d, d.c.id == r.c.domanda_id)) \
        .where(_period(start, end, service), d.c.tipo.not_in(NUMERIC_TYPES)) \
        .group_by(c.c.servizio_id, r.c.domanda_id)
    numeric_df = pd.DataFrame(conn.execute(numeric).all(), columns=["servizio_id", "domanda_id", "valore", "n"])
    other_df = pd.DataFrame(conn.execute(other).all(), columns=["servizio_id", "domanda_id", "n"])
    return numeric_df.astype({"valore": "int64", "n": "int64"}), other_df.astype({"n": "int64"})


def load_questions(conn: Connection) -> pd.DataFrame:
    """Every question of every version, with its questionnaire and the version number."""
    d, v, q = t.domande, t.versioni, t.questionari
    query = select(d.c.id.label("domanda_id"), d.c.codice, d.c.posizione, d.c.tipo, d.c.testo_it,
                   d.c.scala_min, d.c.scala_max, d.c.dimensione, v.c.numero,
                   q.c.codice.label("questionario")) \
        .select_from(d.join(v, v.c.id == d.c.versione_id).join(q, q.c.id == v.c.questionario_id))
    return pd.DataFrame(conn.execute(query).mappings().all(),
                        columns=["domanda_id", "codice", "posizione", "tipo", "testo_it", "scala_min",
                                 "scala_max", "dimensione", "numero", "questionario"])


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


def load_standards(conn: Connection) -> pd.DataFrame:
    query = select(t.standard.c.servizio_id, t.standard.c.indicatore, t.standard.c.domanda_codice,
                   t.standard.c.soglia)
    frame = pd.DataFrame(conn.execute(query).all(), columns=["servizio_id", "indicatore", "domanda_codice", "soglia"])
    return frame.astype({"soglia": "float64"})
