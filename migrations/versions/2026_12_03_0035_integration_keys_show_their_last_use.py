"""Integration keys show their last use (to the minute, written off the request's path)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03 09:34:03.023974
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integration_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_used_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("integration_key", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
