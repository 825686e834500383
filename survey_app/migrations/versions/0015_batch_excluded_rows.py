"""the rows a batch left out and why: a firm downloads them after importing the valid rows only

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('righe_escluse', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('righe_escluse')
