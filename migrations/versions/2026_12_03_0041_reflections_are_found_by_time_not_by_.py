"""Reflections are found by time, not by visibility: the index on a post's visibility (four
values) let SQLite's planner collect and sort every blog post for a page of 50 (app/reflections)

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-03 16:59:16.250765
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_reflection_visibility", table_name="reflection")


def downgrade() -> None:
    op.create_index("ix_reflection_visibility", "reflection", ["visibility"])
