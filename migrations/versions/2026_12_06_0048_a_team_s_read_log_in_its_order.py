"""a team's read log is read in the order of its index

The read log lists a team's entries newest first, ties by id descending; its index (0028) held
ties by id ascending, so SQLite sorted each page's ties apart ("temp B-tree for right part of
ORDER BY", 97 -> 76 us for a page of 50 on the bench database) and PostgreSQL added an
incremental sort. The same index with `id DESC` reads the page in order on both.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-06 02:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0048"
down_revision: str | None = "0047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The new one first: the log is never without an index on its team.
    op.create_index(
        "ix_confidential_read_team_newest",
        "confidential_read",
        ["team_id", sa.text("at DESC"), sa.text("id DESC")],
    )
    op.drop_index("ix_confidential_read_team_at", table_name="confidential_read")


def downgrade() -> None:
    op.create_index(
        "ix_confidential_read_team_at", "confidential_read", ["team_id", sa.text("at DESC"), "id"]
    )
    op.drop_index("ix_confidential_read_team_newest", table_name="confidential_read")
