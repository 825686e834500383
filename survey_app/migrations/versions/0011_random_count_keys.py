"""random keys for the daily answer counts: a sequence told which values each day's first citizens gave

A count row is written by the first answer of its day with its value (and service, question, channel, counter,
language), so its sequential key numbered the values in the order citizens first gave them: lined up with an access
log, the first citizen of a day could be read back whole. The rows already stored get random keys; nothing refers to
them. On PostgreSQL the key becomes BIGINT and loses its sequence; on SQLite an INTEGER key is already 64-bit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLE = "riepilogo_risposte"
RANDOM_KEY_MIN = 2**32  # as survey_app.models.base: above every key the sequence gave
CHUNK = 50_000


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _rekey(new_keys) -> None:
    """Give the rows the keys ``new_keys(count)`` returns, in the order of their current keys."""
    conn = op.get_bind()
    old = [row[0] for row in conn.execute(sa.text(f"SELECT id FROM {TABLE} ORDER BY id"))]
    if not old:
        return
    conn.execute(sa.text("CREATE TEMPORARY TABLE chiavi_nuove (vecchia BIGINT PRIMARY KEY, nuova BIGINT NOT NULL)"))
    pairs = [{"v": v, "n": n} for v, n in zip(old, new_keys(len(old)), strict=True)]
    for start in range(0, len(pairs), CHUNK):
        conn.execute(sa.text("INSERT INTO chiavi_nuove (vecchia, nuova) VALUES (:v, :n)"), pairs[start:start + CHUNK])
    conn.execute(sa.text(f"UPDATE {TABLE} SET id = m.nuova FROM chiavi_nuove m WHERE m.vecchia = {TABLE}.id"))
    conn.execute(sa.text("DROP TABLE chiavi_nuove"))


def _random(count: int) -> list[int]:
    keys: set[int] = set()
    while len(keys) < count:
        keys.add(secrets.randbits(63) | RANDOM_KEY_MIN)
    return list(keys)


def upgrade():
    if _postgres():
        op.alter_column(TABLE, "id", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False,
                        server_default=None)
        op.execute(f"DROP SEQUENCE IF EXISTS {TABLE}_id_seq")
    _rekey(_random)


def downgrade():
    # Sequential keys that fit an INTEGER again (in the rows' current, random, order) and the sequence.
    _rekey(lambda count: list(range(1, count + 1)))
    if _postgres():
        op.alter_column(TABLE, "id", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
        op.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        op.execute(f"SELECT setval('{TABLE}_id_seq', (SELECT COALESCE(MAX(id), 0) + 1 FROM {TABLE}), false)")
