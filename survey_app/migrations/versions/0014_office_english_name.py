"""an office's name in English, for the English public pages (the published files keep the Italian)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 01:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('uffici', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nome_en', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('uffici', schema=None) as batch_op:
        batch_op.drop_column('nome_en')
