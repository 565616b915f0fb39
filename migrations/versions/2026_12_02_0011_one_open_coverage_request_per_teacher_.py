"""one open coverage request per teacher and observation, enforced by a partial unique index

Parallel requests could each pass the service's check and store several open requests for one
observation. Duplicates already stored are resolved first: the oldest open request stays, the
others are cancelled (nothing is deleted).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:58:34
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('pending', 'arranged')"


def upgrade() -> None:
    op.execute(
        f"""
        UPDATE coverage_request SET status = 'cancelled'
        WHERE {OPEN} AND EXISTS (
            SELECT 1 FROM coverage_request AS older
            WHERE older.event_id = coverage_request.event_id
              AND older.requester_id = coverage_request.requester_id
              AND older.{OPEN}
              AND (older.created_at < coverage_request.created_at
                   OR (older.created_at = coverage_request.created_at
                       AND older.id < coverage_request.id))
        )
        """
    )
    with op.batch_alter_table("coverage_request", schema=None) as batch_op:
        batch_op.create_index(
            "uq_coverage_request_open_per_requester",
            ["event_id", "requester_id"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("coverage_request", schema=None) as batch_op:
        batch_op.drop_index("uq_coverage_request_open_per_requester")
