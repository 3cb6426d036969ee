"""participants.call_me: what a person asked greetings to call them (PROFILE "Call me:")

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_me', sa.String(length=60), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('call_me')
