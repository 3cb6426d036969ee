"""rounds: group tokens, sit-outs, skip

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:40:53.173718
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sit_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_sit_outs_participant_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_sit_outs_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sit_outs')),
    sa.UniqueConstraint('round_id', 'participant_id', name=op.f('uq_sit_outs_round_id'))
    )
    with op.batch_alter_table('sit_outs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sit_outs_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sit_outs_round_id'), ['round_id'], unique=False)

    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column('odd_one_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('intro_message_id', sa.String(length=400), nullable=False, server_default=''))
        batch_op.create_unique_constraint(batch_op.f('uq_matches_token'), ['token'])
        batch_op.create_foreign_key(batch_op.f('fk_matches_odd_one_id_participants'), 'participants', ['odd_one_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skip_next', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('skip_next')

    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_matches_odd_one_id_participants'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_matches_token'), type_='unique')
        batch_op.drop_column('intro_message_id')
        batch_op.drop_column('odd_one_id')
        batch_op.drop_column('token')

    with op.batch_alter_table('sit_outs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sit_outs_round_id'))
        batch_op.drop_index(batch_op.f('ix_sit_outs_participant_id'))

    op.drop_table('sit_outs')
