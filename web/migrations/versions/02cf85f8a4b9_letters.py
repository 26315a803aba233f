"""letters: issued recommendation letters and rejection notices (numbered, signed PDF, verification token)

Revision ID: 02cf85f8a4b9
Revises: e4a9c7b2d1f0
Create Date: 2026-12-01 22:03:58.300000

"""
from alembic import op
import sqlalchemy as sa

import engine.models


# revision identifiers, used by Alembic.
revision = '02cf85f8a4b9'
down_revision = 'e4a9c7b2d1f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=128), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('applicant_name', sa.String(length=200), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=True),
    sa.Column('verify_token', sa.String(length=64), nullable=False),
    sa.Column('sha256', engine.models.HexDigest(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', engine.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', engine.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_letter_case_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter')),
    sa.UniqueConstraint('number', name=op.f('uq_letter_number')),
    sa.UniqueConstraint('series', 'year', 'seq', name=op.f('uq_letter_series')),
    sa.UniqueConstraint('sha256', name=op.f('uq_letter_sha256')),
    sa.UniqueConstraint('verify_token', name=op.f('uq_letter_verify_token'))
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_case_id'), ['case_id'], unique=False)



def downgrade():
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_case_id'))

    op.drop_table('letter')
