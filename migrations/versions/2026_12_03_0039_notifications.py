"""Notifications: what each person is told (in the change's transaction), read in the app
and emailed by their settings, and the reminders the worker has fired (app/notifications)

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-03 10:17:44.619033
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_sent",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("sent_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reminder_sent")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_pending", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('plan_submitted', 'plan_returned', 'plan_approved', 'event_scheduled', 'event_moved', 'event_cancelled', 'coverage_requested', 'coverage_arranged', 'coverage_declined', 'coverage_needs_review', 'support_answered', 'reflection_comment', 'team_invitation', 'event_reminder', 'plan_overdue', 'coverage_pending')",
            name=op.f("ck_notification_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_email_due", ["email_pending"], unique=False)
    # A person's notifications, newest first (an expression index: autogenerate does not see it).
    op.create_index(
        "ix_notification_user_at", "notification", ["user_id", sa.text("created_at DESC"), "id"]
    )

    op.create_table(
        "notification_setting",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_setting_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_setting")),
    )


def downgrade() -> None:
    op.drop_table("reminder_sent")
    op.drop_index("ix_notification_user_at", table_name="notification")
    op.drop_table("notification_setting")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_email_due")

    op.drop_table("notification")
