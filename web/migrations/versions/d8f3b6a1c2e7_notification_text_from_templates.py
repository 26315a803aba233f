"""notification text from templates

A queued notification keeps the case-specific parts of its message (``context``) and is
rendered from its kind's template when sent; ``message`` stays for text no template makes
and for rows queued before this revision.

Revision ID: d8f3b6a1c2e7
Revises: c5e2a7d4f1b3
Create Date: 2026-11-28 03:10:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8f3b6a1c2e7'
down_revision = 'c5e2a7d4f1b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.alter_column('message', existing_type=sa.Text(), nullable=True)


def downgrade():
    # Rows queued since the upgrade store no text: render it, as sending would.
    from flask import current_app

    from engine.notifications import render_message

    agency = current_app.config["AGENCY"].short_name

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT n.id, n.kind, n.context, c.reference FROM notification n"
        " JOIN case_file c ON c.id = n.case_id WHERE n.message IS NULL"
    )).all()
    for row_id, kind, context, reference in rows:
        if isinstance(context, str):
            context = json.loads(context)
        text = render_message(kind, agency, reference=reference, **(context or {}))
        bind.execute(sa.text("UPDATE notification SET message = :m WHERE id = :i"), {"m": text, "i": row_id})
    op.execute(sa.text("UPDATE notification SET message = '' WHERE message IS NULL"))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('message', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('context')
