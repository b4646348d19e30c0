"""partial indexes for S2 of one IVR: its missed inbound calls, and outbound callbacks by number

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# written out here, not imported from the models, so that this revision never changes
MISSED_INBOUND = "direction = 'in' AND type IS NOT NULL AND type != 'answered'"
OUTBOUND = "direction = 'out'"


def upgrade() -> None:
    op.create_index('ix_call_record_missed_ivr', 'call_record',
                    ['ivr_id', 'started_at', 'ended_at', 'from_number', 'processed_at', 'direction', 'type'],
                    sqlite_where=sa.text(MISSED_INBOUND), postgresql_where=sa.text(MISSED_INBOUND))
    op.create_index('ix_call_record_callback', 'call_record', ['to_number', 'started_at'],
                    sqlite_where=sa.text(OUTBOUND), postgresql_where=sa.text(OUTBOUND))


def downgrade() -> None:
    op.drop_index('ix_call_record_callback', table_name='call_record')
    op.drop_index('ix_call_record_missed_ivr', table_name='call_record')
