"""queue offers rung through the REST API; why a caller left; languages a caller agreed to

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_leg_sid', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('leave_reason', sa.String(length=24), nullable=True))
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepts_languages', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('accepts_languages')
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_column('leave_reason')
        batch_op.drop_column('offer_leg_sid')
