"""staged uploads

Files of the public forms sent one at a time before the form (engine/staging.py): checked and
cleaned bytes kept per browser session until the form is sent or they expire.

Revision ID: c3f1a7e5d9b2
Revises: 20218843e47e
Create Date: 2026-12-02 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.models


# revision identifiers, used by Alembic.
revision = 'c3f1a7e5d9b2'
down_revision = '20218843e47e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_upload',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('form', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', engine.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_upload'))
    )
    with op.batch_alter_table('staged_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_upload_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_staged_upload_owner_form', ['owner', 'form'], unique=False)


def downgrade():
    with op.batch_alter_table('staged_upload', schema=None) as batch_op:
        batch_op.drop_index('ix_staged_upload_owner_form')
        batch_op.drop_index(batch_op.f('ix_staged_upload_created_at'))

    op.drop_table('staged_upload')
