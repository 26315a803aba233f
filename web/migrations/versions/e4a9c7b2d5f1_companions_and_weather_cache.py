"""companion directory, its change log, and the shared weather cache

Revision ID: e4a9c7b2d5f1
Revises: d8f3b6a1c2e7
Create Date: 2026-12-01 22:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.models


# revision identifiers, used by Alembic.
revision = 'e4a9c7b2d5f1'
down_revision = 'd8f3b6a1c2e7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('companion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('kecamatan_code', sa.String(length=8), nullable=False),
    sa.Column('village_code', sa.String(length=13), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('whatsapp', sa.String(length=20), nullable=True),
    sa.Column('programme', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', engine.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companion'))
    )
    with op.batch_alter_table('companion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_companion_kecamatan_code'), ['kecamatan_code'], unique=False)

    op.create_table('companion_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('companion_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', engine.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['companion_id'], ['companion.id'], name=op.f('fk_companion_change_companion_id_companion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companion_change'))
    )
    with op.batch_alter_table('companion_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_companion_change_companion_id'), ['companion_id'], unique=False)

    op.create_table('weather_forecast',
    sa.Column('adm4', sa.String(length=13), nullable=False),
    sa.Column('forecast', sa.JSON(), nullable=True),
    sa.Column('fetched_at', engine.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempted_at', engine.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('lease_until', engine.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('adm4', name=op.f('pk_weather_forecast'))
    )


def downgrade():
    op.drop_table('weather_forecast')
    with op.batch_alter_table('companion_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_companion_change_companion_id'))
    op.drop_table('companion_change')
    with op.batch_alter_table('companion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_companion_kecamatan_code'))
    op.drop_table('companion')
