"""outbox: attempts cut short (interrupted) and what happened per recipient (accepted, rejected)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interrupted', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('accepted', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('rejected', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('rejected')
        batch_op.drop_column('accepted')
        batch_op.drop_column('interrupted')
