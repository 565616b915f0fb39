"""events are held when confirmed; plan completions record the steps they overrode

An event counts as held when a participant confirms it or its record exists, never because its
end time passed: `held` joins the statuses, with who confirmed it and when. Events that already
have a record are held from the record's writing.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 03:18:33.457972
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'scheduled', 'held', 'cancelled'"


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("held_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_event_held_by_id_user_account"),
            "user_account",
            ["held_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_event_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_event_status"), sa.text(f"status IN ({STATUSES})")
        )
    with op.batch_alter_table("plan_transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("steps_missing", sa.JSON(), nullable=True))
    for record in ("observation_record", "conference_record"):
        op.execute(
            f"""
            UPDATE event SET status = 'held',
                held_at = (SELECT r.created_at FROM {record} AS r WHERE r.event_id = event.id),
                held_by_id = (SELECT r.author_id FROM {record} AS r WHERE r.event_id = event.id)
            WHERE status = 'scheduled'
              AND EXISTS (SELECT 1 FROM {record} AS r WHERE r.event_id = event.id)
            """
        )


def downgrade() -> None:
    op.execute("UPDATE event SET status = 'scheduled' WHERE status = 'held'")
    with op.batch_alter_table("plan_transition", schema=None) as batch_op:
        batch_op.drop_column("steps_missing")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_event_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_event_status"), sa.text("status IN ('scheduled', 'cancelled')")
        )
        batch_op.drop_constraint(batch_op.f("fk_event_held_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("held_by_id")
        batch_op.drop_column("held_at")
