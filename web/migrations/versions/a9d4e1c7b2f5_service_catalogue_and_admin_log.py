"""service catalogue entries, the admin event log and procedure drafts

Revision ID: a9d4e1c7b2f5
Revises: e4a9c7b2d5f1
Create Date: 2026-12-01 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.models


# revision identifiers, used by Alembic.
revision = 'a9d4e1c7b2f5'
down_revision = 'e4a9c7b2d5f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service_entry',
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('process_key', sa.String(length=64), nullable=False),
        sa.Column('documents', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_service_entry')),
    )
    op.create_table(
        'admin_event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=128), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_event')),
    )
    with op.batch_alter_table('admin_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_event_at'), ['at'], unique=False)
    op.create_table(
        'procedure_draft',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_procedure_draft')),
    )


def downgrade():
    op.drop_table('procedure_draft')
    with op.batch_alter_table('admin_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_event_at'))
    op.drop_table('admin_event')
    op.drop_table('service_entry')
