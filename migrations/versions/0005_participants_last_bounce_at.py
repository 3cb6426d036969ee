"""participants.last_bounce_at, so bounce scores can go stale

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:10:00
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_bounce_at', models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('last_bounce_at')
