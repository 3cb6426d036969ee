"""outcomes.reason_group: NOT MET reasons about leave or illness move from "busy" to "away"

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:40:00

The pattern is a copy of inbound.reasons.AWAY as it was when "away" was added, so
this migration means the same whatever that module becomes.
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

AWAY = re.compile(r"\bleave\b|holiday|vacation|\bsick|\bill\b|illness|unwell|off work|out of (the )?office|\baway\b|"
                  r"annual leave|parental|maternity|paternity|bereave|hospital|\bPTO\b|\bOOO\b", re.IGNORECASE)
outcomes = sa.table('outcomes', sa.column('id', sa.Integer), sa.column('reason', sa.Text),
                    sa.column('reason_group', sa.String(16)))


def upgrade() -> None:
    bind = op.get_bind()
    busy = bind.execute(sa.select(outcomes.c.id, outcomes.c.reason).where(outcomes.c.reason_group == 'busy')).all()
    away = [id_ for id_, reason in busy if AWAY.search(" ".join((reason or "").lower().split()))]
    for start in range(0, len(away), 500):
        bind.execute(outcomes.update().where(outcomes.c.id.in_(away[start:start + 500])).values(reason_group='away'))


def downgrade() -> None:
    op.execute(outcomes.update().where(outcomes.c.reason_group == 'away').values(reason_group='busy'))
