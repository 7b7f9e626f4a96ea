"""callback attempts: when the caller answered (the compare-and-set that a consultant's end races)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 18:50:00
"""
import sqlalchemy as sa
from alembic import op

import hotline.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('callback_attempts') as batch:
        batch.add_column(sa.Column('answered_at', hotline.models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('callback_attempts') as batch:
        batch.drop_column('answered_at')
