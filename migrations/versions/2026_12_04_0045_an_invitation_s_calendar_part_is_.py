"""an invitation's calendar part is written by the mail worker

`outbox_message.calendar_spec` holds, sealed, what the worker writes an invitation's iCalendar
part from when it sends it; the request that queues the invitation no longer writes it.
Messages queued before this keep their written `calendar` and go as they are. A downgrade drops
the column: invitations still waiting then would go without their calendar part, so deliver
the outbox first.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-04 18:09:19.346042
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045"
down_revision: str | None = "0044"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_spec", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("calendar_spec")
