"""Meetings (issue 16): when and how people can meet, the options offered to a group, its
booking (an iCalendar UID and SEQUENCE), the conversation starter, and calendar replies.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 02:30:00
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_PEOPLE = (("available", 300), ("availability", None), ("meet_mode", 16), ("place", 100), ("time_zone", 64))


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        for name, length in _PEOPLE:
            kind = sa.Text() if length is None else sa.String(length=length)
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=''))
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('options', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('options_at', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('booking_state', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('booked_start', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('booked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('booked_at', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('booking_uid', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('booking_sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('starter', sa.String(length=500), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_matches_host_id_participants'), 'participants',
                                    ['host_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_matches_booked_by_id_participants'), 'participants',
                                    ['booked_by_id'], ['id'], ondelete='SET NULL')
    op.create_table(
        'calendar_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('match_id', sa.Integer(), nullable=True),
        sa.Column('participant_id', sa.Integer(), nullable=True),
        sa.Column('inbound_id', sa.Integer(), nullable=True),
        sa.Column('uid', sa.String(length=200), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('partstat', sa.String(length=16), nullable=False),
        sa.Column('applied', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('received_at', models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_calendar_replies_match_id_matches'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_calendar_replies_participant_id_participants'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], name=op.f('fk_calendar_replies_inbound_id_inbound_messages'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_replies')),
    )
    with op.batch_alter_table('calendar_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_replies_match_id'), ['match_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendar_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_replies_match_id'))
    op.drop_table('calendar_replies')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_matches_booked_by_id_participants'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_matches_host_id_participants'), type_='foreignkey')
        for name in ('starter', 'booking_sequence', 'booking_uid', 'booked_at', 'booked_by_id', 'booked_start',
                     'booking_state', 'options_at', 'options', 'host_id'):
            batch_op.drop_column(name)
    with op.batch_alter_table('participants', schema=None) as batch_op:
        for name, _ in reversed(_PEOPLE):
            batch_op.drop_column(name)
