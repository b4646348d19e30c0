"""Port requests keep their number's details (a rejected request outlives its number);
account data retention (B9).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:26:39.637197
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the foreign key of revision 0001 unnamed; batch mode names it with this
# convention so that it can be dropped. PostgreSQL named it itself.
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
COPIED = ("e164", "country", "format", "region")


def _number_fk() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "port_request_number_id_fkey"
    return "fk_port_request_number_id_phone_number"


def upgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('port_request', naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column('e164', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('format', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('region', sa.String(length=100), nullable=True))
    for column in COPIED:
        op.execute(f"UPDATE port_request SET {column} = (SELECT COALESCE(phone_number.{column}, '') "
                   f"FROM phone_number WHERE phone_number.id = port_request.number_id)")
    with op.batch_alter_table('port_request', naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.alter_column('e164', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('country', existing_type=sa.String(length=2), nullable=False)
        batch_op.alter_column('format', existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column('region', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('number_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f('ix_port_request_e164'), ['e164'], unique=False)
        batch_op.drop_constraint(_number_fk(), type_='foreignkey')
        batch_op.create_foreign_key(_number_fk(), 'phone_number', ['number_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    # Requests whose number is gone (rejected ports) cannot exist in revision 0001.
    op.execute("DELETE FROM port_document WHERE port_request_id IN "
               "(SELECT id FROM port_request WHERE number_id IS NULL)")
    op.execute("DELETE FROM port_request WHERE number_id IS NULL")
    with op.batch_alter_table('port_request', naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint(_number_fk(), type_='foreignkey')
        batch_op.create_foreign_key(_number_fk(), 'phone_number', ['number_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.drop_index(batch_op.f('ix_port_request_e164'))
        batch_op.alter_column('number_id', existing_type=sa.INTEGER(), nullable=False)
        for column in reversed(COPIED):
            batch_op.drop_column(column)

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('retention_days')
