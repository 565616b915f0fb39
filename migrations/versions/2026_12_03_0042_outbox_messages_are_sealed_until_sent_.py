"""Outbox messages are sealed until sent and emptied after (app/mail/sealing.py): a copy of the
database no longer holds a usable activation or password-reset link

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-03 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Messages already queued were written in the clear: they go out as they are.
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # What was sent keeps nothing of what it said (links in it may still work).
    op.execute("UPDATE outbox_message SET body = '', calendar = NULL WHERE sent_at IS NOT NULL")


def downgrade() -> None:
    # Sealed messages still waiting could not be read by the code before this one.
    op.execute("DELETE FROM outbox_message WHERE sealed AND sent_at IS NULL")
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("sealed")
