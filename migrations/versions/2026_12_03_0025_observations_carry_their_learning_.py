"""observations carry their learning target and the strategy observed

The learning form asks each observer for "your learning target for this observation", and the
pair's observations are to be "on the same or similar instructional strategies": both are now
fields of an observation (part of the calendar; no notes).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 06:39:04.640541
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learning_target", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("strategy", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("strategy")
        batch_op.drop_column("learning_target")
