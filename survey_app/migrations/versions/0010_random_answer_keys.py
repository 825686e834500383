"""random keys for the questionnaires and their answers: sequential keys lined them up with an access log

The answers already stored get new random keys too (their items and comment states follow), so a database copied
after the upgrade cannot be lined up with an older log either. On PostgreSQL the keys become BIGINT and lose their
sequences; on SQLite an INTEGER key is already 64-bit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 02:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

RANDOM_KEY_MIN = 2**32  # as survey_app.models.base: above every key a sequence gave
CHUNK = 50_000
# (table, its children as (table, column)), parents first
KEYED = (("compilazioni", (("risposte", "compilazione_id"),)),
         ("risposte", (("commenti_stato", "risposta_id"),)))
FOREIGN_KEYS = (("fk_risposte_compilazione_id_compilazioni", "risposte", "compilazione_id", "compilazioni"),
                ("fk_commenti_stato_risposta_id_risposte", "commenti_stato", "risposta_id", "risposte"))
COLUMNS = (("compilazioni", "id"), ("risposte", "id"), ("risposte", "compilazione_id"),
           ("commenti_stato", "risposta_id"))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _renumber(table: str, children, new_keys) -> None:
    """Give every row of ``table`` the key ``new_keys(old keys)`` returns, and move its children's references."""
    conn = op.get_bind()
    old = [row[0] for row in conn.execute(sa.text(f"SELECT id FROM {table}"))]
    if not old:
        return
    conn.execute(sa.text("CREATE TEMPORARY TABLE chiavi_nuove (vecchia BIGINT PRIMARY KEY, nuova BIGINT NOT NULL)"))
    pairs = list(zip(old, new_keys(old), strict=True))
    for start in range(0, len(pairs), CHUNK):
        conn.execute(sa.text("INSERT INTO chiavi_nuove (vecchia, nuova) VALUES (:v, :n)"),
                     [{"v": v, "n": n} for v, n in pairs[start:start + CHUNK]])
    for child, column in children:
        conn.execute(sa.text(f"UPDATE {child} SET {column} = m.nuova FROM chiavi_nuove m "
                             f"WHERE m.vecchia = {child}.{column}"))
    conn.execute(sa.text(f"UPDATE {table} SET id = m.nuova FROM chiavi_nuove m WHERE m.vecchia = {table}.id"))
    conn.execute(sa.text("DROP TABLE chiavi_nuove"))


def _random(old: list[int]) -> list[int]:
    keys: set[int] = set()
    while len(keys) < len(old):
        keys.add(secrets.randbits(63) | RANDOM_KEY_MIN)
    return list(keys)


def _sequential(old: list[int]) -> list[int]:
    return list(range(1, len(old) + 1))


def _renumber_all(new_keys) -> None:
    postgres = _postgres()
    if postgres:
        for name, table, _column, _parent in FOREIGN_KEYS:
            op.drop_constraint(name, table, type_="foreignkey")
    for table, children in KEYED:
        _renumber(table, children, new_keys)
    if postgres:
        for name, table, column, parent in FOREIGN_KEYS:
            op.create_foreign_key(name, table, parent, [column], ["id"], ondelete="CASCADE")


def upgrade():
    if _postgres():
        for table, column in COLUMNS:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer(),
                            existing_nullable=False, server_default=None)
        for table in ("compilazioni", "risposte"):
            op.execute(f"DROP SEQUENCE IF EXISTS {table}_id_seq")
    _renumber_all(_random)


def downgrade():
    # Back to sequential keys that fit an INTEGER, in the rows' current (random) order, and the sequences again.
    _renumber_all(_sequential)
    if _postgres():
        for table, column in COLUMNS:
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
        for table in ("compilazioni", "risposte"):
            op.execute(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
            op.execute(f"SELECT setval('{table}_id_seq', (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
