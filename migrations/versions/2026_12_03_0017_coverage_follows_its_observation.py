"""coverage follows its observation

A request of an observation that is cancelled or deleted is cancelled with it (cancel_reason);
arranged coverage of an observation that moves needs review again (needs_review, with the times
it was arranged for). needs_review is open: the one-open-request-per-teacher index covers it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 03:37:15.054610
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD = "status IN ('pending', 'arranged', 'declined', 'cancelled')"
NEW = "status IN ('pending', 'arranged', 'needs_review', 'declined', 'cancelled')"
OLD_OPEN = "status IN ('pending', 'arranged')"
NEW_OPEN = "status IN ('pending', 'arranged', 'needs_review')"
INDEX = "uq_coverage_request_open_per_requester"


def _change(check: str, open_: str, length: int, columns: bool) -> None:
    with op.batch_alter_table("coverage_request", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(op.f("ck_coverage_request_status"), type_="check")
        if columns:
            batch_op.add_column(
                sa.Column("arranged_starts_at", app.core.db.UTCDateTime(timezone=True))
            )
            batch_op.add_column(
                sa.Column("arranged_ends_at", app.core.db.UTCDateTime(timezone=True))
            )
            batch_op.add_column(
                sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=1000))
            )
        else:
            batch_op.drop_column("cancel_reason")
            batch_op.drop_column("arranged_ends_at")
            batch_op.drop_column("arranged_starts_at")
        batch_op.alter_column(
            "status", existing_type=sa.String(), type_=sa.String(length), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_coverage_request_status"), sa.text(check))
        batch_op.create_index(
            INDEX,
            ["event_id", "requester_id"],
            unique=True,
            sqlite_where=sa.text(open_),
            postgresql_where=sa.text(open_),
        )


def upgrade() -> None:
    _change(NEW, NEW_OPEN, 20, columns=True)


def downgrade() -> None:
    op.execute("UPDATE coverage_request SET status = 'arranged' WHERE status = 'needs_review'")
    _change(OLD, OLD_OPEN, 10, columns=False)
