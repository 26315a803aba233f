"""audit anchors and append-only triggers

Signed anchors over all cases' chain heads (``audit_anchor``), and triggers refusing UPDATE and
DELETE on ``case_event``, ``audit_anchor`` and ``access_log`` (engine.append_only).

Revision ID: e4a9c7b2d1f0
Revises: a9d4e1c7b2f5
Create Date: 2026-12-01 22:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

from engine.append_only import APPEND_ONLY_TABLES, drop_statements, install_statements
from engine.models import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'e4a9c7b2d1f0'
down_revision = 'a9d4e1c7b2f5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_anchor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('case_count', sa.Integer(), nullable=False),
        sa.Column('event_total', sa.BigInteger(), nullable=False),
        sa.Column('heads', sa.JSON(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.Column('certificate_sha256', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor')),
        sa.UniqueConstraint('seq', name=op.f('uq_audit_anchor_seq')),
    )
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for statement in install_statements(dialect, table):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for statement in drop_statements(dialect, table):
            op.execute(statement)
    op.drop_table('audit_anchor')
