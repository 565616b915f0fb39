"""The audit trail: security-relevant actions, appended and never changed (app/audit).

The database refuses to change an event: UPDATE on both engines, DELETE on PostgreSQL too
(retention is the database owner's TRUNCATE or a dropped partition, never the API's).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03 09:22:26.706096
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("subject_user_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("object_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "action IN ('sign_in', 'sign_in_failed', 'password_changed', 'invitation_sent', 'account_activated', 'password_reset_sent', 'password_reset_completed', 'user_created', 'role_changed', 'schools_changed', 'email_changed', 'deactivated', 'reactivated', 'integration_key_created', 'integration_key_revoked', 'roster_imported', 'plan_approved', 'plan_returned', 'plan_completed', 'confidential_read')",
            name=op.f("ck_audit_event_action"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    # The trail newest first, and per actor, person and team (expression indexes: autogenerate
    # does not see them).
    op.create_index("ix_audit_event_at", "audit_event", [sa.text("at DESC"), sa.text("id DESC")])
    for name, column in (
        ("actor", "actor_id"),
        ("subject", "subject_user_id"),
        ("team", "team_id"),
    ):
        op.create_index(f"ix_audit_event_{name}", "audit_event", [column, sa.text("at DESC")])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit trail is append-only';
            END $$
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
                FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
            """
        )
    else:
        op.execute(
            """
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
            BEGIN
                SELECT RAISE(ABORT, 'the audit trail is append-only');
            END
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER audit_event_append_only")
    for name in ("at", "actor", "subject", "team"):
        op.drop_index(f"ix_audit_event_{name}", table_name="audit_event")
    op.drop_table("audit_event")
