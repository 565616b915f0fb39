"""the read log of confidential records

Every read of a team's confidential content (a record, a learning form, a list of them, the
comparison, the summary with its records): who, what, when, from where, for the team to see.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 07:12:50.316092
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confidential_read",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("reader_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('observation_record', 'conference_record', 'learning_form', 'observation_records', 'learning_forms', 'observation_comparison', 'summary')",
            name=op.f("ck_confidential_read_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["user_account.id"],
            name=op.f("fk_confidential_read_reader_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_confidential_read_team_id_team"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confidential_read")),
    )
    with op.batch_alter_table("confidential_read", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confidential_read_reader_id"), ["reader_id"], unique=False
        )
    # A team's log, newest first (an expression index: autogenerate does not see it).
    op.create_index(
        "ix_confidential_read_team_at", "confidential_read", ["team_id", sa.text("at DESC"), "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_confidential_read_team_at", table_name="confidential_read")
    with op.batch_alter_table("confidential_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confidential_read_reader_id"))

    op.drop_table("confidential_read")
