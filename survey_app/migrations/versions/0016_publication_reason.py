"""why a version was published (a correction, late paper questionnaires): said on the public page and in its files

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pubblicazioni', schema=None) as batch_op:
        batch_op.add_column(sa.Column('motivo', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('pubblicazioni', schema=None) as batch_op:
        batch_op.drop_column('motivo')
