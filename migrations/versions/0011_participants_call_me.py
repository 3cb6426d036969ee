"""participants.call_me: what a person asked greetings to call them (PROFILE "Call me:");
outbox.message_id no longer unique: a group's email is one copy per member (each with their own
List-Unsubscribe) sharing one Message-ID, so replies thread alike for everyone

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
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_outbox_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    """Fails while two copies of one group email are kept: purge the outbox (retention) first."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_id'), ['message_id'])
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('call_me')
