"""compact task and event rows

Task ids as 16 bytes (uuid on PostgreSQL), tracking-code hashes as 32 bytes, no stored
prev_hash (it is the previous event's hash), no human_task.form or .title (the procedure
version holds both), and partial indexes that hold only open tasks and unsent notifications.

Revision ID: c5e2a7d4f1b3
Revises: b7c41d2e9a10
Create Date: 2026-11-28 03:10:00.000000

"""
import uuid

from alembic import op
import sqlalchemy as sa

import engine.models


# revision identifiers, used by Alembic.
revision = 'c5e2a7d4f1b3'
down_revision = 'b7c41d2e9a10'
branch_labels = None
depends_on = None

OPEN = sa.text('completed_at IS NULL')
UNSENT = sa.text('sent_at IS NULL')


def _convert(table, column, size, to_db):
    """SQLite keeps a converted column's old text (or text cast to blob): rewrite it in binary."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL AND length({column}) != {size}"
    )).all()
    for rowid, value in rows:
        text = value.decode() if isinstance(value, bytes) else value
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE rowid = :r"), {"v": to_db(text), "r": rowid})


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    # SQLite: store the new forms first; copying the table then casts them to BLOB unchanged
    if not postgres:
        _convert('human_task', 'id', 16, lambda v: uuid.UUID(v).bytes)
        _convert('case_event', 'task_id', 16, lambda v: uuid.UUID(v).bytes)
        _convert('case_file', 'tracking_code_hash', 32, bytes.fromhex)
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_inbox')
        batch_op.drop_column('form')
        batch_op.drop_column('title')
        batch_op.alter_column('id', existing_type=sa.String(length=36), type_=engine.models.TaskId(),
                              postgresql_using='id::uuid')
        batch_op.create_index('ix_human_task_open', ['role', 'bidang', 'state'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_column('prev_hash')
        batch_op.alter_column('task_id', existing_type=sa.String(length=36), type_=engine.models.TaskId(),
                              postgresql_using='task_id::uuid')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.alter_column('tracking_code_hash', existing_type=sa.String(length=64),
                              type_=engine.models.HexDigest(length=32),
                              postgresql_using="decode(tracking_code_hash, 'hex')")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_due')
        batch_op.drop_index('ix_notification_case_id')
        batch_op.create_index('ix_notification_unsent', ['next_attempt_at'], unique=False,
                              sqlite_where=UNSENT, postgresql_where=UNSENT)


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    # SQLite: back to text first; copying the table then casts text to VARCHAR unchanged
    if not postgres:
        bind = op.get_bind()
        for table, column, convert in (
            ('human_task', 'id', lambda v: str(uuid.UUID(bytes=bytes(v)))),
            ('case_event', 'task_id', lambda v: str(uuid.UUID(bytes=bytes(v)))),
            ('case_file', 'tracking_code_hash', lambda v: bytes(v).hex()),
        ):
            rows = bind.execute(sa.text(
                f"SELECT rowid, {column} FROM {table} WHERE typeof({column}) = 'blob' AND length({column}) <= 32"
            )).all()
            for rowid, value in rows:
                bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE rowid = :r"),
                             {"v": convert(value), "r": rowid})
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_unsent')
        batch_op.create_index('ix_notification_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_notification_due', ['status', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.alter_column('tracking_code_hash', existing_type=engine.models.HexDigest(length=32),
                              type_=sa.String(length=64), postgresql_using="encode(tracking_code_hash, 'hex')")
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.alter_column('task_id', existing_type=engine.models.TaskId(), type_=sa.String(length=36),
                              postgresql_using='task_id::text')
        batch_op.add_column(sa.Column('prev_hash', engine.models.HexDigest(length=32), nullable=True))
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_open')
        batch_op.alter_column('id', existing_type=engine.models.TaskId(), type_=sa.String(length=36),
                              postgresql_using='id::text')
        batch_op.add_column(sa.Column('form', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=False, server_default=''))
        batch_op.create_index('ix_human_task_inbox', ['state', 'role', 'bidang'], unique=False)
    op.execute(sa.text("UPDATE human_task SET title = spec_name WHERE title = ''"))
    # prev_hash of events written after the upgrade is the previous event's hash
    genesis = "decode(repeat('00', 32), 'hex')" if postgres else "zeroblob(32)"
    op.execute(sa.text(
        "UPDATE case_event SET prev_hash = COALESCE((SELECT p.hash FROM case_event p"
        f" WHERE p.case_id = case_event.case_id AND p.seq = case_event.seq - 1), {genesis})"
        " WHERE prev_hash IS NULL"
    ))
