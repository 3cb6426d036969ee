"""The quiet row: until when a tick has nothing to do (issue 15, the idle tick)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    quiet = op.create_table(
        'quiet',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False, server_default='0'),
        sa.Column('until_at', sa.BigInteger(), nullable=True),
        sa.Column('checked_at', sa.BigInteger(), nullable=True),
        sa.Column('settings_key', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiet')),
    )
    op.bulk_insert(quiet, [{'id': 1, 'generation': 0}])


def downgrade() -> None:
    op.drop_table('quiet')
