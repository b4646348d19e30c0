"""call transfers (S6 how transfers are counted, S13 received/transferred) and the caller's area code (S14)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ringtui.models.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# written out here, not imported from the models, so that this revision never changes
AREA_LENGTH = 16
NUMBER_LENGTH = 32


def upgrade() -> None:
    op.create_table(
        "call_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_record_id", sa.Integer(), nullable=False),
        sa.Column("transferred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("to_number", sa.String(length=NUMBER_LENGTH), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["call_record_id"], ["call_record.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["to_user_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_transfer_call_record_id", "call_transfer", ["call_record_id"])
    op.create_index("ix_call_transfer_by_user_id", "call_transfer", ["by_user_id"])
    op.create_index("ix_call_transfer_to_user_id", "call_transfer", ["to_user_id"])
    # nullable, no default, no index: a plain ADD COLUMN, no table copy on a large SQLite database;
    # earlier records get their area from `ringtui stats rebuild`
    with op.batch_alter_table("call_record") as batch:
        batch.add_column(sa.Column("caller_area", sa.String(length=AREA_LENGTH), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.drop_column("caller_area")
    op.drop_table("call_transfer")
