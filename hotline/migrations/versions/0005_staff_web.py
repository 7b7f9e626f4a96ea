"""staff web: passwords, the audit trail, the caller key, the wrap-up fields

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:05:00
"""
import sqlalchemy as sa
from alembic import op

import hotline.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.String(length=200), nullable=True),
        sa.Column('created_at', hotline.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_audit_events_actor_id_staff')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_audit_events_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index(op.f('ix_audit_events_kind'), 'audit_events', ['kind'], unique=False)
    op.create_index(op.f('ix_audit_events_staff_id'), 'audit_events', ['staff_id'], unique=False)
    op.create_index(op.f('ix_audit_events_created_at'), 'audit_events', ['created_at'], unique=False)
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('caller_key', sa.String(length=32), nullable=True))
        batch.create_index(batch.f('ix_calls_caller_key'), ['caller_key'], unique=False)
    with op.batch_alter_table('consultation_records') as batch:
        batch.add_column(sa.Column('sub_topic', sa.String(length=48), nullable=True))
        batch.add_column(sa.Column('disposition', sa.String(length=48), nullable=True))
        batch.add_column(sa.Column('referral', sa.String(length=48), nullable=True))
        batch.add_column(sa.Column('referral_other', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('nationality', sa.String(length=2), nullable=True))
        batch.add_column(sa.Column('gender', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('urgent_followup', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_consultation_records_created_by_id_staff'), 'staff',
                                 ['created_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('consultation_records') as batch:
        batch.drop_constraint(batch.f('fk_consultation_records_created_by_id_staff'), type_='foreignkey')
        for column in ('created_by_id', 'urgent_followup', 'gender', 'nationality', 'referral_other', 'referral',
                       'disposition', 'sub_topic'):
            batch.drop_column(column)
    with op.batch_alter_table('calls') as batch:
        batch.drop_index(batch.f('ix_calls_caller_key'))
        batch.drop_column('caller_key')
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('password_hash')
    op.drop_index(op.f('ix_audit_events_created_at'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_staff_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_kind'), table_name='audit_events')
    op.drop_table('audit_events')
