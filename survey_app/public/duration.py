"""How long a questionnaire takes, estimated from its questions, for the pages and the QR poster.

The figure replaces fixed claims ("meno di un minuto", "bastano 30 secondi") that stopped being true as soon as a
questionnaire grew. The estimate is deliberately plain, so a reader can check it by hand:

- a closed item (scale, faces, NPS, yes/no, single or multiple choice) takes about 8 seconds;
- the "how important is it to you" item that follows a question counts as one more closed item;
- a free-text item takes about 30 seconds (most people skip it, those who write need longer);
- follow-up questions count in full: the figure is what the longest path takes, never less;
- the total is rounded up to whole minutes, at least 1.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Domanda, QuestionarioVersione

CLOSED_ITEM_SECONDS = 8
TEXT_ITEM_SECONDS = 30


class Question(Protocol):
    tipo: str
    importanza: bool


def item_seconds(domanda: Question) -> int:
    """The seconds one question takes, with its importance item when it has one."""
    seconds = TEXT_ITEM_SECONDS if domanda.tipo == "testo" else CLOSED_ITEM_SECONDS
    return seconds + (CLOSED_ITEM_SECONDS if domanda.importanza else 0)


def estimate_minutes(domande: Iterable[Question]) -> int:
    """Whole minutes, rounded up, at least 1."""
    return max(1, math.ceil(sum(item_seconds(d) for d in domande) / 60))


def minutes_by_questionnaire(session: Session, questionario_ids: Iterable[int]) -> dict[int, int]:
    """The estimate for the current version of each questionnaire, in one query whatever their number."""
    ids = set(questionario_ids)
    if not ids:
        return {}
    latest = (select(QuestionarioVersione.questionario_id, func.max(QuestionarioVersione.numero).label("numero"))
              .where(QuestionarioVersione.questionario_id.in_(ids))
              .group_by(QuestionarioVersione.questionario_id).subquery())
    rows = session.execute(
        select(QuestionarioVersione.questionario_id, Domanda.tipo, Domanda.importanza)
        .join(latest, (latest.c.questionario_id == QuestionarioVersione.questionario_id)
              & (latest.c.numero == QuestionarioVersione.numero))
        .join(Domanda, Domanda.versione_id == QuestionarioVersione.id))
    questions: dict[int, list] = defaultdict(list)
    for row in rows:
        questions[row.questionario_id].append(row)
    return {qid: estimate_minutes(items) for qid, items in questions.items()}
