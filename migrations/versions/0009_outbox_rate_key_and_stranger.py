"""outbox.rate_key and outbox.stranger: answer limits per normalised address, an hourly cap on answers to strangers

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_key', sa.String(length=320), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('stranger', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_outbox_rate_key_recent', ['rate_key', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_stranger_recent', ['stranger', 'created_at'], unique=False)
    # Mail already queued counts towards today's limits under its exact address (tags are not split off here).
    op.execute(sa.text("UPDATE outbox SET rate_key = recipients WHERE recipients NOT LIKE :several")
               .bindparams(several="%\n%"))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_stranger_recent')
        batch_op.drop_index('ix_outbox_rate_key_recent')
        batch_op.drop_column('stranger')
        batch_op.drop_column('rate_key')
