"""team invitations and consent: membership comes from the team, earlier records need consent

Teachers join a team by accepting its invitation (`team_invitation`; one pending per team and
teacher). A member reads the confidential records written from `team_member.sees_since` on (NULL:
all of them); a newcomer's earlier records open when the members before them consent
(`team_history_consent`). Existing members keep reading everything, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 11:15:40
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_history_consent",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("newcomer_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["user_account.id"],
            name=op.f("fk_team_history_consent_member_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["newcomer_id"],
            ["user_account.id"],
            name=op.f("fk_team_history_consent_newcomer_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_team_history_consent_team_id_team"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "team_id", "newcomer_id", "member_id", name=op.f("pk_team_history_consent")
        ),
    )
    op.create_table(
        "team_invitation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("invitee_id", sa.Uuid(), nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=True),
        sa.Column("founding", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked')",
            name=op.f("ck_team_invitation_status"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_team_invitation_invited_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitee_id"],
            ["user_account.id"],
            name=op.f("fk_team_invitation_invitee_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_team_invitation_team_id_team"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitation")),
    )
    with op.batch_alter_table("team_invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_invitation_invitee_id"), ["invitee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_team_invitation_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "uq_team_invitation_pending",
            ["team_id", "invitee_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sees_since", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.drop_column("sees_since")

    with op.batch_alter_table("team_invitation", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_team_invitation_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_team_invitation_team_id"))
        batch_op.drop_index(batch_op.f("ix_team_invitation_invitee_id"))

    op.drop_table("team_invitation")
    op.drop_table("team_history_consent")
