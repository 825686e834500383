"""citizens' answers given during a campaign belong to it, as a firm's imported rows always did

The web form, the QR codes and the kiosk stored every answer without its campaign, so a campaign's progress (the
planner, the overview) counted imported rows only. From now on each answer is linked as it is stored; this links
the ones already stored: every answer not linked to a campaign whose service, questionnaire and day fall in one.
The downgrade leaves the links: they are right under the old code too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 14:00:00.000000

"""
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

campaigns = sa.table("rilevazioni", sa.column("id"), sa.column("questionario_id"), sa.column("data_inizio"),
                     sa.column("data_fine"))
links = sa.table("rilevazione_servizi", sa.column("rilevazione_id"), sa.column("servizio_id"))
versions = sa.table("questionario_versioni", sa.column("id"), sa.column("questionario_id"))
answers = sa.table("compilazioni", sa.column("rilevazione_id"), sa.column("servizio_id"), sa.column("versione_id"),
                   sa.column("data_ora", sa.DateTime()))


def upgrade():
    connection = op.get_bind()
    query = sa.select(campaigns.c.id, campaigns.c.questionario_id, campaigns.c.data_inizio, campaigns.c.data_fine)
    for campaign_id, questionario_id, start, end in connection.execute(query).all():
        if isinstance(start, str):  # SQLite hands untyped dates back as text
            start, end = (datetime.strptime(day, "%Y-%m-%d").date() for day in (start, end))
        connection.execute(
            sa.update(answers)
            .where(answers.c.rilevazione_id.is_(None),
                   answers.c.servizio_id.in_(sa.select(links.c.servizio_id).where(links.c.rilevazione_id == campaign_id)),
                   answers.c.versione_id.in_(sa.select(versions.c.id)
                                             .where(versions.c.questionario_id == questionario_id)),
                   answers.c.data_ora >= datetime.combine(start, time.min),
                   answers.c.data_ora < datetime.combine(end + timedelta(days=1), time.min))
            .values(rilevazione_id=campaign_id))


def downgrade():
    pass
