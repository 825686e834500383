"""what the staff did with citizens' comments (read, handled, redacted)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commenti_stato',
    sa.Column('risposta_id', sa.Integer(), nullable=False),
    sa.Column('stato', sa.String(length=20), nullable=False),
    sa.Column('aggiornato_da', sa.Integer(), nullable=True),
    sa.Column('aggiornato_il', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("stato IN ('letto', 'gestito', 'oscurato')", name=op.f('ck_commenti_stato_stato')),
    sa.ForeignKeyConstraint(['aggiornato_da'], ['utenti.id'], name=op.f('fk_commenti_stato_aggiornato_da_utenti')),
    sa.ForeignKeyConstraint(['risposta_id'], ['risposte.id'], name=op.f('fk_commenti_stato_risposta_id_risposte'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('risposta_id', name=op.f('pk_commenti_stato'))
    )


def downgrade():
    op.drop_table('commenti_stato')
