"""A teacher's own observation records are found by an index (author, newest first), not by
reading every record of the district

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-03 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An expression index (DESC): autogenerate does not see it.
    op.create_index(
        "ix_observation_record_author",
        "observation_record",
        ["author_id", sa.text("created_at DESC"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_observation_record_author", table_name="observation_record")
