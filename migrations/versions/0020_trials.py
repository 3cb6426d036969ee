"""Trials (issue 17): experiments, each person's arm, and participants.no_trials (replied NO TRIALS)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 02:20:00
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_trials', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'experiments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('variable', sa.String(length=20), nullable=False),
        sa.Column('arms', sa.String(length=200), nullable=False),
        sa.Column('rounds', sa.Integer(), nullable=False),
        sa.Column('seed', sa.BigInteger(), nullable=True),
        sa.Column('planned_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('started_at', models.base.UTCDateTime(), nullable=True),
        sa.Column('first_round', sa.Integer(), nullable=True),
        sa.Column('stopped_at', models.base.UTCDateTime(), nullable=True),
        sa.Column('last_round', sa.Integer(), nullable=True),
        sa.Column('stopped_early', sa.Boolean(), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experiments')),
        sa.UniqueConstraint('name', name=op.f('uq_experiments_name')),
    )
    op.create_table(
        'trial_assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('experiment_id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=True),
        sa.Column('arm', sa.String(length=40), nullable=False),
        sa.Column('assigned_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('left_at', models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'],
                                name=op.f('fk_trial_assignments_experiment_id_experiments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_trial_assignments_participant_id_participants'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trial_assignments')),
        sa.UniqueConstraint('experiment_id', 'participant_id', name=op.f('uq_trial_assignments_experiment_id')),
    )
    with op.batch_alter_table('trial_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trial_assignments_experiment_id'), ['experiment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trial_assignments_participant_id'), ['participant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('trial_assignments')
    op.drop_table('experiments')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('no_trials')
