"""Which campaign (rilevazione) an answer belongs to: the one that runs on its day, for its service, with its
questionnaire. The planner lets no two overlap on a service, so there is at most one.

Citizens' answers (web, QR, kiosk) are linked as they are stored (``RUNNING_CAMPAIGN``, inside the INSERT: no query
of its own), a firm's rows as they are imported (imports/validate.py). Answers stored before their campaign was
planned, or seeded in bulk, are linked by ``link_answers``, which the planner calls whenever it saves a campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from sqlalchemy import Date, bindparam, select, update
from sqlalchemy.engine import Connection

from .models import Compilazione, QuestionarioVersione, Rilevazione, rilevazione_servizi

_campaigns, _links, _versions = Rilevazione.__table__, rilevazione_servizi, QuestionarioVersione.__table__
_day = bindparam("campaign_day", type_=Date)
# The campaign of a questionnaire stored now: params campaign_servizio, campaign_versione, campaign_day.
RUNNING_CAMPAIGN = (
    select(_campaigns.c.id)
    .join(_links, _links.c.rilevazione_id == _campaigns.c.id)
    .where(_links.c.servizio_id == bindparam("campaign_servizio"),
           _campaigns.c.questionario_id == select(_versions.c.questionario_id)
           .where(_versions.c.id == bindparam("campaign_versione")).scalar_subquery(),
           _campaigns.c.data_inizio <= _day, _campaigns.c.data_fine >= _day)
    .order_by(_campaigns.c.data_inizio.desc()).limit(1)
    .scalar_subquery()
)


def link_answers(connection: Connection, campaign_ids: Iterable[int] | None = None) -> int:
    """Link the answers not linked to any campaign that fall in one (its services, its questionnaire, its days);
    returns how many. Only ``campaign_ids`` when given."""
    query = select(_campaigns.c.id, _campaigns.c.questionario_id, _campaigns.c.data_inizio, _campaigns.c.data_fine)
    if campaign_ids is not None:
        query = query.where(_campaigns.c.id.in_(list(campaign_ids)))
    compilazioni = Compilazione.__table__
    linked = 0
    for campaign_id, questionario_id, start, end in connection.execute(query).all():
        linked += connection.execute(
            update(compilazioni)
            .where(compilazioni.c.rilevazione_id.is_(None),
                   compilazioni.c.servizio_id.in_(select(_links.c.servizio_id)
                                                  .where(_links.c.rilevazione_id == campaign_id)),
                   compilazioni.c.versione_id.in_(select(_versions.c.id)
                                                  .where(_versions.c.questionario_id == questionario_id)),
                   compilazioni.c.data_ora >= datetime.combine(start, time.min),
                   compilazioni.c.data_ora < datetime.combine(end + timedelta(days=1), time.min))
            .values(rilevazione_id=campaign_id)).rowcount
    return linked
