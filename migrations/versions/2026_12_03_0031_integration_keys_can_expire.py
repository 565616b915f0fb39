"""integration keys can expire

A key may be given an end (`expires_at`): from then on it authenticates nothing.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 08:14:53.968953
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integration_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    op.drop_column("integration_key", "expires_at")  # in place (SQLite 3.35+): no rebuild
