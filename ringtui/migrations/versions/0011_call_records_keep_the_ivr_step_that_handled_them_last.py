"""call records keep the name of the IVR step that handled them last (S6 redirection)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# written out here, not imported from the models, so that this revision never changes
TABLE = "call_record"
COLUMN = "ivr_step"
STEP_NAME_LENGTH = 60  # as ivr_step.name


def upgrade() -> None:
    # nullable, no default: earlier records, CDR imports and direct calls have no step
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column(COLUMN, sa.String(length=STEP_NAME_LENGTH), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column(COLUMN)
