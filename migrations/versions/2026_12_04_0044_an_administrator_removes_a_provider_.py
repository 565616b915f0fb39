"""an administrator removes a provider account bound to a staff account

The audit trail records it: `sso_identity_unbound` joins the actions its CHECK allows.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-04 06:27:27.307859
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "'sign_in', 'sign_in_failed', 'password_changed', 'invitation_sent', 'account_activated', "
    "'password_reset_sent', 'password_reset_completed', 'user_created', 'role_changed', "
    "'schools_changed', 'email_changed', 'deactivated', 'reactivated', "
    "'integration_key_created', 'integration_key_revoked', 'roster_imported', 'plan_approved', "
    "'plan_returned', 'plan_completed', 'confidential_read'"
)
AFTER = (
    "'sign_in', 'sign_in_failed', 'password_changed', 'invitation_sent', 'account_activated', "
    "'password_reset_sent', 'password_reset_completed', 'user_created', 'role_changed', "
    "'schools_changed', 'email_changed', 'deactivated', 'reactivated', 'sso_identity_unbound', "
    "'integration_key_created', 'integration_key_revoked', 'roster_imported', 'plan_approved', "
    "'plan_returned', 'plan_completed', 'confidential_read'"
)


def _allow(actions: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_event_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_audit_event_action"), sa.text(f"action IN ({actions})")
        )
    if sqlite:
        # SQLite's batch mode copies the table: the copy lost the append-only trigger and its
        # indexes' direction (0034 made both). PostgreSQL altered the table in place.
        for name in ("at", "actor", "subject", "team"):
            op.drop_index(f"ix_audit_event_{name}", table_name="audit_event")
        op.create_index(
            "ix_audit_event_at", "audit_event", [sa.text("at DESC"), sa.text("id DESC")]
        )
        for name, column in (
            ("actor", "actor_id"),
            ("subject", "subject_user_id"),
            ("team", "team_id"),
        ):
            op.create_index(f"ix_audit_event_{name}", "audit_event", [column, sa.text("at DESC")])
        op.execute(
            """
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
            BEGIN
                SELECT RAISE(ABORT, 'the audit trail is append-only');
            END
            """
        )


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    # The trail cannot keep an action the older schema does not know (PostgreSQL's trigger
    # refuses deletes: set aside for this one).
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    op.execute("DELETE FROM audit_event WHERE action = 'sso_identity_unbound'")
    if postgresql:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    _allow(BEFORE)
