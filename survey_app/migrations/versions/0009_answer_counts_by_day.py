"""an index on the day of the answer counts: the years with data and a year's counts without a full scan

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 23:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_riepilogo_risposte_giorno'), 'riepilogo_risposte', ['giorno'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_riepilogo_risposte_giorno'), table_name='riepilogo_risposte')
