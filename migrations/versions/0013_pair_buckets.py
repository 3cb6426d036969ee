"""pair_buckets: the index of past pairs a draw reads, stored ready-made (rounds.pair_index)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:30:00

Filled here from the matches and outcomes already stored. The packing (key ``a << 32 | b``
with a < b, value ``last round << 1 | counts as met``, 251 buckets by key, little-endian
arrays, keys sorted) is a copy of rounds.pair_index and matching.history as they were when the table
was added, so this migration means the same whatever those modules become.
"""
import sys
from array import array

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BUCKETS = 251

# Every pair ever grouped: its latest round, and 1 unless the latest report on each of its matches says not met.
PAIRS = sa.text("""
SELECT one.participant_id, other.participant_id, MAX(rounds.number),
       MAX(CASE WHEN EXISTS (
           SELECT 1 FROM outcomes report WHERE report.match_id = one.match_id AND NOT report.met
           AND NOT EXISTS (SELECT 1 FROM outcomes later WHERE later.match_id = report.match_id AND later.met
                           AND (later.reported_at > report.reported_at
                                OR (later.reported_at = report.reported_at AND later.id > report.id))))
           THEN 0 ELSE 1 END)
FROM match_members one
JOIN match_members other ON other.match_id = one.match_id AND other.participant_id > one.participant_id
JOIN matches ON matches.id = one.match_id
JOIN rounds ON rounds.id = matches.round_id
GROUP BY one.participant_id, other.participant_id
""")


def pack(numbers, code):
    packed = array(code, numbers)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def upgrade() -> None:
    buckets = op.create_table(
        'pair_buckets',
        sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('pairs', sa.Integer(), nullable=False),
        sa.Column('last_round', sa.Integer(), nullable=False),
        sa.Column('pair_keys', sa.LargeBinary(), nullable=False),
        sa.Column('pair_values', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('bucket', name=op.f('pk_pair_buckets')),
    )
    contents = [{} for _ in range(BUCKETS)]
    for a, b, last, met in op.get_bind().execute(PAIRS):
        key = (a << 32) | b
        contents[key % BUCKETS][key] = (last << 1) | met
    op.bulk_insert(buckets, [
        {"bucket": n, "pairs": len(pairs), "last_round": max(pairs.values(), default=0) >> 1,
         "pair_keys": pack(sorted(pairs), "Q"), "pair_values": pack([pairs[k] for k in sorted(pairs)], "I")}
        for n, pairs in enumerate(contents)])


def downgrade() -> None:
    op.drop_table('pair_buckets')
