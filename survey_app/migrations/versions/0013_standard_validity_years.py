"""the years a standard of the carta dei servizi applies to: a new carta's target from its year on, a past year
judged by the target it had

A standard had no years: changing a target re-judged every year already published. Each standard now has its first
and last year (both empty for the standards already stored: they apply to every year, as before), and the same
indicator of the same question may have one standard per period.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('standard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anno_dal', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('anno_al', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_standard_servizio_id_indicatore_domanda_codice'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_standard_servizio_id_indicatore_domanda_codice_anno_dal'),
                                          ['servizio_id', 'indicatore', 'domanda_codice', 'anno_dal'])
        batch_op.create_check_constraint(batch_op.f('ck_standard_anni'), 'anno_al IS NULL OR anno_dal IS NULL OR anno_dal <= anno_al')


def downgrade():
    # Only the standards in force today survive a downgrade: the old schema has one per indicator and question.
    standard = sa.table('standard', sa.column('anno_al', sa.Integer()))
    op.execute(sa.delete(standard).where(standard.c.anno_al.is_not(None)))
    with op.batch_alter_table('standard', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_standard_anni'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_standard_servizio_id_indicatore_domanda_codice_anno_dal'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_standard_servizio_id_indicatore_domanda_codice'),
                                          ['servizio_id', 'indicatore', 'domanda_codice'])
        batch_op.drop_column('anno_al')
        batch_op.drop_column('anno_dal')
