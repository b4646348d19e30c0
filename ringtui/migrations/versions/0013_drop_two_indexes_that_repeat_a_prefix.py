"""drop two single-column indexes that repeat the first column of a composite index

`ix_call_record_ivr_id` (ivr_id) is the prefix of `ix_call_record_ivr_started` (ivr_id, started_at)
and `ix_ring_attempt_user_id` (user_id) the prefix of `ix_ring_attempt_user_outcome` (user_id,
outcome): every look-up by that column (filters, the foreign keys' ON DELETE SET NULL) uses the
composite one; the single ones only cost writes (a CDR import rebuilt both, some 2 s of 1M lines).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_call_record_ivr_id", table_name="call_record")
    op.drop_index("ix_ring_attempt_user_id", table_name="ring_attempt")


def downgrade() -> None:
    op.create_index("ix_ring_attempt_user_id", "ring_attempt", ["user_id"])
    op.create_index("ix_call_record_ivr_id", "call_record", ["ivr_id"])
