"""the program's blog newest first

A list of reflections walked every post newest first and tested each against the visibility
rule: a teacher's page went past every post they may not see (5 ms when 10,500 private posts
were newer than the last program post). Lists now read each part of what a reader sees
through its own index (app/reflections/policies.py, `readable_parts`); the program's posts,
which any author writes, get theirs: a partial index in the lists' order.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-06 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0049"
down_revision: str | None = "0048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROGRAM = sa.text("visibility = 'program'")


def upgrade() -> None:
    op.create_index(
        "ix_reflection_program_newest",
        "reflection",
        [sa.text("created_at DESC"), "id"],
        sqlite_where=_PROGRAM,
        postgresql_where=_PROGRAM,
    )


def downgrade() -> None:
    op.drop_index("ix_reflection_program_newest", table_name="reflection")
