"""Calendar replies keep their DTSTAMP: of two answers to the same SEQUENCE, the later-made one counts
(RFC 5546 §2.1.5), whatever order the mail arrives in.

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-02 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0019'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stamp', models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calendar_replies', schema=None) as batch_op:
        batch_op.drop_column('stamp')
